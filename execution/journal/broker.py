"""A Broker that journals: every child is written before it is sent, every event as it arrives.

:class:`JournaledBroker` wraps any :class:`~execution.broker.Broker` (the IB adapter, the
simulator) and a :class:`~execution.journal.store.Journal`. The engine talks to it exactly as to
the broker underneath:

- ``submit(order)``: the child is written ``PENDING`` with its intended quantity and the
  write committed, *then* the order goes to the broker, then it is marked ``SUBMITTED``.
  If the write fails nothing is sent. Children belong to the parent of their instrument
  (``parent_of``); a child for an instrument without a parent raises ``JournalError``.
- ``events()``: each event is written to the journal before the engine sees it; repeated
  executions are written once (the journal's primary key is the execution id).
- ``positions()``, ``snapshot()`` and ``cancel()`` pass through.

Journal writes are synchronous SQLite commits on the event loop's thread: a few
milliseconds each with ``synchronous=FULL``, well inside IB's pacing of 50 messages a second.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping

from execution.broker import Broker, MarketSnapshot, OrderEvent, OrderRequest
from execution.journal.store import Journal, JournalError


class JournaledBroker:
    """``broker`` with every child and event written to ``journal`` (see the module docstring)."""

    def __init__(self, broker: Broker, journal: Journal, parent_of: Mapping[str, str]) -> None:
        self.broker = broker
        self.journal = journal
        self.parent_of = dict(parent_of)

    def submit(self, order: OrderRequest) -> None:
        parent_id = self.parent_of.get(order.instrument)
        if parent_id is None:
            raise JournalError(f"child {order.order_id}: no parent order trades {order.instrument}")
        now = asyncio.get_running_loop().time()
        self.journal.reserve_child(parent_id, order, now)  # committed before the order leaves
        self.broker.submit(order)
        self.journal.mark_submitted(order.order_id, now)

    def cancel(self, order_id: int) -> None:
        self.broker.cancel(order_id)

    async def events(self) -> AsyncIterator[OrderEvent]:
        async for event in self.broker.events():
            self.journal.record_event(event)
            yield event

    async def positions(self) -> dict[str, int]:
        return await self.broker.positions()

    async def snapshot(self, instrument: str) -> MarketSnapshot:
        return await self.broker.snapshot(instrument)
