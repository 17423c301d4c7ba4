"""The Almgren–Chriss discrete optimal schedule (Almgren & Chriss 2000)."""

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pricing import almgren_chriss as ac

TABLE1 = ac.ACParams(1_000_000, 5.0, 5, 0.95, 2.5e-6, 2.5e-7, 0.0625)

params_st = st.builds(
    ac.ACParams,
    quantity=st.one_of(st.floats(1e2, 1e8), st.floats(-1e8, -1e2)),
    horizon_days=st.floats(0.05, 20.0),
    periods=st.integers(1, 60),
    sigma=st.floats(0.01, 5.0),
    eta=st.floats(1e-8, 1e-4),
    gamma=st.just(0.0),
    epsilon=st.floats(0.0, 0.1),
)
kappa_t = st.floats(1e-3, 30.0)


def _lam(params: ac.ACParams, kt: float) -> float:
    return float(ac.risk_aversion_for_kappa(params, kt / params.horizon_days))


@settings(max_examples=150, deadline=None)
@given(params=params_st, kt=kappa_t)
def test_holdings_fall_monotonically_for_positive_risk_aversion(params, kt):
    lam = _lam(params, kt)
    assume(lam > 0)
    s = ac.optimal_schedule(params, lam)
    x = s.holdings * np.sign(params.quantity)
    assert len(s.holdings) == params.periods + 1 and len(s.trades) == params.periods
    assert s.holdings[0] == params.quantity and s.holdings[-1] == 0.0
    assert np.all(np.diff(x) <= 0)
    assert np.all(x >= 0)


@settings(max_examples=150, deadline=None)
@given(params=params_st, kt=st.floats(-3.0, 30.0))
def test_trades_sum_to_quantity(params, kt):
    lam = _lam(params, kt)
    assume(lam > ac.min_risk_aversion(params))
    s = ac.optimal_schedule(params, lam)
    assert math.fsum(s.trades) == pytest.approx(params.quantity, rel=1e-12)
    assert params.quantity - s.holdings[-1] == params.quantity  # cumulative target ends exactly


@settings(max_examples=100, deadline=None)
@given(params=params_st, kt=kappa_t)
def test_kappa_solves_the_exact_cosh_relation(params, kt):
    lam = _lam(params, kt)
    assume(lam > 0)
    kappa = ac.solve_kappa(params, lam)
    tau = params.tau
    lhs = 4 / tau**2 * math.sinh(kappa * tau / 2) ** 2  # = (2/τ²)(cosh κτ − 1), no cancellation
    assert lhs == pytest.approx(lam * params.sigma**2 / params.eta_tilde, rel=1e-9)
    assert ac.optimal_schedule(params, lam).half_life == pytest.approx(1 / kappa)


@settings(max_examples=60, deadline=None)
@given(params=params_st, kt=st.floats(0.01, 8.0), data=st.data())
def test_optimal_schedule_beats_perturbations(params, kt, data):
    """No other schedule has a lower E + λV (the schedule is the minimiser)."""
    assume(params.periods >= 2)
    lam = _lam(params, kt)
    s = ac.optimal_schedule(params, lam)
    best = s.expected_cost + lam * s.variance
    k = data.draw(st.integers(1, params.periods - 1))
    bump = data.draw(st.floats(-0.05, 0.05).filter(lambda b: abs(b) > 1e-4)) * params.quantity
    other = s.holdings.copy()
    other[k] += bump
    worse = ac.expected_cost_sum(params, other) + lam * ac.variance_sum(params, other)
    assert worse >= best * (1 - 1e-12)


def test_zero_risk_aversion_is_the_straight_line():
    s = ac.optimal_schedule(TABLE1, 0.0)
    assert s.kappa == 0.0 and s.half_life == math.inf
    np.testing.assert_allclose(s.trades, 200_000.0)


