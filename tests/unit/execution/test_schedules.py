import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pricing.almgren_chriss import ACParams, solve_kappa
from pricing.volume_profile import volume_profile
from execution.schedules import (
    PovRule,
    implementation_shortfall,
    pov_schedule,
    round_cumulative,
    twap,
    vwap,
)

quantities = st.integers(-5000, 5000).filter(lambda q: q != 0)
slices = st.integers(1, 400)


def _assert_valid(times, cum, quantity, horizon):
    assert cum.dtype == np.int64
    assert cum[-1] == quantity
    steps = np.diff(np.concatenate(([0], cum)))
    assert np.all(steps * np.sign(quantity) >= 0), "schedule moves against the parent"
    assert np.all(np.diff(times) >= 0)
    assert times[0] >= 0 and times[-1] < horizon


@settings(max_examples=150, deadline=None)
@given(quantities, slices, st.integers(0, 2**31), st.floats(0, 0.9), st.floats(0, 1))
def test_twap_ends_at_parent_monotone_integer(q, n, seed, sj, tj):
    t, c = twap(q, 23400.0, n, np.random.default_rng(seed), size_jitter=sj, time_jitter=tj)
    _assert_valid(t, c, q, 23400.0)


@settings(max_examples=100, deadline=None)
@given(quantities, slices, st.lists(st.floats(0, 1e6), min_size=1, max_size=50).filter(lambda p: sum(p) > 0))
def test_vwap_ends_at_parent_monotone_integer(q, n, profile):
    t, c = vwap(q, 23400.0, n, profile)
    _assert_valid(t, c, q, 23400.0)


@settings(max_examples=100, deadline=None)
@given(quantities, slices, st.floats(0, 1e-2))
def test_is_ends_at_parent_monotone_integer(q, n, kappa):
    t, c = implementation_shortfall(q, 23400.0, n, kappa)
    _assert_valid(t, c, q, 23400.0)


@settings(max_examples=100, deadline=None)
@given(quantities, slices, st.floats(0.001, 1.0), st.floats(0, 1e5))
def test_pov_expected_curve_ends_at_parent(q, n, rate, vol):
    t, c = pov_schedule(q, 23400.0, n, PovRule(rate), np.full(39, vol))
    _assert_valid(t, c, q, 23400.0)


def test_twap_is_even_in_time_and_size():
    t, c = twap(390, 23400.0, 390)
    assert np.allclose(np.diff(t), 60.0)
    assert np.all(np.diff(np.concatenate(([0], c))) == 1)


def test_small_parent_is_spread_evenly_over_slices():
    # 5 contracts over 390 one-minute slices: one contract every 78 minutes, not 5 at the open.
    t, c = twap(-5, 23400.0, 390)
    steps = np.diff(np.concatenate(([0], c)))
    assert set(steps.tolist()) <= {0, -1}
    hit = np.flatnonzero(steps)
    assert len(hit) == 5
    assert np.all(np.diff(hit) == 78)


def test_vwap_slices_follow_the_profile():
    profile = volume_profile(390)
    t, c = vwap(39_000, 23400.0, 390, profile)
    sizes = np.diff(np.concatenate(([0], c)))
    expected = 39_000 * profile
    assert np.all(np.abs(sizes - expected) <= 1.0)
    assert sizes[0] > 2 * sizes[195]  # heavy open, light midday


def test_is_equals_twap_at_zero_risk_aversion_and_front_loads_otherwise():
    kappa0 = 0.0
    _, c_is = implementation_shortfall(1000, 23400.0, 50, kappa0)
    _, c_twap = twap(1000, 23400.0, 50)
    assert np.array_equal(c_is, c_twap)
    _, c_fast = implementation_shortfall(1000, 23400.0, 50, 3.0 / 23400.0)
    assert np.all(c_fast >= c_twap)
    assert c_fast[9] > c_twap[9] + 100


def test_is_schedule_matches_the_paper():
    # Almgren & Chriss (2000), Table 1: sigma = 0.95, eta = 2.5e-6, gamma = 2.5e-7,
    # lambda = 1e-6, tau = 1 day; the paper gives kappa ~ 0.6 per day (kappa T ~ 3 for T = 5).
    k = solve_kappa(ACParams(1_000_000, 5.0, 5, 0.95, 2.5e-6, 2.5e-7), 1e-6)
    assert k == pytest.approx(0.6, abs=0.02)
    _, c = implementation_shortfall(1_000_000, 5.0, 5, k)
    holdings = 1_000_000 - c
    expected = [1e6 * math.sinh(k * (5 - j)) / math.sinh(5 * k) for j in range(1, 6)]
    assert np.allclose(holdings, expected, atol=0.5)


def test_round_cumulative_is_largest_remainder():
    c = round_cumulative(7, [0.25, 0.5, 0.75, 1.0])
    assert c.tolist() == [2, 4, 5, 7] or c.tolist() == [2, 4, 6, 7]
    assert round_cumulative(-3, [0.5, 1.0]).tolist() == [-2, -3]


def test_pov_rule_tracks_volume_with_min_and_max_child():
    rule = PovRule(0.1, min_child=5, max_child=20)
    assert rule.target(100, 450.0) == 45
    assert rule.target(-100, 5000.0) == -100
    assert rule.child_size(100, 45, 42) == 0  # shortfall 3 < min_child: wait
    assert rule.child_size(100, 45, 10) == 20  # capped
    assert rule.child_size(100, 100, 97) == 3  # completes the parent
    assert rule.child_size(-100, -45, -30) == 15


def test_bad_inputs_raise():
    with pytest.raises(ValueError):
        twap(10, 0.0, 10)
    with pytest.raises(TypeError):
        twap(1.5, 100.0, 10)
    with pytest.raises(ValueError):
        twap(10, 100.0, 10, size_jitter=0.5)
    with pytest.raises(ValueError):
        vwap(10, 100.0, 10, [0, 0])
    with pytest.raises(ValueError):
        PovRule(0.0)
