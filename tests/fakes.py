"""A small deterministic broker for engine tests.

:class:`FakeBroker` implements the Broker port over a trivial market: a bid that follows
``price + drift · t`` (points per second, on the tick), a fixed spread, and market volume
``volume_rate · t``. Market orders and marketable limits fill at once at the far touch;
other limits rest until cancelled. Faults are switched on per order id (or by a rate
with a seeded Generator) so that tests can script them exactly.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from execution.broker import (
    CancelRejected,
    Execution,
    MarketSnapshot,
    OrderAccepted,
    OrderCancelled,
    OrderFilled,
    OrderRejected,
    OrderRequest,
    OrderType,
)


@dataclass(frozen=True)
class FakeFaults:
    """Scripted faults: sets of order ids, or rates drawn from the broker's Generator."""

    reject_ids: frozenset[int] = frozenset()
    reject_rate: float = 0.0
    silent_ids: frozenset[int] = frozenset()  # no message at all, ever (a lost order)
    drop_ack_rate: float = 0.0  # OrderAccepted never sent
    duplicate_rate: float = 0.0  # an execution delivered twice
    late_rate: float = 0.0  # executions delayed by late_seconds (may follow a cancel)
    late_seconds: float = 30.0
    partial_fraction: float = 1.0  # share of a marketable limit that fills; the rest rests


@dataclass
class _Resting:
    order: OrderRequest
    filled: int = 0


@dataclass
class FakeBroker:
    prices: dict[str, float]
    tick: float = 0.25
    spread_ticks: int = 1
    drift: float = 0.0
    volume_rate: float = 50.0  # contracts per second
    fee: float = 1.5  # per contract
    faults: FakeFaults = field(default_factory=FakeFaults)
    seed: int = 0

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng(self.seed)
        self._queue: deque = deque()
        self._waiter: asyncio.Future | None = None
        self._resting: dict[int, _Resting] = {}
        self._silent: dict[int, OrderRequest] = {}
        self._positions: dict[str, int] = {k: 0 for k in self.prices}
        self._exec_seq = 0
        self.submitted: list[OrderRequest] = []
        self.cancels: list[int] = []
        self.done: set[int] = set()

    # --------------------------------------------------------------- the port
    def submit(self, order: OrderRequest) -> None:
        self.submitted.append(order)
        loop = asyncio.get_running_loop()
        now = loop.time()
        f = self.faults
        oid = order.order_id
        if oid in f.silent_ids:
            self._silent[oid] = order
            return
        if oid in f.reject_ids or (f.reject_rate and self._rng.random() < f.reject_rate):
            self.done.add(oid)
            self._push(OrderRejected(oid, now, "scripted reject", 201))
            return
        if not (f.drop_ack_rate and self._rng.random() < f.drop_ack_rate):
            self._push(OrderAccepted(oid, now))
        snap = self._snap(order.instrument, now)
        touch = snap.ask if order.quantity > 0 else snap.bid
        marketable = order.order_type is OrderType.MARKET or (
            order.limit_price >= touch if order.quantity > 0 else order.limit_price <= touch
        )
        resting = _Resting(order)
        if marketable:
            qty = order.quantity
            if f.partial_fraction < 1.0 and order.order_type is OrderType.LIMIT:
                qty = int(qty * f.partial_fraction)
            if qty:
                self._fill(resting, qty, touch, now)
        if resting.filled == order.quantity:
            self.done.add(oid)
            self._push(OrderFilled(oid, now, resting.filled))
        else:
            self._resting[oid] = resting

    def cancel(self, order_id: int) -> None:
        self.cancels.append(order_id)
        now = asyncio.get_running_loop().time()
        if order_id in self._silent:
            return
        resting = self._resting.pop(order_id, None)
        if resting is None:
            self._push(CancelRejected(order_id, now, "order not working"))
            return
        self.done.add(order_id)
        self._push(OrderCancelled(order_id, now, resting.filled))

    async def events(self):
        loop = asyncio.get_running_loop()
        queue = self._queue
        while True:
            while queue:
                yield queue.popleft()
            self._waiter = loop.create_future()
            await self._waiter

    async def positions(self) -> dict[str, int]:
        return dict(self._positions)

    async def snapshot(self, instrument: str) -> MarketSnapshot:
        return self._snap(instrument, asyncio.get_running_loop().time())

    # --------------------------------------------------------------- helpers
    def open_orders(self) -> list[int]:
        """Orders still working at this broker (resting or silently held)."""
        return sorted(set(self._resting) | set(self._silent))

    def fill_silent(self, order_id: int) -> None:
        """Let a silent order fill without telling anyone (only positions show it)."""
        order = self._silent.pop(order_id)
        self._positions[order.instrument] += order.quantity

    def _snap(self, instrument: str, now: float) -> MarketSnapshot:
        bid = round((self.prices[instrument] + self.drift * now) / self.tick) * self.tick
        ask = bid + self.spread_ticks * self.tick
        return MarketSnapshot(instrument, now, bid, ask, bid, self.volume_rate * now)

    def _fill(self, resting: _Resting, qty: int, price: float, now: float) -> None:
        order = resting.order
        resting.filled += qty
        self._positions[order.instrument] += qty
        self._exec_seq += 1
        ex = Execution(order.order_id, now, f"E{self._exec_seq}", qty, price, self.fee * abs(qty))
        f = self.faults
        if f.late_rate and self._rng.random() < f.late_rate:
            asyncio.get_running_loop().call_later(f.late_seconds, self._push, ex)
        else:
            self._push(ex)
        if f.duplicate_rate and self._rng.random() < f.duplicate_rate:
            self._push(ex)

    def _push(self, ev) -> None:
        self._queue.append(ev)
        w = self._waiter
        if w is not None and not w.done():
            w.set_result(None)
