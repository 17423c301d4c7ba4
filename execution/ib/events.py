"""The IB adapter's output side: executions waiting for their commission, and the event
iterator :meth:`IBBroker.events <execution.ib.adapter.IBBroker.events>` returns."""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, replace
from typing import Any

from execution.broker import Execution, OrderEvent

__all__ = ["EventIterator", "PendingExecution", "finite", "stored_commission"]


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


def stored_commission(commissions: dict[str, float], ib: Any, exec_id: str) -> float | None:
    """The commission of ``exec_id`` if its report has already come: one the adapter kept
    (``commissions``) or one the client library attached to the first copy of a fill it
    kept (executions requested again during recovery come as fresh copies with an empty
    report, and the library announces no report for an order placed before this connection)."""
    known = commissions.get(exec_id)
    if known is not None:
        return known
    fills = getattr(getattr(ib, "wrapper", None), "fills", None)
    stored = fills.get(exec_id) if isinstance(fills, dict) else None
    report = getattr(stored, "commissionReport", None)
    if report is not None and getattr(report, "execId", None) == exec_id and finite(report.commission):
        return float(report.commission)
    return None
