"""The backtest's vectorised lot ledger realises exactly what the tax package's lot book does.

:class:`overlay.backtest.ledger.LotLedger` is the array form (every path at once) of
:mod:`overlay.tax`'s lots: the same selection orders, part lots, terms and netting. These
properties drive both with the same random buys and sells and compare every sale's
short- and long-term gains and losses.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from overlay.backtest.ledger import LotLedger, Realised, net_tax, section_1256
from overlay.config.backtest import BacktestTax
from overlay.tax import Account, Lot, LotBook, LotMethod, TaxPolicy, buy, sell, summarise

START = dt.date(2000, 1, 31)

# Dates at least 16 days apart: no lot is sold twice at a loss inside one wash-sale window
# (the ledger keeps one open loss per lot; see overlay.backtest.ledger).
steps = st.lists(
    st.tuples(
        st.one_of(st.integers(16, 40), st.integers(41, 400)),  # days to the next date
        st.floats(min_value=0.7, max_value=1.4),  # price factor over them
        st.sampled_from(["buy", "sell"]),
        st.floats(min_value=0.01, max_value=0.99),  # fraction of the holding bought or sold
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=100, deadline=None)
@given(steps=steps, method=st.sampled_from(["hifo", "fifo", "loss_first"]), wash=st.sampled_from([0, 30]))
def test_ledger_matches_the_tax_lot_book(steps, method, wash):
    tax = BacktestTax(short_term=0.37, long_term=0.20, long_after_days=365, lot_method=method, wash_sale_days=wash)
    policy = TaxPolicy(short_term=0.37, long_term=0.20, long_after_days=365, lot_method=LotMethod(method), wash_sale_days=wash)
    dates = [START]
    for days, *_ in steps:
        dates.append(dates[-1] + dt.timedelta(days=days))
    ledger = LotLedger(1, 1, len(dates), np.array([d.toordinal() for d in dates]), tax)
    ledger.open(np.array([[1_000_000.0]]), np.array([[1.0]]))
    book = LotBook.open([Lot("L0", "equity", "taxable", 1_000_000.0, 1_000_000.0, START)], [Account("taxable")])
    price = 1.0
    for t, (_, factor, action, fraction) in enumerate(steps, start=1):
        price *= factor
        book = book.revalue("equity", factor)
        held = book.value("equity")
        amount = fraction * held
        if action == "buy":
            late = ledger.buy(t, np.array([[amount / price]]), np.array([[price]]))
            bought = buy(book, "equity", "taxable", amount, dates[t], policy)
            book = bought.book
            # a purchase after a loss sale disallows part of that loss (a late wash sale)
            for term, got in (("short", late.short_gain[0]), ("long", late.long_gain[0])):
                want = sum(w.disallowed for w in bought.washes if w.sale.term.value == term)
                assert got == pytest.approx(want, abs=1e-7 * max(1.0, held))
            continue
        realised = ledger.sell(t, 0, np.array([amount / price]), np.array([price]))
        result = sell(book, "equity", amount, dates[t], policy)
        book = result.book
        expected = summarise(result.sales, policy, result.washes)
        scale = max(1.0, held)
        assert realised.short_gain[0] == pytest.approx(expected.short_term_gain, abs=1e-7 * scale)
        assert realised.short_loss[0] == pytest.approx(expected.short_term_loss, abs=1e-7 * scale)
        assert realised.long_gain[0] == pytest.approx(expected.long_term_gain, abs=1e-7 * scale)
        assert realised.long_loss[0] == pytest.approx(expected.long_term_loss, abs=1e-7 * scale)
        left = (ledger.units[0, 0, : ledger.used] * price).sum()
        assert left == pytest.approx(book.value("equity"), abs=1e-7 * scale)
        basis = (ledger.units[0, 0, : ledger.used] * ledger.price[0, 0, : ledger.used]).sum()
        assert basis == pytest.approx(sum(lot.basis for lot in book.of("equity")), abs=1e-7 * scale)


def test_each_path_keeps_its_own_lots():
    """Two paths, the same trades on one of them only: the other is untouched."""
    tax = BacktestTax(lot_method="hifo")
    ledger = LotLedger(2, 1, 3, np.array([0, 30, 400]), tax)
    ledger.open(np.array([[100.0], [100.0]]), np.array([[1.0], [1.0]]))
    ledger.buy(1, np.array([[50.0], [0.0]]), np.array([[2.0], [2.0]]))
    r = ledger.sell(2, 0, np.array([60.0, 0.0]), np.array([1.5, 1.5]))
    # HIFO takes the 50 units bought at 2.0 (a loss of 25, short-term: held 370 days < 365? no:
    # 400 - 30 = 370 days > 365, long-term), then 10 of the first lot (gain 5, long-term).
    assert r.long_loss.tolist() == pytest.approx([25.0, 0.0])
    assert r.long_gain.tolist() == pytest.approx([5.0, 0.0])
    assert r.short_gain.tolist() == [0.0, 0.0]
    assert ledger.units[0, 1, :2].tolist() == [100.0, 0.0]


def test_netting_and_carry_forward():
    """Short-term gain 100 and long-term loss 30 net to 70 taxed short-term; a loss left over is
    carried to the next date with its term, never refunded."""
    tax = BacktestTax(short_term=0.4, long_term=0.2)
    z = np.zeros(1)
    due, cs, cl = net_tax(Realised(np.array([100.0]), z, z, np.array([30.0])), z, z, tax)
    assert due.tolist() == pytest.approx([28.0]) and cs.tolist() == [0.0] and cl.tolist() == [0.0]
    due, cs, cl = net_tax(Realised(z, np.array([50.0]), np.array([20.0]), z), z, z, tax)
    assert due.tolist() == [0.0] and cs.tolist() == pytest.approx([30.0]) and cl.tolist() == [0.0]
    due, cs, cl = net_tax(Realised(np.array([40.0]), z, z, z), cs, cl, tax)
    assert due.tolist() == pytest.approx([4.0]) and cs.tolist() == [0.0]


def test_section_1256_is_60_40_and_carries_losses():
    tax = BacktestTax(short_term=0.37, long_term=0.20)
    due, carry = section_1256(np.array([-1000.0]), np.zeros(1), tax)
    assert due.tolist() == [0.0] and carry.tolist() == [1000.0]
    due, carry = section_1256(np.array([3000.0]), carry, tax)
    assert due.tolist() == pytest.approx([2000.0 * (0.6 * 0.20 + 0.4 * 0.37)]) and carry.tolist() == [0.0]


def _book_and_ledger(method="hifo"):
    tax = BacktestTax(short_term=0.37, long_term=0.20, lot_method=method, wash_sale_days=30)
    policy = TaxPolicy(short_term=0.37, long_term=0.20, lot_method=LotMethod(method), wash_sale_days=30)
    return tax, policy


def test_a_loss_sold_20_days_after_a_purchase_is_a_wash_sale():
    """Bought 100 at 1.0 at the start (not a purchase in the window), 50 more at 1.2 on day
    10, sold 60 at 1.0 on day 30: HIFO takes the 50 bought at 1.2 (loss 10) and 10 of the
    first lot (no gain). The day-10 purchase (60 of value) lies within 30 days and replaces
    the loss sale's 50 of value: the whole loss of 10 is disallowed and added to the basis
    of the replacement, the very lot bought on day 10 (of which nothing is left)."""
    tax, _ = _book_and_ledger()
    days = np.array([0, 10, 30])
    ledger = LotLedger(1, 1, 3, days, tax)
    ledger.open(np.array([[100.0]]), np.array([[1.0]]))
    ledger.buy(1, np.array([[50.0]]), np.array([[1.2]]))
    r = ledger.sell(2, 0, np.array([60.0]), np.array([1.0]))
    assert r.short_loss.tolist() == pytest.approx([0.0])
    assert r.short_gain.tolist() == pytest.approx([0.0])


def test_a_purchase_15_days_after_a_loss_sale_disallows_it_late():
    tax, _ = _book_and_ledger()
    days = np.array([0, 400, 415])
    ledger = LotLedger(1, 1, 3, days, tax)
    ledger.open(np.array([[100.0]]), np.array([[1.0]]))
    r = ledger.sell(1, 0, np.array([40.0]), np.array([0.8]))  # loss 40 × 0.2 = 8, long-term
    assert r.long_loss.tolist() == pytest.approx([8.0])
    late = ledger.buy(2, np.array([[10.0]]), np.array([[0.8]]))  # 8 of value replaces 8 / 32 of the sale
    assert late.long_gain.tolist() == pytest.approx([8.0 * 8.0 / 32.0])
    assert ledger.price[0, 0, 2] == pytest.approx((8.0 + 2.0) / 10.0)
