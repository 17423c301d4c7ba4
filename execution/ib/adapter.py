"""The Interactive Brokers adapter: :class:`execution.broker.Broker` over ``ib_async``.

``ib_async`` is the maintained continuation of ``ib_insync``; the adapter imports
``ib_insync`` when ``ib_async`` is missing (the two have the same API).

>>> broker = IBBroker(IBSettings(port=7497, client_id=7))
>>> await broker.connect()                          # refuses live ports unless allowed
>>> await broker.resolve([FutureRef("ES", "ES", "CME", "USD", 50.0)])
>>> first_id = broker.first_order_id(journal.next_order_id())
>>> broker.submit(OrderRequest(first_id, "ES", -3)); async for ev in broker.events(): ...

What it does, and why (front contract, order ids, executions as the truth, acknowledgement
timeouts and reconciliation, pacing, reconnection, error codes): ``docs/architecture.md``,
the IB adapter section.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
from collections import deque
from collections.abc import AsyncIterator, Iterable
from typing import Any

from execution.broker import (
    CancelRejected,
    ConnectionChanged,
    MarketSnapshot,
    OrderCancelled,
    OrderEvent,
    OrderRejected,
    OrderRequest,
)
from execution.ib.mapping import (
    ErrorKind,
    FutureRef,
    classify_error,
    front_month_pick,
    order_fields,
)
from execution.ib.account import BrokerOrder, account_orders_from
from execution.ib.combos import ComboFills, SpreadOrders, leg_fees
from execution.ib.events import EventIterator, PendingExecution, finite, stored_commission
from execution.ib.orders import OrderTracker, TrackedOrder
from execution.ib.pacing import TokenBucket
from execution.ib.settings import (
    ContractNotFound,
    IBSettings,
    LiveAccountRefused,
    MarketDataUnavailable,
    check_port,
    choose_account,
)

try:  # pragma: no cover - whichever is installed
    import ib_async as ibapi
except ImportError:  # pragma: no cover
    try:
        import ib_insync as ibapi  # type: ignore[no-redef]
    except ImportError:
        ibapi = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

#: Request ids start this far above the order ids so the two never collide.
REQUEST_ID_BLOCK = 1_000_000


class IBBroker(SpreadOrders):
    """The Broker port over an ``ib_async.IB`` connection (see the module docstring).

    Public surface: :meth:`connect`, :meth:`close`, :meth:`resolve`, :meth:`first_order_id`,
    :meth:`adopt`, :meth:`submit`, :meth:`cancel`, :meth:`events`, :meth:`positions`,
    :meth:`snapshot`, :meth:`historical_bars`, :meth:`reconcile`, :meth:`cancel_all`,
    :attr:`connected`, :attr:`failed`.
    """

    def __init__(self, settings: IBSettings = IBSettings(), ib: Any = None) -> None:
        check_port(settings.port, settings.allow_live)
        if ib is None:
            if ibapi is None:  # pragma: no cover
                raise ImportError("the IB adapter needs ib_async (pip install 'overlay-engine[ib]') or ib_insync")
            ib = ibapi.IB()
        self.settings = settings
        self.ib = ib
        self.connected = False
        self.account = settings.account
        self._sending = False  # connected, and reconciled after a reconnection
        self.failed = False  # reconnection gave up
        self._closing = False
        self.orders = OrderTracker(settings.client_id, settings.order_ref_prefix, self._emit)
        self._contracts: dict[str, Any] = {}
        self._by_con_id: dict[int, str] = {}
        self._tickers: dict[str, Any] = {}
        self._pending_fees: dict[str, asyncio.Future] = {}
        self._commissions: dict[str, float] = {}  # commission reports by execId, whenever they came
        self._queue: asyncio.Queue = asyncio.Queue()
        self._head: Any = None
        self._outbox: deque[tuple[str, int]] = deque()
        self._outbox_ready = asyncio.Event()
        self._reconcile_wanted = asyncio.Event()
        self._bucket = TokenBucket(settings.pacing)
        self._next_id = 1
        self._tasks: set[asyncio.Task] = set()
        self._locks: dict[str, asyncio.Lock] = {}
        self._spreads, self._combos = {}, ComboFills()  # calendar spreads (execution.ib.combos)
        ib.openOrderEvent += self._on_trade_update
        ib.orderStatusEvent += self._on_trade_update
        ib.execDetailsEvent += self._on_exec_details
        ib.commissionReportEvent += self._on_commission
        ib.errorEvent += self._on_error
        ib.disconnectedEvent += self._on_disconnected

    # ------------------------------------------------------------------ connection
    async def connect(self) -> None:
        """Connect (refusing live ports first) and start the sender and reconciler."""
        check_port(self.settings.port, self.settings.allow_live)
        self._closing = False
        await self._connect_once()
        self._release_outbox()
        if not self._tasks:
            loop = asyncio.get_running_loop()
            for coro in (self._sender(), self._reconciler()):
                self._tasks.add(loop.create_task(coro))

    async def _connect_once(self) -> None:
        s = self.settings
        await self.ib.connectAsync(s.host, s.port, clientId=s.client_id, timeout=s.connect_timeout)
        self.account = self._check_account()
        client = self.ib.client
        self._next_id = max(self._next_id, client.getReqId())
        client.updateReqId(self._next_id + REQUEST_ID_BLOCK)
        self.connected = True
        self._tickers.clear()

    def _check_account(self) -> str:
        """The account traded (see :func:`~execution.ib.settings.choose_account`)."""
        try:
            return choose_account(self.settings.account, self.ib.managedAccounts() or [], self.settings.allow_live)
        except LiveAccountRefused:
            self.ib.disconnect()
            raise

    def _release_outbox(self) -> None:
        """Let queued messages go (after a reconnection: once reconciled)."""
        self._sending = True
        self._outbox_ready.set()

    async def close(self) -> None:
        """Stop background work and disconnect (orders at the broker keep working)."""
        self._closing = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        if self.ib.isConnected():
            self.ib.disconnect()
        self.connected = False

    async def __aenter__(self) -> IBBroker:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _on_disconnected(self) -> None:
        if self._closing or not self.connected:
            return
        self.connected = False
        self._sending = False
        self._emit(ConnectionChanged(self._now(), False))
        self._tasks.add(asyncio.get_running_loop().create_task(self._reconnect()))

    async def _reconnect(self) -> None:
        s = self.settings
        for attempt in range(s.reconnect_attempts):
            await asyncio.sleep(min(s.reconnect_initial * 2.0**attempt, s.reconnect_max))
            try:
                await self._connect_once()
            except (OSError, ConnectionError, TimeoutError) as exc:
                log.warning("reconnect attempt %d failed: %s", attempt + 1, exc)
                continue
            log.info("reconnected after %d attempt(s)", attempt + 1)
            try:
                await self.reconcile()
            except (ConnectionError, TimeoutError) as exc:
                log.warning("reconciliation after reconnecting failed: %s", exc)
            self._emit(ConnectionChanged(self._now(), True))
            self._release_outbox()
            return
        self.failed = True
        log.error("gave up reconnecting after %d attempts", s.reconnect_attempts)

    # ------------------------------------------------------------------ contracts and ids
    async def resolve(self, refs: Iterable[FutureRef]) -> dict[str, Any]:
        """Qualify the contract to trade for each instrument (the front month unless pinned)."""
        for ref in refs:
            contract = await self._resolve_one(ref)
            mult = float(contract.multiplier or ref.multiplier)
            if not math.isclose(mult, ref.multiplier, rel_tol=1e-9):
                raise ContractNotFound(
                    f"{ref.instrument}: IB multiplier {mult:g} differs from the config's {ref.multiplier:g}")
            self._contracts[ref.instrument] = contract
            self._by_con_id[contract.conId] = ref.instrument
        return dict(self._contracts)

    async def _resolve_one(self, ref: FutureRef) -> Any:
        if ref.contract_month:
            found = await self._qualify(ibapi.Future(ref.symbol, ref.contract_month, ref.exchange, currency=ref.currency))
        else:
            found = None
            cont = await self._qualify(ibapi.ContFuture(ref.symbol, ref.exchange, currency=ref.currency))
            if cont is not None and cont.conId:
                found = await self._qualify(ibapi.Future(conId=cont.conId, exchange=ref.exchange))
            if found is None:  # no CONTFUT support: the earliest listed expiry is the front
                details = await self._request(
                    "details", self.ib.reqContractDetailsAsync,
                    ibapi.Future(ref.symbol, exchange=ref.exchange, currency=ref.currency))
                pick = front_month_pick([d.contract.lastTradeDateOrContractMonth for d in details])
                found = details[pick].contract if pick is not None else None
        if found is None or getattr(found, "secType", "FUT") != "FUT":
            raise ContractNotFound(f"{ref.instrument}: no {ref.symbol} future on {ref.exchange} (IB error 200)")
        return found

    async def _qualify(self, contract: Any) -> Any:
        result = await self._request("qualify", self.ib.qualifyContractsAsync, contract)
        first = result[0] if result else None
        return first if first is not None and not isinstance(first, list) else None

    def contract(self, instrument: str) -> Any:
        return self._contracts[instrument]

    def first_order_id(self, floor: int = 1) -> int:
        """The first order id to use: at least IB's ``nextValidId`` and ``floor``."""
        self._next_id = max(self._next_id, int(floor))
        if self.connected:
            self.ib.client.updateReqId(self._next_id + REQUEST_ID_BLOCK)
        return self._next_id

    def adopt(self, order: OrderRequest, *, terminal: bool = False, executed: int = 0,
              exec_keys: Iterable[str] = ()) -> None:
        """Track an order placed by an earlier session (from the journal) so that its
        executions and final status are reported; ``terminal`` ones only get late fills.
        ``exec_keys``: the :attr:`Execution.key` of every execution already journaled."""
        self.orders.adopt(order, terminal, executed, exec_keys)
        self._track_spread(order)
        self._next_id = max(self._next_id, order.order_id + 1)

    # ------------------------------------------------------------------ the Broker port
    def submit(self, order: OrderRequest) -> None:
        tracked = self.orders.add(order)
        self._next_id = max(self._next_id, order.order_id + 1)
        missing = self._track_spread(order)
        if missing:
            reason = f"unknown instrument {missing[0]}"
            self.orders.finish(tracked, OrderRejected(order.order_id, self._now(), reason, 200))
            return
        self._outbox.append(("place", order.order_id))
        self._outbox_ready.set()

    def cancel(self, order_id: int) -> None:
        tracked = self.orders.get(order_id)
        now = self._now()
        if tracked is None:
            self._emit(CancelRejected(order_id, now, "unknown order"))
        elif tracked.sent_at is None and ("place", order_id) in self._outbox:
            self._outbox.remove(("place", order_id))
            self.orders.finish(tracked, OrderCancelled(order_id, now, 0, "cancelled before it was sent"))
        elif tracked.terminal:
            self._emit(CancelRejected(order_id, now, "order already done"))
        elif ("cancel", order_id) not in self._outbox:
            self._outbox.append(("cancel", order_id))
            self._outbox_ready.set()

    def events(self) -> AsyncIterator[OrderEvent]:
        """The single event stream; safe to stop and resume (nothing is lost in between)."""
        return EventIterator(self)

    async def positions(self) -> dict[str, int]:
        """Account positions in the resolved contracts (0 where none)."""
        rows = await self._request("positions", self.ib.reqPositionsAsync)
        out = {inst: 0 for inst in self._contracts}
        for p in rows:
            if self.settings.account and p.account != self.settings.account:
                continue
            inst = self._by_con_id.get(p.contract.conId)
            if inst is not None:
                out[inst] += int(round(p.position))
            elif p.position and any(p.contract.symbol == c.symbol for c in self._contracts.values()):
                log.warning("position %g in %s is not in the traded contract", p.position, p.contract.localSymbol)
        return out

    async def current_time(self) -> float:
        """The broker's clock (``reqCurrentTime``), epoch seconds; TWS gives whole seconds."""
        return (await self._request("current_time", self.ib.reqCurrentTimeAsync)).timestamp()

    async def snapshot(self, instrument: str) -> MarketSnapshot:
        """Top of book, last and session volume from a streaming quote (a spread's: implied
        from its legs', :meth:`~execution.ib.combos.SpreadOrders.spread_snapshot`)."""
        if instrument in self._spreads:
            return await self.spread_snapshot(instrument)
        ticker = self._tickers.get(instrument)
        if ticker is None:
            await self._wait_connected()
            await self._paced()
            ticker = self.ib.reqMktData(self._contracts[instrument], "", False, False)
            self._tickers[instrument] = ticker
        deadline = self._now() + self.settings.request_timeout
        while not (finite(ticker.bid) and finite(ticker.ask)) and not finite(ticker.last):
            if self._now() >= deadline:
                raise MarketDataUnavailable(f"{instrument}: no quote within {self.settings.request_timeout:g} s")
            await asyncio.sleep(0.05)
            if self.connected and self._tickers.get(instrument) is not ticker:
                # a reconnection dropped the subscription: ask again
                await self._paced()
                ticker = self.ib.reqMktData(self._contracts[instrument], "", False, False)
                self._tickers[instrument] = ticker
        last = ticker.last if finite(ticker.last) else 0.5 * (ticker.bid + ticker.ask)
        bid = ticker.bid if finite(ticker.bid) else last
        ask = ticker.ask if finite(ticker.ask) else last
        volume = ticker.volume if finite(ticker.volume) else 0.0
        return MarketSnapshot(instrument, self._now(), float(bid), float(ask), float(last), float(volume))

    async def historical_bars(self, instrument: str, duration: str = "1 D", bar_size: str = "1 min") -> list[Any]:
        """Historical TRADES bars (``date``, ``volume``, ...) for volume profiles."""
        await self._wait_connected()
        await self._paced()
        return list(await self.ib.reqHistoricalDataAsync(
            self._contracts[instrument], "", duration, bar_size, "TRADES", True,
            timeout=self.settings.request_timeout))

    def cancel_all(self) -> int:
        """Kill switch: cancel every order of ours still working; returns how many."""
        live = [o.order_id for o in self.orders if not o.terminal]
        for oid in live:
            self.cancel(oid)
        return len(live)

    # ------------------------------------------------------------------ outgoing messages
    async def _paced(self) -> None:
        delay = self._bucket.reserve(self._now())
        if delay > 0:
            await asyncio.sleep(delay)

    async def _wait_connected(self) -> None:
        """Wait (up to ``request_timeout``) for a dropped connection to come back."""
        deadline = self._now() + self.settings.request_timeout
        while not self.connected:
            if self.failed or self._now() >= deadline:
                raise ConnectionError("not connected to the broker")
            await asyncio.sleep(0.05)

    async def _request(self, key: str, call: Any, *args: Any) -> Any:
        """One paced request; requests IB answers under a fixed key run one at a time."""
        async with self._locks.setdefault(key, asyncio.Lock()):
            await self._wait_connected()
            await self._paced()
            async with asyncio.timeout(self.settings.request_timeout):
                return await call(*args)

    async def _sender(self) -> None:
        while True:
            while not (self._outbox and self._sending):
                self._outbox_ready.clear()
                await self._outbox_ready.wait()
            await self._paced()
            if not (self._outbox and self._sending):
                continue
            action, oid = self._outbox.popleft()
            tracked = self.orders[oid]
            if action == "place":
                self._place(tracked)
            elif not tracked.terminal:
                self._send_cancel(tracked)

    def _place(self, tracked: TrackedOrder) -> None:
        req = tracked.request
        fields = order_fields(req, self.settings.order_ref_prefix).as_kwargs()
        if self.settings.account:
            fields["account"] = self.settings.account
        tracked.sent_at = self._now()
        tracked.trade = self.ib.placeOrder(self._order_contract(ibapi, req), ibapi.Order(**fields))
        asyncio.get_running_loop().call_later(self.settings.ack_timeout, self._reconcile_wanted.set)

    def _send_cancel(self, tracked: TrackedOrder) -> None:
        order = tracked.trade.order if tracked.trade is not None else ibapi.Order(
            orderId=tracked.order_id, clientId=self.settings.client_id)
        tracked.cancel_sent_at = self._now()
        self.ib.cancelOrder(order)
        asyncio.get_running_loop().call_later(self.settings.ack_timeout, self._reconcile_wanted.set)

    # ------------------------------------------------------------------ reconciliation
    async def _reconciler(self) -> None:
        while True:
            try:
                async with asyncio.timeout(self.settings.reconcile_interval):
                    await self._reconcile_wanted.wait()
            except TimeoutError:
                if not self.orders.needs_reconcile():
                    continue
            self._reconcile_wanted.clear()
            if self.connected:
                try:
                    await self.reconcile()
                except (ConnectionError, TimeoutError) as exc:
                    log.warning("reconciliation failed: %s", exc)

    async def reconcile(self) -> None:
        """Compare our orders with the broker's executions, open and completed orders."""
        async with self._locks.setdefault("reconcile", asyncio.Lock()):
            # every client's executions and open orders: ours are recognised by orderRef,
            # whichever client id placed them
            fills = await self._request("executions", self.ib.reqExecutionsAsync, ibapi.ExecutionFilter())
            for fill in fills:
                self._on_fill(fill)
            open_trades = await self._request("openOrders", self.ib.reqAllOpenOrdersAsync)
            completed = await self._request("completedOrders", self.ib.reqCompletedOrdersAsync, True)
            open_ids = {oid for oid in (self.orders.order_id_of(t.order) for t in open_trades) if oid is not None}
            done = {}
            for trade in completed:
                oid = self.orders.order_id_of(trade.order)
                if oid is not None:
                    done[oid] = (trade.orderStatus.status, trade.orderStatus.filled)
            for oid in self.orders.reconcile(open_ids, done, self._now(), self.settings.ack_timeout):
                self.cancel(oid)

    async def account_orders(self) -> list[BrokerOrder]:
        """Every order the account shows today, of any client: working ones
        (``reqAllOpenOrders``), completed ones and the executions (``reqExecutions``
        without a client filter), one record per permanent id."""
        async with self._locks.setdefault("reconcile", asyncio.Lock()):
            fills = await self._request("executions", self.ib.reqExecutionsAsync, ibapi.ExecutionFilter())
            open_trades = await self._request("openOrders", self.ib.reqAllOpenOrdersAsync)
            completed = await self._request("completedOrders", self.ib.reqCompletedOrdersAsync, False)
        return account_orders_from(open_trades, completed, fills)

    # ------------------------------------------------------------------ incoming messages
    def _on_trade_update(self, trade: Any) -> None:
        tracked = self.orders.get(self.orders.order_id_of(trade.order))
        if tracked is None:
            return
        if trade.log and getattr(trade.log[-1], "errorCode", 0):
            return  # the error message itself says what happened
        self.orders.on_status(tracked, trade.orderStatus.status, trade.orderStatus.filled, self._now())

    def _on_exec_details(self, trade: Any, fill: Any) -> None:
        self._on_fill(fill)

    def _on_fill(self, fill: Any, legs: tuple = (), leg_ids: list[str] | None = None) -> None:
        if not legs and self._paired(fill):  # a leg or the BAG of a spread order
            return
        now = self._now()
        event = self.orders.on_execution(fill.execution, now)
        if event is None:
            return
        fee = asyncio.get_running_loop().create_future()
        report = fill.commissionReport
        known = self._stored_commission(event.exec_id)
        if legs:  # a spread's execution: both legs, the legs' commissions as its fee
            event = dataclasses.replace(event, legs=legs)
            fee = leg_fees(self, leg_ids or [])
        elif known is not None:  # the report came first (executions replayed during recovery)
            fee.set_result(known)
        elif report is not None and report.execId == event.exec_id and finite(report.commission):
            fee.set_result(float(report.commission))
        else:
            self._pending_fees[event.exec_id] = fee
        self._queue.put_nowait(PendingExecution(event, fill, fee))
        self.orders.after_execution(event.order_id, now)

    def _stored_commission(self, exec_id: str) -> float | None:
        return stored_commission(self._commissions, self.ib, exec_id)

    def _on_commission(self, trade: Any, fill: Any, report: Any) -> None:
        if finite(report.commission):
            self._commissions[report.execId] = float(report.commission)
        fee = self._pending_fees.pop(report.execId, None)
        if fee is not None and not fee.done():
            fee.set_result(float(report.commission) if finite(report.commission) else 0.0)

    def _on_error(self, req_id: int, code: int, message: str, contract: Any = None) -> None:
        now = self._now()
        tracked = self.orders.get(req_id)
        if tracked is not None:
            if self.orders.on_error(tracked, code, message, now):
                self._reconcile_wanted.set()
            return
        kind = classify_error(code, about_an_order=False)
        if kind is ErrorKind.CONNECTION_LOST and self.connected:
            self._emit(ConnectionChanged(now, False))
        elif kind in (ErrorKind.CONNECTION_RESTORED, ErrorKind.CONNECTION_RESTORED_DATA_LOST):
            if kind is ErrorKind.CONNECTION_RESTORED_DATA_LOST:
                self._tickers.clear()
            self._reconcile_wanted.set()
            self._emit(ConnectionChanged(now, True))
        elif kind is ErrorKind.PACING:
            log.warning("IB reports a pacing violation (%d): %s", code, message)

    # ------------------------------------------------------------------ output
    def _emit(self, event: OrderEvent) -> None:
        self._queue.put_nowait(event)

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()
