"""Futures fair value, notional and hedge ratios against published worked examples."""

import datetime as dt
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pricing import futures as fut
from pricing.futures import calendar_spread_fair_value, roll_cost


def test_fair_value_reproduces_the_first_worked_example_to_the_cent():
    # Cost of carry F = S exp((r - q) T): S = 5,400, r = 5.25 %, q = 1.40 %, T = 73/365 -> 5,441.74
    # (reference facts, "Cost of carry" worked examples).
    assert round(fut.fair_value(5400.0, 0.0525, 0.0140, 73 / 365), 2) == 5441.74


def test_fair_value_reproduces_the_second_worked_example_to_the_cent():
    # S = 5,280, r = 4.60 %, q = 1.45 %, T = 91/365 -> 5,321.63.
    assert round(fut.fair_value(5280.0, 0.0460, 0.0145, 91 / 365), 2) == 5321.63


def test_year_fraction_is_act_365():
    assert fut.year_fraction(dt.date(2026, 1, 1), dt.date(2026, 3, 15)) == pytest.approx(73 / 365)


def test_basis_is_market_less_fair_value():
    fair = fut.fair_value(5400.0, 0.0525, 0.0140, 73 / 365)
    assert fut.basis(5450.0, fair) == pytest.approx(5450.0 - 5441.7407, abs=1e-3)


def test_fair_value_vectorises():
    out = fut.fair_value(np.array([5400.0, 5280.0]), np.array([0.0525, 0.046]), np.array([0.014, 0.0145]), np.array([73, 91]) / 365)
    assert np.round(out, 2).tolist() == [5441.74, 5321.63]


def test_treasury_dv01_divides_by_the_conversion_factor():
    # CME's worked example: CTD DV01 67.64 per 100,000 face / conversion factor 0.9506 = 71.16.
    assert round(fut.treasury_futures_dv01(67.64, 0.9506), 2) == 71.16
    assert fut.treasury_futures_dv01(67.64, 0.9506) > 67.64  # dividing by a factor below one


def test_treasury_dv01_rejects_a_zero_conversion_factor():
    with pytest.raises(ValueError):
        fut.treasury_futures_dv01(67.64, 0.0)


def test_notional_per_contract_in_base_currency():
    # FESX: 10 EUR per point; at 5,000 points and 1.08 USD per EUR one contract is 54,000 USD.
    assert fut.notional_per_contract(5000.0, 10.0, 1.08) == pytest.approx(54_000.0)


def test_beta_hedge_follows_the_equity_hedge_formula():
    # contracts = beta x exposure / (price x multiplier x fx): 1.2 x 10m / (5,000 x 50) = 48.
    assert fut.beta_hedge_contracts(10_000_000, 1.2, 5000.0, 50.0) == pytest.approx(48.0)
    assert fut.beta_exposure_per_contract(5000.0, 50.0, 1.0, 1.25) == pytest.approx(200_000.0)


def test_dv01_hedge_matches_portfolio_dv01():
    # 10m of bonds at duration 6.5 has DV01 6,500; ZN DV01 71.16 -> 91.34 contracts.
    assert fut.dv01_of_exposure(10_000_000, 6.5) == pytest.approx(6500.0)
    assert fut.dv01_hedge_contracts(10_000_000, 6.5, 71.16) == pytest.approx(6500 / 71.16)
    per = fut.dv01_exposure_per_contract(71.16, 6.5)
    assert per * fut.dv01_hedge_contracts(10_000_000, 6.5, 71.16) == pytest.approx(10_000_000)


@pytest.mark.parametrize("x,toward_zero,nearest", [(2.88, 2, 3), (-2.88, -2, -3), (2.5, 2, 3), (-2.5, -2, -3), (0.4, 0, 0), (-0.4, 0, 0)])
def test_rounding_rules(x, toward_zero, nearest):
    assert fut.round_toward_zero(x) == toward_zero
    assert fut.round_half_away(x) == nearest


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False))
def test_rounding_never_overshoots_and_nearest_is_within_half(x):
    t = fut.round_toward_zero(x)
    assert abs(t) <= abs(x) and abs(x - t) < 1
    assert abs(x - fut.round_half_away(x)) <= 0.5


def test_rounding_refuses_non_finite():
    with pytest.raises(ValueError):
        fut.round_toward_zero(float("inf"))


def test_calendar_spread_fair_value_and_roll_cost():
    # Carry worked example (facts.md): S = 5,400, r = 5.25 %, q = 1.40 %: over 91 days the
    # fair spread is F · (exp(0.0385 · 91/365) − 1).
    near, far = dt.date(2026, 3, 20), dt.date(2026, 6, 19)
    fair = calendar_spread_fair_value(5400.0, 0.0525, 0.014, near, far)
    assert fair == pytest.approx(5400.0 * (math.exp(0.0385 * 91 / 365) - 1))
    assert calendar_spread_fair_value(5400.0, None, 0.0, near, far) == 0.0
    # A long of 10 ES rolled at 2 points over fair pays 2 x 50 x 10 = 1,000 USD.
    c = roll_cost(10, 5400.0, 5400.0 + fair + 2.0, fair, 50.0)
    assert c.points == pytest.approx(2.0) and c.amount == pytest.approx(1000.0)
    assert c.bps == pytest.approx(1000.0 / (10 * 5400.0 * 50) * 1e4)
    # A short earns it.
    assert roll_cost(-10, 5400.0, 5400.0 + fair + 2.0, fair, 50.0).amount == pytest.approx(-1000.0)
