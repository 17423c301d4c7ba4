"""The built-in data set, the bond-return approximation, the bootstrap and the signals."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from overlay.backtest.bootstrap import path_rngs, stationary_indices
from overlay.backtest.builtin import bond_returns, par_bond_convexity, par_bond_duration
from overlay.backtest.engine import trailing_signals


def _par_bond_price(coupon: float, y: float, years: float = 20.0) -> float:
    """Exact price (per 1 of face) of a semi-annual bond: Σ c/2 (1+y/2)^-k + (1+y/2)^-2M."""
    n = int(2 * years)
    v = 1.0 / (1.0 + y / 2.0)
    return sum(coupon / 2.0 * v**k for k in range(1, n + 1)) + v**n


@pytest.mark.parametrize("y0, y1", [(0.05, 0.06), (0.08, 0.07), (0.03, 0.0325), (0.12, 0.15)])
def test_the_second_order_approximation_tracks_exact_repricing(y0, y1):
    """A par bond bought at y0 and marked at y1: the duration-and-convexity change is within
    a few basis points of exact repricing for moves up to 300 bp."""
    exact = _par_bond_price(y0, y1) - 1.0
    approx = -par_bond_duration(y0) * (y1 - y0) + 0.5 * par_bond_convexity(y0) * (y1 - y0) ** 2
    assert approx == pytest.approx(exact, abs=2e-3 * max(1.0, abs(y1 - y0) / 0.01) ** 2)
    # and at par the duration is the textbook figure: D = (1/y)(1 − (1 + y/2)^−40)
    assert par_bond_duration(0.05) == pytest.approx((1 - 1.025**-40) / 0.05)


def test_bond_returns_are_carry_when_yields_stand_still():
    r = bond_returns(np.array([0.06, 0.06, 0.06]))
    assert r.tolist() == pytest.approx([0.005, 0.005])


def test_the_builtin_data_set():
    pytest.importorskip("arch")
    from overlay.backtest.builtin import us_stocks_bonds_frame

    f = us_stocks_bonds_frame()
    assert len(f) == 1110 and str(f.date.iloc[0]) == "1926-06-30" and str(f.date.iloc[-1]) == "2018-11-30"
    # July 1926: Mkt-RF 2.96 % + RF 0.22 % = 3.18 %; RF 0.22 % a month is 2.64 % a year
    assert f.equity.iloc[1] == pytest.approx(1.0318)
    assert f.cash_rate.iloc[1] == pytest.approx(0.0264)
    years = 1109 / 12
    eq = f.equity.iloc[-1] ** (1 / years) - 1
    bonds = f.bonds.iloc[-1] ** (1 / years) - 1
    assert 0.09 < eq < 0.11 and 0.05 < bonds < 0.07


@settings(max_examples=25, deadline=None)
@given(first=st.integers(0, 40), count=st.integers(1, 20), seed=st.integers(0, 2**32 - 1))
def test_a_path_depends_only_on_the_seed_and_its_index(first, count, seed):
    total = 64
    count = min(count, total - first)
    if count < 1:
        return
    all_paths = stationary_indices(path_rngs(seed, total), 100, 30, 6.0)
    some = stationary_indices(path_rngs(seed, total, first, count), 100, 30, 6.0)
    assert np.array_equal(some, all_paths[first : first + count])


def test_blocks_are_runs_of_consecutive_periods_with_the_mean_length():
    idx = stationary_indices(path_rngs(3, 400), 50, 240, 12.0)
    step = (np.diff(idx, axis=1) % 50) == 1
    assert step.mean() == pytest.approx(1 - 1 / 12, abs=0.01)  # a new block starts with p = 1/12
    assert idx.min() == 0 and idx.max() == 49


def test_trailing_signals():
    r = np.array([[[0.1], [0.1], [-0.2], [0.05]]])
    mom, vol = trailing_signals(r, 2, 3, 12.0)
    assert np.isnan(mom[0, :2, 0]).all()
    assert mom[0, 2, 0] == pytest.approx(1.1 * 1.1 - 1)
    assert mom[0, 4, 0] == pytest.approx(0.8 * 1.05 - 1)
    assert vol[0, 3, 0] == pytest.approx(np.std([0.1, 0.1, -0.2], ddof=1) * np.sqrt(12))
