"""The vectorized engine: one parent order over many market paths at once, in numpy.

Setup. A buy of ``Q`` contracts is worked over ``N`` slices of ``τ`` days each
(``τ = slice_minutes / session_minutes``; a "day" is one session), from the session open,
exactly as the execution engine works it on the simulator:

- market volume per slice ``v_k = V · w_k · exp(s·Z_k − s²/2)``: ``V`` the ADV, ``w_k`` the
  slice's share of the U-shaped profile (:mod:`pricing.volume_profile`), ``Z_k`` standard
  normal and ``s`` the per-slice log-normal noise (:func:`slice_volume_noise` aggregates the
  simulator's per-step noise into one slice with the same variance), so ``E[v_k] = V·w_k``;
- trades: a fixed schedule (TWAP, VWAP, IS) trades the increments ``n_k`` of its integer
  cumulative targets at the slice starts ``t_k = k·τ``; POV trades at each slice end
  ``t_{k+1}`` up to ``min(Q, floor(ρ · market volume so far))`` (``ρ`` its rate), so its
  sizes follow realised volume, and completes the rest at the horizon (unless the horizon
  is the session close, when the market is shut and the rest stays unfilled, as on the
  simulator);
- each unit of ``n_k`` pays the half spread ``δ``, the temporary impact ``h(r_k)`` (the model's
  ``temporary_impact``, price units, at a rate ``r_k`` in units per day) and the permanent
  shift ``D_k`` (price units) left by the earlier trades; fees ``f`` per contract are added
  to the currency cost. The simulator rounds each fill to the tick; with a moving mid that
  error has mean zero and is left out, on a still mid (``daily_vol = 0``) a fixed schedule's
  fills are rounded exactly as the simulator rounds them.

Impact dynamics (:class:`ImpactDynamics`):

``SIMULATOR`` (the default; what :mod:`sim_broker.matching` does, so both engines agree):
    ``r_k = κ (A_k + n_k/2) · S`` with ``κ = ln 2 / half_life`` (1/s), ``S`` the session in
    seconds and ``A_k = e^{−κτ_s}(A_{k−1} + n_{k−1})`` the exponentially decayed sum of the
    earlier trades (``τ_s`` the slice in seconds); ``D_k = Σ_{j<k} g(n_j)`` with ``g`` the
    model's ``permanent_impact``. The order's own realised pace sets its impact: for POV,
    whose sizes follow the day's volume, impact follows realised participation.
``PARTICIPATION`` (the discrete Almgren–Chriss model):
    ``r_k = (n_k / v_k) · V``: trading a share ``n_k/v_k`` of the slice's volume is trading
    at that share of ADV per day; ``D_k = g(Σ_{j<k} n_j)``. On a flat noiseless day
    ``r_k = n_k/τ`` and, for linear impact (``h(r) = ηr``, ``g(q) = γq``) and TWAP,
    ``E[cost] = ½γQ² + δQ + η̃Q²/T`` with ``η̃ = η − γτ/2``.

The mid is an arithmetic Brownian motion of ``σ_P = daily_vol · P`` price units per √day.
It enters the cost only as ``σ_P Σ_j R_j ΔW_j`` with ``R_j`` the contracts still to trade
while the mid moves by ``ΔW_j`` (variance ``τ``). Volumes and mid are independent, so,
given the volume path, that sum is exactly normal with variance ``σ_P² τ Σ_j R_j²``
(Almgren–Chriss's ``V = σ² τ Σ x_k²`` for a fixed schedule): each path draws one normal for
it rather than one per slice, with the same distribution of costs.

Per path the engine reports Perold's implementation shortfall of the buy against the
start mid ``P`` (the exact mid the simulator's fills are priced against; the order is
decided and released at the start, so there is no delay), split as in
:mod:`execution.tca`, fees included everywhere, in bp of the decision notional ``P·F``:

- ``spread_bps``: ``δ·F`` (Almgren & Chriss 2000, eq. 8: the ``ε·Σ|n_k|`` term), ``δ``
  half the quoted spread;
- ``impact_bps``: temporary plus permanent impact, the cost of our own trading with the
  market's own move removed: what a control variate (common random numbers) leaves, since
  the simulator knows the unimpacted path. It carries no price noise, so an impact law is
  fitted on it;
- ``timing_bps``: the market's own move while the order is worked, ``σ_P Σ_j R_j ΔW_j``;
- ``fees_bps``: ``f·F`` over the notional;
- ``shortfall_bps``: their sum; ``cost`` the same in currency (multiplier applied),
  ``participation_realised`` (the filled quantity over the market volume of the horizon)
  and ``filled``.

Paths are drawn in random blocks (:data:`~overlay.studies.grid.BLOCK_PATHS` paths, one
generator per block) and evaluated in tiles of about :data:`TILE_ELEMENTS` path-steps
(:data:`FUSED_TILE_ELEMENTS` for the compiled POV loop), so the working memory is about a
megabyte however many paths a cell has; only the
per-path parts and results (ten float64 per path) grow with the path count. With numba
installed (the ``fast`` extra) POV tiles are evaluated by the compiled loop of
:mod:`overlay.studies.pov_kernel`, which gives the same bits; ``Overlap.THREAD`` runs it on
a second thread while the next tile is drawn (same bits, two cores).
"""

