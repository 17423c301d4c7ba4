"""Virtual time for asyncio.

:class:`VirtualTimeLoop` is an ordinary selector event loop whose clock is virtual: when every
task is waiting on a timer, the clock jumps straight to the next timer instead of sleeping.
Plain ``asyncio.sleep``, ``loop.call_at``, ``asyncio.timeout`` and ``asyncio.wait_for`` all
work unchanged, so a trading day of execution runs in a fraction of a wall-clock second.
(Prior art: trio's ``MockClock(autojump_threshold=0)`` and the ``looptime`` package.)

With ``speed`` set, virtual time is paced against the wall clock instead: ``speed`` virtual
seconds pass per wall second (``speed=1`` is real time). That is what the TWS gateway uses so
that real clients on sockets see a market that moves while they wait. Socket I/O works in both
modes; in the unpaced mode a loop that waits on sockets with no timer pending blocks for real.

Time never goes backwards: :meth:`VirtualTimeLoop.advance_to` refuses a past instant.

The wall clock is read here (and only here) for pacing; domain code reads ``loop.time()``.
"""

from __future__ import annotations

import asyncio
import contextvars
import heapq
import itertools
import selectors
import time as _wallclock
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from asyncio.log import logger as _asyncio_logger

from execution.errors import TimeTravelError  # noqa: F401 (re-exported)

T = TypeVar("T")

#: Shortest wall-clock wait the selector honours (epoll rounds timeouts up to milliseconds).
_SELECT_RESOLUTION = 1e-3
#: Unpaced, with no socket registered: clock jumps between two polls of the self-pipe.
_POLL_EVERY = 64
#: Rebuild the timer heap when more than this share of at least _COMPACT_MIN entries is cancelled.
_COMPACT_MIN, _COMPACT_SHARE = 100, 0.5
#: Longest selector wait asyncio allows (one day).
_MAX_SELECT = 24 * 3600
_TimerHandle = asyncio.TimerHandle
_new_timer = object.__new__
_copy_context = contextvars.copy_context


