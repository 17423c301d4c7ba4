"""The simulated broker: :class:`execution.broker.Broker` over precomputed market paths.

Everything happens on the running event loop's clock (virtual time under
:class:`execution.vtime.VirtualTimeLoop`): ``submit`` and ``cancel`` return at once and
schedule their effect with ``loop.call_at``.

Event flow of one order (latencies from :class:`~sim_broker.params.SimConfig`)::

    submit(t) ──ack_latency──▶ arrival: OrderAccepted (or OrderRejected), first match
                               each match ──fill_latency──▶ Execution [, OrderFilled]
    cancel(t) ──ack_latency──▶ OrderCancelled(filled) or CancelRejected

- A market order, or a limit order that is marketable against the impacted price
  (:mod:`sim_broker.matching`), fills at once up to the participation cap of the current
  interval. The rest of a DAY order is matched again at the start of the next interval (a
  market or marketable order; orders waiting for volume are served oldest first) or when the
  price path reaches the limit (a limit order, which then trades at its limit price: a
  resting order is the maker, the market trades through it at its price); the rest of an IOC
  order is cancelled (``OrderCancelled``, reason ``"ioc remainder"``).
- Orders outside the instrument's session are rejected (``"market closed"``); at the session
  end every working order is cancelled (reason ``"session end"``).
- Events of one order are delivered in order; across orders they are delivered in time
  order. Faults (:mod:`sim_broker.faults`) may drop acknowledgements, reject orders,
  duplicate or delay executions (past the terminal event) and cut the connection.
- ``positions()`` and the :class:`~sim_broker.account.Account` are the exchange's truth at
  the current instant; they equal the sum of the unique executions delivered once every
  pending delivery has arrived.

:meth:`SimBroker.events` is a single-consumer stream. Build a broker from config tables with
:func:`sim_broker.tables.from_tables`, or from parameter
objects with :meth:`SimBroker.simulate`.
"""

from __future__ import annotations

import asyncio
import enum
import heapq
import zlib
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from execution.broker import (
    CancelRejected,
    ConnectionChanged,
    Execution,
    MarketSnapshot,
    OrderAccepted,
    OrderCancelled,
    OrderEvent,
    OrderFilled,
    OrderRejected,
    OrderRequest,
    OrderType,
    TimeInForce,
)
from sim_broker.account import Account
from sim_broker.events import EventStream
from sim_broker.faults import FaultPlan
from sim_broker.market import MarketPath, brownian_increments, load_bars, replay_path, session_steps, simulate_path
from sim_broker.matching import InstrumentBook
from sim_broker.params import FaultParams, MarketParams, SimConfig
from sim_broker.spreads import SpreadMarkets
from execution.spreads import LegFill, Legs, split_legs

_FAULT_STREAM = 0x0FA17
#: Tolerance (s) when comparing the clock with a scheduled time, as asyncio does.
_EPS = 1e-9


class OrderState(enum.Enum):
    SENT = "sent"  # on its way to the exchange
    WORKING = "working"
    DONE = "done"


class _Order:
    __slots__ = ("req", "book", "side", "remaining", "filled", "state", "limit", "ioc", "last", "timer", "cancelling", "resting")

    def __init__(self, req: OrderRequest, book: InstrumentBook | None) -> None:
        self.req = req
        self.book = book
        self.side = 1 if req.quantity > 0 else -1
        self.remaining = req.quantity
        self.filled = 0
        self.state = OrderState.SENT
        self.limit = req.limit_price if req.order_type is OrderType.LIMIT else None
        self.ioc = req.tif is TimeInForce.IOC
        self.last = 0.0  # delivery time of this order's latest event
        self.timer: asyncio.TimerHandle | None = None
        self.cancelling = False
        self.resting = False  # a limit order that was not marketable: it rests at its limit


