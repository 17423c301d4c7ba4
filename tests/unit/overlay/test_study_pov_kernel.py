"""The vectorized engine's POV gives the same bits whichever way it is evaluated.

A study's results for a seed must not depend on whether the optional compiled loop
(:mod:`overlay.studies.pov_kernel`, numba) is installed. Three evaluations are compared bit
for bit on POV tiles: a plain numpy reference kept here (the engine's numpy path as it was
written before the loop existed), the engine's numpy path and the compiled loop.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from overlay.studies import pov_kernel as K
from overlay.studies import vectorized as V
from pricing.impact import model_from_spec

MODELS = {
    "square-root": {"model": "square-root", "y": 0.8, "permanent_fraction": 0.2},
    "square-root, exponent 1": {"model": "square-root", "y": 0.5, "exponent": 1.0, "permanent_fraction": 0.3},
    "square-root, exponent 2": {"model": "square-root", "y": 0.5, "exponent": 2.0},
    "square-root, exponent 0.6": {"model": "square-root", "y": 0.5, "exponent": 0.6, "permanent_fraction": 0.3},
    "linear": {"model": "almgren-chriss", "eta": 1e-6, "gamma": 2e-7},
    "none": {"model": "none"},
}
#: (quantity, horizon minutes, slices, rate): whole sessions, shorter horizons (completed at
#: the horizon), fewer than eight slices, a multiple of eight, more than one pairwise block
ORDERS = [
    (75_000, 390.0, 390, 0.05),
    (2_000, 60.0, 60, 0.02),
    (500, 30.0, 6, 0.05),
    (9, 8.0, 8, 0.3),
    (40_000, 200.0, 129, 1.0),
    (100, 1.0, 1, 0.5),
    (30_000, 390.0, 264, 0.1),
]


def market(noise: float = 0.07, half_life: float = 180.0) -> V.PathMarket:
    return V.PathMarket(
        price=5000.125, multiplier=50.0, adv=1.5e6, daily_vol=0.012, half_spread=0.125, fee_per_unit=2.0,
        volume_noise=noise, edge_ratio=3.0, impact_half_life=half_life, tick=0.25,
    )


def reference(tile: V._Tile, volume: np.ndarray) -> tuple[np.ndarray, ...]:
    """POV on ``SIMULATOR`` dynamics in plain numpy: fills ``c_k = min(⌊ρU_k + 10⁻⁹⌋, Q)``,
    impact rate ``r_k = κS(A_k + n_k/2)``, ``Σ h(r_k) n_k``, ``Σ_j g(n_j)(F − c_j)`` and
    ``√Σ R_j²`` (see the module docstring of :mod:`overlay.studies.vectorized`)."""
    q, n_cols = tile.q, volume.shape[1]
    m, model = tile.market, tile.model
    cum = np.cumsum(volume, axis=1)
    total = cum[:, -1] / tile.vol_scale
    cum = np.minimum(np.floor(cum + 1e-9), q)
    cum[:, -1] = q if tile.completes else cum[:, -2] if n_cols > 1 else 0.0
    filled = cum[:, -1].copy()
    trades = np.diff(cum, axis=1, prepend=0.0)
    powers = np.arange(n_cols, dtype=np.float64)
    rate = np.cumsum(trades * (tile.rate_scale * tile.decay**-powers), axis=1) * tile.decay**powers
    rate -= (0.5 * tile.rate_scale) * trades
    temp = np.asarray(model.temporary_impact(rate, m.price, m.daily_vol, m.adv), dtype=np.float64)
    impact = np.einsum("ij,ij->i", temp, trades)
    table = np.asarray(model.permanent_impact(np.arange(int(q) + 1, dtype=np.float64), m.price, m.daily_vol, m.adv))
    if table[-1] > 0:
        g = table.take(trades.astype(np.intp))
        perm = filled * g.sum(axis=1) - np.einsum("ij,ij->i", g, cum)
    else:
        perm = np.zeros_like(filled)
    risk_sq = (1.0 + n_cols) * filled * filled - 2.0 * filled * cum.sum(axis=1) + np.einsum("ij,ij->i", cum, cum)
    return impact, perm, np.sqrt(np.maximum(risk_sq, 0.0)), filled, total


def tile_volumes(tile: V._Tile, rows: int, seed: int) -> np.ndarray:
    normals = np.random.default_rng(seed).standard_normal((rows, tile.order.n_slices))
    return np.array(tile.volumes(normals, rows))


def same_bits(got, want) -> None:
    for a, b in zip(got, want, strict=True):
        a = np.broadcast_to(np.asarray(a, dtype=np.float64), np.shape(b))
        assert a.tobytes() == np.asarray(b, dtype=np.float64).tobytes()


def numpy_path(tile: V._Tile, volume: np.ndarray) -> tuple:
    fused, tile._fused = tile._fused, None
    try:
        return tile.evaluate(volume)
    finally:
        tile._fused = fused


@pytest.mark.parametrize("model_name", list(MODELS))
@pytest.mark.parametrize("order", ORDERS, ids=lambda o: f"{o[2]}-slices")
def test_numpy_path_matches_the_reference(model_name, order):
    tile = V._Tile(market(), model_from_spec(MODELS[model_name]), V.Order(order[0], order[1], order[2], pov_rate=order[3]))
    volume = tile_volumes(tile, 37, seed=order[2])
    same_bits(numpy_path(tile, volume), reference(tile, volume))


needs_numba = pytest.mark.skipif(K.compiled() is None, reason="numba is not installed (the 'fast' extra)")


@needs_numba
@pytest.mark.parametrize("model_name", list(MODELS))
@pytest.mark.parametrize("order", ORDERS, ids=lambda o: f"{o[2]}-slices")
def test_compiled_loop_gives_the_numpy_bits(model_name, order):
    tile = V._Tile(market(), model_from_spec(MODELS[model_name]), V.Order(order[0], order[1], order[2], pov_rate=order[3]))
    covered = model_name != "square-root, exponent 0.6"  # a power numpy does not round exactly
    assert (tile._fused is not None) == covered
    if not covered:
        return
    for rows, seed in ((V.tile_rows(order[2], V.FUSED_TILE_ELEMENTS), 1), (5, 2), (1, 3)):  # full, partial, single-path tiles
        volume = tile_volumes(tile, rows, seed)
        want = reference(tile, volume)
        same_bits(tile._fused(volume), want)
        same_bits(numpy_path(tile, volume), want)


@needs_numba
@pytest.mark.parametrize("model_name", ["square-root", "linear"])
@pytest.mark.parametrize("order", ORDERS, ids=lambda o: f"{o[2]}-slices")
def test_compiled_loop_from_normals_gives_the_numpy_bits(model_name, order):
    """Volumes made from the draws by the compiled pass (transposed) are numpy's, bit for bit."""
    tile = V._Tile(market(0.3), model_from_spec(MODELS[model_name]), V.Order(order[0], order[1], order[2], pov_rate=order[3]))
    for rows, seed in ((V.tile_rows(order[2], V.FUSED_TILE_ELEMENTS), 4), (5, 5), (1, 6)):  # full, partial, single-path tiles
        normals = np.random.default_rng(seed).standard_normal((rows, order[2]))
        want = reference(tile, np.array(tile.volumes(normals.copy(), rows)))
        same_bits(tile._fused.from_normals(normals, tile.market.volume_noise, tile.log_base), want)


