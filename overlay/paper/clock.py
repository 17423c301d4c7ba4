"""``overlay paper --clock broker``: pace the run on the broker's clock.

By default a paper run paces its slices on the wall clock (``--clock wall``): a 390-minute
schedule takes 390 minutes whatever the broker. ``overlay gateway --speed 10`` runs its
simulated market ten times faster than real time; with ``--clock broker`` the run follows it,
so a rehearsal against the gateway takes 39 minutes instead of 6.5 hours, and against a real
IB paper account (speed 1) nothing changes.

How: before the orders start, :func:`measure_speed` reads the broker's clock
(``reqCurrentTime``, whole epoch seconds) until the second it reports changes (an *edge*:
the broker's clock is then on a whole second, to within one poll), waits ``probe`` seconds,
and finds the next edge. The speed is

    k = Δbroker / Δloop        (broker seconds per second of the run's clock)

between the two edges, to within ``poll / Δloop`` (about 1 % with the defaults: a 50 ms poll
keeps the requests at 20 a second, under IB's pacing limit of 50). A speed within 2 % of 1 is
taken as 1 (a real account). The run's schedule is then drawn on the broker's clock, exactly
as a real run's (the same slices, sizes and, for IS and POV, the same urgency and expected
volume per second of the market), and played at ``k``: every slice time, the horizon and the
completion time ``t`` become ``t / k`` (:func:`play_at`, :func:`on_broker_clock`). Drawing it
on a horizon shortened to ``H / k`` instead would change IS's ``κ·T`` and POV's expected
volume, and rehearse another schedule. Acknowledgement, connection and finish timeouts stay
on the wall clock: the network does not run faster. The broker's clock is assumed to run at a steady rate, which
the gateway's ``--speed`` and a real account both do.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import dataclasses
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from execution.algos import ParentSpec

log = logging.getLogger(__name__)

#: Speeds this close to 1 are real time (a real account; the measurement's own error).
REAL_TIME_TOLERANCE = 0.02


class ClockKind(enum.Enum):
    """What a paper run paces its slices on."""

    WALL = "wall"  # the wall clock (a real account, real time)
    BROKER = "broker"  # the broker's clock (reqCurrentTime; the gateway's --speed)


CurrentTime = Callable[[], Awaitable[float]]  # the broker's clock, epoch seconds (whole seconds from TWS)


async def _edge(current_time: CurrentTime, poll: float, limit: float) -> tuple[float, float]:
    """The broker's next whole second and the loop time it was first seen."""
    loop = asyncio.get_running_loop()
    first = await current_time()
    deadline = loop.time() + limit
    while loop.time() < deadline:
        await asyncio.sleep(poll)
        now = await current_time()
        if now != first:
            return now, loop.time()
    raise TimeoutError(f"the broker's clock did not move in {limit:g} s")


async def measure_speed(current_time: CurrentTime, probe: float = 4.0, poll: float = 0.05, limit: float = 10.0) -> float:
    """Broker seconds per second of the running loop (see the module docstring).

    Raises ``TimeoutError`` when the broker's clock does not move within ``limit`` seconds
    (a broker clock slower than 1/``limit`` of real time, or a stopped one)."""
    b0, l0 = await _edge(current_time, poll, limit)
    await asyncio.sleep(probe)
    b1, l1 = await _edge(current_time, poll, limit)
    speed = (b1 - b0) / (l1 - l0)
    if abs(speed - 1.0) <= REAL_TIME_TOLERANCE:
        speed = 1.0
    log.info("broker clock: %.3g broker seconds per second (measured over %.1f s)", speed, l1 - l0)
    return speed


def on_broker_clock(seconds: float, speed: float) -> float:
    """``seconds`` of the broker's clock in seconds of the run's clock: ``seconds / speed``."""
    return seconds / speed


def play_at(spec: ParentSpec, speed: float) -> ParentSpec:
    """A parent's schedule, drawn in broker seconds, played at ``speed`` broker seconds per
    second: ``times``, ``horizon`` and ``complete_at`` (seconds after the start) divided by
    ``speed``; quantities, targets, prices and the start (a time of the run's own clock)
    unchanged."""
    if speed == 1.0:
        return spec
    complete_at = None if spec.complete_at is None else on_broker_clock(spec.complete_at, speed)
    return dataclasses.replace(spec, times=tuple(on_broker_clock(t, speed) for t in spec.times),
                               horizon=on_broker_clock(spec.horizon, speed), complete_at=complete_at)
