"""Property tests: cost rises with size, falls with horizon where the model says so, and
the square-root law scales exactly as √size."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pricing.impact import ATHL2005Impact, IStarImpact, LinearImpact, SquareRootImpact

sizes = st.floats(min_value=1.0, max_value=1e8)
horizons = st.floats(min_value=0.01, max_value=20.0)
factors = st.floats(min_value=1.01, max_value=100.0)
vols = st.floats(min_value=1e-4, max_value=0.2)
advs = st.floats(min_value=1e3, max_value=1e9)
prices = st.floats(min_value=0.01, max_value=1e5)

MODELS = [
    LinearImpact(eta=2.5e-6, gamma=2.5e-7, epsilon=0.0625),
    SquareRootImpact(y=0.7),
    SquareRootImpact(y=0.7, exponent=0.6, permanent_fraction=0.3),
    ATHL2005Impact(shares_outstanding=1e9),
    IStarImpact(),
]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: f"{m.name}")
@settings(max_examples=60, deadline=None)
@given(q=sizes, k=factors, t=horizons, s=vols, v=advs, p=prices)
def test_cost_rises_with_size(model, q, k, t, s, v, p):
    assert model.cost(q * k, t, p, s, v).total > model.cost(q, t, p, s, v).total


@pytest.mark.parametrize("model", MODELS[:4], ids=lambda m: f"{m.name}")
@settings(max_examples=60, deadline=None)
@given(q=sizes, k=factors, t=horizons, s=vols, v=advs, p=prices)
def test_cost_falls_with_horizon(model, q, k, t, s, v, p):
    """Trading slower lowers the temporary impact; permanent and spread do not depend on T."""
    short, long = model.cost(q, t, p, s, v), model.cost(q, t * k, p, s, v)
    assert long.temporary < short.temporary
    assert long.permanent == pytest.approx(short.permanent, rel=1e-12)
    assert long.total < short.total


@settings(max_examples=60, deadline=None)
@given(q=sizes, k=factors, t=horizons, s=vols, v=advs)
def test_istar_cost_falls_with_horizon(q, k, t, s, v):
    """In I-Star a longer horizon lowers the participation rate and so the temporary part."""
    model = IStarImpact()
    assert model.cost(q, t * k, 10.0, s, v).total < model.cost(q, t, 10.0, s, v).total


@settings(max_examples=100, deadline=None)
@given(q=sizes, k=factors, t=horizons, s=vols, v=advs, p=prices, y=st.floats(0.1, 2.0))
def test_square_root_impact_scales_as_sqrt_size(q, k, t, s, v, p, y):
    model = SquareRootImpact(y=y)
    per_unit_small = model.cost(q, t, p, s, v).total / q
    per_unit_large = model.cost(q * k, t, p, s, v).total / (q * k)
    assert per_unit_large / per_unit_small == pytest.approx(math.sqrt(k), rel=1e-12)
    assert model.temporary_impact(q * k, p, s, v) / model.temporary_impact(q, p, s, v) == pytest.approx(
        math.sqrt(k), rel=1e-12
    )


@settings(max_examples=50, deadline=None)
@given(q=st.lists(sizes, min_size=1, max_size=20), t=horizons, s=vols, v=advs)
def test_batch_equals_loop(q, t, s, v):
    model = ATHL2005Impact(shares_outstanding=1e9)
    batch = model.cost(np.array(q), t, 20.0, s, v).total
    loop = [model.cost(x, t, 20.0, s, v).total for x in q]
    np.testing.assert_allclose(batch, loop, rtol=1e-14)
