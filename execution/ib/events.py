"""The IB adapter's output side: executions waiting for their commission, and the event
iterator :meth:`IBBroker.events <execution.ib.adapter.IBBroker.events>` returns."""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, replace
from typing import Any

from execution.broker import Execution, OrderEvent

__all__ = ["EventIterator", "PendingExecution", "finite"]


@dataclass(slots=True)
class PendingExecution:
    """An execution held until its commission report comes (or ``commission_wait`` ends)."""

    event: Execution
    fill: Any
    fee: asyncio.Future


class EventIterator:
    """Reads the adapter's queue; an execution waits briefly for its commission report.

    The item being awaited stays at the head, so a consumer cancelled mid-wait loses nothing.
    """

    def __init__(self, broker: Any) -> None:  # the IBBroker whose queue it reads
        self._b = broker

    def __aiter__(self) -> EventIterator:
        return self

    async def __anext__(self) -> OrderEvent:
        b = self._b
        if b._head is None:
            b._head = await b._queue.get()
        item = b._head
        if isinstance(item, PendingExecution):
            try:
                async with asyncio.timeout(b.settings.commission_wait):
                    fee = await asyncio.shield(item.fee)
            except TimeoutError:
                report = item.fill.commissionReport
                fee = b._stored_commission(item.event.exec_id)
                if fee is None:
                    fee = float(report.commission) if report and finite(report.commission) else 0.0
                b._pending_fees.pop(item.event.exec_id, None)
            item = replace(item.event, fee=max(0.0, fee))
        b._head = None
        return item


def finite(x: Any) -> bool:
    try:
        return x is not None and math.isfinite(float(x)) and float(x) != -1.0
    except (TypeError, ValueError):
        return False
