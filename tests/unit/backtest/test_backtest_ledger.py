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

steps = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=200),  # days to the next date
        st.floats(min_value=0.7, max_value=1.4),  # price factor over them
        st.sampled_from(["buy", "sell"]),
        st.floats(min_value=0.01, max_value=0.99),  # fraction of the holding bought or sold
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(steps=steps, method=st.sampled_from(["hifo", "fifo", "loss_first"]))
def test_ledger_matches_the_tax_lot_book(steps, method):
    tax = BacktestTax(short_term=0.37, long_term=0.20, long_after_days=365, lot_method=method)
    policy = TaxPolicy(short_term=0.37, long_term=0.20, long_after_days=365, lot_method=LotMethod(method), wash_sale_days=0)
    dates = [START]
    for days, *_ in steps:
        dates.append(dates[-1] + dt.timedelta(days=days))
    ledger = LotLedger(1, 1, len(dates), np.array([d.toordinal() for d in dates]), tax)
    ledger.buy(0, np.array([[1_000_000.0]]), np.array([[1.0]]))
    book = LotBook.open([Lot("L0", "equity", "taxable", 1_000_000.0, 1_000_000.0, START)], [Account("taxable")])
    price = 1.0
    for t, (_, factor, action, fraction) in enumerate(steps, start=1):
        price *= factor
        book = book.revalue("equity", factor)
        held = book.value("equity")
        amount = fraction * held
        if action == "buy":
            ledger.buy(t, np.array([[amount / price]]), np.array([[price]]))
            book = buy(book, "equity", "taxable", amount, dates[t], policy).book
            continue
        realised = ledger.sell(t, 0, np.array([amount / price]), np.array([price]))
        result = sell(book, "equity", amount, dates[t], policy)
        book = result.book
        expected = summarise(result.sales, policy)
        scale = max(1.0, held)
        assert realised.short_gain[0] == pytest.approx(expected.short_term_gain, abs=1e-7 * scale)
        assert realised.short_loss[0] == pytest.approx(expected.short_term_loss, abs=1e-7 * scale)
        assert realised.long_gain[0] == pytest.approx(expected.long_term_gain, abs=1e-7 * scale)
        assert realised.long_loss[0] == pytest.approx(expected.long_term_loss, abs=1e-7 * scale)
        left = (ledger.units[0, 0, : ledger.used] * price).sum()
        assert left == pytest.approx(book.value("equity"), abs=1e-7 * scale)


def test_each_path_keeps_its_own_lots():
    """Two paths, the same trades on one of them only: the other is untouched."""
    tax = BacktestTax(lot_method="hifo")
    ledger = LotLedger(2, 1, 3, np.array([0, 30, 400]), tax)
    ledger.buy(0, np.array([[100.0], [100.0]]), np.array([[1.0], [1.0]]))
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
