"""Conversions between Almgren–Chriss absolute units and trader units."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pricing import units


def test_almgren_chriss_table1_sigma_from_30pct_annual():
    """Almgren & Chriss (2000), Table 1: 30 % a year at 50 $ is about 0.95 $/share/√day."""
    daily = units.annual_to_daily_vol(0.30)
    sigma = units.sigma_abs(daily, 50.0)
    assert sigma == pytest.approx(0.3 / math.sqrt(252) * 50)
    assert sigma == pytest.approx(0.95, rel=0.006)  # the paper rounds (it evidently used ~250 days)


def test_almgren_chriss_rules_of_thumb():
    """Table 1: η = (1/8)/(1 % · 5 million) and γ = (1/8)/(10 % · 5 million)."""
    assert units.impact_coefficient_from_rule(0.125, 5e6, 0.01) == pytest.approx(2.5e-6)
    assert units.impact_coefficient_from_rule(0.125, 5e6, 0.10) == pytest.approx(2.5e-7)


@given(st.floats(1e-4, 2.0))
def test_annual_daily_round_trip(v):
    assert units.daily_to_annual_vol(units.annual_to_daily_vol(v)) == pytest.approx(v)
    assert units.daily_to_annual_vol(v) / v == pytest.approx(math.sqrt(252))


@given(st.floats(1e-4, 0.2), st.floats(0.01, 1e5))
def test_sigma_round_trip(vol, price):
    assert units.daily_vol_from_sigma(units.sigma_abs(vol, price), price) == pytest.approx(vol)


@given(st.floats(-1e7, 1e7).filter(lambda q: abs(q) > 1), st.floats(0.01, 1e4), st.floats(0, 500))
def test_bps_round_trip(q, price, bps):
    cost = units.bps_to_cost(bps, q, price)
    assert cost >= 0
    assert units.cost_to_bps(cost, q, price) == pytest.approx(bps, abs=1e-9)


def test_cost_in_bps_of_notional():
    assert units.cost_to_bps(662_500.0, 1e6, 50.0) == pytest.approx(132.5)


def test_participation_and_pov():
    assert units.participation(1e5, 0.5, 2e6) == pytest.approx(0.1)
    assert units.pov(1e5, 0.5, 2e6) == pytest.approx(1e5 / 1.1e6)
    assert units.pov(-1e5, 0.5, 2e6) == units.pov(1e5, 0.5, 2e6)


@given(st.floats(0.1, 1000), st.floats(1, 1e4), st.floats(1e3, 1e9))
def test_eta_bps_round_trip(k, price, adv):
    eta = units.eta_from_bps(k, price, adv)
    assert units.eta_to_bps(eta, price, adv) == pytest.approx(k)
    # trading at 5 % participation costs 0.05·k bps per unit
    assert eta * 0.05 * adv / price * 1e4 == pytest.approx(0.05 * k)


def test_vectorised():
    out = units.cost_to_bps(np.array([1.0, 2.0]), np.array([[100.0], [200.0]]), 10.0)
    assert out.shape == (2, 2)