from __future__ import annotations

import contextlib
import enum
import math
import sys
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from overlay.studies.paths import (
    ImpactDynamics,
    Order,
    PathMarket,
    PathResults,
    expected_slice_volume,
)
from overlay.studies.pov_kernel import FusedPov, fused_evaluator, temporary_law
from pricing.impact import ImpactModel

Array = NDArray[np.float64]

#: Path-steps per tile. Working arrays of this size (512 KiB of float64) stay in the
#: second-level cache; on the benchmark's POV study (390 slices) tiles of 16k, 32k, 64k and 80k
#: path-steps ran 46, 49, 49 and 49 M path-steps/s and tiles of 96k fell out of cache at 32 M.
#: The tile size changes no result: random numbers are drawn per block, path by path.
TILE_ELEMENTS = 65_536
#: Path-steps per tile of a cell the compiled POV loop evaluates. Its working set is the
#: tile's normals and their transposed copy (the loop keeps a few rows per lane), so larger
#: tiles fit: 256 paths of a 390-slice day, four tiles a block of 1,024. On the benchmark's
#: POV study that ran at 0.71 of numpy's draw rate against 0.69 at :data:`TILE_ELEMENTS`
#: (medians of 15 draw-then-study pairs, five runs each), while the numpy path, with its
#: tile-sized temporaries, ran 5 % slower at this size and keeps the smaller tiles.
FUSED_TILE_ELEMENTS = 100_000
#: Smallest POV cell (paths × slices) worth importing numba for: the import and the loop's
#: load from its cache take about 0.5 s once per process, the loop saves about 13 ns per
#: path-step. Once numba is imported every POV cell uses the loop.
FUSE_MIN_PATH_STEPS = 10_000_000
#: Paths of the probe tile the compiled POV loop is checked on (per cell): four blocks of
#: eight lanes and a rest, so both the loop's vector body and its scalar tail are compared.
#: A path's numbers do not depend on how many paths share its tile, so a full tile (256
#: paths of a 390-slice day, about 6 ms of numpy work per cell) would check nothing more.
PROBE_ROWS = 37
#: Block generators made at a time. Making one (a ``SeedSequence`` hash and a ``PCG64``
#: state) took about 12 µs in a row of them and 25–90 µs between a tile's draws, whose
#: passes leave the caches cold for it: 3–9 ms of a 100,000-path cell.
GENERATOR_BATCH = 32


class Overlap(enum.Enum):
    """``THREAD``: a noisy POV cell's tiles go to the compiled loop on a second thread while
    the next tile's normals are drawn (the draws, the compiled passes and numpy's ``exp``
    release the GIL), so two cores are busy; every number is the same as with ``NONE``."""

    NONE = "none"
    THREAD = "thread"


