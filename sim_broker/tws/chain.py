"""Consecutive trading sessions behind the gateway: the simulated clock crosses session ends.

A :class:`~sim_broker.broker.SimBroker` simulates one session per instrument. The gateway's
:class:`SessionChain` is a broker over a chain of them: when the last instrument of the
current session has closed, it builds the next session's simulator (every instrument on its
exchange's next session, :mod:`sim_broker.tws.hours`), starting each path at the previous
session's exogenous close, with its own seed ``SeedSequence([seed, lane, k])`` for session
``k``, and carries on. Orders go to the session that is current when they are sent; cancels go to
the session that holds the order; the events of every session come out of one stream
(execution ids are prefixed ``"lane-k."`` except in the first lane's first session, so they
stay unique). Listeners
registered with :meth:`SessionChain.on_roll` run when each new session opens (the desk
re-sends its ``GTC`` orders then).

``paths(instrument)`` lists every session simulated so far, oldest first, for the history.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from execution.broker import Execution, MarketSnapshot, OrderEvent, OrderRequest
from sim_broker.market import MarketPath
from sim_broker.params import MarketParams
from sim_broker.tws import hours

log = logging.getLogger(__name__)


class _Merged:
    """The single-consumer event stream of the whole chain."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[OrderEvent] = asyncio.Queue()

    def __aiter__(self) -> _Merged:
        return self

    async def __anext__(self) -> OrderEvent:
        return await self.queue.get()


class _Lane:
    """The instruments that share a session rule (one exchange's hours) and their sessions."""

    def __init__(self, index: int, first: Any) -> None:
        self.index = index
        self.brokers = [first]

    @property
    def current(self) -> Any:
        return self.brokers[-1]