class _VirtualSelector(selectors.BaseSelector):
    """Wraps a real selector; turns blocking waits into clock jumps (or paced waits)."""

    def __init__(self, clock: "VirtualTimeLoop") -> None:
        self._anchor: tuple[float, float] | None = None  # (wall, virtual) when pacing began
        self._inner = selectors.DefaultSelector()  # (not ``_real``: ``__real`` is a C keyword of gcc's)
        self._clock = clock
        self._files = 0  # registered file objects (the loop's self-pipe is the first)
        self._jumps = 0  # clock jumps since the self-pipe was last polled

    # BaseSelector's abstract interface, delegated.
    def register(self, fileobj, events, data=None):  # noqa: ANN001
        key = self._inner.register(fileobj, events, data)
        self._files += 1
        return key

    def unregister(self, fileobj):  # noqa: ANN001
        key = self._inner.unregister(fileobj)
        self._files -= 1
        return key

    def modify(self, fileobj, events, data=None):  # noqa: ANN001
        return self._inner.modify(fileobj, events, data)

    def get_map(self):
        return self._inner.get_map()

    def close(self) -> None:
        self._inner.close()

    def select(self, timeout: float | None = None):
        clock = self._clock
        speed = clock.speed
        if speed is None:
            if self._files <= 1 and timeout is not None:
                # only the loop's self-pipe: no socket can be ready, so skip the syscall; a
                # jump still polls the pipe (signals, wake-ups) every _POLL_EVERY jumps, and
                # never jumps past a callback another thread has just made ready
                if timeout == 0:
                    return []
                self._jumps += 1
                if self._jumps < _POLL_EVERY:
                    if not clock._ready:  # type: ignore[attr-defined]
                        clock._now += timeout
                    return []
                self._jumps = 0
            events = self._inner.select(0)
            if events or timeout is None:
                return events or self._inner.select(None)
            clock._now += timeout  # every task waits on a timer: jump to it
            return []
        # Paced against one wall-clock anchor: waits shorter than the selector's resolution
        # add up instead of being skipped, so virtual time never runs ahead of
        # ``anchor + elapsed wall time · speed``; when work made it fall behind, due timers
        # run at once until it has caught up.
        if self._anchor is None:
            self._anchor = (_wallclock.monotonic(), clock._now)
        wall0, virt0 = self._anchor
        if timeout is None:
            events = self._inner.select(None)
            clock._now = max(clock._now, virt0 + (_wallclock.monotonic() - wall0) * speed)
            return events
        target = clock._now + timeout
        wait = (target - virt0) / speed - (_wallclock.monotonic() - wall0)
        events = self._inner.select(wait if wait >= _SELECT_RESOLUTION else 0)
        if events:
            paced = virt0 + (_wallclock.monotonic() - wall0) * speed
            clock._now = max(clock._now, min(target, paced))
        else:
            clock._now = target  # the next timer is due
        return events


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An event loop on a virtual clock, starting at ``start`` seconds.

    ``speed=None`` jumps instantly from timer to timer; ``speed=k`` paces k virtual seconds
    per wall-clock second.

    Timers wait in a heap of ``(when, sequence, handle)`` tuples, compared in C, rather than
    asyncio's heap of handles (whose comparison runs in Python); timers due at the same
    instant run in the order they were scheduled. Unpaced and with no socket registered,
    one iteration of the loop runs a whole virtual instant: callbacks made ready by other
    callbacks, and timers that come due at the same instant, run in the same order as the
    successive iterations asyncio would make (nothing can happen between them: the clock
    does not move and no I/O can be ready), without polling the selector between them.

    ``_run_once`` works on asyncio's private loop state (``_ready``, ``_selector``,
    ``_stopping``, ...), which asyncio's type stubs do not declare: it reads it through a
    name typed ``Any``, a dynamic lookup in the compiled build. (Declaring those attributes
    on this class instead would make the compiled build check their types on every
    assignment, the base class's included, and hide the base class's methods.)
    """

    def __init__(self, start: float = 0.0, speed: float | None = None) -> None:
        if speed is not None and not speed > 0:
            raise ValueError("speed must be positive")
        self._now = float(start)
        self.speed = speed
        self._timers: list[tuple[float, int, asyncio.TimerHandle]] = []
        self._timer_seq = itertools.count()
        super().__init__(selector=_VirtualSelector(self))
        self._clock_resolution = 1e-9

    def time(self) -> float:
        return self._now

    def advance_to(self, when: float) -> None:
        """Move the clock forward to ``when`` (only ever forward)."""
        if when < self._now:
            raise TimeTravelError(f"cannot move virtual time back from {self._now} to {when}")
        self._now = float(when)

    def call_at(self, when, callback, *args, context=None):  # noqa: ANN001, ANN201
        """Schedule ``callback(*args)`` at loop time ``when`` (asyncio's contract).

        Outside debug mode the handle's fields are set here rather than through the two
        constructors of ``TimerHandle`` (the same fields, the same values: a handle without
        a creation traceback); this is most of a timer's cost in a busy simulation."""
        if self._closed:
            raise RuntimeError("Event loop is closed")
        if self._debug:
            self._check_thread()
            self._check_callback(callback, "call_at")
            timer = asyncio.TimerHandle(when, callback, args, self, context)
            if timer._source_traceback:
                del timer._source_traceback[-1]
        else:
            timer = _new_timer(_TimerHandle)
            timer._context = _copy_context() if context is None else context
            timer._loop = self
            timer._callback = callback
            timer._args = args
            timer._cancelled = False
            timer._repr = None
            timer._source_traceback = None
            timer._when = when
        timer._scheduled = True
        heapq.heappush(self._timers, (when, next(self._timer_seq), timer))
        return timer

    def close(self) -> None:
        super().close()
        self._timers.clear()

    def _run_once(self) -> None:
        """One iteration of the loop (asyncio's, over this loop's timer heap)."""
        base: Any = self  # asyncio's private state (see the class docstring)
        timers = self._timers
        ready = base._ready
        if len(timers) > _COMPACT_MIN and base._timer_cancelled_count > _COMPACT_SHARE * len(timers):
            kept = []
            for entry in timers:
                if entry[2]._cancelled:
                    entry[2]._scheduled = False  # type: ignore[attr-defined]
                else:
                    kept.append(entry)
            heapq.heapify(kept)
            self._timers = timers = kept
            base._timer_cancelled_count = 0
        else:
            while timers and timers[0][2]._cancelled:
                base._timer_cancelled_count -= 1
                heapq.heappop(timers)[2]._scheduled = False  # type: ignore[attr-defined]
        # a whole instant per iteration only where nothing could happen between iterations
        selector = base._selector
        whole_instant = self.speed is None and selector._files <= 1 and not base._debug
        if ready or base._stopping:
            if not whole_instant:  # (the selector would not look: no socket is registered)
                base._process_events(selector.select(0))
        elif timers and whole_instant and selector._jumps < _POLL_EVERY - 1:
            # the selector's jump, without calling it: the clock moves to the next timer
            selector._jumps += 1
            self._now += min(max(0.0, timers[0][0] - self._now), _MAX_SELECT)
        else:
            timeout = min(max(0.0, timers[0][0] - self._now), _MAX_SELECT) if timers else None
            base._process_events(selector.select(timeout))
        heappop = heapq.heappop
        handle: Any
        while True:
            end_time = self._now + self._clock_resolution
            while timers and timers[0][0] < end_time:
                handle = heappop(timers)[2]
                handle._scheduled = False
                ready.append(handle)
            if base._debug:
                self._run_ready_debug()
                return
            for _ in range(len(ready)):
                handle = ready.popleft()
                if not handle._cancelled:
                    handle._run()
            handle = None  # break reference cycles when an exception occurs
            if not whole_instant or not ready or base._stopping:
                return

    def _run_ready_debug(self) -> None:
        """Run the ready callbacks with asyncio's slow-callback warning (debug mode)."""
        ready = self._ready  # type: ignore[attr-defined]
        for _ in range(len(ready)):
            handle = ready.popleft()
            if handle._cancelled:
                continue
            try:
                self._current_handle = handle
                t0 = self.time()
                handle._run()
                dt = self.time() - t0
                if dt >= self.slow_callback_duration:
                    _asyncio_logger.warning("Executing %r took %.3f seconds", handle, dt)
            finally:
                self._current_handle = None


def run(main: Awaitable[T] | Callable[[], Awaitable[T]], *, start: float = 0.0, speed: float | None = None) -> T:
    """Run a coroutine to completion on a fresh :class:`VirtualTimeLoop`.

    The coroutine's result is handed back outside the runner's main task: in the main thread
    ``asyncio.Runner`` puts its Ctrl-C handler (which holds that task) back at the end, and
    Python 3.11's ``signal`` module formats the handler's ``repr`` while doing so, the task's
    result included: a whole run's parent orders with all their children (about 1 ms per
    parent of 300 children, up to six parents) for a message nobody reads.
    """
    result: list[Any] = []

    async def main_task() -> None:
        result.append(await (main() if callable(main) else main))

    with asyncio.Runner(loop_factory=lambda: VirtualTimeLoop(start=start, speed=speed)) as runner:
        runner.run(main_task())
    return result[0]
