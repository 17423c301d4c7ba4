"""Hand-computed lot selection, gains and taxes (the cases are worked out in each docstring).

Rates: 37 % short-term, 20 % long-term, long-term after 365 days; sale date 2026-03-02.
"""

import datetime as dt

import pytest

from overlay.tax import (
    Account,
    Lot,
    LotBook,
    LotMethod,
    TaxPolicy,
    Term,
    sell,
    summarise,
)

ON = dt.date(2026, 3, 2)
ACCOUNTS = (Account("taxable", True), Account("pension", False))

# Three lots of one sleeve: A a long-term gain, B a short-term gain, C a (long-term) loss.
A = Lot("A", "equity", "taxable", 300_000.0, 150_000.0, dt.date(2019, 5, 1))  # basis/value 0.50
B = Lot("B", "equity", "taxable", 200_000.0, 180_000.0, dt.date(2025, 12, 1))  # 0.90, short-term
C = Lot("C", "equity", "taxable", 100_000.0, 130_000.0, dt.date(2024, 1, 15))  # 1.30, a loss


def _sell(lots, amount, method, accounts=ACCOUNTS):
    policy = TaxPolicy(lot_method=method)
    result = sell(LotBook.open(lots, accounts), "equity", amount, ON, policy)
    return result, summarise(result.sales, policy, result.washes)


def test_hifo_takes_the_loss_then_the_short_term_gain():
    """HIFO sells C (ratio 1.30) whole, then 150,000 of B (0.90):
    C: value 100,000, basis 130,000, gain −30,000, long-term;
    B: value 150,000, basis 180,000 × 150/200 = 135,000, gain +15,000, short-term.
    Net short-term +15,000, net long-term −30,000 → the long-term loss absorbs the short-term
    gain: net short −15,000, nothing taxed, estimated tax 0."""
    result, tax = _sell([A, B, C], 250_000.0, LotMethod.HIFO)
    got = [(s.lot_id, s.value, s.basis, s.gain, s.term) for s in result.sales]
    assert got == [
        ("C", 100_000.0, 130_000.0, -30_000.0, Term.LONG),
        ("B", 150_000.0, pytest.approx(135_000.0), pytest.approx(15_000.0), Term.SHORT),
    ]
    assert tax.short_term_gain == pytest.approx(15_000.0)
    assert tax.long_term_loss == pytest.approx(30_000.0)
    assert tax.estimated_tax == 0.0
    left = {lot.lot_id: (lot.value, lot.basis) for lot in result.book.lots}
    assert left == {"A": (300_000.0, 150_000.0), "B": (pytest.approx(50_000.0), pytest.approx(45_000.0))}


def test_fifo_takes_the_oldest_lot_and_pays_long_term_tax():
    """FIFO sells 250,000 of A (2019): basis 150,000 × 250/300 = 125,000, long-term gain
    125,000, tax 125,000 × 20 % = 25,000."""
    result, tax = _sell([A, B, C], 250_000.0, LotMethod.FIFO)
    assert [(s.lot_id, s.value) for s in result.sales] == [("A", 250_000.0)]
    assert result.sales[0].basis == pytest.approx(125_000.0)
    assert result.sales[0].term is Term.LONG
    assert tax.long_term_gain == pytest.approx(125_000.0)
    assert tax.estimated_tax == pytest.approx(25_000.0)


def test_short_term_gain_is_taxed_at_the_short_rate():
    """FIFO on B and C alone sells C (2024) then 50,000 of B: C −30,000 long-term, B +5,000
    short-term; the long-term loss nets the short-term gain to −25,000: tax 0. Selling B
    alone (75,000): gain 75,000 × (1 − 0.9) = 7,500 short-term → tax 7,500 × 37 % = 2,775."""
    _, tax = _sell([B, C], 150_000.0, LotMethod.FIFO)
    assert tax.short_term_gain == pytest.approx(5_000.0)
    assert tax.long_term_loss == pytest.approx(30_000.0)
    assert tax.estimated_tax == 0.0
    _, tax = _sell([B], 75_000.0, LotMethod.FIFO)
    assert tax.estimated_tax == pytest.approx(2_775.0)


