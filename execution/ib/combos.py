"""Calendar-spread orders at IB: one combo (``BAG``) order per spread child.

A spread child (:class:`~execution.broker.OrderRequest` with ``legs = (near, far)``, see
:mod:`execution.spreads`) goes to IB as one order on a ``BAG`` contract whose two
``comboLegs`` are the legs' qualified contracts, ``ratio`` 1: ``BUY`` the far month and
``SELL`` the near one. IB prices such a combo ``Σ BUY legs − Σ SELL legs = far − near``, our
spread price, and an order ``BUY q`` of it is our ``+q`` (``SELL`` for ``−q``).

IB reports a combo's executions per leg (the leg's contract, ``BOT``/``SLD``, with the leg's
commission report) and for the ``BAG`` (the combo quantity at the combo price), all under the
order's id. :class:`ComboFills` pairs them: each ``BAG`` execution of ``q`` becomes one of our
executions, with the two :class:`~execution.spreads.LegFill` (the next ``q`` contracts of each
leg's executions, oldest first, at their average price) and the legs' commissions as its fee;
it waits until both legs have reported ``q`` contracts, so a position never shows one leg
without the other in our events. Positions are reconciled by legs (the ``BAG`` holds none).
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from execution.broker import MarketSnapshot
from execution.ib.mapping import execution_sign
from execution.spreads import LegFill, Legs, spread_name, validate_legs

__all__ = ["ComboFills", "SpreadOrders", "bag_contract", "leg_fees"]


class SpreadOrders:
    """Mixin of :class:`~execution.ib.adapter.IBBroker`: its calendar spreads (``_spreads``,
    name -> legs) and their executions (``_combos``, a :class:`ComboFills`)."""

    _spreads: dict[str, Legs]
    _combos: ComboFills

    def add_spread(self, near: str, far: str) -> str:
        """Trade the calendar spread of two resolved instruments; returns its name ``NEAR-FAR``."""
        name = spread_name(*validate_legs((near, far)))
        self._spreads[name] = (near, far)
        return name

    async def spread_snapshot(self, name: str) -> MarketSnapshot:
        """The spread's quote implied from its legs' (what crossing both legs would cost):
        ``bid = bid_far − ask_near``, ``ask = ask_far − bid_near``, ``last = last_far −
        last_near`` (points); volume: the smaller of the legs' session volumes."""
        legs = self._spreads[name]
        near = await self.snapshot(legs[0])
        far = await self.snapshot(legs[1])
        return MarketSnapshot(name, far.time, far.bid - near.ask, far.ask - near.bid, far.last - near.last,
                              min(near.volume, far.volume))

    def _track_spread(self, order: Any) -> list[str]:
        """Track a spread order's executions; returns the instruments of ``order`` (its legs
        for a spread) that are not resolved."""
        if order.legs is not None:
            self._combos.track(order.order_id, order.legs)
        return [x for x in (order.legs or (order.instrument,)) if x not in self._contracts]

    def _order_contract(self, ibapi: Any, req: Any) -> Any:
        legs = req.legs
        if legs is None:
            return self._contracts[req.instrument]
        return bag_contract(ibapi, self._contracts[legs[0]], self._contracts[legs[1]])

    def _paired(self, fill: Any) -> bool:
        """A leg or ``BAG`` execution of one of our spread orders: handed on (to ``_on_fill``
        with its legs) once paired; True when it was one."""
        oid = self.orders.order_id_of(fill.execution)
        if not self._combos.tracks(oid):
            return False
        for bag, pair, ids in self._combos.add(oid, fill, self._by_con_id):
            self._on_fill(bag, pair, ids)
        return True


def leg_fees(broker: Any, exec_ids: list[str]) -> asyncio.Future:
    """A future of the sum of the commissions of the leg executions ``exec_ids``: each
    known already or awaited like any execution's (``IBBroker._pending_fees``)."""
    loop = asyncio.get_running_loop()
    parts = []
    for x in exec_ids:
        known = broker._stored_commission(x)
        if known is None:
            parts.append(broker._pending_fees.setdefault(x, loop.create_future()))
        else:
            part = loop.create_future()
            part.set_result(known)
            parts.append(part)
    total = loop.create_future()

    def add_up(_: Any) -> None:
        if not total.done() and all(p.done() and not p.cancelled() for p in parts):
            total.set_result(sum(p.result() for p in parts))

    for p in parts:
        p.add_done_callback(add_up)
    if not parts:
        total.set_result(0.0)
    return total


def bag_contract(ibapi: Any, near: Any, far: Any) -> Any:
    """The ``BAG`` contract of the spread ``far − near`` (two qualified futures contracts)."""
    return ibapi.Contract(
        secType="BAG", symbol=near.symbol, exchange=near.exchange, currency=near.currency,
        comboLegs=[
            ibapi.ComboLeg(conId=far.conId, ratio=1, action="BUY", exchange=far.exchange),
            ibapi.ComboLeg(conId=near.conId, ratio=1, action="SELL", exchange=near.exchange),
        ],
    )


@dataclass(slots=True)
class _Order:
    legs: Legs
    seen: set[str] = field(default_factory=set)  # execIds (legs and BAG) already taken
    charged: set[str] = field(default_factory=set)  # leg execIds whose commission is counted
    # per leg: deque of [contracts left (signed), price, execId]
    queues: tuple[deque, deque] = field(default_factory=lambda: (deque(), deque()))
    bags: deque = field(default_factory=deque)  # BAG fills waiting for their legs


class ComboFills:
    """Pairs the leg and ``BAG`` executions of our spread orders (module docstring)."""

    def __init__(self) -> None:
        self._orders: dict[int, _Order] = {}

    def track(self, order_id: int, legs: Legs) -> None:
        self._orders.setdefault(order_id, _Order(legs))

    def tracks(self, order_id: int | None) -> bool:
        return order_id in self._orders

    def add(self, order_id: int, fill: Any, instrument_of: dict[int, str]) -> list[tuple[Any, tuple[LegFill, LegFill], list[str]]]:
        """Take one execution of spread order ``order_id``; returns the ``BAG`` fills now
        complete, each with its two leg fills and the execIds of the leg executions used."""
        o = self._orders[order_id]
        ex = fill.execution
        if ex.execId in o.seen:
            return []
        if fill.contract.secType == "BAG":
            o.seen.add(ex.execId)
            o.bags.append(fill)
        else:
            name = instrument_of.get(fill.contract.conId)
            if name not in o.legs:
                return []
            o.seen.add(ex.execId)
            qty = execution_sign(ex.side) * int(round(ex.shares))
            o.queues[o.legs.index(name)].append([qty, float(ex.price), ex.execId])
        done = []
        while o.bags:
            q = int(round(o.bags[0].execution.shares))
            if any(sum(abs(x[0]) for x in queue) < q for queue in o.queues):
                break
            bag = o.bags.popleft()
            legs, ids = [], []
            for name, queue in zip(o.legs, o.queues):
                need, value, signed = q, 0.0, 0
                while need:
                    head = queue[0]
                    take = min(need, abs(head[0]))
                    sign = 1 if head[0] > 0 else -1
                    value += take * head[1]
                    signed += sign * take
                    head[0] -= sign * take
                    need -= take
                    if head[2] not in o.charged:  # a leg's commission goes with its first use
                        o.charged.add(head[2])
                        ids.append(head[2])
                    if head[0] == 0:
                        queue.popleft()
                legs.append(LegFill(name, signed, value / q))
            done.append((bag, (legs[0], legs[1]), ids))
        return done
