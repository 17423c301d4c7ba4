"""A fused, compiled evaluation of POV tiles for the vectorized engine (optional accelerator).

The numpy path of :class:`overlay.studies.vectorized._Tile` evaluates a POV tile in about
twenty passes over the ``(paths, slices)`` arrays, two of them sequential ``cumsum`` runs
along each path. This module does the same arithmetic in one compiled function, when numba
is installed (``pip install overlay-engine[fast]``); without it, or for a cell it does not
cover, the numpy path runs. Both give the same bits: ``_Tile`` checks the loop against its
numpy path on a probe tile of every cell before it uses it. The normal draws and ``exp``
stay numpy's (:meth:`FusedPov.from_normals`), so the random stream and volumes are unchanged;
``exp``'s argument ``s·Z + log_base`` is formed by a second compiled pass (:func:`_prepare`)
that writes it transposed, with numpy's two roundings (product, then sum), in place of two
numpy passes over a strided view.

The loop runs over the tile transposed (time-major) in blocks of at most :data:`LANES`
paths: the outer loop walks the ``N`` slices in order, the inner loop runs across the
paths of a block, which the compiler turns into vector instructions. Per path and slice
``k`` (all in
contracts unless said otherwise, volumes already scaled by the rate ``ρ``):

- ``U_k = U_{k−1} + ρ v_k`` (the numpy ``cumsum``), ``c_k = min(⌊U_k + 10⁻⁹⌋, Q)`` the
  cumulative fill (``c_N`` is ``Q`` when the order completes at the horizon, else
  ``c_{N−1}``), ``n_k = c_k − c_{k−1}`` the trade;
- ``y_k = y_{k−1} + n_k κS d^{−k}`` and ``r_k = y_k d^k − (κS/2) n_k`` the impact rate in
  contracts per day (``_Tile._flow_rate``, ``d`` the decay per slice);
- ``h(r_k)`` the temporary impact (price units) of :class:`TemporaryLaw`, ``g(n_k)`` the
  permanent shift from the model's table of ``g(0 … Q)``.

Every operation is the numpy path's own, in its order and rounding (no fused multiply-add).
The per-path sums reproduce numpy's summation order, since a different order changes the
last bits: ``einsum('ij,ij->i')`` adds the products in two lanes, groups of eight taken
from the back (elements 6, 4, 2, 0 into lane 0 and 7, 5, 3, 1 into lane 1), the rest in
pairs, then lane 0 + lane 1; ``sum(axis=1)`` is numpy's pairwise sum (blocks of at most
128 in eight accumulators, split in halves rounded down to a multiple of eight). Sums of
whole contracts (``Σ c_k``, ``Σ c_k²``) are exact in any order below 2⁵³, which the cell
is checked against.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from pricing.impact import ImpactModel, LinearImpact, NullImpact, SquareRootImpact

Array = NDArray[np.float64]

#: Most paths per block of lanes (a tile of a 390-slice day, 256 paths, is one block).
LANES = 256
#: numpy's pairwise summation: largest block summed with eight accumulators.
PAIRWISE_BLOCK = 128
#: Exponents whose numpy power is exactly rounded (``sqrt``, the value, ``x·x``).
_EXACT_POWERS = {0.5: 0, 1.0: 1, 2.0: 2}


class TemporaryLaw(enum.Enum):
    """The temporary impact ``h(r)`` the loop computes (price units, ``r`` contracts/day)."""

    NONE = 0  # h = 0
    LINEAR = 1  # h = η|r|
    POWER = 2  # h = c (|r|/V)^β, c = Y·σ·P, β ∈ {½, 1, 2}


@dataclass(frozen=True, slots=True)
class LawParams:
    """``law`` with its coefficient ``coef`` (η or ``c``), ``adv`` ``V`` and ``power`` code."""

    law: TemporaryLaw
    coef: float = 0.0
    adv: float = 1.0
    power: int = 0


def temporary_law(model: ImpactModel, price: float, daily_vol: float, adv: float) -> LawParams | None:
    """The :class:`LawParams` of ``model``'s temporary impact, or None if the loop has none.

    The coefficient is formed as the model forms it (``(Y·σ)·P``), so it has the same bits.
    """
    if type(model) is NullImpact:
        return LawParams(TemporaryLaw.NONE, coef=0.0, adv=1.0, power=1)
    if type(model) is LinearImpact:
        return LawParams(TemporaryLaw.LINEAR, coef=float(model.eta), adv=1.0, power=1)
    if type(model) is SquareRootImpact and float(model.exponent) in _EXACT_POWERS:
        coef = float(model.y * np.float64(daily_vol) * np.float64(price))
        return LawParams(TemporaryLaw.POWER, coef=coef, adv=float(adv), power=_EXACT_POWERS[float(model.exponent)])
    return None


def pairwise_plan(n: int) -> tuple[list[tuple[int, int]], list[tuple[int, int, int]], int]:
    """numpy's pairwise sum of ``n`` values as leaves and combinations.

    Returns the leaves ``(start, length)`` in order, the combinations ``(slot, left,
    right)`` (``slot = left + right``; leaves are slots ``0 …``) and the root's slot.
    """
    leaves: list[tuple[int, int]] = []

    def split(lo: int, size: int) -> None:
        if size <= PAIRWISE_BLOCK:
            leaves.append((lo, size))
            return
        half = size // 2
        half -= half % 8
        split(lo, half)
        split(lo + half, size - half)

    split(0, n)
    ops: list[tuple[int, int, int]] = []
    slots = iter(range(len(leaves), 4 * len(leaves) + 4))
    first_leaf = iter(range(len(leaves)))

    def combine(size: int) -> int:
        if size <= PAIRWISE_BLOCK:
            return next(first_leaf)
        half = size // 2
        half -= half % 8
        left, right = combine(half), combine(size - half)
        slot = next(slots)
        ops.append((slot, left, right))
        return slot

    root = combine(n)
    return leaves, ops, root


def _kernel(vt, n, lanes, scale, q, completes, grow, shrink, half_rs, coef, adv, power, table, has_perm,
            leaf_rows, ops, root, n_slots, out):  # pragma: no cover - compiled
    """``out[:, 0:5]`` = impact, permanent, risk, filled, market volume of each path.

    ``vt[:, :n]`` holds the tile's volumes transposed, ``(slices, paths)`` (read only).
    Lanes are taken ``lanes`` paths at a time and slices eight at a time (einsum's groups):
    the loops over the lanes of a slice are vectorised by the compiler, and each group's
    ``c``, ``n`` (then ``g(n)``) and ``h(r)·n`` are kept in blocks of eight rows, small
    enough to stay in the first-level cache, for the sums that follow the group (the table
    look-up of ``g`` has a loop of its own, and each of einsum's lanes its own loop, so that
    each loop writes one array). Groups lie inside the pairwise sum's leaves (whose
    aligned parts start and end on multiples of eight, :func:`fused_evaluator` checks it);
    the slices past the last group are einsum's pairs and the last leaf's rest.
    ``leaf_rows`` lists the pairwise sum's leaves (start, end of the eight-accumulator part, end).
    """
    n_cols = vt.shape[0]
    state = np.empty((5, lanes))  # U, c, y, Σc, Σc² (one array: the compiler checks fewer overlaps)
    acc = np.empty((4, lanes))  # einsum's lanes 0 and 1 of h·n, then of g·c
    r8 = np.empty((8, lanes))
    sums = np.empty((n_slots, lanes))
    cr = np.empty((8, lanes))  # c of the group's rows
    hr = np.empty((8, lanes))  # h·n
    gr = np.empty((8, lanes))  # n, then g(n)
    last_k = n_cols - 1
    for p0 in range(0, n, lanes):
        m = min(lanes, n - p0)
        run, prev, y, s1, s2 = state[0, :m], state[1, :m], state[2, :m], state[3, :m], state[4, :m]
        state[:] = 0.0
        acc[:] = 0.0
        a_h0, a_h1, a_g0, a_g1 = acc[0, :m], acc[1, :m], acc[2, :m], acc[3, :m]
        leaf = 0
        for g0 in range(0, n_cols, 8):
            g1 = min(n_cols, g0 + 8)
            for k in range(g0, g1):
                vrow = vt[k, p0:p0 + m]
                trow = gr[k - g0, :m]
                hrow = hr[k - g0, :m]
                crow = cr[k - g0, :m]
                g_k = grow[k]
                d_k = shrink[k]
                last = k == last_k
                for p in range(m):
                    u = run[p] + vrow[p]
                    run[p] = u
                    c = min(np.floor(u + 1e-9), q)
                    if last:
                        c = q if completes else (prev[p] if n_cols > 1 else 0.0)
                    t = c - prev[p]
                    prev[p] = c
                    crow[p] = c
                    trow[p] = t
                    s1[p] += c
                    s2[p] += c * c
                    yk = y[p] + t * g_k
                    y[p] = yk
                    x = abs(yk * d_k - half_rs * t) / adv
                    if power == 0:
                        x = np.sqrt(x)
                    elif power == 2:
                        x = x * x
                    hrow[p] = (coef * x) * t
            if has_perm:
                for j in range(g1 - g0):
                    grow_j = gr[j, :m]
                    for p in range(m):
                        grow_j[p] = table[np.uint64(grow_j[p])]
            if g1 - g0 == 8:
                h0, h1, h2, h3 = hr[0, :m], hr[1, :m], hr[2, :m], hr[3, :m]
                h4, h5, h6, h7 = hr[4, :m], hr[5, :m], hr[6, :m], hr[7, :m]
                for p in range(m):
                    a_h0[p] = h0[p] + (h2[p] + (h4[p] + (h6[p] + a_h0[p])))
                    a_h1[p] = h1[p] + (h3[p] + (h5[p] + (h7[p] + a_h1[p])))
                if has_perm:
                    e0, e1, e2, e3 = gr[0, :m], gr[1, :m], gr[2, :m], gr[3, :m]
                    e4, e5, e6, e7 = gr[4, :m], gr[5, :m], gr[6, :m], gr[7, :m]
                    c0, c1, c2, c3 = cr[0, :m], cr[1, :m], cr[2, :m], cr[3, :m]
                    c4, c5, c6, c7 = cr[4, :m], cr[5, :m], cr[6, :m], cr[7, :m]
                    for p in range(m):
                        a_g0[p] = e0[p] * c0[p] + (e2[p] * c2[p] + (e4[p] * c4[p] + (e6[p] * c6[p] + a_g0[p])))
                        a_g1[p] = e1[p] * c1[p] + (e3[p] * c3[p] + (e5[p] * c5[p] + (e7[p] * c7[p] + a_g1[p])))
                    # the pairwise leaf holding this group (groups lie inside leaves' aligned parts)
                    lo, mid = leaf_rows[leaf, 0], leaf_rows[leaf, 1]
                    if g0 == lo:
                        for j in range(8):
                            r8[j, :m] = gr[j, :m]
                    else:
                        for j in range(8):
                            row = gr[j, :m]
                            rj = r8[j, :m]
                            for p in range(m):
                                rj[p] += row[p]
                    if g1 == mid:
                        total = sums[leaf, :m]
                        for p in range(m):
                            total[p] = ((r8[0, p] + r8[1, p]) + (r8[2, p] + r8[3, p])) + ((r8[4, p] + r8[5, p]) + (r8[6, p] + r8[7, p]))
                        if leaf_rows[leaf, 2] == mid:
                            leaf += 1
            else:  # the tail: einsum's lanes in turn, the last leaf's rest one by one
                for j in range(g1 - g0):
                    w = j % 2
                    hk, gk, ck = hr[j, :m], gr[j, :m], cr[j, :m]
                    ah, ag = acc[w, :m], acc[2 + w, :m]
                    for p in range(m):
                        ah[p] = hk[p] + ah[p]
                    if has_perm:
                        for p in range(m):
                            ag[p] = gk[p] * ck[p] + ag[p]
                if has_perm:
                    total = sums[leaf, :m]
                    if leaf_rows[leaf, 1] == leaf_rows[leaf, 0]:
                        total[:] = -0.0
                    for j in range(g1 - g0):
                        row = gr[j, :m]
                        for p in range(m):
                            total[p] += row[p]
        if has_perm:
            for o in range(ops.shape[0]):
                for p in range(m):
                    sums[ops[o, 0], p] = sums[ops[o, 1], p] + sums[ops[o, 2], p]
        for p in range(m):
            filled = prev[p]
            impact = 0.0 + (a_h0[p] + a_h1[p])
            perm = filled * (0.0 + sums[root, p]) - (0.0 + (a_g0[p] + a_g1[p])) if has_perm else 0.0
            risk_sq = (1.0 + n_cols) * filled * filled - 2.0 * filled * s1[p] + s2[p]
            out[p0 + p, 0] = impact
            out[p0 + p, 1] = perm
            out[p0 + p, 2] = np.sqrt(max(risk_sq, 0.0))
            out[p0 + p, 3] = filled
            out[p0 + p, 4] = run[p] / scale


def _prepare(normals, noise, log_base, vt):  # pragma: no cover - compiled
    """``vt[k, p] = normals[p, k]·noise + log_base[k]``: the exponent of the volumes, transposed.

    numpy's two operations (a product, then a sum, each rounded; no fused multiply-add) in one
    pass. Slices are taken four at a time for every path, so that each path's four normals
    are read from one cache line and the four rows written are contiguous across paths.
    """
    n, n_cols = normals.shape
    whole = n_cols - n_cols % 4
    for k0 in range(0, whole, 4):
        for p in range(n):
            for j in range(4):
                vt[k0 + j, p] = normals[p, k0 + j] * noise + log_base[k0 + j]
    for k in range(whole, n_cols):
        for p in range(n):
            vt[k, p] = normals[p, k] * noise + log_base[k]


@functools.cache
def compiled() -> tuple[Callable, Callable] | None:
    """The compiled loop and the compiled :func:`_prepare`, or None when numba is not
    installed (imported on first need)."""
    try:
        import numba
    except ImportError:
        return None
    jit = numba.njit(cache=True, nogil=True, error_model="numpy")
    return jit(_kernel), jit(_prepare)


class FusedPov:
    """Evaluates POV tiles of one cell with the compiled loop; built by :func:`fused_evaluator`.

    Holds the buffer of the transposed tile, reused from tile to tile. A tile of ``n`` paths
    uses its first ``N·n`` elements as one C-contiguous ``(N, n)`` array, so numpy's ``exp``
    runs over one contiguous run whatever ``n`` is (a tile shorter than the buffer, such as
    the last of a block, would otherwise be ``N`` short rows) and both compiled functions
    always see the same array layout.
    """

    def __init__(self, compiled: tuple[Callable, Callable], args: tuple, n_slices: int, rows: int) -> None:
        self.kernel, self.prepare = compiled
        self.args = args
        self._n_slices, self._rows = n_slices, rows
        self._flat = np.empty(n_slices * rows)
        self._lanes = -(-rows // -(-rows // LANES))  # blocks of even width, at most LANES

    def _buffers(self, n: int) -> Array:
        """The transposed tile of ``n`` paths, ``(N, n)``, C-contiguous."""
        if n > self._rows:
            raise ValueError(f"a tile of {n} paths exceeds the {self._rows} this evaluator holds")
        return self._flat[: self._n_slices * n].reshape(self._n_slices, n)

    def from_normals(self, normals: Array, noise: float, log_base: Array, out: Array | None = None) -> tuple[Array, ...]:
        """Evaluate a tile from its volume normals ``(n, N)``: ``v = exp(s·Z + log_base)``,
        the numpy path's own operations (``exp`` numpy's), written transposed.

        Returns impact, permanent, risk, filled and market volume per path: the columns of
        ``out`` (``(n, 5)``, C-contiguous) when given, which the loop writes in place."""
        vt = self._buffers(normals.shape[0])
        self.prepare(normals, float(noise), log_base, vt)
        np.exp(vt, out=vt)
        return self._run(vt, out)

    def __call__(self, volume: Array, out: Array | None = None) -> tuple[Array, ...]:
        """Evaluate a tile of volumes ``(n, N)`` (times the POV rate); ``out`` as in :meth:`from_normals`."""
        vt = self._buffers(volume.shape[0])
        np.copyto(vt, volume.T)
        return self._run(vt, out)

    def _run(self, vt: Array, out: Array | None) -> tuple[Array, ...]:
        n = vt.shape[1]
        if out is None:
            out = np.empty((n, 5))
        elif out.shape != (n, 5) or not out.flags.c_contiguous:
            raise ValueError(f"out must be a C-contiguous ({n}, 5) array")
        self.kernel(vt, n, self._lanes, *self.args, out)
        return tuple(out.T)


def fused_evaluator(
    *, volume_scale: float, quantity: float, completes: bool, grow: Array | None, shrink: Array | None,
    rate_scale: float, law: LawParams | None, perm_table: Array | None, n_slices: int, rows: int,
) -> FusedPov | None:
    """A :class:`FusedPov` for a cell, or None (no numba, or a cell the loop does not cover).

    ``grow``/``shrink`` are ``κS·d^{−k}`` and ``d^k`` (None when the decay needs the linear
    filter), ``perm_table`` ``g(0 … Q)`` (None when the model leaves no permanent shift),
    ``rows`` the most paths of a tile.
    """
    loops = compiled()
    exact = (n_slices + 1.0) * quantity * quantity < 2.0**53
    if loops is None or law is None or grow is None or shrink is None or not exact:
        return None
    leaves, ops, root = pairwise_plan(n_slices)
    leaf_rows = np.asarray([(lo, lo + size - size % 8 if size >= 8 else lo, lo + size) for lo, size in leaves], dtype=np.int64)
    # the loop's groups of eight slices lie inside the leaves: only the last leaf has a rest,
    # einsum's tail (numpy halves a block on a multiple of eight, so this always holds)
    lo, mid, hi = leaf_rows.T
    if np.any(lo % 8) or np.any(mid[:-1] != hi[:-1]) or mid[-1] != n_slices - n_slices % 8:
        return None
    has_perm = perm_table is not None
    args = (
        float(volume_scale), float(quantity), bool(completes), np.ascontiguousarray(grow, dtype=np.float64),
        np.ascontiguousarray(shrink, dtype=np.float64), 0.5 * rate_scale, law.coef, law.adv, law.power,
        perm_table if has_perm else np.zeros(1), has_perm, leaf_rows,
        np.asarray(ops, dtype=np.int64).reshape(-1, 3), int(root), max(len(leaves) + len(ops), 1),
    )
    return FusedPov(loops, args, n_slices, rows)