def fault_rng(seed: int) -> np.random.Generator:
    """The fault stream of a simulation seeded with ``seed`` (independent of the markets)."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), _FAULT_STREAM]))


def instrument_seed(seed: int, instrument: str) -> np.random.SeedSequence:
    """The market stream of ``instrument``: independent of the other instruments and faults."""
    return np.random.SeedSequence([int(seed), zlib.crc32(instrument.encode())])


def underlying_seed(seed: int, underlying: str) -> np.random.SeedSequence:
    """The price-shock stream shared by every instrument on ``underlying``."""
    return np.random.SeedSequence([int(seed), zlib.crc32(b"underlying:" + underlying.encode())])


class SimBroker(SpreadMarkets):
    """A simulated broker and market (see the module docstring)."""

    _loop: asyncio.AbstractEventLoop  # the running loop, bound on first use (_bind)

    def __init__(
        self,
        markets: Mapping[str, MarketParams],
        paths: Mapping[str, MarketPath],
        sim: SimConfig = SimConfig(),
        faults: FaultParams = FaultParams(),
        fault_rng: np.random.Generator | None = None,
    ) -> None:
        if set(markets) != set(paths):
            raise ValueError("markets and paths must name the same instruments")
        self.sim = sim
        self.faults = faults
        self._books = {name: InstrumentBook(markets[name], paths[name], sim) for name in markets}
        self.account = Account({name: p.multiplier for name, p in markets.items()})
        self._plan = FaultPlan(faults, fault_rng or np.random.default_rng(0)) if faults.any else None
        self._orders: dict[int, _Order] = {}
        self._queue = EventStream()
        self._bound = False  # self._loop is set (by _bind, on first use)
        self._down = False
        self._held: list[OrderEvent] = []
        self._exec_seq = 0
        self._inbox: deque[tuple[float, Any, Any]] = deque()  # requests in flight, in send order
        self._receive_at = -1.0
        self._outbox: list[tuple[float, int, Any]] = []  # heap of (when, seq, events)
        self._out_seq = 0
        self._flush_at: set[float] = set()
        self._live: dict[int, _Order] = {}  # orders working at the exchange
        self._waiting: dict[str, deque[_Order]] = {name: deque() for name in markets}
        self._refill_at: dict[str, float] = {name: -1.0 for name in markets}
        self._ack = sim.ack_latency
        self._fill = sim.fill_latency
        self._legs: dict[str, Legs] = {}  # calendar spreads: name -> (near, far)

    # -- construction ---------------------------------------------------------------------

    @classmethod
    def simulate(
        cls,
        markets: Iterable[MarketParams],
        seed: int,
        sim: SimConfig = SimConfig(),
        faults: FaultParams = FaultParams(),
        anchor: float | None = None,
    ) -> SimBroker:
        """Generate every instrument's session from ``seed`` (or replay its ``bars``).

        Price shocks are drawn once per underlying (ES and MES, or two months of one root,
        move together) from ``SeedSequence([seed, crc32("underlying:" + underlying)])``;
        instrument ``key`` draws its volume noise from ``SeedSequence([seed, crc32(key)])`` and the faults from
        ``SeedSequence([seed, 0x0FA17])``, so adding an instrument or a fault never changes
        another instrument's path. ``anchor`` (s) is when each modelled mid equals its
        ``price`` (the session start by default).
        """
        params: dict[str, MarketParams] = {}
        paths: dict[str, MarketPath] = {}
        shocks: dict[tuple[str, int], np.ndarray] = {}
        for p in markets:
            if p.bars is not None:
                path = replay_path(load_bars(p.bars, f"market.{p.instrument}.bars"), sim.grid_seconds)
                p = _with_session(p, path, anchor)
            else:
                n = session_steps(p, sim)
                common = shocks.get((p.underlying_key, n))
                if common is None:
                    rng = np.random.default_rng(underlying_seed(seed, p.underlying_key))
                    common = shocks[(p.underlying_key, n)] = brownian_increments(n, 1.0, rng, sim.block_steps)
                rng = np.random.default_rng(instrument_seed(seed, p.instrument))
                path = simulate_path(p, sim, rng, anchor, shocks=common)
            params[p.instrument] = p
            paths[p.instrument] = path
        return cls(params, paths, sim, faults, fault_rng(seed))

    # -- inspection -----------------------------------------------------------------------

    @property
    def instruments(self) -> tuple[str, ...]:
        """The outright instruments (the calendar spreads listed on them are not among them)."""
        return tuple(n for n in self._books if n not in self._legs)

    def params(self, instrument: str) -> MarketParams:
        return self._books[instrument].params

    def path(self, instrument: str) -> MarketPath:
        """The exogenous session of ``instrument`` (without our impact)."""
        return self._books[instrument].path

    @property
    def session_open(self) -> float:
        """Earliest session start over the instruments (s); a good loop start time."""
        return min(b.start for b in self._books.values())

    @property
    def session_close(self) -> float:
        return max(b.end for b in self._books.values())

    def order_state(self, order_id: int) -> OrderState | None:
        rec = self._orders.get(order_id)
        return None if rec is None else rec.state

    # -- the Broker port ------------------------------------------------------------------

    def submit(self, order: OrderRequest) -> None:
        loop = self._loop if self._bound else self._bind()
        if order.order_id in self._orders:
            raise ValueError(f"order id {order.order_id} was already used")
        rec = _Order(order, self._books.get(order.instrument))
        self._orders[order.order_id] = rec
        now = loop.time()
        if self._down:
            self._finish(rec, OrderRejected(order.order_id, now, "not connected", 504), now, direct=True)
        else:
            self._request(now, self._arrive, rec)

    def cancel(self, order_id: int) -> None:
        loop = self._loop if self._bound else self._bind()
        now = loop.time()
        if self._down:
            self._queue.put_nowait(CancelRejected(order_id, now, "not connected"))
        else:
            self._request(now, self._cancel_arrive, order_id)

    def events(self) -> EventStream:
        """The stream of every order event and connection change (one consumer)."""
        if not self._bound:
            self._bind()
        return self._queue

    async def positions(self) -> dict[str, int]:
        return self.account.positions()

    async def snapshot(self, instrument: str) -> MarketSnapshot:
        return self.snapshot_now(instrument)

    def snapshot_now(self, instrument: str) -> MarketSnapshot:
        """:meth:`snapshot` without a coroutine: the simulator answers at once."""
        loop = self._loop if self._bound else self._bind()
        book = self._books[instrument]
        now = loop.time()
        bid, ask, last = book.quote(now)
        return MarketSnapshot(instrument, now, bid, ask, last, book.path.volume_until(now))

    # -- machinery ------------------------------------------------------------------------

    def _bind(self) -> asyncio.AbstractEventLoop:
        loop = self._loop = asyncio.get_running_loop()
        self._bound = True
        now = loop.time()
        for book in self._books.values():
            loop.call_at(max(now, book.end), self._close_session, book)
        if self._plan is not None:
            for down, up in self._plan.windows(self.session_open, self.session_close):
                if down >= now:
                    loop.call_at(down, self._disconnect)
                    loop.call_at(up, self._reconnect)
        return loop

    def _put(self, event: OrderEvent) -> None:
        if self._down:
            self._held.append(event)
        else:
            self._queue.put_nowait(event)

    def _put_all(self, events: list[OrderEvent]) -> None:
        for event in events:
            self._put(event)

    def _disconnect(self) -> None:
        self._down = True
        self._queue.put_nowait(ConnectionChanged(self._loop.time(), False))

    def _reconnect(self) -> None:
        self._down = False
        self._queue.put_nowait(ConnectionChanged(self._loop.time(), True))
        held, self._held = self._held, []
        for event in held:
            self._queue.put_nowait(event)

    def _request(self, now: float, handler: Any, payload: Any) -> None:
        """Send a request; it reaches the exchange ``ack_latency`` later (one timer per instant)."""
        when = now + self._ack
        self._inbox.append((when, handler, payload))
        if when != self._receive_at:
            self._receive_at = when
            self._loop.call_at(when, self._receive)

    def _receive(self) -> None:
        """Requests reach the exchange; one latency for all, so the oldest come first."""
        inbox = self._inbox
        due = self._loop.time() + _EPS
        while inbox and inbox[0][0] <= due:
            _, handler, payload = inbox.popleft()
            handler(payload)

    def _deliver(self, when: float, events: list[OrderEvent]) -> None:
        """Put ``events`` on the stream at ``when``; equal times keep their scheduling order."""
        self._out_seq += 1
        heapq.heappush(self._outbox, (when, self._out_seq, events))
        if when not in self._flush_at:
            self._flush_at.add(when)
            self._loop.call_at(when, self._flush, when)

    def _flush(self, when: float) -> None:
        self._flush_at.discard(when)
        outbox = self._outbox
        due = self._loop.time() + _EPS
        while outbox and outbox[0][0] <= due:
            for event in heapq.heappop(outbox)[2]:
                self._put(event)

    def _send(self, rec: _Order, events: list[OrderEvent], when: float) -> None:
        """Deliver ``events`` of one order at ``when``, after its earlier events."""
        if when < rec.last:
            when = rec.last
        rec.last = when
        self._deliver(when, events)

    def _finish(self, rec: _Order, event: OrderEvent, when: float, direct: bool = False) -> None:
        rec.state = OrderState.DONE
        self._live.pop(rec.req.order_id, None)
        if rec.timer is not None:
            rec.timer.cancel()
            rec.timer = None
        if direct:
            self._queue.put_nowait(event)
        else:
            self._send(rec, [event], when)

    def _arrive(self, rec: _Order) -> None:
        now = self._loop.time()
        oid = rec.req.order_id
        book = rec.book
        plan = self._plan
        if book is None:
            self._finish(rec, OrderRejected(oid, now, f"unknown instrument {rec.req.instrument!r}", 200), now)
            return
        if rec.req.legs is not None and rec.req.legs != self._legs.get(rec.req.instrument):
            self._finish(rec, OrderRejected(oid, now, f"{rec.req.instrument!r} is not the spread of {rec.req.legs}", 200), now)
            return
        if plan is not None and plan.reject():
            self._finish(rec, OrderRejected(oid, now, "rejected by the simulated exchange", 201), now)
            return
        if not book.is_open(now):
            self._finish(rec, OrderRejected(oid, now, "market closed", 201), now)
            return
        rec.state = OrderState.WORKING
        self._live[oid] = rec
        if plan is None or not plan.drop_ack():
            rec.last = now
            self._put(OrderAccepted(oid, now))
        if rec.cancelling:
            self._cancel_now(rec, now)
        else:
            self._work(rec)

    def _work(self, rec: _Order, front: bool = False) -> None:
        rec.timer = None
        loop = self._loop
        now = loop.time()
        book = rec.book
        assert book is not None
        side = rec.side
        marketable = True
        want = rec.remaining if side > 0 else -rec.remaining
        avail = book.available(now)
        q = want if want < avail else avail
        if q > 0 and book.is_open(now):
            qs = q if side > 0 else -q
            price = book.fill_price(now, qs)
            limit = rec.limit
            if limit is None or (price <= limit if side > 0 else price >= limit):
                if rec.resting and limit is not None:
                    price = limit  # a resting order is the maker: it trades at its own price
                book.commit(now, qs)
                self._execute(rec, qs, price, now)
                if rec.state is OrderState.DONE:
                    return
            else:
                marketable = False
        elif rec.limit is not None:
            bid, ask, _ = book.quote(now)
            marketable = ask <= rec.limit if side > 0 else bid >= rec.limit
        if rec.ioc:
            self._finish(rec, OrderCancelled(rec.req.order_id, now, rec.filled, "ioc remainder"), now + self._fill)
            return
        if marketable:
            self._wait_for_volume(rec, now, front)
            return
        rec.resting = True
        assert rec.limit is not None  # only a limit order is not marketable
        when = book.crossing_time(now, side, rec.limit)
        if when is not None and when < book.end:
            rec.timer = loop.call_at(when, self._work, rec)

    def _wait_for_volume(self, rec: _Order, now: float, front: bool) -> None:
        """Queue ``rec`` for the volume of the next participation interval (FIFO)."""
        name = rec.req.instrument
        if front:
            self._waiting[name].appendleft(rec)
        else:
            self._waiting[name].append(rec)
        book = rec.book
        assert book is not None  # (an order for an unknown instrument is rejected on arrival)
        self._schedule_refill(book, name, now)

    def _schedule_refill(self, book: InstrumentBook, name: str, now: float) -> None:
        when = book.next_interval(now)
        if when < book.end and self._refill_at[name] != when:
            self._refill_at[name] = when
            self._loop.call_at(when, self._refill, name)

    def _refill(self, name: str) -> None:
        """A new interval: waiting orders take its volume, oldest first."""
        waiting = self._waiting[name]
        book = self._books[name]
        now = self._loop.time()
        while waiting:
            rec = waiting[0]
            if rec.state is not OrderState.WORKING or rec.timer is not None:
                waiting.popleft()  # done (cancelled) since it queued, or now waiting for a price
                continue
            if book.available(now) <= 0:
                self._schedule_refill(book, name, now)
                return
            waiting.popleft()
            self._work(rec, front=True)

    def _execute(self, rec: _Order, qs: int, price: float, now: float) -> None:
        book = rec.book
        assert book is not None
        fee = book.params.fee_per_contract * (qs if qs > 0 else -qs)
        legs = self._legs.get(rec.req.instrument)
        if legs is None:
            self.account.fill(rec.req.instrument, qs, price, fee)
            fills: tuple[LegFill, ...] = ()
        else:  # a spread: both legs at once, the near one at its quoted mid (sim_broker.spreads)
            fills = split_legs(legs, qs, price, self._books[legs[0]].quote(now)[2], book.tick)
            for leg in fills:
                self.account.fill(leg.instrument, leg.quantity, leg.price, 0.5 * fee)
        self._exec_seq += 1
        oid = rec.req.order_id
        execution = Execution(oid, now, f"S{self._exec_seq}", qs, price, fee, legs=fills)
        rec.remaining -= qs
        rec.filled += qs
        done = rec.remaining == 0
        plan = self._plan
        when = now + self._fill
        if plan is None:
            if done:
                rec.state = OrderState.DONE
                del self._live[oid]
                self._send(rec, [execution, OrderFilled(oid, now, rec.filled)], when)
            else:
                self._send(rec, [execution], when)
            return
        late = plan.late_delay()
        if late:
            self._deliver(when + late, [execution])
        else:
            self._send(rec, [execution], when)
        dup = plan.duplicate_delay()
        if dup is not None:
            self._deliver(when + late + dup, [execution])
        if done:
            self._finish(rec, OrderFilled(oid, now, rec.filled), when)

    def _cancel_arrive(self, order_id: int) -> None:
        now = self._loop.time()
        rec = self._orders.get(order_id)
        if rec is None:
            self._queue.put_nowait(CancelRejected(order_id, now, "unknown order"))
        elif rec.state is OrderState.DONE:
            self._send(rec, [CancelRejected(order_id, now, "order already done")], now)
        elif rec.state is OrderState.SENT:
            rec.cancelling = True  # the cancel overtook its order; it takes effect on arrival
        else:
            self._cancel_now(rec, now)

    def _cancel_now(self, rec: _Order, now: float) -> None:
        self._finish(rec, OrderCancelled(rec.req.order_id, now, rec.filled, "cancelled"), now)

    def _close_session(self, book: InstrumentBook) -> None:
        now = self._loop.time()
        for rec in [r for r in self._live.values() if r.book is book]:
            self._finish(rec, OrderCancelled(rec.req.order_id, now, rec.filled, "session end"), now)


def _with_session(p: MarketParams, path: MarketPath, anchor: float | None) -> MarketParams:
    """``p`` with the session hours and reference price of a replayed path."""
    from dataclasses import replace

    price = path.mid_at(path.start if anchor is None else anchor)
    return replace(p, session_start=path.start, session_end=path.end, price=price)
