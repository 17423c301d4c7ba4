"""The lot book over several dates (the API a backtest uses): revalue, sell, buy."""

import datetime as dt

import pytest

from overlay.tax import Account, Lot, LotBook, TaxPolicy, Term, buy, sell, summarise

POLICY = TaxPolicy()


def test_a_book_carried_over_dates():
    """One lot bought for 100,000 on 2025-01-02 falls 20 % (value 80,000). Selling 40,000 on
    2025-03-03 realises a 10,000 short-term loss (basis 50,000). Buying 40,000 back on
    2025-03-17 (14 days later) disallows it all: the new lot's basis is 50,000. A buy on
    2025-05-01 is outside every window and keeps its own basis."""
    book = LotBook.open([Lot("a", "equity", "taxable", 100_000.0, 100_000.0, dt.date(2025, 1, 2))],
                        [Account("taxable")])
    book = book.revalue("equity", 0.8)
    assert book.value("equity") == pytest.approx(80_000.0)
    sold = sell(book, "equity", 40_000.0, dt.date(2025, 3, 3), POLICY)
    (sale,) = sold.sales
    assert (sale.basis, sale.gain, sale.term) == (50_000.0, -10_000.0, Term.SHORT)
    assert summarise(sold.sales, POLICY).short_term_loss == pytest.approx(10_000.0)
    again = buy(sold.book, "equity", "taxable", 40_000.0, dt.date(2025, 3, 17), POLICY)
    assert again.lot.basis == pytest.approx(50_000.0)
    year = summarise(sold.sales, POLICY, late_washes=again.washes)
    assert year.short_term_loss == pytest.approx(0.0) and year.disallowed_loss == pytest.approx(10_000.0)
    later = buy(again.book, "equity", "taxable", 10_000.0, dt.date(2025, 5, 1), POLICY)
    assert later.washes == () and later.lot.basis == 10_000.0
    assert [lot.lot_id for lot in later.book.lots] == ["a", "equity#1", "equity#2"]
    assert later.book.value("equity") == pytest.approx(40_000.0 + 40_000.0 + 10_000.0)


def test_buy_into_an_unknown_account_is_refused():
    with pytest.raises(KeyError):
        buy(LotBook(accounts=(Account("taxable"),)), "equity", "ira", 1.0, dt.date(2025, 1, 2), POLICY)
