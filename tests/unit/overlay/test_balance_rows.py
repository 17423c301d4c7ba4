"""The batch placement of a plan's balance (the backtest decides for every path at once)
places it exactly as the one-portfolio planner does."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from overlay.plan.balance import allocate, allocate_rows, waterfill, waterfill_rows


def _book(seed: int, rows: int, sleeves: int):
    rng = np.random.default_rng(seed)
    targets = rng.dirichlet(np.ones(sleeves), rows)
    base = rng.uniform(0.5e6, 2e6, rows)
    exposures = targets * base[:, None] * rng.uniform(0.7, 1.3, (rows, sleeves))
    width = rng.uniform(0.005, 0.08, (rows, sleeves))
    deferred = rng.random((rows, sleeves)) < 0.2
    held = rng.random((rows, sleeves)) < 0.1
    share = rng.choice([1.0, 0.5, 0.3], (rows, sleeves))
    changes = np.where(deferred | held, 0.0, share * (targets * base[:, None] - exposures))
    return exposures, targets, base, (targets - width, targets + width), changes, deferred, held


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), sleeves=st.integers(1, 7))
def test_batch_placement_equals_the_planners_row_by_row(seed, sleeves):
    x, t, base, (lo, up), ch, dfr, held = _book(seed, 40, sleeves)
    batch = allocate_rows(x, t, base, (lo, up), ch, dfr, held)
    for r in range(len(x)):
        one = allocate(x[r], t[r], float(base[r]), (lo[r], up[r]), ch[r], dfr[r], held[r])
        # the same arithmetic in the same order: equal to the bit below eight sleeves
        assert np.array_equal(batch[r], one.taken)


def test_many_sleeves_agree_to_float_noise_and_stay_self_financing():
    x, t, base, (lo, up), ch, dfr, held = _book(5, 400, 12)
    batch = allocate_rows(x, t, base, (lo, up), ch, dfr, held)
    for r in range(len(x)):
        one = allocate(x[r], t[r], float(base[r]), (lo[r], up[r]), ch[r], dfr[r], held[r])
        assert np.allclose(batch[r], one.taken, rtol=0.0, atol=1e-9 * base[r])
        placed = one.amount - one.unplaced
        assert abs(batch[r].sum() - placed) <= 1e-9 * base[r]


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 6), share=st.floats(0.0, 1.5))
def test_batch_waterfill_equals_the_single_one(seed, n, share):
    rng = np.random.default_rng(seed)
    start = rng.normal(0.0, 1.0, (30, n))
    scale = rng.uniform(0.1, 2.0, (30, n))
    cap = np.where(rng.random((30, n)) < 0.2, 0.0, rng.uniform(0.0, 3.0, (30, n)))
    amount = share * cap.sum(axis=1)
    batch = waterfill_rows(start, scale, cap, amount)
    for r in range(30):
        assert np.array_equal(batch[r], waterfill(start[r], scale[r], cap[r], float(amount[r])))
