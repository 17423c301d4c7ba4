"""The wash-sale rule, 26 U.S.C. § 1091, over ``wash_sale_days`` on each side of a sale (pure).

A loss on a sale in a **taxable** account is (partly) a wash sale when the same sleeve was
bought physically, in any account, within ``wash_sale_days`` calendar days before or after the
sale. Futures, swaps and a sleeve's proxy are not substantially identical to it and never
trigger the rule (so they are never recorded as purchases here).

Matching: a sale's loss meets the purchases inside its window in date order; each purchase
replaces at most its own value once (a purchase used as a replacement is used up). With
``R`` the replacement value matched against a sale of value ``V`` and loss ``L``::

    disallowed = L × min(1, R / V)

The disallowed loss is added to the replacement lot's basis (``WashSale.replacement``) and left
out of the realised losses; the sale's economic ``gain`` is unchanged. A purchase made *after* a
sale is matched when it is recorded (:func:`record_purchase`): the state carries the loss sales
whose windows are still open. Not modelled: the replacement's holding period does not inherit
the sold lot's (§ 1223(3)); a replacement bought in a tax-deferred account still receives the
basis in this bookkeeping.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from overlay.tax.lots import LotSale


@dataclass(frozen=True, slots=True)
class Purchase:
    """A physical buy of a sleeve: ``value`` base currency (> 0). ``lot_id`` names the lot it
    created when that lot is tracked (its basis takes disallowed losses)."""

    sleeve: str
    account: str
    date: dt.date
    value: float
    lot_id: str | None = None
    used: float = 0.0  # value already matched as a replacement

    @property
    def capacity(self) -> float:
        """Value still able to replace a sold loss."""
        return self.value - self.used


@dataclass(frozen=True, slots=True)
class WashSale:
    """One loss sale matched against one replacement purchase.

    ``matched`` is the sale value this purchase replaced; ``disallowed`` the loss deferred to
    the purchase's lot (added to its basis).
    """

    sale: LotSale
    replacement: Purchase
    matched: float
    disallowed: float


@dataclass(frozen=True, slots=True)
class _PendingLoss:
    sale: LotSale
    unmatched: float  # sale value not yet matched by a replacement


@dataclass(frozen=True, slots=True)
class WashState:
    """What the rule must remember between dates: purchases that can still replace a later
    sale (``purchases``, with what they replaced so far in ``used``) and loss sales whose window is open
    (``pending``). Start from ``WashState()``; drop old entries with :func:`prune`."""

    purchases: tuple[Purchase, ...] = ()
    pending: tuple[_PendingLoss, ...] = ()


def _inside(a: dt.date, b: dt.date, days: int) -> bool:
    return abs((a - b).days) <= days


def _loss(sale: LotSale) -> float:
    return max(0.0, -sale.gain)


def apply_wash(sales: Sequence[LotSale], state: WashState, days: int) -> tuple[list[LotSale], list[WashSale], WashState]:
    """Check ``sales`` against the purchases in ``state``; returns the sales (flagged, with
    ``disallowed_loss``), the wash-sale matches, and the new state (used purchases reduced,
    unmatched losses left pending for later purchases)."""
    purchases = list(state.purchases)
    pending = list(state.pending)
    out: list[LotSale] = []
    washes: list[WashSale] = []
    for sale in sales:
        loss = _loss(sale)
        if not sale.taxable or loss <= 0 or sale.value <= 0:
            out.append(sale)
            continue
        need = sale.value
        matches: list[tuple[Purchase, float]] = []
        order = sorted(range(len(purchases)), key=lambda i: (purchases[i].date, i))
        for i in order:
            p = purchases[i]
            if need <= 0:
                break
            if p.sleeve != sale.sleeve or p.capacity <= 0 or not _inside(p.date, sale.date, days):
                continue
            used = min(need, p.capacity)
            matches.append((p, used))
            purchases[i] = replace(p, used=p.used + used)
            need -= used
        parts = [loss * used / sale.value for _, used in matches]
        if matches:
            sale = replace(sale, wash_sale=True, disallowed_loss=min(loss, sum(parts)))
        for (p, used), part in zip(matches, parts):
            washes.append(WashSale(sale, replace(p, used=0.0), used, part))
        if need > 0:
            pending.append(_PendingLoss(sale, need))
        out.append(sale)
    return out, washes, WashState(tuple(p for p in purchases if p.capacity > 0), tuple(pending))


def record_purchase(purchase: Purchase, state: WashState, days: int) -> tuple[list[WashSale], WashState]:
    """Record a physical buy: match it first against open loss sales of the same sleeve (a
    purchase after the sale), then keep what is left of it as a replacement for later sales.

    The returned wash sales disallow part of a loss realised on an earlier date: the caller
    adds ``disallowed`` back to that date's realised losses (see
    :func:`overlay.tax.summary.summarise`) and to the purchase's lot basis.
    """
    if purchase.capacity <= 0:
        return [], state
    left = purchase.capacity
    pending: list[_PendingLoss] = []
    washes: list[WashSale] = []
    for item in sorted(state.pending, key=lambda p: p.sale.date):
        sale = item.sale
        if left > 0 and sale.sleeve == purchase.sleeve and _inside(sale.date, purchase.date, days):
            used = min(left, item.unmatched)
            part = _loss(sale) * used / sale.value
            washes.append(WashSale(sale, purchase, used, part))
            left -= used
            if item.unmatched - used > 0:
                pending.append(_PendingLoss(sale, item.unmatched - used))
        else:
            pending.append(item)
    kept = state.purchases + ((replace(purchase, used=purchase.value - left),) if left > 0 else ())
    return washes, WashState(kept, tuple(pending))


def record_purchases(purchases: Iterable[Purchase], state: WashState, days: int) -> tuple[list[WashSale], WashState]:
    """:func:`record_purchase` for several buys, in the order given."""
    washes: list[WashSale] = []
    for p in purchases:
        more, state = record_purchase(p, state, days)
        washes.extend(more)
    return washes, state


def prune(state: WashState, on: dt.date, days: int) -> WashState:
    """Forget purchases and loss sales more than ``days`` before ``on``: they can no longer match."""
    return WashState(
        tuple(p for p in state.purchases if (on - p.date).days <= days),
        tuple(p for p in state.pending if (on - p.sale.date).days <= days),
    )
