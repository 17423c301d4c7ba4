"""Almgren & Chriss (2000), "Optimal execution of portfolio transactions", J. Risk 3(2) 5-39.

Table 1 of the paper: S0 = 50 $/share, X = 1,000,000 shares, T = 5 days, N = 5 (τ = 1 day),
σ = 0.95 $/share/√day (30 % a year), ε = 0.0625 (half the 1/8 spread), η = 2.5e-6,
γ = 2.5e-7, daily volume 5 million; the paper's example risk aversion is λ = 1e-6, for
which it quotes κ ≈ 0.6 per day (κT ≈ 3). The straight line (λ = 0) is the minimum-cost
point of the efficient frontier: E = ½γX² + εX + η̃X²/T with η̃ = η − γτ/2.
"""

import json
import math

import numpy as np
import pytest

from overlay.cli import main
from pricing import almgren_chriss as ac

PARAMS = ac.ACParams(
    quantity=1_000_000, horizon_days=5.0, periods=5, sigma=0.95, eta=2.5e-6, gamma=2.5e-7, epsilon=0.0625
)
LAMBDA = 1e-6


def test_kappa_matches_paper():
    kappa = ac.solve_kappa(PARAMS, LAMBDA)
    # the exact discrete relation (2/τ²)(cosh κτ − 1) = λσ²/η̃ holds
    tau = PARAMS.tau
    assert 2 / tau**2 * (math.cosh(kappa * tau) - 1) == pytest.approx(LAMBDA * 0.95**2 / 2.375e-6, rel=1e-12)
    # the paper quotes κ ≈ 0.6/day (one significant figure) and κT ≈ 3.
    # The exact discrete κ is 0.6071 (1.2 % above 0.6); the continuous-time value
    # √(λσ²/η) = 0.6008 that the paper rounds is within 1 %.
    assert round(kappa, 1) == 0.6
    assert kappa == pytest.approx(0.6, rel=0.012)
    assert math.sqrt(LAMBDA * 0.95**2 / 2.5e-6) == pytest.approx(0.6, rel=0.01)
    assert round(kappa * 5.0) == 3
    schedule = ac.optimal_schedule(PARAMS, LAMBDA)
    assert schedule.half_life == pytest.approx(1 / kappa)


def test_straight_line_costs_exactly_662500():
    schedule = ac.optimal_schedule(PARAMS, 0.0)
    np.testing.assert_array_equal(schedule.holdings, [1e6, 8e5, 6e5, 4e5, 2e5, 0.0])
    assert schedule.expected_cost == 662_500.0
    e_closed, v_closed = ac.closed_form(PARAMS, 0.0)
    assert e_closed == 662_500.0
    # V = ⅓σ²X²T(1 − 1/N)(1 − 1/(2N))
    assert v_closed == pytest.approx(0.95**2 * 1e12 * 5 / 3 * 0.8 * 0.9, rel=1e-14)
    assert schedule.variance == pytest.approx(v_closed, rel=1e-12)


@pytest.mark.parametrize("lam", [1e-8, 1e-7, 1e-6, 1e-5, 1e-4, -1e-7, -2e-7])
def test_closed_form_agrees_with_summation(lam):
    schedule = ac.optimal_schedule(PARAMS, lam)
    e_closed, v_closed = ac.closed_form(PARAMS, lam)
    assert np.all(schedule.trades >= 0)  # monotone here, so the εX term is exact
    assert e_closed == pytest.approx(schedule.expected_cost, rel=1e-9)
    assert v_closed == pytest.approx(schedule.variance, rel=1e-9)


def test_frontier_is_convex_with_the_straight_line_cheapest():
    lam_min = ac.min_risk_aversion(PARAMS)
    loving = np.linspace(0.9 * lam_min, 0.0, 12, endpoint=False)
    averse = ac.frontier_grid(PARAMS, points=30)
    frontier = ac.efficient_frontier(PARAMS, np.concatenate((loving, averse)))
    order = np.argsort(frontier.variance)
    v, e = frontier.variance[order], frontier.expected_cost[order]
    assert np.all(np.diff(v) > 0)
    slopes = np.diff(e) / np.diff(v)
    assert np.all(np.diff(slopes) > -1e-12 * np.abs(slopes[1:]))  # convex: slopes rise
    cheapest = np.argmin(frontier.expected_cost)
    assert frontier.risk_aversions[cheapest] == 0.0
    assert frontier.expected_cost[cheapest] == pytest.approx(662_500.0)
    # along the efficient branch the slope dE/dV is −λ
    assert slopes[0] < 0 < slopes[-1]


def test_overlay_cost_table1(tmp_path, capsys):
    spec = tmp_path / "table1.toml"
    spec.write_text(
        """
[order]
quantity = 1_000_000
price = 50.0
horizon_days = 5.0
periods = 5
adv = 5_000_000
sigma = 0.95

[model]
name = "almgren-chriss"
eta = 2.5e-6
gamma = 2.5e-7
epsilon = 0.0625
risk_aversion = 0
"""
    )
    png = tmp_path / "frontier.png"
    assert main(["cost", str(spec), "--json", "--frontier", str(png)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["expected_cost"] == pytest.approx(662_500.0)
    assert out["cost_bps"] == pytest.approx(662_500.0 / 50e6 * 1e4)
    assert out["kappa"] == 0.0 and out["half_life"] is None
    assert out["holdings"] == pytest.approx([1e6, 8e5, 6e5, 4e5, 2e5, 0.0])
    assert out["trades"] == pytest.approx([2e5] * 5)
    assert out["std"] == pytest.approx(math.sqrt(out["variance"]))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_rerun_is_identical():
    a = ac.optimal_schedule(PARAMS, LAMBDA)
    b = ac.optimal_schedule(PARAMS, LAMBDA)
    np.testing.assert_array_equal(a.holdings, b.holdings)
    assert a.expected_cost == b.expected_cost and a.variance == b.variance
