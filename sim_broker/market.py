"""Price and volume paths of one simulated session, generated up front as numpy arrays.

A :class:`MarketPath` holds, on a grid of ``step`` seconds from ``start`` to ``end``
(``n`` steps), the exogenous mid price at every grid point (``mid``, ``n + 1`` values, the
value at ``start + i·step`` is ``mid[i]``) and the market volume traded in every step
(``volume``, ``n`` values; ``cum_volume[i]`` is the volume up to grid point ``i``). The
broker looks prices up by index, so no per-tick Python code runs while orders trade.

Model (:func:`simulate_path`)
    Arithmetic Brownian motion: ``mid[i+1] = mid[i] + σ_P √(step / S) · Z_i`` with
    ``σ_P = daily_vol · price`` (price units per √session), ``S`` the session length in
    seconds and ``Z_i`` standard normal, drawn in vectorised blocks. The path is shifted so
    that ``mid`` equals ``anchor_mid`` at the anchor time (``price``, plus half a tick for
    an odd spread so that the quote never sits on a tie). Volume per step is
    ``adv · w_i · exp(s·Z'_i − s²/2)``: ``w`` the U-shaped profile of
    :func:`pricing.volume_profile.volume_profile` and log-normal noise of mean one
    (``s = volume_noise``), so a session's expected volume is ``adv``.

Replay (:func:`replay_path`)
    1-minute bars (timestamp of the bar's start, open, high, low, close, volume). Within a
    bar the mid runs piecewise linearly through open, the nearer extreme, the other extreme
    and close (at 0, ⅓, ⅔ and 1 of the minute), so ``mid`` at the end of every bar is its
    close; the bar's volume is spread evenly over its steps, so ``cum_volume`` at the end of
    every bar is the running sum of the bar volumes.
"""

from __future__ import annotations

import math
from pathlib import Path
from array import array

import numpy as np
from numpy.typing import NDArray

from pricing.volume_profile import volume_profile
from sim_broker.params import MarketParams, SimConfig, TableError

Array = NDArray[np.float64]

BAR_SECONDS = 60.0
BAR_COLUMNS = ("timestamp", "open", "high", "low", "close", "volume")


def float_items(values: Array) -> array:
    """``values`` as an ``array('d')``: a compact sequence that indexes to Python floats."""
    items = array("d")
    items.frombytes(np.ascontiguousarray(values, dtype=np.float64).tobytes())
    return items


#: Grid points between the checkpoints of a compact cumulative volume (see :class:`MarketPath`).
CUM_CHECKPOINT = 16


