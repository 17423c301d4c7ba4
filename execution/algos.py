"""Execution algorithms: build a parent's schedule, then follow it asynchronously.

:func:`build_parent` turns an order and :class:`AlgoParams` into a :class:`ParentSpec`
(precomputed slice times and cumulative targets from :mod:`execution.schedules`);
:func:`follow` is the coroutine the :class:`~execution.engine.Engine` runs per parent,
through the primitives of :class:`~execution.host.AlgoHost`.

At each slice time ``follow`` takes a market snapshot, computes the shortfall
``target − (filled + working)`` and sends one child for it: a market order, or a
marketable limit ``offset`` ticks through the far touch (``ask + k·tick`` to buy,
``bid − k·tick`` to sell). Being behind (a reject, a risk block, a partial fill, a
disconnection) is caught up gradually: a slice sends its own increment of the schedule plus
``1/r`` of the arrears, ``r`` the slices left (the last slice sends all), each child still
clipped by the size and participation limits. A marketable limit still resting at the
next slice is cancelled first. While the broker's link is down no child is sent (the
schedule pauses) and a child refused for that reason is not counted as a reject. At the
horizon whatever is left goes as a market order (a limit at the collar bound when a collar
is set), in children within the size limits, so a futures parent ends exactly filled on a
fault-free broker; if it cannot fill by ``horizon + finish_timeout`` the parent fails with
the reason (not connected, the last refusal, the collar). POV evaluates
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
from execution.broker import snapshot_now
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
    complete_at: float | None = None  # seconds after start when the rest goes out; None: the horizon
    legs: tuple[str, str] | None = None  # (near, far): one calendar-spread order (execution.spreads)


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
    quote = snapshot_now(broker)
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
        if not engine.connected:  # the link is down: pause, resume when it is back
            await _wait_link(engine, parent, start + spec.horizon)
            if engine.killed or not engine.connected:
                break
        now = loop.time()
        while i + 1 < n and times[i + 1] <= now:
            i += 1
        snap = quote(instrument) if quote is not None else await broker.snapshot(instrument)
        dv = trail.observe(snap.time, 0.5 * (snap.bid + snap.ask), snap.last, snap.volume)
        if offset is not None and parent.working:
            live = engine.live_children(parent)
            if live:
                await engine.cancel_children(parent, live)
        committed = parent.filled + parent.working
        if pov is None:
            want = cum[i] - committed
            step = cum[i] - cum[i - 1] if i else cum[0]
            behind = want - step
            if behind * quantity > 0:  # arrears: spread over the slices left, this one included
                left = n - i
                share = -(-abs(behind) // left)  # ceil
                want = step + (share if quantity > 0 else -share)
        else:
            size = pov.child_size(quantity, pov.target(quantity, snap.volume - trail.start_volume), committed)
            want = size if quantity > 0 else -size
        if want and engine.connected:
            if trail.first_mid != trail.first_mid:  # nan: first child
                trail.first_mid = 0.5 * (snap.bid + snap.ask)
            sent = await _send(engine, spec, parent, want, snap, dv if i else None, unit, offset, times[i + 1] if i + 1 < n else None)
            if sent is _Sent.FAILED:
                await _stop(engine, parent)
                return
            if sent is _Sent.SLEPT:  # the engine found it not done at the ack, and slept it on
                i += 1
                continue
        if parent.filled == quantity and not parent.working:
            break  # done early (a POV parent, or a front-loaded schedule): stop observing
        i += 1
    if not engine.killed:
        await _complete(engine, spec, parent, start + (spec.horizon if spec.complete_at is None else spec.complete_at), unit)
    await _stop(engine, parent)


async def _wait_link(engine: AlgoHost, parent: ParentOrder, until: float) -> None:
    """Wait for the broker's link to come back, at most until loop time ``until``."""
    try:
        async with asyncio.timeout_at(until):
            await engine.wait_connected(parent)
    except TimeoutError:
        pass


class _Sent(enum.Enum):
    """How :func:`_send` ended."""

    SENT = "sent"  # sent (or blocked, or nothing left): the caller goes on
    SLEPT = "slept"  # sent and acknowledged, and the parent slept until the next slice
    FAILED = "failed"  # rejected more than max_retries times: the parent failed


