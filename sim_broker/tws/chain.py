"""Consecutive trading sessions behind the gateway: the simulated clock crosses session ends.

A :class:`~sim_broker.broker.SimBroker` simulates one session per instrument. The gateway's
:class:`SessionChain` is a broker over a chain of them: when the last instrument of the
current session has closed, it builds the next session's simulator (every instrument on its
exchange's next session, :mod:`sim_broker.tws.hours`), starting each path at the previous
session's exogenous close, with its own seed ``SeedSequence([seed, k])`` for session ``k``,
and carries on. Orders go to the session that is current when they are sent; cancels go to
the session that holds the order; the events of every session come out of one stream
(execution ids of session ``k > 0`` are prefixed ``"k."`` so they stay unique). Listeners
registered with :meth:`SessionChain.on_roll` run after each new session is built (the desk
re-sends its ``GTC`` orders there).

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


class SessionChain:
    """A broker port over consecutive simulated sessions (see the module docstring)."""

    def __init__(self, build: Callable[[list[MarketParams], int], Any], first: Any, seed: int,
                 session_of: Callable[[MarketParams, float], tuple[float, float] | None]) -> None:
        """``build(params, seed)`` simulates a session; ``session_of(p, after)`` gives the
        (open, close) clock times of the instrument's next session opening at/after ``after``."""
        self._build = build
        self._session_of = session_of
        self._seed = seed
        self.current = first
        self._brokers = [first]
        self._owner: dict[int, Any] = {}
        self._listeners: list[Callable[[], None]] = []
        self._stream: _Merged | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # ------------------------------------------------------------ inspection

    @property
    def instruments(self) -> tuple[str, ...]:
        return self.current.instruments

    def params(self, instrument: str) -> MarketParams:
        return self.current.params(instrument)

    def path(self, instrument: str) -> MarketPath:
        return self.current.path(instrument)

    def paths(self, instrument: str) -> list[MarketPath]:
        return [b.path(instrument) for b in self._brokers]

    @property
    def session_open(self) -> float:
        return self._brokers[0].session_open

    @property
    def session_close(self) -> float:
        return self.current.session_close

    @property
    def sessions(self) -> int:
        return len(self._brokers)

    def on_roll(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    # ------------------------------------------------------------ the broker port

    def submit(self, order: OrderRequest) -> None:
        self._bind()
        self._owner[order.order_id] = self.current
        self.current.submit(order)

    def cancel(self, order_id: int) -> None:
        self._bind()
        self._owner.get(order_id, self.current).cancel(order_id)

    def events(self) -> _Merged:
        self._bind()
        return self._stream

    async def snapshot(self, instrument: str) -> MarketSnapshot:
        self._bind()
        return await self.current.snapshot(instrument)

    async def positions(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for b in self._brokers:
            for k, v in (await b.positions()).items():
                total[k] = total.get(k, 0) + v
        return total

    # ------------------------------------------------------------ machinery

    def _bind(self) -> None:
        if self._loop is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._stream = _Merged()
        self._follow(self.current, 0)

    def _follow(self, broker: Any, k: int) -> None:
        stream = broker.events()  # binds the session's broker to the loop
        self._loop.create_task(self._forward(stream, k))
        self._loop.call_at(max(self._loop.time(), broker.session_close), self._roll)

    async def _forward(self, stream: Any, k: int) -> None:
        async for event in stream:
            if k and isinstance(event, Execution):
                event = dataclasses.replace(event, exec_id=f"{k}.{event.exec_id}")
            self._stream.queue.put_nowait(event)

    def _roll(self) -> None:
        old = self.current
        k = len(self._brokers)
        after = old.session_close
        params = []
        for name in old.instruments:
            p = old.params(name)
            hours_ = self._session_of(p, after)
            if hours_ is None:
                return  # a replayed or fixed-hours market: no next session
            opens, closes = hours_
            price = float(old.path(name).mid[-1])
            params.append(dataclasses.replace(p, session_start=opens, session_end=closes, price=price))
        seed = int(np.random.SeedSequence([int(self._seed), k]).generate_state(1)[0])
        new = self._build(params, seed)
        self._brokers.append(new)
        self.current = new
        log.info("session %d: instruments open from %.0f s to %.0f s", k, new.session_open, new.session_close)
        self._follow(new, k)
        for listener in self._listeners:
            listener()


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