class MarketPath:
    """Exogenous mid and volume of one session on a regular grid (see the module docstring).

    ``MarketPath(start, step, mid, volume, cum_volume)``. Memory: when ``cum_volume`` is
    exactly the running sum of ``volume`` (``cum[i+1] = cum[i] + volume[i]``, as numpy's
    ``cumsum`` computes it: a simulated session), only every ``CUM_CHECKPOINT``-th value is
    kept and the others are summed forward from the checkpoint on demand, in the same order,
    so every value is bit-identical to the full array; otherwise (replayed bars, whose bar
    totals are set exactly) the full array is kept. A one-second session of 6.5 hours then
    holds two arrays of 23,401 floats instead of three.
    """

    __slots__ = ("start", "step", "mid", "volume", "_cum", "_checkpoints", "_volume_items", "_mid_items", "_n")

    def __init__(self, start: float, step: float, mid: Array, volume: Array, cum_volume: Array) -> None:
        self.start = start  # seconds since midnight
        self.step = step  # seconds
        # the values live in ``array('d')`` buffers, which index to Python floats as fast as
        # a list (at 8 bytes a value); ``mid`` and ``volume`` are numpy views of them
        self._mid_items = float_items(mid)
        self.mid: Array = np.frombuffer(self._mid_items, dtype=np.float64)  # n + 1 values, price units
        volume = np.asarray(volume, dtype=np.float64)
        self._n = int(volume.size)
        running = np.empty(self._n + 1)
        running[0] = 0.0
        np.cumsum(volume, out=running[1:])
        cum = np.asarray(cum_volume, dtype=np.float64)
        self._volume_items = float_items(volume)
        self.volume: Array = np.frombuffer(self._volume_items, dtype=np.float64)  # n values, contracts per step
        if cum.shape == running.shape and np.array_equal(cum, running):
            self._cum: Array | None = None
            self._checkpoints = float_items(cum[::CUM_CHECKPOINT])
        else:
            self._cum = cum
            self._checkpoints = float_items(cum[:0])

    @property
    def mid_items(self) -> array:
        """``mid`` as an ``array('d')`` (the same memory): fast scalar lookups."""
        return self._mid_items

    @property
    def cum_volume(self) -> Array:
        """``n + 1`` values, contracts since start (rebuilt on each call when kept compact)."""
        if self._cum is not None:
            return self._cum
        cum = np.empty(self._n + 1)
        cum[0] = 0.0
        np.cumsum(self.volume, out=cum[1:])
        return cum

    def cum_at(self, i: int) -> float:
        """``cum_volume[i]`` without building the array: a checkpoint plus the steps since."""
        if self._cum is not None:
            return float(self._cum[i])
        b, r = divmod(i, CUM_CHECKPOINT)
        total = self._checkpoints[b]
        if r:
            for v in self._volume_items[i - r : i]:
                total += v
        return total

    @property
    def n(self) -> int:
        return self._n

    @property
    def end(self) -> float:
        return self.start + self.n * self.step

    def index(self, t: float) -> int:
        """Grid point at or before ``t``, clamped to ``[0, n]``."""
        i = int((t - self.start) / self.step + 1e-9)
        return 0 if i < 0 else (self.n if i > self.n else i)

    def mid_at(self, t: float) -> float:
        return float(self.mid[self.index(t)])

    def volume_until(self, t: float) -> float:
        """Market volume from the session start to ``t`` (linear within a step)."""
        x = (t - self.start) / self.step
        if x <= 0:
            return 0.0
        n = self._n
        if x >= n:
            return self.cum_at(n)
        i = int(x)
        return self.cum_at(i) + (x - i) * self._volume_items[i]

    def minute_bars(self) -> dict[str, Array]:
        """OHLCV of every whole minute of the session (``time`` is the bar's start, s)."""
        per = int(round(BAR_SECONDS / self.step))
        bars = self.n // per
        if bars == 0:
            empty = np.empty(0)
            return {k: empty for k in ("time", "open", "high", "low", "close", "volume")}
        inner = self.mid[1 : bars * per + 1].reshape(bars, per)
        opens = self.mid[0 : bars * per : per]
        return {
            "time": self.start + BAR_SECONDS * np.arange(bars),
            "open": opens,
            "high": np.maximum(inner.max(axis=1), opens),
            "low": np.minimum(inner.min(axis=1), opens),
            "close": inner[:, -1],
            "volume": self.volume[: bars * per].reshape(bars, per).sum(axis=1),
        }


def _grid(params: MarketParams, sim: SimConfig) -> int:
    steps = params.session_seconds / sim.grid_seconds
    n = int(round(steps))
    if n < 1 or abs(steps - n) > 1e-6:
        raise ValueError(f"{params.instrument}: the session must be a whole number of {sim.grid_seconds}-second steps")
    return n


def brownian_increments(n: int, sd: float, rng: np.random.Generator, block: int) -> Array:
    """``n`` normal increments of standard deviation ``sd``, drawn ``block`` at a time."""
    out = np.empty(n)
    for lo in range(0, n, block):
        hi = min(n, lo + block)
        rng.standard_normal(out=out[lo:hi])
    out *= sd
    return out


def session_steps(params: MarketParams, sim: SimConfig) -> int:
    """Number of grid steps in the session of ``params``."""
    return _grid(params, sim)


def simulate_path(
    params: MarketParams,
    sim: SimConfig,
    rng: np.random.Generator,
    anchor: float | None = None,
    shocks: Array | None = None,
) -> MarketPath:
    """A model session for ``params``: Brownian mid anchored at ``price``, U-shaped volume.

    ``anchor`` is the time (s) at which the mid equals ``params.anchor_mid``; the session start by
    default. ``shocks`` are the standard-normal price increments, one per step, when several
    instruments share an underlying (ES and MES, or two months of one root): each then moves
    by ``σ_P √(step/S) · shocks``, perfectly correlated. Without them the increments are drawn
    from ``rng``, which also draws the volume noise in either case.
    """
    n = _grid(params, sim)
    step = sim.grid_seconds
    sd = params.sigma * math.sqrt(step / params.session_seconds)
    mid = np.empty(n + 1)
    mid[0] = 0.0
    if shocks is None:
        increments = brownian_increments(n, sd, rng, sim.block_steps)
    else:
        if shocks.shape != (n,):
            raise ValueError(f"{params.instrument}: need {n} price shocks, got {shocks.shape}")
        increments = shocks * sd
    np.cumsum(increments, out=mid[1:])
    path_anchor = params.session_start if anchor is None else anchor
    k = min(n, max(0, int((path_anchor - params.session_start) / step + 1e-9)))
    mid += params.anchor_mid - mid[k]
    s = sim.volume_noise
    noise = np.exp(s * brownian_increments(n, 1.0, rng, sim.block_steps) - 0.5 * s * s)
    volume = params.adv * volume_profile(n, sim.edge_ratio) * noise
    cum = np.empty(n + 1)
    cum[0] = 0.0
    np.cumsum(volume, out=cum[1:])
    return MarketPath(params.session_start, step, mid, volume, cum)


