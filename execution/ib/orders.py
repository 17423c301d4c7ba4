"""What the IB adapter knows about its orders, as a sans-I/O state machine.

:class:`OrderTracker` turns what IB tells us (order status, executions, error codes, and the
answers of a reconciliation) into our :mod:`execution.broker` events. It never touches a
socket and never reads a clock: every method takes ``now`` (the loop's time) and events go
to the ``emit`` callback in order. :mod:`execution.ib.adapter` is the asyncio shell around it.

Rules (see the reference facts: executions are the truth, IB may drop an order silently):

- The first word on an order (a working status, an execution, a listing among the open
  orders) emits ``OrderAccepted`` once.
- Each execution counts once, identified by its execution id, the permanent order id and
  the execution's time (:func:`execution_key`): an id a restarted broker issues again is a
  new fill. An execution is emitted even after the order ended (a fill after a cancel).
- Orders and executions are ours by their ``orderRef`` (prefix + order id, the prefix
  naming the run); only one without any ``orderRef`` falls back to our client id. When the executions add up to the order, ``OrderFilled`` follows.
- IB status ``Filled`` emits ``OrderFilled`` with the whole quantity; ``Cancelled`` emits
  ``OrderCancelled`` with the larger of the executed and the reported filled quantity, so
  that fills announced but not yet delivered stay counted and are never re-sent.
- Error 201 (and unlisted codes) reject a new order, or cancel one that had worked; 202
  cancels; 200 (unknown contract) rejects; 135/10147/161/10148 refuse a cancel.
- Reconciliation: an order listed open is working; one listed completed takes its final
  status; one the broker does not know ``ack_timeout`` after it was sent is to be cancelled
  (returned by :meth:`OrderTracker.reconcile`), and once that cancel is answered "not
  found" or stays unanswered for another ``ack_timeout`` it ends as ``OrderCancelled``
  with reason ``"lost: unknown to the broker"``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from execution.broker import (
    CancelRejected,
    Execution,
    OrderAccepted,
    OrderCancelled,
    OrderEvent,
    OrderFilled,
    OrderRejected,
    OrderRequest,
)
from execution.ib.mapping import (
    ErrorKind,
    StatusKind,
    classify_error,
    classify_status,
    execution_sign,
    order_id_from_ref,
)

LOST = "lost: unknown to the broker"


def execution_key(execution: Any) -> str:
    """The identity of an IB ``Execution`` (see :attr:`execution.broker.Execution.key`)."""
    perm = int(getattr(execution, "permId", 0) or 0)
    return f"{execution.execId}|{perm}|{execution_time(execution)}" if perm else execution.execId


def execution_time(execution: Any) -> str:
    """An IB execution's time as text (ISO 8601 when the client library parsed it)."""
    t = getattr(execution, "time", "")
    if hasattr(t, "isoformat"):
        return t.isoformat()
    return str(t or "")


@dataclass(slots=True)
class TrackedOrder:
    """One of our orders as far as IB has told us."""

    request: OrderRequest
    sent_at: float | None = None  # loop time it went to the socket; None while queued
    acked: bool = False
    executed: int = 0  # signed, unique executions
    reported: int = 0  # signed, the largest filled quantity in a status message
    terminal: bool = False
    cancel_sent_at: float | None = None
    not_found: bool = False  # a cancel was answered "no such order"
    trade: Any = None  # the client library's live trade object, if any

    @property
    def order_id(self) -> int:
        return self.request.order_id

    def filled_estimate(self) -> int:
        """Executed, or the broker's reported fill when that is larger (fills in flight)."""
        return self.executed if abs(self.executed) >= abs(self.reported) else self.reported


