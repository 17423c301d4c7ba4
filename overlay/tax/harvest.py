"""Loss harvesting: which lots to sell (pure).

A taxable lot is harvested when its unrealised loss exceeds ``harvest_threshold`` of its
basis: ``basis − value > harvest_threshold × basis``. Tax-deferred lots are never harvested
(their losses are worth nothing now). The sale goes through :func:`overlay.tax.book.sell_lots`,
so the wash-sale rule applies to it like to any other sale; the caller buys the same exposure
back through the sleeve's proxy (not substantially identical, so no wash sale).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from overlay.tax.book import LotBook, SellResult, sell_lots
from overlay.tax.lots import Lot, TaxPolicy


def harvest_candidates(book: LotBook, policy: TaxPolicy, sleeves: Collection[str] | None = None) -> list[Lot]:
    """Taxable lots (of ``sleeves``, all when None) whose loss exceeds the threshold, book order."""
    return [
        lot
        for lot in book.lots
        if lot.taxable
        and (sleeves is None or lot.sleeve in sleeves)
        and lot.basis - lot.value > policy.harvest_threshold * lot.basis
        and lot.value > 0
    ]


def harvest(book: LotBook, on: dt.date, policy: TaxPolicy, sleeves: Collection[str] | None = None) -> SellResult:
    """Sell every harvest candidate whole on ``on`` (wash-sale rule applied)."""
    lots = harvest_candidates(book, policy, sleeves)
    return sell_lots(book, [lot.lot_id for lot in lots], on, policy)