def test_loss_first_takes_the_short_term_loss_before_the_long_term_one_at_equal_ratios():
    """D (short-term, value 100,000, basis 120,000) and E (long-term, value 50,000, basis
    60,000) both lose 20 % per unit of value. loss_first takes the short-term D first: a
    100,000 sell is D whole, a 20,000 short-term loss. HIFO breaks the tie by age and takes
    E (2023) first: E whole (−10,000 long-term) then 50,000 of D (−10,000 short-term)."""
    D = Lot("D", "equity", "taxable", 100_000.0, 120_000.0, dt.date(2025, 10, 1))
    E = Lot("E", "equity", "taxable", 50_000.0, 60_000.0, dt.date(2023, 1, 1))
    G = Lot("G", "equity", "taxable", 500_000.0, 100_000.0, dt.date(2020, 1, 1))
    result, tax = _sell([G, E, D], 100_000.0, LotMethod.LOSS_FIRST)
    assert [(s.lot_id, s.value, s.gain) for s in result.sales] == [("D", 100_000.0, -20_000.0)]
    assert tax.short_term_loss == pytest.approx(20_000.0)
    result, tax = _sell([G, E, D], 100_000.0, LotMethod.HIFO)
    assert [(s.lot_id, s.value) for s in result.sales] == [("E", 50_000.0), ("D", 50_000.0)]
    assert tax.long_term_loss == pytest.approx(10_000.0)
    assert tax.short_term_loss == pytest.approx(10_000.0)


def test_loss_first_then_hifo_for_the_gains():
    """With the three lots, loss_first sells the loss C whole, then B (the higher basis per
    unit of value among the gains, 0.90 against 0.50): the same lots as HIFO."""
    result, _ = _sell([A, B, C], 250_000.0, LotMethod.LOSS_FIRST)
    assert [s.lot_id for s in result.sales] == ["C", "B"]


def test_tax_deferred_accounts_are_sold_first_and_count_toward_no_tax():
    """A pension lot P (value 80,000, basis 10,000) is sold before any taxable lot, whatever
    the method; it carries a 70,000 gain that is not taxed. The remaining 20,000 come from C
    under HIFO: basis 26,000, a 6,000 long-term loss."""
    P = Lot("P", "equity", "pension", 80_000.0, 10_000.0, dt.date(2010, 1, 4), taxable=False)
    for method in LotMethod:
        result, tax = _sell([A, B, C, P], 100_000.0, method)
        assert result.sales[0].lot_id == "P" and result.sales[0].value == 80_000.0
        assert result.sales[0].taxable is False
    result, tax = _sell([A, B, C, P], 100_000.0, LotMethod.HIFO)
    assert [(s.lot_id, s.value) for s in result.sales] == [("P", 80_000.0), ("C", 20_000.0)]
    assert tax.long_term_loss == pytest.approx(6_000.0)
    assert tax.long_term_gain == 0.0 and tax.short_term_gain == 0.0
    assert tax.estimated_tax == 0.0


def test_holding_period_boundary():
    """Long-term means held more than 365 days: 365 days is short, 366 long."""
    short = Lot("S", "equity", "taxable", 10.0, 5.0, ON - dt.timedelta(days=365))
    long = Lot("L", "equity", "taxable", 10.0, 5.0, ON - dt.timedelta(days=366))
    assert short.term(ON, 365) is Term.SHORT
    assert long.term(ON, 365) is Term.LONG


def test_selling_more_than_the_lots_hold_is_refused():
    with pytest.raises(ValueError, match="exceeds"):
        _sell([A], 300_001.0, LotMethod.HIFO)


def test_netting_rules():
    """st gain 100, lt loss 40 → net st 60 × 37 % = 22.2; lt gain 100, st loss 130 → 0."""
    from overlay.tax import estimated_tax

    policy = TaxPolicy()
    assert estimated_tax(100.0, -40.0, policy) == pytest.approx(22.2)
    assert estimated_tax(-130.0, 100.0, policy) == 0.0
    assert estimated_tax(50.0, 50.0, policy) == pytest.approx(50 * 0.37 + 50 * 0.20)
