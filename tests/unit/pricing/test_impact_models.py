"""Impact models: the protocol, the consistency of cost with the two impact functions,
vectorisation, the presets and the spec factory."""

import math

import numpy as np
import pytest
from scipy.integrate import quad

from pricing.impact import (
    ATHL2005Impact,
    CostBreakdown,
    ImpactModel,
    ImpactSpecError,
    IStarImpact,
    LinearImpact,
    NullImpact,
    SquareRootImpact,
    model_from_spec,
    presets,
)

P, SIGMA, V = 50.0, 0.02, 2_000_000.0

MODELS = [
    NullImpact(),
    LinearImpact(eta=2.5e-6, gamma=2.5e-7, epsilon=0.0625),
    SquareRootImpact(y=0.7),
    SquareRootImpact(y=0.9, exponent=0.6, permanent_fraction=0.5),
    ATHL2005Impact(shares_outstanding=5e8),
    IStarImpact(),
]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_every_model_implements_the_protocol(model):
    assert isinstance(model, ImpactModel)
    cost = model.cost(100_000, 0.5, P, SIGMA, V)
    assert isinstance(cost, CostBreakdown)
    for part in (cost.spread, cost.temporary, cost.permanent, cost.fees):
        assert np.all(np.asarray(part) >= 0)
    assert cost.total == pytest.approx(cost.spread + cost.temporary + cost.permanent + cost.fees)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_sells_and_buys_cost_the_same(model):
    sell = model.cost(100_000, 0.5, P, SIGMA, V).total
    buy = model.cost(-100_000, 0.5, P, SIGMA, V).total
    assert sell == pytest.approx(buy)


@pytest.mark.parametrize("model", [m for m in MODELS if not isinstance(m, IStarImpact)], ids=lambda m: m.name)
@pytest.mark.parametrize("horizon", [0.1, 1.0, 3.0])
def test_cost_agrees_with_impact_functions(model, horizon):
    """cost.temporary = Q·h(Q/T); cost.permanent = ∫₀^Q g(q) dq (= ½Q·g(Q) when linear)."""
    q = 300_000.0
    cost = model.cost(q, horizon, P, SIGMA, V)
    assert cost.temporary == pytest.approx(q * model.temporary_impact(q / horizon, P, SIGMA, V), rel=1e-12)
    integral, _ = quad(lambda x: float(model.permanent_impact(x, P, SIGMA, V)), 0.0, q, epsabs=1e-9)
    assert cost.permanent == pytest.approx(integral, rel=1e-7, abs=1e-9)


def test_linear_permanent_is_half_q_times_shift():
    model = LinearImpact(eta=2.5e-6, gamma=2.5e-7)
    q = 1e6
    assert model.cost(q, 5, P, SIGMA, V).permanent == pytest.approx(0.5 * q * model.permanent_impact(q, P, SIGMA, V))


def test_linear_epsilon_is_spread_not_temporary():
    model = LinearImpact(eta=2.5e-6, gamma=0.0, epsilon=0.0625)
    cost = model.cost(1e6, 5, P, SIGMA, V)
    assert cost.spread == pytest.approx(62_500.0)
    assert cost.temporary == pytest.approx(2.5e-6 * 1e12 / 5)
    assert model.temporary_impact(0.0, P, SIGMA, V) == 0.0


def test_square_root_one_day_is_the_classic_law():
    """Tóth et al. (2011): impact per unit ≈ Y σ √(Q/V) for a day-long execution."""
    model = SquareRootImpact(y=0.7)
    q = 0.04 * V
    per_unit = model.cost(q, 1.0, P, SIGMA, V).total / q
    assert per_unit == pytest.approx(0.7 * SIGMA * P * math.sqrt(0.04), rel=1e-14)


def test_square_root_shorter_horizon_costs_more():
    model = SquareRootImpact(y=0.7)
    costs = [model.cost(1e5, t, P, SIGMA, V).total for t in (0.1, 0.5, 1.0, 5.0)]
    assert costs == sorted(costs, reverse=True)


def test_istar_uses_annual_volatility():
    """Kissell's I* takes σ annual; the model converts daily σ with √252 (not a 7× error)."""
    model = presets["kissell-all-data"].build()
    istar = model.istar_bps(0.1 * V, SIGMA, V)
    expected = 708 * 0.1**0.55 * (SIGMA * math.sqrt(252)) ** 0.71
    assert istar == pytest.approx(expected, rel=1e-14)
    wrong = 708 * 0.1**0.55 * SIGMA**0.71
    assert 6.5 < istar / wrong < 7.5


def test_istar_market_impact_formula():
    model = IStarImpact()
    q, horizon = 0.1 * V, 0.5
    temp_bps, perm_bps = model.market_impact_bps(q, horizon, SIGMA, V)
    istar = model.istar_bps(q, SIGMA, V)
    pov = q / (q + V * horizon)
    assert temp_bps + perm_bps == pytest.approx(0.98 * istar * pov**0.5 + 0.02 * istar)
    cost = model.cost(q, horizon, P, SIGMA, V)
    assert cost.total == pytest.approx((temp_bps + perm_bps) * 1e-4 * q * P)