def load_bars(file: str | Path, key: str = "bars") -> dict[str, Array]:
    """Read and check a CSV of 1-minute bars; keep the first trading date in the file.

    Returns ``start`` (the first bar's start, seconds since midnight) and the arrays
    ``open, high, low, close, volume``. Bad files raise :class:`~sim_broker.params.TableError` naming ``key``.
    """
    import pandas as pd

    name = str(file)
    try:
        frame = pd.read_csv(file)
    except FileNotFoundError:
        raise TableError(name, key, "file not found") from None
    except (OSError, ValueError) as exc:
        raise TableError(name, key, f"cannot read bars: {exc}") from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in BAR_COLUMNS if c not in frame.columns]
    if missing:
        raise TableError(name, key, f"missing columns: {', '.join(missing)}")
    if frame.empty:
        raise TableError(name, key, "no bars")
    try:
        stamps = pd.to_datetime(frame["timestamp"])
        values = {c: frame[c].astype(np.float64).to_numpy() for c in BAR_COLUMNS[1:]}
    except (ValueError, TypeError) as exc:
        raise TableError(name, key, f"bad value: {exc}") from None
    days = stamps.dt.normalize()
    keep = (days == days.iloc[0]).to_numpy()
    seconds = (stamps - days).dt.total_seconds().to_numpy()[keep]
    values = {c: v[keep] for c, v in values.items()}
    if not np.all(np.isfinite(np.column_stack(list(values.values())))):
        raise TableError(name, key, "bars contain missing or infinite values")
    if np.any(values["volume"] < 0) or np.any(values["low"] <= 0):
        raise TableError(name, key, "bars need positive prices and non-negative volumes")
    if np.any(values["high"] < np.maximum(values["open"], values["close"])) or np.any(
        values["low"] > np.minimum(values["open"], values["close"])
    ):
        raise TableError(name, key, "each bar needs low <= open, close <= high")
    if np.any(np.abs(np.diff(seconds) - BAR_SECONDS) > 1e-6):
        raise TableError(name, key, "bars must be consecutive 1-minute bars of one session")
    return {"start": float(seconds[0]), **values}


def replay_path(bars: dict[str, Array], step: float) -> MarketPath:
    """The session of ``bars`` (as from :func:`load_bars`) on a grid of ``step`` seconds."""
    per = int(round(BAR_SECONDS / step))
    if per < 4 or abs(per * step - BAR_SECONDS) > 1e-9:
        raise ValueError("replay needs a grid step that divides a minute into at least four steps")
    o, h, lo, c, v = (np.asarray(bars[k], dtype=np.float64) for k in ("open", "high", "low", "close", "volume"))
    m = o.size
    up = c >= o
    first = np.where(up, lo, h)
    second = np.where(up, h, lo)
    # knots: open just after the bar starts, the two extremes at 1/3 and 2/3, close at the end
    base = BAR_SECONDS * np.arange(m)[:, None]
    knot_t = (base + np.array([step, BAR_SECONDS / 3, 2 * BAR_SECONDS / 3, BAR_SECONDS])).ravel()
    knot_v = np.column_stack((o, first, second, c)).ravel()
    grid_t = step * np.arange(m * per + 1)
    mid = np.interp(grid_t, np.concatenate(([0.0], knot_t)), np.concatenate(([o[0]], knot_v)))
    volume = np.repeat(v / per, per)
    cum = np.empty(m * per + 1)
    cum[0] = 0.0
    np.cumsum(volume, out=cum[1:])
    bar_ends = per * np.arange(1, m + 1)
    cum[bar_ends] = np.cumsum(v)  # exact bar totals despite floating-point summation
    return MarketPath(float(bars["start"]), step, mid, volume, cum)