def tile_rows(n_slices: int, elements: int | None = None) -> int:
    """Paths per tile: about ``elements`` path-steps (:data:`TILE_ELEMENTS` when None), at
    least one path."""
    return max(1, (TILE_ELEMENTS if elements is None else elements) // max(n_slices, 1))


def block_tiles(lo: int, hi: int, most: int) -> list[tuple[int, int]]:
    """Paths ``lo … hi − 1`` (a block) in tiles of at most ``most`` paths, ``(start, end)``.

    The block is split into as few tiles as ``most`` allows, of nearly equal size rounded up
    to a multiple of eight paths (the compiled loop's vector width) where that fits: 1,024
    paths in tiles of at most 168 are six of 152 and one of 112, not six of 168 and one of
    16, a tile whose 16 lanes the compiled loop ran at 7.5 ns a path-step against 3.2.
    """
    count = -(-(hi - lo) // most)
    size = -(-(hi - lo) // count)
    size = min(most, size + (-size) % 8)
    return [(start, min(hi, start + size)) for start in range(lo, hi, size)]


class _Tile:
    """Evaluates one tile of paths; holds the per-cell constants."""

    def __init__(self, market: PathMarket, model: ImpactModel, order: Order, n_paths: int | None = None) -> None:
        self.market, self.model, self.order = market, model, order
        self.q = float(order.quantity)
        self.tau = order.tau(market.session_minutes)
        self.expected = expected_slice_volume(market, order)
        # POV works with volumes already scaled by its rate: ρ·v, and ρ·cumV by one cumsum
        self.vol_scale = 1.0 if order.pov_rate is None else order.pov_rate
        s = market.volume_noise
        self.log_base = np.log(self.expected * self.vol_scale) - 0.5 * s * s
        self.sim = market.dynamics is ImpactDynamics.SIMULATOR
        session_s = market.session_minutes * 60.0
        self.kappa = math.log(2.0) / market.impact_half_life  # 1/s
        self.rate_scale = self.kappa * session_s  # decayed contracts -> contracts per day
        self.decay = math.exp(-self.kappa * self.tau * session_s)
        self._grow: Array | None = None  # κS·d^{−k} and d^{k}, for _flow_rate
        self._shrink: Array | None = None
        self._perm_table: Array | None = None
        # POV completes at the horizon unless the market has closed by then
        self.completes = order.horizon_minutes < market.session_minutes - 1e-9
        # a model that leaves no permanent shift after the whole order leaves none before
        self.has_perm = float(self._perm(np.asarray(self.q))) > 0
        self._fused: FusedPov | None = None
        worth = n_paths is None or n_paths * order.n_slices >= FUSE_MIN_PATH_STEPS or "numba" in sys.modules
        self._fused = self._fuse() if order.pov_rate is not None and self.sim and worth else None
        if order.cumulative is not None:
            cum = np.asarray(order.cumulative, dtype=np.float64)
            self.trades = np.diff(cum, prepend=0.0)
            if self.sim:
                self.fixed_temp = self._temporary(self._flow_rate(self.trades[None, :])[0])
                shifts = self._fill_shifts(self.trades[None, :])[0]
                self.fixed_perm = float(self.trades @ shifts)
                if market.tick > 0 and market.daily_vol == 0:
                    # a still mid: each fill lands on the tick grid exactly as the simulator
                    # rounds it (nearest tick, half up); with a moving mid that rounding error
                    # has mean zero and is left out
                    fill = market.price + shifts + self.fixed_temp + market.half_spread
                    fill = np.floor(fill / market.tick + 0.5) * market.tick
                    self.fixed_temp = fill - market.price - market.half_spread - shifts
                self.fixed_impact = float(self.trades @ self.fixed_temp)
            else:
                self.fixed_perm = float(self.trades @ self._perm(cum - self.trades))
            remaining = self.q - cum[:-1]  # R_j, j = 1 .. N-1; R_N = 0
            self.fixed_risk = math.sqrt(float(remaining @ remaining))

    def _perm(self, quantity: Array) -> Array:
        m = self.market
        return np.asarray(self.model.permanent_impact(quantity, m.price, m.daily_vol, m.adv), dtype=np.float64)

    def _perm_of_trades(self, trades: Array) -> Array:
        """``g(n)`` of whole-contract trades, looked up in a table of ``g(0 … Q)``."""
        return self._perm_up_to_q().take(trades.astype(np.intp))

    def _perm_up_to_q(self) -> Array:
        """The table ``g(0 … Q)``, made once per cell."""
        if self._perm_table is None:
            self._perm_table = self._perm(np.arange(int(self.q) + 1, dtype=np.float64))
        return self._perm_table

    def _temporary(self, rate: Array) -> Array:
        m = self.market
        return np.asarray(self.model.temporary_impact(rate, m.price, m.daily_vol, m.adv), dtype=np.float64)

    def _flow_rate(self, trades: Array) -> Array:
        """``r_k = κ S (A_k + n_k/2)`` row by row, ``A`` the decayed sum of earlier trades.

        With ``y_k = Σ_{j≤k} d^{k−j} n_j`` (``d`` the decay per slice) ``A_k = y_k − n_k``, so
        ``A_k + n_k/2 = y_k − n_k/2``. ``y`` is ``d^k · cumsum(d^{−j} n_j)`` while ``d^{−N}``
        stays far from overflow (all terms have one sign, so the sum keeps full relative
        precision), else a linear filter.
        """
        n_cols = trades.shape[1]
        if self._powers(n_cols):
            rate = trades * self._grow
            np.cumsum(rate, axis=1, out=rate)
            rate *= self._shrink
        else:
            from scipy.signal import lfilter

            rate = lfilter([1.0], [1.0, -self.decay], trades, axis=1)
            rate *= self.rate_scale
        rate -= (0.5 * self.rate_scale) * trades
        return rate

    def _powers(self, n_cols: int) -> bool:
        """Set ``κS·d^{−k}`` and ``d^k``, ``k < n_cols``; False when ``d^{−N}`` would overflow."""
        if not (self.decay > 0 and -math.log(self.decay) * n_cols < 600):
            return False
        if self._grow is None or self._grow.size != n_cols:
            powers = np.arange(n_cols, dtype=np.float64)
            self._grow = self.rate_scale * self.decay**-powers
            self._shrink = self.decay**powers
        return True

    def _fuse(self) -> FusedPov | None:
        """The compiled POV loop of :mod:`overlay.studies.pov_kernel` for this cell, if numba is
        installed, the cell is one it covers and it gives the numpy path's bits on a probe tile."""
        m, n_cols = self.market, self.order.n_slices
        law = temporary_law(self.model, m.price, m.daily_vol, m.adv)
        fused = fused_evaluator(
            volume_scale=self.vol_scale,
            quantity=self.q,
            completes=self.completes,
            grow=self._grow if self._powers(n_cols) else None,
            shrink=self._shrink,
            rate_scale=self.rate_scale,
            law=law,
            perm_table=self._perm_up_to_q() if self.has_perm else None,
            n_slices=n_cols,
            rows=tile_rows(n_cols, FUSED_TILE_ELEMENTS),
        )
        if fused is None:
            return None
        # a probe tile of uneven volumes around the expected ones (a deterministic pattern),
        # given as the normals that make them when the cell draws its volumes
        rows = min(tile_rows(n_cols), PROBE_ROWS)
        wave = np.sin(np.arange(rows * n_cols, dtype=np.float64).reshape(rows, n_cols) * 0.7)
        wave += np.log(np.linspace(0.2, 3.0, rows))[:, None]
        noise = m.volume_noise
        probe = wave / max(noise, 1e-3) if noise > 0 else self.expected * self.vol_scale * np.exp(wave)
        volumes = self.volumes(probe.copy(), rows) if noise > 0 else probe
        expected = [np.broadcast_to(np.asarray(v, dtype=np.float64), (rows,)) for v in self.evaluate(volumes)]
        try:
            got = fused.from_normals(probe, noise, self.log_base) if noise > 0 else fused(probe)
        except Exception:  # an optional accelerator that fails (say, no writable cache) stands aside
            return None
        same = all(a.tobytes() == b.tobytes() for a, b in zip(expected, got))
        return fused if same else None

    def _fill_shifts(self, trades: Array) -> Array:
        """``D_k = Σ_{j<k} g(n_j)``: the permanent shift each trade meets (simulator)."""
        g = self._perm(trades)
        shifts = np.cumsum(g, axis=1)
        shifts -= g
        return shifts

    def volumes(self, normals: Array | None, n: int) -> Array:
        """Slice volumes ``(n, N)`` times ``vol_scale``; overwrites ``normals`` in place."""
        if normals is None:
            return np.broadcast_to(self.expected * self.vol_scale, (n, self.expected.size))
        normals *= self.market.volume_noise
        normals += self.log_base
        return np.exp(normals, out=normals)

    def evaluate_draws(self, normals: Array | None, n: int, out: Array) -> None:
        """:meth:`evaluate` of the volumes :meth:`volumes` makes of ``normals``, into the
        columns of ``out`` (``(n, 5)``; the compiled loop writes its rows in place)."""
        if self._fused is not None and normals is not None:
            self._fused.from_normals(normals, self.market.volume_noise, self.log_base, out)
            return
        for column, value in enumerate(self.evaluate(self.volumes(normals, n))):
            out[:, column] = value

    def _pov_trades(self, volume: Array) -> tuple[Array, Array]:
        """POV cumulative fills ``(n, N)`` (column ``k`` traded at the end of slice ``k``)
        and each path's total market volume."""
        q = self.q
        cum = np.cumsum(volume, axis=1)  # ρ · cumulative volume
        total = cum[:, -1] / self.vol_scale
        cum += 1e-9
        np.floor(cum, out=cum)
        np.minimum(cum, q, out=cum)
        cum[:, -1] = q if self.completes else cum[:, -2] if cum.shape[1] > 1 else 0.0
        return cum, total

    def evaluate(self, volume: Array) -> tuple[Array | float, ...]:
        """Per-path parts of the cost of a tile, given its volumes ``(n, N)``.

        Returns ``(impact, perm, risk, filled, total_volume)``, each a scalar or one value
        per path: temporary and permanent impact paid (price units × contracts), the risk
        ``√Σ R_j²`` (contracts), the filled quantity and the market volume of the horizon.
        """
        m = self.market
        if self.order.cumulative is not None:
            if self.sim:
                impact = self.fixed_impact
            else:
                impact = self._temporary(np.divide(self.trades * m.adv, volume)) @ self.trades
            return impact, self.fixed_perm, self.fixed_risk, self.q, volume.sum(axis=1)
        if self._fused is not None:
            return self._fused(volume)
        cum, total_volume = self._pov_trades(volume)
        filled = cum[:, -1].copy()
        trades = np.empty_like(cum)
        trades[:, 0] = cum[:, 0]
        np.subtract(cum[:, 1:], cum[:, :-1], out=trades[:, 1:])
        rate = self._flow_rate(trades) if self.sim else np.divide(trades * (m.adv * self.vol_scale), volume)
        impact = np.einsum("ij,ij->i", self._temporary(rate), trades)
        # F − cum_j is what trades after trade j (trades at t_1 .. t_N); its sums come from
        # S1 = Σ_j cum_j and S2 = Σ_j cum_j², without forming the (n, N) array
        if not self.has_perm:
            perm = 0.0
        elif self.sim:  # Σ_k n_k Σ_{j<k} g(n_j) = Σ_j g(n_j)·(F − cum_j)
            g = self._perm_of_trades(trades)
            perm = filled * g.sum(axis=1) - np.einsum("ij,ij->i", g, cum)
        else:  # Σ_k n_k g(cum_{k-1})
            perm = np.einsum("ij,ij->i", self._perm(cum - trades), trades)
        # R_1 = F and R_j = F − cum_{j−2}, j = 2 .. N:  Σ R_j² = F² + Σ_j (F − cum_j)²
        n_cols = cum.shape[1]
        s1 = cum.sum(axis=1)
        s2 = np.einsum("ij,ij->i", cum, cum)
        risk_sq = (1.0 + n_cols) * filled * filled - 2.0 * filled * s1 + s2
        risk = np.sqrt(np.maximum(risk_sq, 0.0))
        return impact, perm, risk, filled, total_volume

    def results(self, parts: dict[str, Array], price_normals: Array) -> PathResults:
        """Shortfall and its parts, cost and participation of every path (module docstring).

        Each figure is formed by the same operations in the same order as written out here,
        ``paid = ((spread + impact) + timing) + fees`` and each part times ``scale``, but in
        place, so a 100,000-path cell makes nine arrays rather than seventeen."""
        m = self.market
        filled = np.array(parts["filled"])  # its own contiguous array, not a column of the table
        timing = np.multiply(price_normals, m.sigma * math.sqrt(self.tau))
        timing *= parts["risk"]
        # price units × contracts over the start mid
        spread = filled * m.half_spread
        impact = parts["impact"] + parts["perm"]
        fees = m.fee_per_unit * filled
        fees /= m.multiplier
        paid = spread + impact
        paid += timing
        paid += fees
        cost = paid * m.multiplier
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = filled * m.price
            np.divide(1e4, scale, out=scale)
            participation = filled / parts["total_volume"]
            for part in (paid, spread, impact, timing, fees):
                part *= scale
        return PathResults(
            shortfall_bps=paid,
            cost=cost,
            participation_realised=participation,
            filled=filled,
            spread_bps=spread,
            impact_bps=impact,
            timing_bps=timing,
            fees_bps=fees,
        )


def simulate(
    market: PathMarket,
    model: ImpactModel,
    order: Order,
    n_paths: int,
    block_rng: Callable[[int], np.random.Generator],
    *,
    block: int = 1024,
    overlap: Overlap = Overlap.NONE,
) -> PathResults:
    """Evaluate ``order`` on ``n_paths`` paths; ``block_rng(b)`` is block ``b``'s generator.

    Block ``b`` covers paths ``b·block … b·block + block − 1``; its generator draws one price
    normal per path of the block, then the volume normals path by path (``N`` each, none
    when ``volume_noise`` is 0). So path ``i``'s numbers depend only on ``block_rng``,
    ``block`` and ``i`` (and on ``n_paths`` only through the size of the last block).
    Paths are evaluated in tiles of at most :func:`tile_rows` paths (:func:`block_tiles`),
    which bounds the working memory to a few tile-sized arrays whatever ``n_paths`` is;
    generators are made :data:`GENERATOR_BATCH` blocks at a time. ``overlap`` (:class:`Overlap`) only
    changes which thread evaluates a tile, never a number.
    """
    if n_paths < 1:
        raise ValueError("need at least one path")
    if block < 1:
        raise ValueError("block must be at least one path")
    engine = _Tile(market, model, order, n_paths)
    n_slices = order.n_slices
    noisy = market.volume_noise > 0
    tile = tile_rows(n_slices, FUSED_TILE_ELEMENTS if engine._fused is not None else None)
    # a row per path: impact, perm, risk, filled, total_volume (the order of evaluate's parts)
    table = np.empty((n_paths, 5))
    xi = np.empty(n_paths)
    threaded = overlap is Overlap.THREAD and noisy and engine._fused is not None
    # two buffers when a tile is evaluated while the next one is drawn
    bufs = [np.empty((min(tile, n_paths), n_slices)) for _ in range(2 if threaded else 1 if noisy else 0)]

    if threaded:
        from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(max_workers=1) if threaded else contextlib.nullcontext() as pool:
        pending = None  # the future of the tile on the second thread
        n_blocks = -(-n_paths // block)
        for first in range(0, n_blocks, GENERATOR_BATCH):
            generators = [block_rng(b) for b in range(first, min(n_blocks, first + GENERATOR_BATCH))]
            for b, rng in enumerate(generators, first):
                b_lo, b_hi = b * block, min(n_paths, (b + 1) * block)
                rng.standard_normal(out=xi[b_lo:b_hi])
                for lo, hi in block_tiles(b_lo, b_hi, tile):
                    n = hi - lo
                    normals = bufs[0][:n] if noisy else None
                    bufs.reverse()  # the other buffer (if two) for the next tile
                    if noisy:
                        rng.standard_normal(out=normals)
                    if pool is None:
                        engine.evaluate_draws(normals, n, table[lo:hi])
                        continue
                    future = pool.submit(engine.evaluate_draws, normals, n, table[lo:hi])
                    if pending is not None:  # done before its buffer is drawn into again
                        pending.result()
                    pending = future
        if pending is not None:
            pending.result()
    parts = dict(zip(("impact", "perm", "risk", "filled", "total_volume"), table.T))
    return engine.results(parts, xi)