def test_istar_one_day_temporary_matches_rate_function():
    model = IStarImpact()
    q = 0.2 * V
    cost = model.cost(q, 1.0, P, SIGMA, V)
    assert cost.temporary == pytest.approx(q * model.temporary_impact(q, P, SIGMA, V), rel=1e-12)
    # over T days Kissell's I* uses the whole order: an extra factor T^a2
    cost3 = model.cost(q, 3.0, P, SIGMA, V)
    assert cost3.temporary == pytest.approx(q * model.temporary_impact(q / 3, P, SIGMA, V) * 3**0.55, rel=1e-12)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_vectorised_broadcasting_matches_scalar_calls(model):
    q = np.array([[1e4], [1e5], [1e6]])  # (3, 1)
    t = np.array([0.2, 1.0, 4.0, 8.0])  # (4,)
    batch = model.cost(q, t, P, SIGMA, V)
    assert np.shape(batch.total) == (3, 4)
    for i in range(3):
        for j in range(4):
            single = model.cost(float(q[i, 0]), float(t[j]), P, SIGMA, V).total
            assert batch.total[i, j] == pytest.approx(single, rel=1e-14)
    rates = np.array([1e3, 1e4, 1e5])
    assert np.shape(model.temporary_impact(rates, P, SIGMA, V)) == (3,)
    assert np.shape(model.permanent_impact(rates, P, np.array([0.01, 0.02, 0.03]), V)) == (3,)


@pytest.mark.parametrize(
    ("spec", "cls"),
    [
        ({"model": "none"}, NullImpact),
        ({"model": "almgren-chriss", "eta": 1e-6}, LinearImpact),
        ({"model": "square-root", "y": 0.7}, SquareRootImpact),
        ({"name": "square-root"}, SquareRootImpact),
        ({"model": "athl-2005", "shares_outstanding": 1e9}, ATHL2005Impact),
        ({"model": "i-star"}, IStarImpact),
        ({"preset": "kissell-all-data", "a1": 700}, IStarImpact),
    ],
)
def test_model_from_spec_builds_each_model(spec, cls):
    model = model_from_spec(spec)
    assert isinstance(model, cls)
    assert isinstance(model, ImpactModel)


def test_model_from_spec_uses_given_parameters():
    assert model_from_spec({"model": "square-root", "y": 0.7}) == SquareRootImpact(y=0.7)
    assert model_from_spec({"preset": "kissell-all-data", "a1": 700}).a1 == 700.0


def test_presets_carry_published_parameters_and_sources():
    table1 = presets["almgren-chriss-2000-table1"].build()
    assert (table1.epsilon, table1.eta, table1.gamma) == (0.0625, 2.5e-6, 2.5e-7)
    athl = presets["athl-2005"].build(shares_outstanding=1e9)
    assert (athl.gamma, athl.eta, athl.beta, athl.delta) == (0.314, 0.142, 0.6, 0.25)
    kissell = presets["kissell-all-data"].build()
    assert (kissell.a1, kissell.a2, kissell.a3, kissell.a4, kissell.b1) == (708, 0.55, 0.71, 0.5, 0.98)
    for preset in presets.values():
        assert preset.source


@pytest.mark.parametrize(
    ("spec", "key", "fragment"),
    [
        ({"model": "linear"}, "model", "unknown model"),
        ({}, "model", "missing"),
        ({"model": "square-root", "eta": 1.0}, "eta", "unknown parameter"),
        ({"model": "square-root", "y": -1}, "y", ">= 0"),
        ({"model": "square-root", "y": "big"}, "y", "number"),
        ({"model": "square-root", "y": True}, "y", "number"),
        ({"model": "square-root", "exponent": 0}, "exponent", "> 0"),
        ({"model": "almgren-chriss"}, "eta", "required"),
        ({"model": "athl-2005"}, "shares_outstanding", "required"),
        ({"model": "i-star", "b1": 1.5}, "b1", "[0, 1]"),
        ({"preset": "nope"}, "preset", "unknown preset"),
        ({"preset": "athl-2005", "model": "i-star"}, "model", "preset"),
        ({"model": "none", "y": 1}, "y", "no parameters"),
    ],
)
def test_model_from_spec_rejects_bad_specs(spec, key, fragment):
    with pytest.raises(ValueError) as info:
        model_from_spec(spec)
    assert isinstance(info.value, ImpactSpecError)
    assert info.value.key == key
    assert fragment in str(info.value)


def test_models_are_frozen():
    model = SquareRootImpact(y=0.7)
    with pytest.raises(AttributeError):
        model.y = 1.0  # type: ignore[misc]