class OrderTracker:
    """Our orders at IB and the events they produce (see the module docstring)."""

    def __init__(self, client_id: int, ref_prefix: str, emit: Callable[[OrderEvent], None]) -> None:
        self.client_id = client_id
        self.ref_prefix = ref_prefix
        self._emit = emit
        self._orders: dict[int, TrackedOrder] = {}
        self._seen: set[str] = set()

    # -- bookkeeping ----------------------------------------------------------------------
    def __contains__(self, order_id: object) -> bool:
        return order_id in self._orders

    def __getitem__(self, order_id: int) -> TrackedOrder:
        return self._orders[order_id]

    def get(self, order_id: int | None) -> TrackedOrder | None:
        return self._orders.get(order_id) if order_id is not None else None

    def __iter__(self) -> Iterator[TrackedOrder]:
        return iter(list(self._orders.values()))

    def add(self, request: OrderRequest) -> TrackedOrder:
        if request.order_id in self._orders:
            raise ValueError(f"order id {request.order_id} already used")
        order = TrackedOrder(request)
        self._orders[request.order_id] = order
        return order

    def adopt(self, request: OrderRequest, terminal: bool, executed: int, exec_keys: Iterable[str]) -> TrackedOrder:
        """An order of an earlier session: old enough to be reconciled at once."""
        order = TrackedOrder(request, sent_at=-math.inf, terminal=terminal, executed=executed)
        self._orders[request.order_id] = order
        self._seen.update(exec_keys)
        return order

    def order_id_of(self, order: Any) -> int | None:
        """Our id for an IB ``Order`` (by ``orderRef``; one without a reference by ``orderId``
        of our client)."""
        ref = getattr(order, "orderRef", "") or ""
        oid = order_id_from_ref(self.ref_prefix, ref)
        if oid is None and not ref and getattr(order, "orderId", 0) and getattr(order, "clientId", None) == self.client_id:
            oid = order.orderId
        return oid if oid in self._orders else None

    # -- what IB says -----------------------------------------------------------------------
    def on_status(self, order: TrackedOrder, status: str, filled: float, now: float) -> None:
        if order.terminal:
            return
        reported = order.request.side * int(round(filled or 0))
        if abs(reported) > abs(order.reported):
            order.reported = reported
        kind = classify_status(status)
        oid = order.order_id
        if kind is StatusKind.WORKING:
            self.ack(order, now)
        elif kind is StatusKind.FILLED:
            self.ack(order, now)
            self.finish(order, OrderFilled(oid, now, order.request.quantity))
        elif kind is StatusKind.CANCELLED:
            self.finish(order, OrderCancelled(oid, now, order.filled_estimate(), "cancelled"))
        elif kind is StatusKind.INACTIVE:
            if order.filled_estimate() == 0 and not order.acked:
                self.finish(order, OrderRejected(oid, now, "inactive at the broker"))
            else:
                self.finish(order, OrderCancelled(oid, now, order.filled_estimate(), "inactive at the broker"))

    def on_execution(self, execution: Any, now: float) -> Execution | None:
        """Count an IB ``Execution`` once. Returns our event (fee 0: the caller adds the
        commission) after emitting the acknowledgement it implies; the caller emits it and
        then calls :meth:`after_execution`."""
        ref = execution.orderRef or ""
        oid = order_id_from_ref(self.ref_prefix, ref)
        if oid is None and not ref and execution.clientId == self.client_id:
            oid = execution.orderId
        order = self.get(oid)
        if order is None:
            return None
        qty = execution_sign(execution.side) * int(round(execution.shares))
        event = Execution(order.order_id, now, execution.execId, qty, float(execution.price),
                          perm_id=int(getattr(execution, "permId", 0) or 0), exec_time=execution_time(execution))
        if event.key in self._seen:
            return None
        self._seen.add(event.key)
        order.executed += qty
        if not order.terminal:
            self.ack(order, now)
        return event

    def after_execution(self, order_id: int, now: float) -> None:
        order = self._orders[order_id]
        if order.executed == order.request.quantity:
            self.finish(order, OrderFilled(order_id, now, order.executed))

    def on_error(self, order: TrackedOrder, code: int, message: str, now: float) -> bool:
        """An error about one of our orders; returns True when a reconciliation is due."""
        kind = classify_error(code, about_an_order=True)
        oid = order.order_id
        if kind in (ErrorKind.REJECTED, ErrorKind.UNKNOWN_CONTRACT):
            if order.filled_estimate() == 0 and not order.acked:
                self.finish(order, OrderRejected(oid, now, message, code))
            else:
                self.finish(order, OrderCancelled(oid, now, order.filled_estimate(), f"{code} {message}"))
        elif kind is ErrorKind.CANCELLED:
            self.finish(order, OrderCancelled(oid, now, order.filled_estimate(), message or "cancelled"))
        elif kind is ErrorKind.CANCEL_REJECTED:
            order.not_found = order.not_found or code in (135, 10147)
            if not order.terminal:
                self._emit(CancelRejected(oid, now, f"{code} {message}"))
            return True
        return False

    # -- reconciliation -------------------------------------------------------------------
    def reconcile(self, open_ids: set[int], completed: dict[int, tuple[str, float]], now: float,
                  ack_timeout: float) -> list[int]:
        """Apply the broker's lists of open and completed orders (after its executions);
        returns the ids of orders it does not know that should now be cancelled."""
        to_cancel = []
        for order in self:
            if order.terminal or order.sent_at is None:
                continue
            oid = order.order_id
            if oid in open_ids:
                self.ack(order, now)
            elif oid in completed:
                status, filled = completed[oid]
                self.on_status(order, status, filled, now)
            elif now - order.sent_at >= ack_timeout:
                if order.cancel_sent_at is None:
                    to_cancel.append(oid)
                elif order.not_found or now - order.cancel_sent_at >= ack_timeout:
                    self.finish(order, OrderCancelled(oid, now, order.filled_estimate(), LOST))
        return to_cancel

    def needs_reconcile(self) -> bool:
        """Unacknowledged orders, unanswered cancels or announced fills still missing."""
        for order in self._orders.values():
            if order.sent_at is None:
                continue
            if not order.terminal and (not order.acked or order.cancel_sent_at is not None):
                return True
            if abs(order.reported) > abs(order.executed):
                return True
        return False

    # -- output ---------------------------------------------------------------------------
    def ack(self, order: TrackedOrder, now: float) -> None:
        if not order.acked and not order.terminal:
            order.acked = True
            self._emit(OrderAccepted(order.order_id, now))

    def finish(self, order: TrackedOrder, event: OrderEvent) -> None:
        """Emit ``event`` as the order's one terminal event (later ones are dropped)."""
        if not order.terminal:
            order.terminal = True
            self._emit(event)
