"""The vectorized engine against Almgren–Chriss closed forms and the simulator's matching code.

Almgren & Chriss (2000), "Optimal execution of portfolio transactions", J. Risk 3(2): with
linear impact h(r) = ε + η·r, g(q) = γ·q, the expected cost of a schedule with trades n_k is
E = ½γX² + εΣ|n_k| + (η̃/τ)Σn_k² (η̃ = η − γτ/2), its variance V = σ²τΣx_k², and for the
straight line (TWAP) E = ½γX² + εX + η̃X²/T. Parameters below are the paper's Table 1
(X = 10⁶, σ = 0.95 $/√day, η = 2.5·10⁻⁶, γ = 2.5·10⁻⁷, ε = 0.0625, λ = 10⁻⁶), over one day
in N = 5 intervals (τ = 0.2 day).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from execution import schedules
from overlay.studies import vectorized as V
from overlay.studies.grid import block_generator
from overlay.studies.paths import slice_volume_noise
from pricing.impact import model_from_spec

X, SIGMA, ETA, GAMMA, EPS, LAM = 1_000_000, 0.95, 2.5e-6, 2.5e-7, 0.0625, 1e-6
N, TAU = 5, 0.2
AC_MARKET = V.PathMarket(
    price=50.0, multiplier=1.0, adv=5e6, daily_vol=SIGMA / 50.0, half_spread=EPS, dynamics=V.ImpactDynamics.PARTICIPATION
)
AC_MODEL = model_from_spec({"model": "almgren-chriss", "eta": ETA, "gamma": GAMMA})


class ZeroRng:
    """Stands in for a Generator: every normal is 0 (no price or volume noise)."""

    def standard_normal(self, out):
        out[...] = 0.0
        return out


def paid(result, market):
    """Cost in price units × units from shortfall_bps (arrival = price here)."""
    return result.shortfall_bps / 1e4 * market.price * result.filled


def run(market, model, order, n, seed=7):
    return V.simulate(market, model, order, n, lambda b: block_generator(seed, b))


def check_mean_and_variance(costs, mean, variance):
    n = costs.size
    se = math.sqrt(variance / n)
    assert abs(costs.mean() - mean) < 3.5 * se
    assert costs.var(ddof=1) == pytest.approx(variance, rel=3.5 * math.sqrt(2.0 / (n - 1)))


def test_twap_matches_the_almgren_chriss_closed_form():
    cum = schedules.twap(X, 390 * 60.0, N)[1]
    res = run(AC_MARKET, AC_MODEL, V.Order(X, 390.0, N, cumulative=cum), 100_000)
    eta_tilde = ETA - 0.5 * GAMMA * TAU
    mean = 0.5 * GAMMA * X**2 + EPS * X + eta_tilde * X**2 / 1.0
    x = X - cum[:-1].astype(float)
    variance = SIGMA**2 * TAU * float(x @ x)
    check_mean_and_variance(paid(res, AC_MARKET), mean, variance)


def test_optimal_trajectory_matches_the_almgren_chriss_formulas():
    from pricing.almgren_chriss import ACParams, solve_kappa

    kappa_day = solve_kappa(ACParams(X, 1.0, N, SIGMA, ETA, GAMMA, EPS), LAM)
    assert kappa_day == pytest.approx(0.6, abs=0.05)  # the paper: κ ≈ 0.6/day at λ = 1e-6
    cum = schedules.implementation_shortfall(X, 390 * 60.0, N, kappa_day / (390 * 60.0))[1]
    res = run(AC_MARKET, AC_MODEL, V.Order(X, 390.0, N, cumulative=cum), 100_000)
    n = np.diff(cum, prepend=0).astype(float)
    mean = 0.5 * GAMMA * X**2 + EPS * X + (ETA - 0.5 * GAMMA * TAU) / TAU * float(n @ n)
    x = X - cum[:-1].astype(float)
    check_mean_and_variance(paid(res, AC_MARKET), mean, SIGMA**2 * TAU * float(x @ x))


def test_simulator_dynamics_reproduce_the_simulators_matching_code():
    """Feed the same child orders through sim_broker's InstrumentBook: identical costs."""
    from sim_broker.market import MarketPath
    from sim_broker.matching import InstrumentBook
    from sim_broker.params import MarketParams, SimConfig

    price, adv, n_slices, q = 5000.0, 1.5e6, 60, 30_000
    model = model_from_spec({"model": "square-root", "y": 0.8, "permanent_fraction": 0.3})
    params = MarketParams("ES", "ES", price, 1e-9, 50.0, adv, 0.01, 1, 0.0, model)
    sim = SimConfig(max_participation=math.inf)
    steps = int(params.session_seconds)
    volume = np.full(steps, adv / steps)
    path = MarketPath(params.session_start, 1.0, np.full(steps + 1, price), volume, np.concatenate(([0.0], np.cumsum(volume))))
    market = V.PathMarket(price=price, multiplier=50.0, adv=adv, daily_vol=0.01, impact_half_life=sim.impact_half_life)
    for cum in (schedules.twap(q, 3600.0, n_slices)[1], schedules.implementation_shortfall(q, 3600.0, n_slices, 1e-3)[1]):
        book = InstrumentBook(params, path, sim)
        spent = 0.0
        for k, n in enumerate(np.diff(cum, prepend=0).tolist()):
            if n:
                t = params.session_start + 60.0 * k
                spent += n * (book.fill_price(t, n) - price)
                book.commit(t, n)
        res = V.simulate(market, model, V.Order(q, 60.0, n_slices, cumulative=cum), 3, lambda b: ZeroRng())
        assert paid(res, market) == pytest.approx(np.full(3, spent), rel=1e-9)