async def _send(
    engine: AlgoHost, spec: ParentSpec, parent: ParentOrder, want: int, snap, interval_volume, unit, offset, then: float | None
) -> _Sent:
    """Send one child, retrying rejects with exponential backoff.

    ``then`` is the next slice's time: after a good acknowledgement the engine lets the
    parent sleep until then (``SLEPT``), if it was not done at the acknowledgement. A
    reject that comes while the link is down is no verdict on the order: the slice is left
    (its quantity is caught up later) without counting it."""
    cfg = engine.config
    attempts = 0
    while True:
        child = engine.send_child(parent, want, snap, offset, interval_volume, unit * snap.last)
        if type(child) is not ChildOrder:
            return _Sent.SENT  # blocked by a risk check, or nothing left to send
        if await engine.await_ack(parent, child, then):
            return _Sent.SLEPT
        if child.state is not _REJECTED:
            return _Sent.SENT
        if not engine.connected:
            return _Sent.SENT
        parent.rejects += 1
        attempts += 1
        if attempts > cfg.max_retries:
            engine.finish(parent, ParentStatus.FAILED, f"child rejected {attempts} times: {child.reason}")
            return _Sent.FAILED
        loop = asyncio.get_running_loop()
        await engine.sleep_until(parent, loop.time() + cfg.backoff * 2.0 ** (attempts - 1))
        if engine.killed or not engine.connected:
            return _Sent.SENT
        snap = await engine.broker.snapshot(spec.instrument)
        want = want if want * (parent.quantity - parent.filled - parent.working) > 0 else 0
        if not want:
            return _Sent.SENT


async def _complete(engine: AlgoHost, spec: ParentSpec, parent: ParentOrder, horizon_at: float, unit: float) -> None:
    """At the horizon: cancel resting limits and send the remainder as market orders (limits
    at the collar bound when a collar is set) until the parent is filled. A child cut by the
    size limits that fills is followed by the next piece one slice later; after a child that
    ends without filling everything (or is blocked) it backs off (at least 1 s, doubling, at
    most 60 s). While the link is down it waits for it.
    Bounded by ``finish_timeout``; the failure names why it could not finish."""
    loop = asyncio.get_running_loop()
    cfg = engine.config
    if loop.time() < horizon_at and (parent.filled != parent.quantity or parent.working):
        await engine.sleep_until(parent, horizon_at)
    deadline = max(loop.time(), horizon_at) + cfg.finish_timeout
    attempts = rejected = 0
    last = None
    pace = spec.times[1] - spec.times[0] if len(spec.times) > 1 else spec.horizon
    why = ""
    try:
        async with asyncio.timeout_at(deadline):
            limits = [c for c in engine.live_children(parent) if c.limit_price]
            if limits:
                await engine.cancel_children(parent, limits)
            while parent.filled != parent.quantity and not engine.killed and parent.status is ParentStatus.WORKING:
                if parent.working:
                    await engine.wait_event(parent)
                    continue
                if not engine.connected:
                    why = "the broker is not connected"
                    await engine.wait_connected(parent)
                    continue
                if last is not None:
                    if last.filled == last.quantity:  # filled: the next piece goes one slice later
                        attempts, pause = 0, pace
                    else:
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
                if not isinstance(child, ChildOrder):
                    why = f"completion blocked: {child.value}"
                    if engine.killed:
                        break
                    await engine.sleep_until(parent, loop.time() + min(max(cfg.backoff, 1.0) * 2.0 ** (attempts - 1), 60.0))
                    continue
                last = child
                await engine.await_ack(parent, child)
                if child.state is _REJECTED:
                    if not engine.connected:
                        attempts -= 1  # refused because the link is down: not a verdict
                        continue
                    parent.rejects += 1
                    rejected += 1
                    why = child.reason
                    if rejected > cfg.max_retries:
                        engine.finish(parent, ParentStatus.FAILED, f"child rejected {rejected} times: {child.reason}")
                        return
                else:
                    rejected = 0
                    if child.limit_price:
                        why = "price beyond the collar"
    except TimeoutError:
        if not engine.connected:
            why = "the broker is not connected"
        detail = f": {why}" if why else ""
        engine.finish(parent, ParentStatus.FAILED, f"unfilled {parent.quantity - parent.filled} at the deadline{detail}")


async def _stop(engine: AlgoHost, parent: ParentOrder) -> None:
    """Leave nothing working, take a closing snapshot (for TCA) and set the final status."""
    live = engine.live_children(parent)
    if live:
        await engine.cancel_children(parent, live)
    trail = parent.trail
    if not math.isnan(trail.arrival):
        snap = await engine.broker.snapshot(parent.instrument)
        trail.observe(snap.time, 0.5 * (snap.bid + snap.ask), snap.last, snap.volume)
    if parent.filled == parent.quantity and not parent.working and parent.status is ParentStatus.FAILED:
        parent.status = ParentStatus.WORKING  # executions held by an outage filled it after all
    if parent.status is ParentStatus.WORKING or parent.status is ParentStatus.PENDING:
        if parent.filled == parent.quantity:
            engine.finish(parent, ParentStatus.DONE)
        elif engine.killed:
            engine.finish(parent, ParentStatus.KILLED, "kill switch")
        else:
            engine.finish(parent, ParentStatus.FAILED, f"unfilled {parent.quantity - parent.filled}")
    elif math.isnan(parent.trail.end_time):
        parent.trail.end_time = asyncio.get_running_loop().time()