class SessionChain:
    """A broker port over consecutive simulated sessions (see the module docstring).

    Instruments are simulated in *lanes*, one per exchange schedule, each rolling to its next
    session on its own (Eurex closes and reopens at other times than Globex).
    """

    def __init__(self, build: Callable[[list[MarketParams], int], Any], lanes: list[Any], seed: int,
                 session_of: Callable[[MarketParams, float], tuple[float, float] | None]) -> None:
        """``build(params, seed)`` simulates a session; ``lanes`` are the first sessions' brokers;
        ``session_of(p, after)`` gives the (open, close) clock times of the instrument's next
        session after ``after``."""
        self._build = build
        self._session_of = session_of
        self._seed = seed
        self._lanes = [_Lane(i, b) for i, b in enumerate(lanes)]
        self._lane_of = {name: lane for lane in self._lanes for name in lane.current.instruments}
        self._owner: dict[int, Any] = {}
        self._spread_lane: dict[str, _Lane] = {}  # calendar spreads listed on a lane (add_spread)
        self._listeners: list[Callable[[frozenset[str]], None]] = []
        self._stream: _Merged | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # ------------------------------------------------------------ inspection

    @property
    def instruments(self) -> tuple[str, ...]:
        return tuple(self._lane_of)

    def params(self, instrument: str) -> MarketParams:
        return self._lane(instrument).current.params(instrument)

    def path(self, instrument: str) -> MarketPath:
        return self._lane(instrument).current.path(instrument)

    def add_spread(self, near: str, far: str) -> str:
        """List the calendar spread of two instruments of one lane on its current session
        (again on each later session: listing is idempotent); returns its name."""
        lane = self._lane_of.get(near)
        if lane is None or self._lane_of.get(far) is not lane:
            raise ValueError(f"{near} and {far} do not trade on one simulated session")
        name = lane.current.add_spread(near, far)
        self._spread_lane[name] = lane
        return name

    def _lane(self, instrument: str) -> _Lane:
        lane = self._lane_of.get(instrument)
        return lane if lane is not None else self._spread_lane[instrument]

    def first(self, instrument: str) -> Any:
        """The simulator of ``instrument``'s first session."""
        return self._lane_of[instrument].brokers[0]

    def paths(self, instrument: str) -> list[MarketPath]:
        """Every session of ``instrument`` simulated so far, oldest first."""
        return [b.path(instrument) for b in self._lane_of[instrument].brokers]

    @property
    def session_open(self) -> float:
        return min(lane.brokers[0].session_open for lane in self._lanes)

    @property
    def session_close(self) -> float:
        return max(lane.current.session_close for lane in self._lanes)

    @property
    def sessions(self) -> int:
        """Sessions simulated so far, over all lanes."""
        return sum(len(lane.brokers) for lane in self._lanes)

    def on_roll(self, listener: Callable[[frozenset[str]], None]) -> None:
        """``listener(instruments)`` runs when a new session of those instruments opens."""
        self._listeners.append(listener)

    # ------------------------------------------------------------ the broker port

    def submit(self, order: OrderRequest) -> None:
        self._bind()
        lane = self._lane_of.get(order.instrument) or self._spread_lane.get(order.instrument)
        broker = lane.current if lane is not None else self._lanes[0].current
        self._owner[order.order_id] = broker
        broker.submit(order)

    def cancel(self, order_id: int) -> None:
        self._bind()
        self._owner.get(order_id, self._lanes[0].current).cancel(order_id)

    def events(self) -> _Merged:
        self._bind()
        return self._stream

    async def snapshot(self, instrument: str) -> MarketSnapshot:
        self._bind()
        return await self._lane(instrument).current.snapshot(instrument)

    async def positions(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for lane in self._lanes:
            for b in lane.brokers:
                for k, v in (await b.positions()).items():
                    total[k] = total.get(k, 0) + v
        return total

    # ------------------------------------------------------------ machinery

    def _bind(self) -> None:
        if self._loop is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._stream = _Merged()
        for lane in self._lanes:
            self._follow(lane)

    def _follow(self, lane: _Lane) -> None:
        broker, k = lane.current, len(lane.brokers) - 1
        stream = broker.events()  # binds the session's broker to the loop
        prefix = f"{lane.index}-{k}." if (lane.index or k) else ""
        self._loop.create_task(self._forward(stream, prefix))
        self._loop.call_at(max(self._loop.time(), broker.session_close), self._roll, lane)

    async def _forward(self, stream: Any, prefix: str) -> None:
        async for event in stream:
            if prefix and isinstance(event, Execution):
                event = dataclasses.replace(event, exec_id=prefix + event.exec_id)
            self._stream.queue.put_nowait(event)

    def _roll(self, lane: _Lane) -> None:
        old = lane.current
        k = len(lane.brokers)
        after = old.session_close
        params = []
        for name in old.instruments:
            p = old.params(name)
            nxt = self._session_of(p, after)
            if nxt is None:
                return  # a replayed market: no next session
            price = float(old.path(name).mid[-1])
            params.append(dataclasses.replace(p, session_start=nxt[0], session_end=nxt[1], price=price))
        seed = int(np.random.SeedSequence([int(self._seed), lane.index, k]).generate_state(1)[0])
        new = self._build(params, seed)
        lane.brokers.append(new)
        log.info("lane %d session %d: open %.0f s to %.0f s", lane.index, k, new.session_open, new.session_close)
        self._follow(lane)
        opened = frozenset(new.instruments)
        self._loop.call_at(max(self._loop.time(), new.session_open), self._opened, opened)

    def _opened(self, instruments: frozenset[str]) -> None:
        for listener in self._listeners:
            listener(instruments)


def exchange_sessions(cal: Any, exchange_of: Callable[[str], str]):
    """``session_of`` for :class:`SessionChain` (``cal`` a :class:`~sim_broker.tws.market.Calendar`).

    The next session is the exchange's next one; an instrument whose config fixes its hours
    keeps them, moved by as much as the exchange's session moves (to the next trading day).
    """

    def session_of(p: MarketParams, after: float) -> tuple[float, float] | None:
        if p.bars is not None:
            return None
        rule = hours.hours_of(exchange_of(p.root))
        now = hours.current_or_next(rule, cal.at(p.session_start + 1.0))
        nxt = hours.current_or_next(rule, max(now.close, cal.at(after)) + dt.timedelta(seconds=1))
        shift = cal.seconds(nxt.open) - cal.seconds(now.open)
        return p.session_start + shift, p.session_end + shift

    return session_of
