"""Almgren, Thum, Hauptmann & Li (2005), "Direct estimation of equity market impact",
Risk 18(7) 57-62: the paper's worked example for IBM.

Inputs of the example: average daily volume V = 6,561,000 shares, shares outstanding
Θ = 1,728,000,000 (so Θ/V = 263.374), daily volatility σ = 1.57 %, an order of 10 % of the
daily volume (X = 656,100 shares, X/V = 0.1). The paper reports, with its fitted
γ = 0.314, η = 0.142, β = 0.6, δ = 1/4:

- normalised permanent impact I/σ = 0.126, i.e. I = 19.86 bps (about 20 bps);
- for durations T = 0.1, 0.2, 0.5 days: normalised temporary impact K/σ = 0.142, 0.094,
  0.054, i.e. K = 22, 15, 8 bps, and realised cost J = I/2 + K = 32, 25, 18 bps.
"""

import json

import numpy as np
import pytest

from overlay.cli import main
from pricing.impact import ATHL2005Impact, model_from_spec, presets

V = 6_561_000.0
THETA = 1_728_000_000.0
SIGMA = 0.0157
X = 656_100.0
PRICE = 100.0  # any price: the paper's numbers are fractions of price
BPS = 1e4


@pytest.fixture
def model() -> ATHL2005Impact:
    return presets["athl-2005"].build(shares_outstanding=THETA)


def test_inverse_turnover_and_size(model):
    assert THETA / V == pytest.approx(263.374, abs=5e-4)
    assert X / V == pytest.approx(0.1)


def test_permanent_impact_matches_paper(model):
    fraction = model.permanent_fraction(X, SIGMA, V)
    assert fraction / SIGMA == pytest.approx(0.126, abs=5e-4)
    assert fraction * BPS == pytest.approx(19.86, abs=5e-3)
    # in price units, through the protocol
    assert model.permanent_impact(X, PRICE, SIGMA, V) == pytest.approx(fraction * PRICE)


@pytest.mark.parametrize(
    ("duration", "k_over_sigma", "k_bps", "j_bps"),
    [(0.1, 0.142, 22, 32), (0.2, 0.094, 15, 25), (0.5, 0.054, 8, 18)],
)
def test_temporary_and_realised_cost_match_paper(model, duration, k_over_sigma, k_bps, j_bps):
    k = model.temporary_fraction(X, duration, SIGMA, V)
    assert k / SIGMA == pytest.approx(k_over_sigma, abs=5e-4)
    assert round(float(k * BPS)) == k_bps
    cost = model.cost(X, duration, PRICE, SIGMA, V)
    j = cost.total / (X * PRICE)
    assert round(float(j * BPS)) == j_bps
    # J = I/2 + K exactly
    assert j == pytest.approx(model.permanent_fraction(X, SIGMA, V) / 2 + k, rel=1e-12)


def test_vectorised_over_durations_matches_scalar(model):
    durations = np.array([0.1, 0.2, 0.5])
    batch = model.cost(X, durations, PRICE, SIGMA, V).total
    single = [model.cost(X, d, PRICE, SIGMA, V).total for d in durations]
    np.testing.assert_allclose(batch, single, rtol=1e-15)


def test_overlay_cost_reports_the_example(tmp_path, capsys):
    spec = tmp_path / "ibm.toml"
    spec.write_text(
        f"""
[order]
quantity = {X}
price = {PRICE}
horizon_days = 0.2
adv = {V}
daily_vol = {SIGMA}

[model]
name = "athl-2005"
shares_outstanding = {THETA}
"""
    )
    assert main(["cost", str(spec), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["model"] == "athl-2005"
    assert out["permanent_bps"] == pytest.approx(19.86, abs=5e-3)
    assert round(out["temporary_bps"]) == 15
    assert round(out["cost_bps"]) == 25


def test_spec_factory_builds_same_model():
    a = model_from_spec({"model": "athl-2005", "shares_outstanding": THETA})
    b = presets["athl-2005"].build(shares_outstanding=THETA)
    assert a == b
