"""Execution algorithms: build a parent's schedule, then follow it asynchronously.

:func:`build_parent` turns an order and :class:`AlgoParams` into a :class:`ParentSpec`
(precomputed slice times and cumulative targets from :mod:`execution.schedules`);
:func:`follow` is the coroutine the :class:`~execution.engine.Engine` runs per parent,
through the primitives of :class:`~execution.host.AlgoHost`.

At each slice time ``follow`` takes a market snapshot, computes the shortfall
``target − (filled + working)`` and sends one child for it: a market order, or a
marketable limit ``offset`` ticks through the far touch (``ask + k·tick`` to buy,
``bid − k·tick`` to sell). Being behind (a reject, a risk block, a partial fill) is caught up
at the next slice because the target is cumulative. A marketable limit still resting at the
next slice is cancelled first. At the horizon whatever is left goes as a market order, so a
futures parent ends exactly filled on a fault-free broker. POV evaluates
:class:`~execution.schedules.PovRule` against the market volume seen since its start
instead of a fixed curve.
"""

from __future__ import annotations

import asyncio
import enum
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from execution import schedules
from execution.orders import ChildOrder, OrderState, ParentOrder, ParentStatus
from pricing.volume_profile import volume_profile

if TYPE_CHECKING:
    from execution.host import AlgoHost
    from pricing.impact import ImpactModel

_REJECTED = OrderState.REJECTED


class AlgoKind(enum.Enum):
    TWAP = "twap"
    VWAP = "vwap"
    POV = "pov"
    IS = "is"


@dataclass(frozen=True, slots=True)
class AlgoParams:
    """How to work a parent. Times in seconds; ``limit_offset_ticks=None`` sends market
    orders. ``risk_aversion`` (λ, 1/currency) is for IS, ``participation`` and the child
    bounds for POV, the jitters for a randomised TWAP."""

    kind: AlgoKind = AlgoKind.TWAP
    horizon_seconds: float = 23_400.0
    slice_seconds: float = 60.0
    limit_offset_ticks: int | None = None
    participation: float = 0.05
    min_child: int = 1
    max_child: int = 0
    risk_aversion: float = 0.0
    size_jitter: float = 0.0
    time_jitter: float = 0.0

    def __post_init__(self) -> None:
        if not (self.horizon_seconds > 0 and self.slice_seconds > 0):
            raise ValueError("horizon and slice length must be positive")
        if self.limit_offset_ticks is not None and self.limit_offset_ticks < 0:
            raise ValueError("limit offset must be >= 0 ticks")
        if self.risk_aversion < 0:
            raise ValueError("risk aversion must be >= 0")

    @property
    def n_slices(self) -> int:
        return max(1, int(round(self.horizon_seconds / self.slice_seconds)))


@dataclass(frozen=True, slots=True)
class MarketParams:
    """What an algorithm needs to know about its instrument.

    ``price`` in points, ``multiplier`` currency per point, ``fx`` base currency per unit
    of instrument currency, ``daily_vol`` a fraction of price per sqrt(day), ``adv``
    contracts per day, ``session_seconds`` the length of one trading day (for IS units),
    ``volume_profile`` the expected volume in equal buckets over the horizon (VWAP, POV).
    """

    price: float
    multiplier: float = 1.0
    tick: float = 0.01
    fx: float = 1.0
    daily_vol: float = 0.01
    adv: float = 1e6
    session_seconds: float = 23_400.0
    volume_profile: tuple[float, ...] | None = None


@dataclass(frozen=True, slots=True)
class ParentSpec:
    """A parent order ready to run: everything :func:`follow` needs, precomputed.

    ``times`` are seconds after ``start`` (``None``: when the engine starts it);
    ``cumulative`` the signed targets (for POV, the expected curve, used for plots).
    """

    parent_id: int
    instrument: str
    quantity: int
    times: tuple[float, ...]
    cumulative: tuple[int, ...]
    horizon: float
    multiplier: float = 1.0
    tick: float = 0.01
    fx: float = 1.0
    offset_ticks: int | None = None
    pov: schedules.PovRule | None = None
    kind: AlgoKind = AlgoKind.TWAP
    start: float | None = None


