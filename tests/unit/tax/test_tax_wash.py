"""The wash-sale rule (26 U.S.C. § 1091): hand-computed cases.

The loss lot C (value 100,000, basis 130,000, a 30,000 loss) is sold on 2026-03-02 from the
taxable account; purchases of the same sleeve in the pension account come before or after.
"""

import datetime as dt

import pytest

from overlay.tax import Account, Lot, LotBook, Purchase, TaxPolicy, buy, sell, summarise

ON = dt.date(2026, 3, 2)
ACCOUNTS = (Account("taxable", True), Account("pension", False))
C = Lot("C", "equity", "taxable", 100_000.0, 130_000.0, dt.date(2024, 1, 15))
POLICY = TaxPolicy()


def _sell_after(purchases):
    book = LotBook.open([C], ACCOUNTS, purchases)
    result = sell(book, "equity", 100_000.0, ON, POLICY)
    return result, summarise(result.sales, POLICY, result.washes)


def test_purchase_20_days_before_in_another_account_is_a_wash_sale():
    """A 40,000 buy in the pension account on 2026-02-10 (20 days before) replaces 40 % of
    the 100,000 sold: disallowed = 30,000 × min(1, 40,000 / 100,000) = 12,000. The realised
    long-term loss is the other 18,000; the sale's economic gain stays −30,000."""
    bought = Purchase("equity", "pension", dt.date(2026, 2, 10), 40_000.0)
    assert (ON - bought.date).days == 20
    result, tax = _sell_after([bought])
    (sale,) = result.sales
    assert sale.wash_sale is True
    assert sale.gain == pytest.approx(-30_000.0)
    assert sale.disallowed_loss == pytest.approx(12_000.0)
    assert tax.disallowed_loss == pytest.approx(12_000.0)
    assert tax.long_term_loss == pytest.approx(18_000.0)
    (wash,) = tax.wash_sales
    assert wash.replacement.account == "pension" and wash.replacement.date == bought.date
    assert wash.matched == pytest.approx(40_000.0)


def test_purchase_31_days_before_is_not_a_wash_sale():
    """2026-01-30 is 31 days before 2026-03-02: outside the 30-day window, the full 30,000
    loss is realised."""
    bought = Purchase("equity", "pension", dt.date(2026, 1, 30), 40_000.0)
    assert (ON - bought.date).days == 31
    result, tax = _sell_after([bought])
    assert result.sales[0].wash_sale is False
    assert tax.long_term_loss == pytest.approx(30_000.0)
    assert tax.disallowed_loss == 0.0


def test_purchase_larger_than_the_sale_disallows_the_whole_loss():
    result, tax = _sell_after([Purchase("equity", "taxable", dt.date(2026, 2, 20), 250_000.0)])
    assert tax.disallowed_loss == pytest.approx(30_000.0)
    assert tax.long_term_loss == pytest.approx(0.0)


def test_other_sleeve_and_sale_at_a_gain_never_wash():
    result, tax = _sell_after([Purchase("bonds", "taxable", dt.date(2026, 2, 20), 250_000.0)])
    assert tax.disallowed_loss == 0.0
    gain_lot = Lot("G", "equity", "taxable", 100.0, 50.0, dt.date(2020, 1, 1))
    book = LotBook.open([gain_lot], ACCOUNTS, [Purchase("equity", "taxable", ON, 100.0)])
    r = sell(book, "equity", 100.0, ON, POLICY)
    assert r.washes == () and r.sales[0].wash_sale is False


def test_purchase_after_the_sale_adds_the_loss_to_the_new_lot_basis():
    """Sell C on 2026-03-02 (loss 30,000), buy 60,000 of the sleeve 20 days later (2026-03-22):
    the buy replaces 60 % of the sale, disallowing 18,000, which lands on the new lot's basis
    (60,000 + 18,000 = 78,000). A buy 31 days after the sale disallows nothing."""
    book = LotBook.open([C], ACCOUNTS)
    sold = sell(book, "equity", 100_000.0, ON, POLICY)
    assert sold.washes == ()
    later = buy(sold.book, "equity", "taxable", 60_000.0, ON + dt.timedelta(days=20), POLICY)
    (wash,) = later.washes
    assert wash.disallowed == pytest.approx(18_000.0)
    assert later.lot.basis == pytest.approx(78_000.0)
    tax = summarise(sold.sales, POLICY, late_washes=later.washes)
    assert tax.long_term_loss == pytest.approx(12_000.0)
    assert tax.disallowed_loss == pytest.approx(18_000.0)
    too_late = buy(sold.book, "equity", "taxable", 60_000.0, ON + dt.timedelta(days=31), POLICY)
    assert too_late.washes == () and too_late.lot.basis == 60_000.0


def test_replacement_lot_in_the_book_takes_the_disallowed_loss():
    """A lot bought 10 days before the sale (tracked in the book with its purchase) gets the
    disallowed loss on its basis: 50,000 + 30,000 × 50/100 = 65,000."""
    book = LotBook.open([C], ACCOUNTS)
    bought = buy(book, "equity", "taxable", 50_000.0, ON - dt.timedelta(days=10), POLICY)
    # HIFO would sell the new lot (ratio 1.0) after C (1.3): sell exactly C's value
    sold = sell(bought.book, "equity", 100_000.0, ON, POLICY)
    assert [s.lot_id for s in sold.sales] == ["C"]
    new = next(lot for lot in sold.book.lots if lot.lot_id == bought.lot.lot_id)
    assert new.basis == pytest.approx(65_000.0)


def test_a_purchase_replaces_only_once():
    """One 100,000 buy cannot wash two 100,000 loss sales: the first takes it all."""
    C2 = Lot("C2", "equity", "taxable", 100_000.0, 120_000.0, dt.date(2024, 1, 15))
    book = LotBook.open([C, C2], ACCOUNTS, [Purchase("equity", "pension", dt.date(2026, 2, 25), 100_000.0)])
    result = sell(book, "equity", 200_000.0, ON, POLICY)
    assert [s.wash_sale for s in result.sales] == [True, False]
    assert sum(w.matched for w in result.washes) == pytest.approx(100_000.0)


def test_tax_deferred_sale_at_a_loss_is_never_a_wash_sale():
    P = Lot("P", "equity", "pension", 100.0, 150.0, dt.date(2024, 1, 1), taxable=False)
    book = LotBook.open([P], ACCOUNTS, [Purchase("equity", "taxable", ON, 100.0)])
    result = sell(book, "equity", 100.0, ON, POLICY)
    assert result.washes == () and result.sales[0].wash_sale is False
