"""Drive a simulated broker on a virtual clock while every event it emits is collected."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from execution import vtime


def collect(broker: Any, script: Callable[[asyncio.AbstractEventLoop], Awaitable[Any]], start: float | None = None):
    """Run ``await script(loop)`` from ``start`` (the session open by default) while a task
    gathers every event of ``broker.events()``; return ``(events, what the script returned)``."""

    async def main():
        events: list = []

        async def consume():
            async for event in broker.events():
                events.append(event)

        task = asyncio.create_task(consume())
        try:
            result = await script(asyncio.get_running_loop())
        finally:
            task.cancel()
        return events, result

    return vtime.run(main, start=broker.session_open if start is None else start)