def is_kappa(quantity: int, params: AlgoParams, market: MarketParams, impact: ImpactModel | None) -> float:
    """Almgren–Chriss urgency κ in 1/second for an IS parent.

    σ in currency per contract per sqrt(day) is ``daily_vol · price · multiplier · fx``; the
    temporary-impact coefficient η (currency per contract per contract/day) linearises the
    impact model at the straight-line rate ``v = |Q| / T``: ``η = h(v) · multiplier · fx / v``.
    κ per day comes from ``pricing.almgren_chriss.solve_kappa`` with ``τ`` the slice length
    in days, and is divided by ``session_seconds``.
    """
    if params.risk_aversion == 0.0:
        return 0.0
    if impact is None:
        raise ValueError("an IS schedule with risk aversion > 0 needs an impact model")
    horizon_days = params.horizon_seconds / market.session_seconds
    rate = abs(quantity) / horizon_days
    unit = market.multiplier * market.fx
    h = float(np.asarray(impact.temporary_impact(rate, market.price, market.daily_vol, market.adv)))
    eta = max(h * unit / rate, 1e-12)
    sigma = market.daily_vol * market.price * unit
    from pricing.almgren_chriss import ACParams, solve_kappa

    ac = ACParams(abs(quantity), horizon_days, params.n_slices, sigma, eta)
    return solve_kappa(ac, params.risk_aversion) / market.session_seconds


def build_parent(
    parent_id: int,
    instrument: str,
    quantity: int,
    params: AlgoParams,
    market: MarketParams,
    rng: np.random.Generator | None = None,
    impact: ImpactModel | None = None,
) -> ParentSpec:
    """Precompute the schedule of one parent order for ``params.kind``."""
    n, horizon = params.n_slices, params.horizon_seconds
    profile = market.volume_profile or tuple(volume_profile(n))
    pov = None
    if params.kind is AlgoKind.TWAP:
        times, cum = schedules.twap(quantity, horizon, n, rng, params.size_jitter, params.time_jitter)
    elif params.kind is AlgoKind.VWAP:
        times, cum = schedules.vwap(quantity, horizon, n, profile)
    elif params.kind is AlgoKind.IS:
        times, cum = schedules.implementation_shortfall(quantity, horizon, n, is_kappa(quantity, params, market, impact))
    else:
        pov = schedules.PovRule(params.participation, params.min_child, params.max_child)
        expected = np.asarray(profile, dtype=np.float64)
        expected = expected / expected.sum() * market.adv * horizon / market.session_seconds
        times, cum = schedules.pov_schedule(quantity, horizon, n, pov, expected)
    return ParentSpec(
        parent_id, instrument, int(quantity), tuple(times.tolist()), tuple(cum.tolist()), float(horizon),
        market.multiplier, market.tick, market.fx, params.limit_offset_ticks, pov, params.kind,
    )


async def follow(engine: AlgoHost, spec: ParentSpec, parent: ParentOrder) -> None:
    """Work one parent order to completion (or failure, or the kill switch)."""
    loop = asyncio.get_running_loop()
    broker = engine.broker
    instrument = spec.instrument
    trail = parent.trail
    start = loop.time() if spec.start is None else spec.start
    if loop.time() < start:
        await engine.sleep_until(parent, start)
    if engine.killed:
        await _stop(engine, parent)
        return
    snap = await broker.snapshot(instrument)
    trail.start_time = loop.time()
    trail.arrival = snap.mid
    trail.start_volume = trail.last_volume = snap.volume
    parent.status = ParentStatus.WORKING
    unit = spec.multiplier * spec.fx
    times = [start + t for t in spec.times]
    cum = spec.cumulative
    pov = spec.pov
    quantity = spec.quantity
    offset = spec.offset_ticks
    n = len(times)
    i = 0
    while i < n and not engine.killed:
        t = times[i]
        if loop.time() < t:
            await engine.sleep_until(parent, t)
            if engine.killed:
                break
        now = loop.time()
        while i + 1 < n and times[i + 1] <= now:
            i += 1
        snap = await broker.snapshot(instrument)
        dv = trail.observe(snap.time, 0.5 * (snap.bid + snap.ask), snap.last, snap.volume)
        if offset is not None and parent.working:
            live = engine.live_children(parent)
            if live:
                await engine.cancel_children(parent, live)
        committed = parent.filled + parent.working
        if pov is None:
            want = cum[i] - committed
        else:
            size = pov.child_size(quantity, pov.target(quantity, snap.volume - trail.start_volume), committed)
            want = size if quantity > 0 else -size
        if want and engine.connected:
            if trail.first_mid != trail.first_mid:  # nan: first child
                trail.first_mid = 0.5 * (snap.bid + snap.ask)
            if not await _send(engine, spec, parent, want, snap, dv if i else None, unit, offset):
                await _stop(engine, parent)
                return
        if parent.filled == quantity and not parent.working:
            break  # done early (a POV parent, or a front-loaded schedule): stop observing
        i += 1
    if not engine.killed:
        await _complete(engine, spec, parent, start + spec.horizon, unit)
    await _stop(engine, parent)


