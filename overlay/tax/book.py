"""A sleeve-by-sleeve book of tax lots carried over time: the API for sells on many dates.

The planner calls it once (on ``as_of``); a backtest calls it on every trading date, passing
the returned book on. Wash-sale state travels inside the book, so a loss sold on one date and
a purchase 20 days later are matched. Every function is pure and returns a new book::

    book = LotBook.open(lots, accounts)                 # or LotBook(accounts=...) to start empty
    book = book.revalue("equity", 1.02)                 # market moves: value × factor
    r = sell(book, "equity", 720_000.0, date, policy)   # -> SellResult(sales, washes, book)
    b = buy(r.book, "equity", "taxable", 50_000.0, date, policy)  # -> BuyResult(lot, washes, book)
    summarise(r.sales, policy, r.washes, late_washes=b.washes)    # realised gains, estimated tax

Rules: :mod:`overlay.tax.lots` (selection order, part lots, terms) and
:mod:`overlay.tax.wash` (§ 1091 matching). A disallowed loss is added to the basis of the
replacement lot when the book holds it (a purchase recorded by :func:`buy` or given with a
``lot_id``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from overlay.tax.lots import Account, Lot, LotSale, TaxPolicy, take_lots
from overlay.tax.wash import Purchase, WashSale, WashState, apply_wash, prune, record_purchase


@dataclass(frozen=True, slots=True)
class LotBook:
    """The lots held (every sleeve, every account), the accounts and the wash-sale state."""

    lots: tuple[Lot, ...] = ()
    accounts: tuple[Account, ...] = ()
    wash: WashState = WashState()
    next_id: int = 0

    @classmethod
    def open(cls, lots: Iterable[Lot], accounts: Iterable[Account], purchases: Iterable[Purchase] = (),
             wash_sale_days: int = 30) -> LotBook:
        """A book holding ``lots``; ``purchases`` are recent buys for the wash-sale look-back."""
        lots = tuple(lots)
        state = WashState()
        for p in purchases:
            _, state = record_purchase(p, state, wash_sale_days)
        return cls(lots, tuple(accounts), state, len(lots))

    def taxable(self, account: str) -> bool:
        for a in self.accounts:
            if a.name == account:
                return a.taxable
        raise KeyError(f"unknown account {account!r}")

    def of(self, sleeve: str) -> tuple[Lot, ...]:
        return tuple(lot for lot in self.lots if lot.sleeve == sleeve)

    def value(self, sleeve: str) -> float:
        return sum(lot.value for lot in self.of(sleeve))

    def revalue(self, sleeve: str, factor: float) -> LotBook:
        """The book after ``sleeve`` moved by ``factor`` (values × factor, bases unchanged)."""
        lots = tuple(replace(lot, value=lot.value * factor) if lot.sleeve == sleeve else lot for lot in self.lots)
        return replace(self, lots=lots)


@dataclass(frozen=True, slots=True)
class SellResult:
    """The lot sales of one sell (wash sales flagged), their wash-sale matches, the new book."""

    sales: tuple[LotSale, ...]
    washes: tuple[WashSale, ...]
    book: LotBook


@dataclass(frozen=True, slots=True)
class BuyResult:
    """The new lot (basis raised by any disallowed loss it replaces), the matches, the new book."""

    lot: Lot
    washes: tuple[WashSale, ...]
    book: LotBook


def _add_basis(lots: Sequence[Lot], washes: Iterable[WashSale]) -> tuple[Lot, ...]:
    extra: dict[str, float] = {}
    for w in washes:
        if w.replacement.lot_id is not None:
            extra[w.replacement.lot_id] = extra.get(w.replacement.lot_id, 0.0) + w.disallowed
    return tuple(replace(lot, basis=lot.basis + extra[lot.lot_id]) if lot.lot_id in extra else lot for lot in lots)


def _settle(book: LotBook, sleeve_lots: Sequence[Lot], sales: list[LotSale], left: list[Lot], on: dt.date,
            policy: TaxPolicy) -> SellResult:
    state = prune(book.wash, on, policy.wash_sale_days)
    sales, washes, state = apply_wash(sales, state, policy.wash_sale_days)
    sold_ids = {lot.lot_id for lot in sleeve_lots}
    kept = {lot.lot_id: lot for lot in left}
    lots = tuple(kept.get(lot.lot_id, lot) for lot in book.lots if lot.lot_id not in sold_ids or lot.lot_id in kept)
    lots = _add_basis(lots, washes)
    return SellResult(tuple(sales), tuple(washes), replace(book, lots=lots, wash=state))


def sell(book: LotBook, sleeve: str, amount: float, on: dt.date, policy: TaxPolicy) -> SellResult:
    """Sell ``amount`` (base currency, market value, > 0) of ``sleeve`` on ``on``.

    Lots are taken tax-deferred first, then by ``policy.lot_method``; sales at a loss in a
    taxable account are checked against the purchases of the last ``wash_sale_days`` (and
    stay pending for purchases in the next ``wash_sale_days``). Raises ``ValueError`` when
    the sleeve's lots hold less than ``amount``.
    """
    lots = book.of(sleeve)
    sales, left = take_lots(lots, amount, on, policy)
    return _settle(book, lots, sales, left, on, policy)


def sell_lots(book: LotBook, lot_ids: Iterable[str], on: dt.date, policy: TaxPolicy) -> SellResult:
    """Sell the named lots whole (specific identification, e.g. a loss harvest)."""
    wanted = set(lot_ids)
    chosen = [lot for lot in book.lots if lot.lot_id in wanted]
    sales: list[LotSale] = []
    for lot in chosen:
        part, _ = take_lots([lot], lot.value, on, policy)
        sales.extend(part)
    return _settle(book, chosen, sales, [], on, policy)


def buy(book: LotBook, sleeve: str, account: str, amount: float, on: dt.date, policy: TaxPolicy,
        lot_id: str | None = None) -> BuyResult:
    """Buy ``amount`` (base currency, > 0) of ``sleeve`` into ``account`` on ``on``: a new lot
    with basis = amount, plus any loss it disallows from a sale of the last ``wash_sale_days``.
    ``lot_id`` defaults to ``"<sleeve>#<n>"``."""
    if amount <= 0:
        raise ValueError(f"buy amount must be > 0, got {amount!r}")
    lot_id = lot_id or f"{sleeve}#{book.next_id}"
    state = prune(book.wash, on, policy.wash_sale_days)
    washes, state = record_purchase(Purchase(sleeve, account, on, amount, lot_id), state, policy.wash_sale_days)
    lot = Lot(lot_id, sleeve, account, amount, amount + sum(w.disallowed for w in washes), on, book.taxable(account))
    return BuyResult(lot, tuple(washes), replace(book, lots=book.lots + (lot,), wash=state, next_id=book.next_id + 1))