@needs_numba
@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("noise", [0.0, 0.07])
def test_simulate_is_the_same_with_and_without_the_loop(monkeypatch, seed, noise):
    """Whole runs, blocks and tiles included (the last block and tile partial), on one thread
    or with each tile evaluated on a second thread while the next is drawn."""
    model = model_from_spec(MODELS["square-root"])
    order = V.Order(20_000, 120.0, 120, pov_rate=0.05)

    def run(overlap=V.Overlap.NONE):
        return V.simulate(market(noise), model, order, 1500, lambda b: np.random.default_rng([seed, b]), block=700, overlap=overlap)

    monkeypatch.setattr(V, "FUSE_MIN_PATH_STEPS", 0)
    assert V._Tile(market(noise), model, order, 1500)._fused is not None
    fast = run()
    overlapped = run(V.Overlap.THREAD)
    monkeypatch.setattr(K, "compiled", lambda: None)
    assert V._Tile(market(noise), model, order)._fused is None
    plain = run()
    plain_overlapped = run(V.Overlap.THREAD)  # nothing to overlap without the loop: one thread
    for name in V.PathResults.__dataclass_fields__:
        for other in (overlapped, plain, plain_overlapped):
            assert getattr(fast, name).tobytes() == getattr(other, name).tobytes(), name


@needs_numba
def test_cells_the_loop_does_not_cover_fall_back():
    model = model_from_spec(MODELS["square-root"])
    order = V.Order(75_000, 390.0, 390, pov_rate=0.05)
    # a 20-second half-life decays past the exponent range: the numpy path filters instead
    assert V._Tile(market(half_life=20.0), model, order)._fused is None
    participation = V.PathMarket(price=100.0, multiplier=1.0, adv=1e6, daily_vol=0.01, dynamics=V.ImpactDynamics.PARTICIPATION)
    assert V._Tile(participation, model, order)._fused is None
    assert V._Tile(market(), model, V.Order(75_000, 390.0, 390, cumulative=np.linspace(0, 75_000, 391)[1:].astype(np.int64)))._fused is None


@needs_numba
@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 5_000),
    st.integers(1, 300),
    st.floats(0.01, 1.0),
    st.floats(0.0, 0.3),
    st.sampled_from(["square-root", "linear", "none"]),
    st.integers(0, 2**32 - 1),
)
def test_loop_matches_the_reference_for_any_order(quantity, n_slices, rate, noise, model_name, seed):
    tile = V._Tile(market(noise), model_from_spec(MODELS[model_name]), V.Order(quantity, float(n_slices), n_slices, pov_rate=rate))
    assert tile._fused is not None
    volume = tile_volumes(tile, min(V.tile_rows(n_slices), 70), seed)
    same_bits(tile._fused(volume), reference(tile, volume))


@pytest.mark.parametrize("n", [1, 7, 8, 9, 128, 129, 136, 390, 1000, 4097])
def test_pairwise_plan_is_numpys_summation_order(n):
    """Summing along the plan's leaves and combinations gives numpy's ``sum`` bit for bit."""
    values = np.random.default_rng(n).random(n) * 10.0 ** np.random.default_rng(n + 1).uniform(-8, 8, n)
    leaves, ops, root = K.pairwise_plan(n)
    sums = {}
    for i, (lo, size) in enumerate(leaves):
        if size < 8:
            total = -0.0
            for v in values[lo:lo + size]:
                total += v
        else:
            r = list(values[lo:lo + 8])
            aligned = size - size % 8
            for k in range(8, aligned, 8):
                for j in range(8):
                    r[j] += values[lo + k + j]
            total = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
            for v in values[lo + aligned:lo + size]:
                total += v
        sums[i] = total
    for slot, left, right in ops:
        sums[slot] = sums[left] + sums[right]
    assert 0.0 + sums[root] == values.sum()
    assert math.isfinite(sums[root])
