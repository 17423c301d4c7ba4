"""Tax lots, wash sales and physical against synthetic (pure: no I/O, no clock).

Imports only :mod:`overlay.config` (for :func:`overlay.tax.from_config`), :mod:`overlay.errors`
and :mod:`pricing`. Public API:

Records (frozen): ``Account``, ``Lot``, ``TaxPolicy`` (``LotMethod``, ``Term``), ``LotSale``,
``Purchase``, ``WashSale``, ``TaxSummary``; comparison records in :mod:`overlay.tax.compare`.

Lots over time (the API a backtest uses on every date)::

    LotBook.open(lots, accounts, purchases=(), wash_sale_days=30) -> LotBook
    LotBook.revalue(sleeve, factor) -> LotBook
    sell(book, sleeve, amount, on, policy) -> SellResult(sales, washes, book)
    sell_lots(book, lot_ids, on, policy) -> SellResult
    buy(book, sleeve, account, amount, on, policy) -> BuyResult(lot, washes, book)
    harvest(book, on, policy, sleeves=None) -> SellResult
    summarise(sales, policy, washes=(), late_washes=()) -> TaxSummary

Lower level: :func:`selection_order`, :func:`take_lots` (:mod:`overlay.tax.lots`) and
:func:`apply_wash`, :func:`record_purchase` (:mod:`overlay.tax.wash`).
"""

from overlay.tax.book import BuyResult, LotBook, SellResult, buy, sell, sell_lots
from overlay.tax.harvest import harvest, harvest_candidates
from overlay.tax.lots import Account, Lot, LotMethod, LotSale, TaxPolicy, Term, selection_order, take_lots
from overlay.tax.summary import TaxSummary, estimated_tax, summarise
from overlay.tax.wash import Purchase, WashSale, WashState, apply_wash, record_purchase

__all__ = [
    "Account",
    "BuyResult",
    "Lot",
    "LotBook",
    "LotMethod",
    "LotSale",
    "Purchase",
    "SellResult",
    "TaxPolicy",
    "TaxSummary",
    "Term",
    "WashSale",
    "WashState",
    "apply_wash",
    "buy",
    "estimated_tax",
    "harvest",
    "harvest_candidates",
    "record_purchase",
    "selection_order",
    "sell",
    "sell_lots",
    "summarise",
    "take_lots",
]
