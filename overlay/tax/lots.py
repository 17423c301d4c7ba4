"""Tax lots and the order in which a physical sell takes them (pure).

Records (frozen): :class:`Account`, :class:`Lot`, :class:`TaxPolicy`, :class:`LotSale`.
Money is base currency. A lot's ``value`` is its current market value and ``basis`` its cost
basis; a lot sold in part gives up value and basis pro rata.

Selection order for a sell of one sleeve (:func:`selection_order`):

1. lots in tax-deferred accounts (``taxable = False``), in the order of the method;
2. the taxable lots in the order of :class:`LotMethod`:

   - ``hifo``: highest basis per unit of current value (``basis / value``) first;
   - ``fifo``: oldest ``acquired`` first;
   - ``loss_first``: lots at a loss first, the largest loss per unit of value
     (``(basis − value) / value``) first, short-term before long-term at equal ratios;
     then the others as ``hifo``.

Ties fall back to the oldest lot, then to the order the lots were given in, so the choice is
deterministic.

Gain of a (part) lot = value sold − basis sold (negative for a loss); the term is long when
``date − acquired > long_after_days`` (calendar days).
"""

from __future__ import annotations

import datetime as dt
import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

#: A sell may exceed the lots' value by this fraction of it (floating-point slack), no more.
SELL_SLACK = 1e-9


class LotMethod(enum.Enum):
    HIFO = "hifo"
    FIFO = "fifo"
    LOSS_FIRST = "loss_first"


class Term(enum.Enum):
    SHORT = "short"
    LONG = "long"


@dataclass(frozen=True, slots=True)
class Account:
    """A custody account; gains in a tax-deferred one (``taxable=False``) are not taxed now."""

    name: str
    taxable: bool = True


@dataclass(frozen=True, slots=True)
class Lot:
    """One tax lot of a sleeve: ``value`` (market) and ``basis`` (cost), base currency.

    ``lot_id`` identifies the lot across partial sales (a part lot keeps its id);
    ``taxable`` is the account's status, copied for selection.
    """

    lot_id: str
    sleeve: str
    account: str
    value: float
    basis: float
    acquired: dt.date
    taxable: bool = True

    def __post_init__(self) -> None:
        if not (math.isfinite(self.value) and self.value >= 0):
            raise ValueError(f"lot {self.lot_id}: value must be a finite number >= 0, got {self.value!r}")
        if not (math.isfinite(self.basis) and self.basis >= 0):
            raise ValueError(f"lot {self.lot_id}: basis must be a finite number >= 0, got {self.basis!r}")

    @property
    def unrealised(self) -> float:
        """``value − basis``: positive for a gain, negative for a loss."""
        return self.value - self.basis

    def term(self, on: dt.date, long_after_days: int) -> Term:
        return Term.LONG if (on - self.acquired).days > long_after_days else Term.SHORT


@dataclass(frozen=True, slots=True)
class TaxPolicy:
    """The ``[tax]`` table: rates, holding period, lot method, wash-sale window, harvest threshold."""

    short_term: float = 0.37
    long_term: float = 0.20
    long_after_days: int = 365
    lot_method: LotMethod = LotMethod.HIFO
    wash_sale_days: int = 30
    harvest_threshold: float = 0.05


@dataclass(frozen=True, slots=True)
class LotSale:
    """The part of one lot a sell took.

    ``gain`` = ``value − basis`` is the economic gain (negative for a loss), also for a wash
    sale; ``disallowed_loss`` (>= 0) is the part of a loss the wash-sale rule defers to the
    replacement lot (then ``wash_sale`` is true). Sales in tax-deferred accounts have
    ``taxable = False`` and count toward no tax.
    """

    lot_id: str
    sleeve: str
    account: str
    acquired: dt.date
    date: dt.date
    value: float
    basis: float
    term: Term
    taxable: bool
    wash_sale: bool = False
    disallowed_loss: float = 0.0

    @property
    def gain(self) -> float:
        return self.value - self.basis

    @property
    def recognised_gain(self) -> float:
        """The gain the tax return shows: a loss less its disallowed part."""
        return self.gain + self.disallowed_loss


def _order_key(lot: Lot, method: LotMethod, on: dt.date, long_after_days: int, index: int) -> tuple:
    ratio = lot.basis / lot.value if lot.value > 0 else math.inf
    age = lot.acquired.toordinal()
    if method is LotMethod.FIFO:
        return (age, index)
    if method is LotMethod.HIFO:
        return (-ratio, age, index)
    at_loss = lot.basis > lot.value
    if at_loss:
        short_first = 0 if lot.term(on, long_after_days) is Term.SHORT else 1
        return (0, -ratio, short_first, age, index)
    return (1, -ratio, age, index)


def selection_order(lots: Sequence[Lot], method: LotMethod, on: dt.date, long_after_days: int = 365) -> list[Lot]:
    """The lots in the order a sell takes them: tax-deferred first, then by ``method``."""
    keyed = [
        ((0 if not lot.taxable else 1,) + _order_key(lot, method, on, long_after_days, i), lot)
        for i, lot in enumerate(lots)
    ]
    keyed.sort(key=lambda pair: pair[0])
    return [lot for _, lot in keyed]


def take_lots(
    lots: Sequence[Lot], amount: float, on: dt.date, policy: TaxPolicy
) -> tuple[list[LotSale], list[Lot]]:
    """Sell ``amount`` (base currency, > 0) of market value from ``lots`` (one sleeve).

    Returns the sales (in selection order, before any wash-sale check) and the lots left
    (in the input order; a part-sold lot keeps its id with value and basis scaled by
    ``1 − sold / value``; fully sold lots are dropped). ``Σ sale.value == amount`` exactly
    (the last part takes the remainder). Raises ``ValueError`` when ``amount`` exceeds the
    lots' value by more than :data:`SELL_SLACK` of it.
    """
    if not (math.isfinite(amount) and amount >= 0):
        raise ValueError(f"sell amount must be a finite number >= 0, got {amount!r}")
    held = math.fsum(lot.value for lot in lots)
    if amount > held * (1 + SELL_SLACK) + 1e-9:
        raise ValueError(f"sell of {amount:,.2f} exceeds the lots' value {held:,.2f}")
    sales: list[LotSale] = []
    left = {lot.lot_id: lot for lot in lots}
    if len(left) != len(lots):
        raise ValueError("lot ids must be unique")
    remaining = amount
    for lot in selection_order(lots, policy.lot_method, on, policy.long_after_days):
        if remaining <= max(amount, 1.0) * 1e-12:
            break
        if lot.value <= 0:
            continue
        if remaining >= lot.value * (1 - SELL_SLACK):  # the whole lot (dust is not left behind)
            value, basis = min(remaining, lot.value), lot.basis
            del left[lot.lot_id]
        else:
            value = remaining
            basis = lot.basis * value / lot.value
            left[lot.lot_id] = replace(lot, value=lot.value - value, basis=lot.basis - basis)
        sales.append(
            LotSale(lot.lot_id, lot.sleeve, lot.account, lot.acquired, on, value, basis,
                    lot.term(on, policy.long_after_days), lot.taxable)
        )
        remaining = amount - math.fsum(s.value for s in sales)
    if sales and remaining != 0.0:  # floating-point slack: the last sale takes it
        last = sales[-1]
        sales[-1] = replace(last, value=last.value + remaining)
    return sales, [left[lot.lot_id] for lot in lots if lot.lot_id in left]

