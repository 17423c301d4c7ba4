"""The simulated broker's event stream: what ``SimBroker.events()`` returns.

An unbounded single-consumer queue, cheaper than ``asyncio.Queue`` per event; with a consumer
attached (push mode, used by the execution engine) each event is handed over as it is put,
without waking a task.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from execution.broker import OrderEvent

__all__ = ["EventStream"]


class EventStream:
    """``async for event in broker.events()``: an unbounded single-consumer queue.

    Push mode: :meth:`attach` a consumer and each event is handed to it as it is put (the
    queued ones first), in the same order the queue would give, without waking a task.
    """

    __slots__ = ("_items", "_waiter", "_consumer", "_on_error")

    def __init__(self) -> None:
        self._items: deque[OrderEvent] = deque()
        self._waiter: asyncio.Future | None = None
        self._consumer: Callable[[OrderEvent], None] | None = None
        self._on_error: Callable[[BaseException], None] | None = None

    def attach(
        self, consumer: Callable[[OrderEvent], None] | None, on_error: Callable[[BaseException], None] | None = None
    ) -> None:
        """Hand every event to ``consumer`` from now on (``None``: queue them again).

        An exception raised by ``consumer`` detaches it and goes to ``on_error`` (without
        one, to the caller of ``put_nowait``); later events are queued again."""
        self._consumer = consumer
        self._on_error = on_error
        items = self._items
        while items and consumer is not None and self._consumer is consumer:
            self.put_nowait(items.popleft())

    def put_nowait(self, event: OrderEvent) -> None:
        consumer = self._consumer
        if consumer is not None:
            try:
                consumer(event)
            except BaseException as exc:
                on_error = self._on_error
                if on_error is None:
                    raise
                self._consumer = self._on_error = None
                on_error(exc)
            return
        self._items.append(event)
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> OrderEvent:
        items = self._items
        while not items:
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
        return items.popleft()
