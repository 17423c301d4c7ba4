"""``overlay paper --clock broker``: pace the run on the broker's clock.

By default a paper run paces its slices on the wall clock (``--clock wall``): a 390-minute
schedule takes 390 minutes whatever the broker. ``overlay gateway --speed 10`` runs its
simulated market ten times faster than real time; with ``--clock broker`` the run follows it,
so a rehearsal against the gateway takes 39 minutes instead of 6.5 hours, and against a real
IB paper account (speed 1) nothing changes.

How: the session runs on a paced :class:`execution.vtime.VirtualTimeLoop` (starting at
speed 1). Before the orders start, :func:`probe_speed` reads the broker's clock twice
(``reqCurrentTime``, whole seconds) ``probe`` loop seconds apart and sets the loop's speed to
``Δbroker / Δloop``. While the run works, :func:`follow_broker_clock` reads it every
``every`` loop seconds and corrects the drift ``d = (broker − broker₀) − (loop − loop₀)``:
a loop behind by more than ``tolerance`` jumps forward by ``d`` (time never goes back); a
loop ahead slows to ``speed × max(0.5, 1 + d / every)`` until the broker catches up.

The loop's seconds then stand for the broker's seconds: slice intervals, horizons, the
progress line and the engine's timeouts are all on the broker's clock.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class ClockKind(enum.Enum):
    WALL = "wall"  # slices paced on the wall clock (a real account, real time)
    BROKER = "broker"  # slices paced on the broker's clock (reqCurrentTime; the gateway's --speed)


CurrentTime = Callable[[], Awaitable[float]]  # the broker's clock, seconds (whole seconds from TWS)


async def probe_speed(current_time: CurrentTime, set_speed: Callable[[float], None], probe: float = 2.0) -> tuple[float, float, float]:
    """Measure the broker's speed over ``probe`` loop seconds (the loop at speed 1, so wall
    seconds) and set it; returns ``(speed, broker₀, loop₀)`` for :func:`follow_broker_clock`.

    The broker reports whole seconds, so the estimate is within ``1 / probe`` of the truth;
    the follower corrects the rest."""
    loop = asyncio.get_running_loop()
    b0, l0 = await current_time(), loop.time()
    await asyncio.sleep(probe)
    b1, l1 = await current_time(), loop.time()
    speed = max((b1 - b0) / max(l1 - l0, 1e-9), 0.01)
    set_speed(speed)
    log.info("broker clock: %g broker seconds per second (measured over %.1f s)", speed, l1 - l0)
    return speed, b1, l1


async def follow_broker_clock(
    current_time: CurrentTime,
    set_speed: Callable[[float], None],
    advance_to: Callable[[float], None],
    anchor: tuple[float, float, float],
    every: float = 30.0,
    tolerance: float = 1.5,
) -> None:
    """Keep the loop on the broker's clock until cancelled (see the module docstring)."""
    loop = asyncio.get_running_loop()
    speed, b0, l0 = anchor
    while True:
        await asyncio.sleep(every)
        b, now = await current_time(), loop.time()
        drift = (b - b0) - (now - l0)
        if drift > tolerance:
            advance_to(now + drift)
            set_speed(speed)
        elif drift < -tolerance:
            set_speed(speed * max(0.5, 1.0 + drift / every))
        else:
            set_speed(speed)
        log.debug("broker clock: drift %+.1f s, speed %g", drift, speed)
