"""The vectorized engine: one parent order over many market paths at once, in numpy.

Setup. A buy of ``Q`` contracts is worked over ``N`` slices of ``τ`` days each
(``τ = slice_minutes / session_minutes``; a "day" is one session), from the session open.
Per path and slice ``k``:

- market volume ``v_k = V · w_k · exp(s·Z_k − s²/2)``: ``V`` the ADV, ``w_k`` the slice's
  share of the U-shaped profile (:mod:`pricing.volume_profile`), ``Z_k`` standard normal and
  ``s`` the per-slice log-normal noise (:func:`slice_volume_noise` aggregates the
  simulator's per-step noise to a slice with the same variance), so ``E[v_k] = V·w_k``;
- trades ``n_k``: a fixed schedule (TWAP, VWAP, IS) trades the increments of its integer
  cumulative targets at the start of each slice; POV keeps its cumulative fill at
  ``min(Q, floor(ρ · cumulative volume))`` at the end of each slice (``ρ`` its rate),
  completing the rest in the last slice, so its sizes follow realised volume;
- temporary impact follows realised participation: each unit of ``n_k`` pays
  ``h(r_k)`` price units, ``h`` the model's ``temporary_impact`` at the rate
  ``r_k = (n_k / v_k) · V`` units per day (trading a share ``n_k/v_k`` of the market's volume
  is trading at that share of ADV per day); on a flat, noiseless day ``r_k = n_k/τ``;
- permanent impact: a unit traded after ``q`` units pays ``g(q)``, ``g`` the model's
  ``permanent_impact`` (the mid has moved by ``g`` of the cumulative quantity);
- the half spread ``δ`` (price units) on every unit, and fees ``f`` currency per contract.

The mid is an arithmetic Brownian motion of ``σ_P = daily_vol · P`` price units per √day.
It enters the cost only as ``σ_P Σ_j R_j ΔW_j`` with ``R_j`` the contracts still to trade
while the mid moves by ``ΔW_j`` (variance ``τ``). Volumes and mid are independent, so,
given the volume path, that sum is exactly normal with variance ``σ_P² τ Σ_j R_j²``: each
path draws one normal for it rather than one per slice. For a fixed schedule this is the
Almgren–Chriss result: with linear impact (``h(r) = ηr``, ``g(q) = γq``), a flat noiseless
day and TWAP, ``E[cost] = ½γQ² + δQ + η̃Q²/T`` with ``η̃ = η − γτ/2`` and
``Var[cost] = σ_P² τ Σ_k x_k²`` (price units times contracts; times the multiplier for
currency).

Per path the engine reports ``shortfall_bps = 1e4 · (avg fill − P)/P`` (fees excluded),
``cost`` in currency (multiplier applied, fees included), ``participation_realised = Q /``
the market volume over the horizon, and ``filled`` (always ``Q``).

Paths are drawn in random blocks (:data:`~overlay.studies.grid.BLOCK_PATHS` paths, one
generator per block) and evaluated in tiles of about :data:`TILE_ELEMENTS` path-steps, so
the working memory is a few hundred kilobytes however many paths a cell has; only the
per-path results (four float64 per path) grow with the path count.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from pricing.impact import ImpactModel
from pricing.volume_profile import cumulative_volume_fraction

Array = NDArray[np.float64]

#: Path-steps per tile: (paths × slices) working arrays of this many float64 stay in cache
#: and are recycled by the allocator, which is several times faster than whole-block arrays.
TILE_ELEMENTS = 16_384


@dataclass(frozen=True, slots=True)
class PathMarket:
    """The market of one cell: ``price`` and ``half_spread`` in price units, ``adv`` contracts
    per session, ``daily_vol`` a fraction of price per √session, ``fee_per_unit`` currency per
    contract, ``volume_noise`` the per-*slice* log-normal σ, ``edge_ratio`` the U-shape."""

    price: float
    multiplier: float
    adv: float
    daily_vol: float
    half_spread: float = 0.0
    fee_per_unit: float = 0.0
    volume_noise: float = 0.0
    edge_ratio: float = 1.0
    session_minutes: float = 390.0

    @property
    def sigma(self) -> float:
        """Mid volatility in price units per √session."""
        return self.daily_vol * self.price


@dataclass(frozen=True, slots=True)
class Order:
    """A buy of ``quantity`` contracts over ``horizon_minutes`` in equal slices.

    Exactly one of ``cumulative`` (the fixed schedule's integer cumulative targets, one per
    slice, the last equal to ``quantity``) and ``pov_rate`` (share of market volume) is set.
    """

    quantity: int
    horizon_minutes: float
    n_slices: int
    cumulative: NDArray[np.int64] | None = None
    pov_rate: float | None = None

    def __post_init__(self) -> None:
        if self.quantity < 1:
            raise ValueError(f"quantity must be at least one contract, got {self.quantity}")
        if (self.cumulative is None) == (self.pov_rate is None):
            raise ValueError("give either a fixed schedule or a POV rate")
        if self.cumulative is not None:
            cum = np.asarray(self.cumulative)
            if cum.shape != (self.n_slices,) or cum[-1] != self.quantity or np.any(np.diff(cum) < 0) or cum[0] < 0:
                raise ValueError("the schedule must be monotone with one target per slice, ending at the quantity")
        elif not 0.0 < self.pov_rate <= 1.0:
            raise ValueError(f"POV rate must be in (0, 1], got {self.pov_rate!r}")

    def tau(self, session_minutes: float) -> float:
        """Slice length in days (sessions)."""
        return self.horizon_minutes / self.n_slices / session_minutes


@dataclass(frozen=True, slots=True)
class PathResults:
    """Per-path outcomes, each an array of ``n_paths`` values (see the module docstring)."""

    shortfall_bps: Array
    cost: Array
    participation_realised: Array
    filled: Array


def slice_volume_noise(step_noise: float, steps_per_slice: float) -> float:
    """Per-slice log-normal σ for a slice summing ``m`` steps of i.i.d. log-normal volume.

    A mean-one log-normal of σ ``s`` has variance ``e^{s²} − 1``; the mean of ``m`` of them
    has ``(e^{s²} − 1)/m``, which a single log-normal matches with
    ``σ² = ln(1 + (e^{s²} − 1)/m)``.
    """
    if step_noise == 0:
        return 0.0
    return math.sqrt(math.log1p(math.expm1(step_noise * step_noise) / max(steps_per_slice, 1.0)))


def expected_slice_volume(market: PathMarket, order: Order) -> Array:
    """``E[v_k] = V · (F(t_{k+1}) − F(t_k))``, ``F`` the cumulative U-shaped profile."""
    edges = np.linspace(0.0, order.horizon_minutes, order.n_slices + 1) / market.session_minutes
    return market.adv * np.diff(cumulative_volume_fraction(edges, market.edge_ratio))


def tile_rows(n_slices: int) -> int:
    """Paths per tile: about :data:`TILE_ELEMENTS` path-steps, at least one path."""
    return max(1, TILE_ELEMENTS // max(n_slices, 1))


class _Tile:
    """Evaluates one tile of paths; holds the per-cell constants."""

    def __init__(self, market: PathMarket, model: ImpactModel, order: Order) -> None:
        self.market, self.model, self.order = market, model, order
        self.q = float(order.quantity)
        self.tau = order.tau(market.session_minutes)
        self.expected = expected_slice_volume(market, order)
        s = market.volume_noise
        self.log_base = np.log(self.expected) - 0.5 * s * s
        if order.cumulative is not None:
            cum = np.asarray(order.cumulative, dtype=np.float64)
            self.trades = np.diff(cum, prepend=0.0)
            before = cum - self.trades
            self.fixed_perm = float(self.trades @ self._perm(before))
            remaining = self.q - cum[:-1]  # R_j, j = 1 .. N-1; R_N = 0
            self.fixed_risk = math.sqrt(float(remaining @ remaining))

    def _perm(self, before: Array) -> Array:
        m = self.market
        return np.asarray(self.model.permanent_impact(before, m.price, m.daily_vol, m.adv), dtype=np.float64)

    def _temporary(self, rate: Array) -> Array:
        m = self.market
        return np.asarray(self.model.temporary_impact(rate, m.price, m.daily_vol, m.adv), dtype=np.float64)

    def volumes(self, normals: Array | None, n: int) -> Array:
        """Slice volumes ``(n, N)``; overwrites ``normals`` in place."""
        s = self.market.volume_noise
        if normals is None:
            return np.broadcast_to(self.expected, (n, self.expected.size))
        normals *= s
        normals += self.log_base
        return np.exp(normals, out=normals)

    def evaluate(self, volume: Array, price_normals: Array) -> PathResults:
        """Costs of the tile given its volumes ``(n, N)`` and one normal per path."""
        m, q = self.market, self.q
        total_volume = volume.sum(axis=1)
        if self.order.cumulative is not None:
            rate = np.divide(self.trades * m.adv, volume)
            impact = self._temporary(rate) @ self.trades
            perm = self.fixed_perm
            risk = self.fixed_risk
        else:
            cum = np.cumsum(volume, axis=1)
            cum *= self.order.pov_rate
            np.floor(cum + 1e-9, out=cum)
            np.minimum(cum, q, out=cum)
            cum[:, -1] = q
            trades = np.diff(cum, axis=1, prepend=0.0)
            rate = np.divide(trades * m.adv, volume)
            temp = self._temporary(rate)
            temp *= trades
            impact = temp.sum(axis=1)
            del temp, rate
            before = cum - trades
            perm_unit = self._perm(before)
            perm_unit *= trades
            perm = perm_unit.sum(axis=1)
            del perm_unit, before
            # POV trades at each slice's end: R_j = Q - cum_{j-1}, j = 1 .. N (R_1 = Q)
            remaining = q - cum[:, :-1]
            remaining *= remaining
            risk = np.sqrt(q * q + remaining.sum(axis=1))
        noise = price_normals * (m.sigma * math.sqrt(self.tau) * risk)
        paid = q * m.half_spread + impact + perm + noise  # price units × contracts, over P·Q
        shortfall_bps = paid / (q * m.price) * 1e4
        cost = paid * m.multiplier + m.fee_per_unit * q
        n = volume.shape[0]
        return PathResults(
            shortfall_bps=np.asarray(shortfall_bps, dtype=np.float64) + np.zeros(n),
            cost=np.asarray(cost, dtype=np.float64) + np.zeros(n),
            participation_realised=q / total_volume,
            filled=np.full(n, q),
        )


def simulate(
    market: PathMarket,
    model: ImpactModel,
    order: Order,
    n_paths: int,
    block_rng: Callable[[int], np.random.Generator],
    *,
    block: int = 1024,
) -> PathResults:
    """Evaluate ``order`` on ``n_paths`` paths; ``block_rng(b)`` is block ``b``'s generator.

    Block ``b`` covers paths ``b·block … b·block + block − 1``; its generator draws one price
    normal per path of the block, then the volume normals path by path (``N`` each, none
    when ``volume_noise`` is 0). So path ``i``'s numbers depend only on ``block_rng``,
    ``block`` and ``i`` (and on ``n_paths`` only through the size of the last block).
    Paths are evaluated in tiles of :func:`tile_rows` paths, which bounds the working memory
    to a few tile-sized arrays whatever ``n_paths`` is.
    """
    if n_paths < 1:
        raise ValueError("need at least one path")
    if block < 1:
        raise ValueError("block must be at least one path")
    engine = _Tile(market, model, order)
    n_slices = order.n_slices
    noisy = market.volume_noise > 0
    tile = tile_rows(n_slices)
    out = {k: np.empty(n_paths) for k in PathResults.__slots__}
    xi = np.empty(n_paths)
    vol_buf = np.empty((min(tile, n_paths), n_slices)) if noisy else None
    for b_lo in range(0, n_paths, block):
        b_hi = min(n_paths, b_lo + block)
        rng = block_rng(b_lo // block)
        rng.standard_normal(out=xi[b_lo:b_hi])
        for lo in range(b_lo, b_hi, tile):
            hi = min(b_hi, lo + tile)
            n = hi - lo
            if noisy:
                rng.standard_normal(out=vol_buf[:n])
            volume = engine.volumes(vol_buf[:n] if noisy else None, n)
            res = engine.evaluate(volume, xi[lo:hi])
            for k in out:
                out[k][lo:hi] = getattr(res, k)
    return PathResults(**out)