async def _send(engine: AlgoHost, spec: ParentSpec, parent: ParentOrder, want: int, snap, interval_volume, unit, offset) -> bool:
    """Send one child, retrying rejects with exponential backoff. False: the parent failed."""
    cfg = engine.config
    attempts = 0
    while True:
        child = engine.send_child(parent, want, snap, offset, interval_volume, unit * snap.last)
        if type(child) is not ChildOrder:
            return True  # blocked by a risk check, or nothing left to send
        await engine.await_ack(parent, child)
        if child.state is not _REJECTED:
            return True
        parent.rejects += 1
        attempts += 1
        if attempts > cfg.max_retries:
            engine.finish(parent, ParentStatus.FAILED, f"child rejected {attempts} times: {child.reason}")
            return False
        loop = asyncio.get_running_loop()
        await engine.sleep_until(parent, loop.time() + cfg.backoff * 2.0 ** (attempts - 1))
        if engine.killed:
            return True
        snap = await engine.broker.snapshot(spec.instrument)
        want = want if want * (parent.quantity - parent.filled - parent.working) > 0 else 0
        if not want:
            return True


async def _complete(engine: AlgoHost, spec: ParentSpec, parent: ParentOrder, horizon_at: float, unit: float) -> None:
    """At the horizon: cancel resting limits and send the remainder as market orders until
    the parent is filled, backing off (at least 1 s, doubling, at most 60 s) whenever a
    completion order ends without filling everything. Bounded by ``finish_timeout``."""
    loop = asyncio.get_running_loop()
    cfg = engine.config
    if loop.time() < horizon_at and (parent.filled != parent.quantity or parent.working):
        await engine.sleep_until(parent, horizon_at)
    deadline = max(loop.time(), horizon_at) + cfg.finish_timeout
    attempts = 0
    try:
        async with asyncio.timeout_at(deadline):
            while parent.filled != parent.quantity and not engine.killed and parent.status is ParentStatus.WORKING:
                live = engine.live_children(parent)
                limits = [c for c in live if c.limit_price]
                if limits:
                    await engine.cancel_children(parent, limits)
                    continue
                if parent.working:
                    await engine.wait_event(parent)
                    continue
                if not engine.connected:
                    await engine.sleep_until(parent, loop.time() + 1.0)
                    continue
                if attempts:
                    pause = min(max(cfg.backoff, 1.0) * 2.0 ** (attempts - 1), 60.0)
                    await engine.sleep_until(parent, loop.time() + pause)
                    if engine.killed:
                        break
                attempts += 1
                snap = await engine.broker.snapshot(spec.instrument)
                rest = parent.quantity - parent.filled - parent.working
                if not rest:
                    continue
                child = engine.send_child(parent, rest, snap, None, None, unit * snap.last)
                if type(child) is not ChildOrder:
                    engine.finish(parent, ParentStatus.FAILED, f"completion blocked: {child.value}")
                    return
                await engine.await_ack(parent, child)
                if child.state is _REJECTED:
                    parent.rejects += 1
                    recent = _recent_rejects(parent)
                    if recent > cfg.max_retries:
                        engine.finish(parent, ParentStatus.FAILED, f"child rejected {recent} times: {child.reason}")
                        return
    except TimeoutError:
        engine.finish(parent, ParentStatus.FAILED, f"unfilled {parent.quantity - parent.filled} at the deadline")


def _recent_rejects(parent: ParentOrder) -> int:
    recent = 0
    for c in reversed(parent.children):
        if c.state is not _REJECTED:
            break
        recent += 1
    return recent


async def _stop(engine: AlgoHost, parent: ParentOrder) -> None:
    """Leave nothing working, take a closing snapshot (for TCA) and set the final status."""
    live = engine.live_children(parent)
    if live:
        await engine.cancel_children(parent, live)
    trail = parent.trail
    if not math.isnan(trail.arrival):
        snap = await engine.broker.snapshot(parent.instrument)
        trail.observe(snap.time, 0.5 * (snap.bid + snap.ask), snap.last, snap.volume)
    if parent.status is ParentStatus.WORKING or parent.status is ParentStatus.PENDING:
        if parent.filled == parent.quantity:
            engine.finish(parent, ParentStatus.DONE)
        elif engine.killed:
            engine.finish(parent, ParentStatus.KILLED, "kill switch")
        else:
            engine.finish(parent, ParentStatus.FAILED, f"unfilled {parent.quantity - parent.filled}")
    elif math.isnan(parent.trail.end_time):
        parent.trail.end_time = asyncio.get_running_loop().time()