def test_pov_sizes_follow_realised_volume():
    market = V.PathMarket(price=5000.0, multiplier=50.0, adv=1.5e6, daily_vol=0.01, volume_noise=0.3, edge_ratio=3.0)
    model = model_from_spec({"model": "square-root", "y": 0.8})
    q = 30_000
    pov = run(market, model, V.Order(q, 390.0, 390, pov_rate=0.02), 2000)
    twap = run(market, model, V.Order(q, 390.0, 390, cumulative=schedules.twap(q, 23400.0, 390)[1]), 2000)
    assert np.all(twap.filled == q)
    # the session closes at the horizon: POV ends where the day's volume took it
    assert np.all(pov.filled <= q) and pov.filled.min() < q and np.ptp(pov.filled) > 100
    short = pov.filled < q
    assert np.all(np.abs(pov.participation_realised[short] - 0.02) < 0.02 * 0.02)


def test_no_impact_and_no_spread_costs_nothing_on_average():
    market = V.PathMarket(price=5000.0, multiplier=50.0, adv=1.5e6, daily_vol=0.01, volume_noise=0.1, edge_ratio=3.0)
    res = run(market, model_from_spec({"model": "none"}), V.Order(1000, 60.0, 60, pov_rate=0.01), 20_000)
    se = res.shortfall_bps.std() / math.sqrt(res.shortfall_bps.size)
    assert abs(res.shortfall_bps.mean()) < 4 * se


def test_tiles_bound_memory_without_changing_results(monkeypatch):
    market = V.PathMarket(price=5000.0, multiplier=50.0, adv=1.5e6, daily_vol=0.01, volume_noise=0.2, edge_ratio=3.0)
    model = model_from_spec({"model": "square-root", "y": 0.8, "permanent_fraction": 0.2})
    order = V.Order(20_000, 120.0, 120, pov_rate=0.05)
    a = run(market, model, order, 3000)
    monkeypatch.setattr(V, "TILE_ELEMENTS", 1000)
    monkeypatch.setattr(V, "FUSED_TILE_ELEMENTS", 1000)
    b = run(market, model, order, 3000)
    for k in V.PathResults.__slots__:
        np.testing.assert_array_equal(getattr(a, k), getattr(b, k))


@given(st.integers(0, 5000), st.integers(1, 3000), st.integers(1, 400))
def test_a_block_splits_into_even_tiles_with_no_short_remainder(lo, length, most):
    tiles = V.block_tiles(lo, lo + length, most)
    assert tiles[0][0] == lo and tiles[-1][1] == lo + length
    assert all(a[1] == b[0] for a, b in itertools.pairwise(tiles))  # consecutive, no gap or overlap
    assert all(0 < hi - start <= most for start, hi in tiles)
    assert len(tiles) == -(-length // most)  # as few tiles as the bound allows
    sizes = [hi - start for start, hi in tiles]
    # every tile but the last has one size, a multiple of eight when that fits under the bound
    assert len(set(sizes[:-1])) <= 1 and sizes[-1] <= sizes[0]
    if most >= 8 and len(tiles) > 1:
        assert sizes[0] % 8 == 0 or sizes[0] == most


def test_1024_paths_in_tiles_of_168_are_six_of_152_and_one_of_112():
    assert [hi - lo for lo, hi in V.block_tiles(0, 1024, 168)] == [152] * 6 + [112]
    assert [hi - lo for lo, hi in V.block_tiles(0, 1024, 256)] == [256] * 4


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 2600), st.sampled_from(["twap", "pov"]))
def test_a_path_is_the_same_however_many_paths_run(n_paths, algo):
    market = V.PathMarket(price=100.0, multiplier=1.0, adv=1e5, daily_vol=0.02, volume_noise=0.2, edge_ratio=2.0)
    model = model_from_spec({"model": "square-root", "y": 1.0})
    order = V.Order(500, 30.0, 6, pov_rate=0.05) if algo == "pov" else V.Order(500, 30.0, 6, cumulative=schedules.twap(500, 1800.0, 6)[1])
    small = run(market, model, order, n_paths, seed=3)
    big = run(market, model, order, 3072, seed=3)
    whole = n_paths // 1024 * 1024  # paths in complete blocks
    np.testing.assert_array_equal(small.shortfall_bps[:whole], big.shortfall_bps[:whole])
    assert np.all(np.isfinite(small.shortfall_bps))


def test_slice_volume_noise_keeps_the_variance_of_a_sum_of_steps():
    s, m = 0.5, 60
    agg = slice_volume_noise(s, m)
    assert math.expm1(agg**2) == pytest.approx(math.expm1(s**2) / m)
    assert slice_volume_noise(0.0, m) == 0.0
