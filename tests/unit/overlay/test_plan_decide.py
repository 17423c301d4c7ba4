"""The planner's decision step for many portfolios at once equals it one portfolio at a time.

The policy backtest runs every policy × path through one call of
:func:`overlay.plan.decide.decide` with a stacked :class:`Rule`; ``plan()`` calls it with one.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from overlay.config.models import BandKind, MomentumFilter, RebalanceTo, Trigger
from overlay.plan.decide import Rule, decide

rules = st.builds(
    lambda trigger, to, kind, mf, vol, width: (trigger, to, kind, mf, vol, width),
    st.sampled_from([None, *Trigger]),
    st.sampled_from(list(RebalanceTo)),
    st.sampled_from(list(BandKind)),
    st.one_of(st.none(), st.builds(MomentumFilter, threshold=st.floats(0, 0.1), hard_band=st.floats(0.06, 0.2))),
    st.one_of(st.none(), st.floats(0.05, 0.3)),
    st.floats(0.01, 0.1),
)


@settings(max_examples=50, deadline=None)
@given(
    specs=st.lists(rules, min_size=1, max_size=5),
    seed=st.integers(0, 2**31),
)
def test_a_stacked_rule_decides_as_each_rule_alone(specs, seed):
    rng = np.random.default_rng(seed)
    s = 3
    targets = np.array([0.5, 0.3, 0.2])
    singles = [
        Rule.of(targets, np.full(s, w), np.full(s, w * 1.5), trigger, to, kind, mf, vol)
        for trigger, to, kind, mf, vol, w in specs
    ]
    p = 4
    stacked = Rule.stack(singles, repeat=p)
    n = len(singles) * p
    exposures = rng.uniform(0.1, 0.7, (n, s)) * 1e6
    base = exposures.sum(axis=1) * rng.uniform(0.95, 1.05, n)
    momentum = np.where(rng.random((n, s)) < 0.2, np.nan, rng.normal(0, 0.2, (n, s)))
    vols = np.where(rng.random((n, s)) < 0.2, np.nan, rng.uniform(0.03, 0.4, (n, s)))
    calendar = rng.random(n) < 0.5
    together = decide(stacked, exposures, base, momentum, vols, calendar)
    for i in range(n):
        alone = decide(singles[i // p], exposures[i], base[i], momentum[i], vols[i], calendar[i])
        assert bool(alone.rebalance) == bool(together.rebalance[i])
        np.testing.assert_array_equal(alone.breach, together.breach[i])
        np.testing.assert_array_equal(alone.deferred, together.deferred[i])
        np.testing.assert_allclose(alone.changes, together.changes[i], rtol=0, atol=1e-6)
        if alone.rebalance:
            # self-financing: the changes close the gap between base and exposures
            assert abs(alone.changes.sum() - (base[i] - exposures[i].sum())) < 1e-6