def test_tiny_risk_aversion_approaches_the_straight_line():
    s = ac.optimal_schedule(TABLE1, 1e-15)
    np.testing.assert_allclose(s.holdings, [1e6, 8e5, 6e5, 4e5, 2e5, 0], rtol=1e-6, atol=1e-6)


def test_risk_loving_schedule_is_back_loaded():
    s = ac.optimal_schedule(TABLE1, -2e-7)
    line = ac.optimal_schedule(TABLE1, 0.0)
    assert s.kappa < 0 and s.half_life == math.inf
    assert np.all(s.holdings[1:-1] > line.holdings[1:-1])
    assert s.expected_cost > line.expected_cost and s.variance > line.variance


def test_too_risk_loving_raises_clearly():
    lam_min = ac.min_risk_aversion(TABLE1)
    assert lam_min == pytest.approx(2 * 2.375e-6 * (math.cos(math.pi / 5) - 1) / 0.95**2)
    ac.optimal_schedule(TABLE1, 0.99 * lam_min)
    with pytest.raises(ValueError, match="too risk-loving"):
        ac.optimal_schedule(TABLE1, lam_min)
    with pytest.raises(ValueError, match="too risk-loving"):
        ac.optimal_schedule(TABLE1, 2 * lam_min)


def test_huge_risk_aversion_trades_everything_at_once_without_overflow():
    s = ac.optimal_schedule(TABLE1, 1e3)
    assert np.all(np.isfinite(s.holdings))
    assert s.trades[0] == pytest.approx(1e6, rel=1e-6)
    assert s.trades[0] > 0.99 * 1e6


def test_buy_orders_mirror_sells():
    buy = ac.ACParams(-1_000_000, 5.0, 5, 0.95, 2.5e-6, 2.5e-7, 0.0625)
    a, b = ac.optimal_schedule(TABLE1, 1e-6), ac.optimal_schedule(buy, 1e-6)
    np.testing.assert_allclose(b.holdings, -a.holdings)
    assert b.expected_cost == pytest.approx(a.expected_cost)
    assert b.variance == pytest.approx(a.variance)


def test_optimal_holdings_entry_point():
    x = ac.optimal_holdings(1_000_000, 5, 1.0, 0.95, 2.5e-6, 2.5e-7, 1e-6, epsilon=0.0625)
    np.testing.assert_array_equal(x, ac.optimal_schedule(TABLE1, 1e-6).holdings)
    x10 = ac.optimal_holdings(500, 390, 1 / 390, 0.5, 1e-3, risk_aversion=0.0)
    assert x10[0] == 500 and x10[-1] == 0.0 and len(x10) == 391


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"horizon_days": 0.0}, "horizon_days"),
        ({"periods": 0}, "periods"),
        ({"periods": 2.5}, "periods"),
        ({"eta": 1e-7, "gamma": 1e-6}, "eta_tilde"),
        ({"sigma": -1.0}, "sigma"),
    ],
)
def test_bad_parameters_raise(kwargs, fragment):
    base = dict(quantity=1e6, horizon_days=5.0, periods=5, sigma=0.95, eta=2.5e-6, gamma=2.5e-7)
    with pytest.raises(ValueError, match=fragment):
        ac.ACParams(**{**base, **kwargs})


def test_efficient_frontier_cost_rises_as_variance_falls():
    grid = ac.frontier_grid(TABLE1, points=25)
    f = ac.efficient_frontier(TABLE1, grid)
    assert f.risk_aversions[0] == 0.0
    assert np.all(np.diff(f.expected_cost) > 0)
    assert np.all(np.diff(f.variance) < 0)
    np.testing.assert_allclose(f.std, np.sqrt(f.variance))


def test_risk_aversion_for_kappa_inverts_solve_kappa():
    for kappa in (-0.3, 0.05, 0.6, 3.0):
        lam = float(ac.risk_aversion_for_kappa(TABLE1, kappa))
        assert ac.solve_kappa(TABLE1, lam) == pytest.approx(kappa, rel=1e-10)
