"""Progress of a paper run on stderr: what a desk watches while the orders work.

Every ``every`` seconds of the run's clock (and once when the work starts), one line::

    overlay paper: 1/3 parents done, filled 250/664 contracts | ESM6 -120/-413 working -5 next slice in 42 s | ...

``filled`` and ``working`` are signed contracts (+ buy); the next slice is the parent's next
scheduled time on the run's clock (``trail.start_time + t`` for the schedule's ``times``).
It reads the engine's live :class:`~execution.orders.ParentOrder` records and changes
nothing. Its seconds are the run's (wall) seconds also with ``--clock broker``, where the
schedule is played at the broker's speed: "next slice in 6 s" against a gateway at
``--speed 10`` is a one-minute slice of the broker's clock, six seconds away.
"""

from __future__ import annotations

import asyncio
import math
import sys
from collections.abc import Sequence
from typing import IO, Any

TERMINAL = ("done", "failed", "killed")


def next_slice(parent: Any, spec: Any, now: float) -> float | None:
    """The parent's next scheduled slice time after ``now`` (run clock), or None."""
    start = parent.trail.start_time
    if not math.isfinite(start) or getattr(parent.status, "value", parent.status) in TERMINAL:
        return None
    upcoming = [start + t for t in spec.times if start + t > now]
    return min(upcoming) if upcoming else None


def progress_line(now: float, parents: Sequence[Any], specs: Sequence[Any]) -> str:
    """One line: parents done, contracts filled, and per parent filled / working / next slice."""
    done = sum(getattr(p.status, "value", p.status) in TERMINAL for p in parents)
    filled = sum(abs(p.filled) for p in parents)
    total = sum(abs(p.quantity) for p in parents)
    parts = []
    for p, s in zip(parents, specs):
        text = f"{p.instrument} {p.filled:+,d}/{p.quantity:+,d}"
        if p.working:
            text += f" working {p.working:+,d}"
        nxt = next_slice(p, s, now)
        state = getattr(p.status, "value", p.status)
        if state in TERMINAL:
            text += f" {state}"
        elif nxt is not None:
            text += f" next slice in {nxt - now:,.0f} s"
        parts.append(text)
    head = f"overlay paper: {done}/{len(parents)} parents done, filled {filled:,d}/{total:,d} contracts"
    return " | ".join([head, *parts])


def print_progress(engine: Any, specs: Sequence[Any], stream: IO[str] | None = None) -> None:
    """One :func:`progress_line` now (the last one of a run)."""
    parents = list(engine.parents)[-len(specs):] if specs else []
    if parents:
        now = asyncio.get_running_loop().time()
        print(progress_line(now, parents, specs), file=stream if stream is not None else sys.stderr, flush=True)


async def report_progress(engine: Any, specs: Sequence[Any], every: float = 30.0, stream: IO[str] | None = None) -> None:
    """Print :func:`progress_line` for ``engine.parents`` every ``every`` seconds of the
    loop's clock until cancelled (start it beside ``engine.run`` and cancel it after)."""
    out = stream if stream is not None else sys.stderr
    loop = asyncio.get_running_loop()
    await asyncio.sleep(0)  # let engine.run create its parents
    while True:
        parents = list(engine.parents)[-len(specs):] if specs else []
        if parents:
            print(progress_line(loop.time(), parents, specs), file=out, flush=True)
        await asyncio.sleep(every)
