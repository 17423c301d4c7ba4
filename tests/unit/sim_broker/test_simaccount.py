"""Account bookkeeping: average cost, realised and unrealised P&L, cash, multipliers."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim_broker.account import Account


def test_round_trip_long_realises_the_price_change_times_multiplier():
    acct = Account({"ES": 50.0})
    acct.fill("ES", 2, 5000.0, 4.0)
    acct.fill("ES", 1, 5010.0, 2.0)
    s = acct.state("ES")
    assert s.position == 3 and s.average_cost == pytest.approx(5003.333333333)
    assert s.unrealised(5020.0) == pytest.approx((5020.0 - 5003.333333333) * 3 * 50, rel=1e-9)
    acct.fill("ES", -3, 5020.0, 6.0)
    s = acct.state("ES")
    assert s.position == 0 and s.average_cost == 0.0
    assert s.realised == pytest.approx((2 * 20 + 10) * 50)
    assert s.fees == 12.0
    assert acct.cash == pytest.approx(s.realised - s.fees)


def test_short_then_through_zero_reopens_at_the_fill_price():
    acct = Account({"ZN": 1000.0})
    acct.fill("ZN", -4, 110.0, 0.0)
    acct.fill("ZN", 6, 109.5, 0.0)
    s = acct.state("ZN")
    assert s.realised == pytest.approx(4 * 0.5 * 1000)
    assert s.position == 2 and s.average_cost == 109.5
    assert acct.positions() == {"ZN": 2}


fills = st.lists(
    st.tuples(st.integers(-50, 50).filter(bool), st.floats(90.0, 110.0), st.floats(0.0, 5.0)), max_size=40
)


@given(fills, st.floats(90.0, 110.0))
def test_equity_is_cash_plus_marked_positions_and_equals_pnl_less_fees(trades, mark):
    acct = Account({"X": 20.0}, cash=1_000.0)
    for q, price, fee in trades:
        acct.fill("X", q, price, fee)
    s = acct.state("X")
    assert s.position == sum(q for q, _, _ in trades)
    equity = acct.equity({"X": mark})
    assert equity == pytest.approx(1_000.0 + s.realised + s.unrealised(mark) - s.fees, abs=1e-6 * (1 + abs(equity)))
