"""A scripted stand-in for ``ib_async.IB`` used by the IB adapter's unit tests.

It keeps the client library's objects (``Trade``, ``Fill``, ``Execution``...) and events, and
plays an exchange the test drives by hand: acknowledge, fill, cancel, reject, drop an order
silently, drop the connection. It mirrors two habits of the real client: an error about an
order first marks the trade Cancelled (with the error code in its log) and emits a status
update, then emits ``errorEvent``; and ``execDetailsEvent`` precedes the commission report.
Nothing here sleeps; tests run on the virtual-time loop.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import ib_async as ibapi
from eventkit import Event

EPOCH = dt.datetime(2026, 3, 2, tzinfo=dt.timezone.utc)


class _Client:
    def __init__(self) -> None:
        self.seq = 0
        self.ready = False

    def isReady(self) -> bool:
        return self.ready

    def getReqId(self) -> int:
        if not self.ready:
            raise ConnectionError("Not connected")
        n = self.seq
        self.seq += 1
        return n

    def updateReqId(self, n: int) -> None:
        self.seq = max(self.seq, n)


class FakeIB:
    """Enough of ``ib_async.IB`` for :class:`execution.ib.adapter.IBBroker`."""

    def __init__(self, next_valid_id: int = 1, contfut: bool = True, auto_ack: bool = True,
                 accounts: tuple[str, ...] = ("DU123456",)) -> None:
        self.accounts = list(accounts)
        for name in ("openOrderEvent", "orderStatusEvent", "execDetailsEvent", "commissionReportEvent",
                     "errorEvent", "disconnectedEvent", "connectedEvent"):
            setattr(self, name, Event(name))
        self.client = _Client()
        self.next_valid_id = next_valid_id
        self.contfut = contfut
        self.auto_ack = auto_ack
        self.connect_calls = 0
        self.refuse_connects = 0  # the next n connection attempts fail
        self.placed: list[tuple[float, ibapi.Order]] = []
        self.cancels: list[int] = []
        self.requests: list[tuple[float, str]] = []
        self.trades: dict[int, ibapi.Trade] = {}  # the exchange's orders, by order id
        self.forgotten: set[int] = set()  # orders the exchange never received
        self.fills: list[ibapi.Fill] = []
        self.positions_rows: list[ibapi.Position] = []
        self.tickers: dict[int, ibapi.Ticker] = {}
        self._exec_seq = 0
        self.front = ibapi.Future("ES", "20260320", "CME", currency="USD", multiplier="50", conId=501,
                                  localSymbol="ESH6")
        self.next = ibapi.Future("ES", "20260619", "CME", currency="USD", multiplier="50", conId=502,
                                 localSymbol="ESM6")

    # -- connection --------------------------------------------------------------------
    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    async def connectAsync(self, host, port, clientId=1, timeout=None):  # noqa: N802, ANN001
        self.connect_calls += 1
        await asyncio.sleep(0.01)
        if self.refuse_connects > 0:
            self.refuse_connects -= 1
            raise ConnectionRefusedError("refused")
        self.client.ready = True
        self.client.seq = 0
        self.client.updateReqId(self.next_valid_id)
        self.client_id = clientId
        return self

    def isConnected(self) -> bool:
        return self.client.ready

    def disconnect(self) -> None:
        if self.client.ready:
            self.client.ready = False
            self.disconnectedEvent.emit()

    def drop_connection(self) -> None:
        """The socket dies (as when the gateway goes away)."""
        self.disconnect()

    # -- contracts -----------------------------------------------------------------------
    async def qualifyContractsAsync(self, *contracts):  # noqa: N802, ANN002
        self.requests.append((self._now(), "qualify"))
        out = []
        for c in contracts:
            if c.secType == "CONTFUT":
                if not self.contfut or c.symbol != "ES":
                    out.append(None)
                    continue
                c.conId, c.lastTradeDateOrContractMonth, c.multiplier = 501, "20260320", "50"
                out.append(c)
            elif c.secType == "FUT" and c.conId in (501, 502):
                src = self.front if c.conId == 501 else self.next
                out.append(ibapi.Future(**{k: getattr(src, k) for k in (
                    "symbol", "lastTradeDateOrContractMonth", "exchange", "currency", "multiplier", "conId",
                    "localSymbol")}))
            elif c.secType == "FUT" and c.symbol == "ES" and c.lastTradeDateOrContractMonth.startswith("202606"):
                out.append(self.next)
            else:
                out.append(None)
        return out

    async def reqContractDetailsAsync(self, contract):  # noqa: N802, ANN001
        self.requests.append((self._now(), "details"))
        if contract.symbol != "ES":
            return []
        return [ibapi.ContractDetails(contract=self.next), ibapi.ContractDetails(contract=self.front)]

    # -- orders --------------------------------------------------------------------------
    def placeOrder(self, contract, order):  # noqa: N802, ANN001
        self.placed.append((self._now(), order))
        order.clientId = self.client_id
        status = ibapi.OrderStatus(orderId=order.orderId, status="PendingSubmit", remaining=order.totalQuantity)
        trade = ibapi.Trade(contract, order, status, [], [ibapi.TradeLogEntry(EPOCH, "PendingSubmit")])
        if order.orderId in self.forgotten:
            return trade  # lost on the way: the exchange never hears of it
        self.trades[order.orderId] = trade
        if self.auto_ack:
            self.status(order.orderId, "Submitted")
        return trade

    def cancelOrder(self, order):  # noqa: N802, ANN001
        self.cancels.append(order.orderId)
        trade = self.trades.get(order.orderId)
        if trade is None:
            self.error(order.orderId, 10147, f"OrderId {order.orderId} that needs to be cancelled is not found.")
        return trade

    def status(self, order_id: int, status: str) -> None:
        trade = self.trades[order_id]
        trade.orderStatus.status = status
        trade.log.append(ibapi.TradeLogEntry(EPOCH, status))
        self.orderStatusEvent.emit(trade)

    def fill(self, order_id: int, shares: int, price: float, commission: float = 2.0,
             exec_id: str | None = None, status: bool = True, live: bool = True) -> ibapi.Fill:
        """An execution of ``shares`` (unsigned); ``live`` sends it to the client now."""
        trade = self.trades[order_id]
        self._exec_seq += 1
        order = trade.order
        ex = ibapi.Execution(execId=exec_id or f"0001.{self._exec_seq:04d}", side="BOT" if order.action == "BUY" else "SLD",
                             shares=float(shares), price=price, orderId=order_id, clientId=order.clientId,
                             orderRef=order.orderRef, permId=1000 + order_id)
        fill = ibapi.Fill(trade.contract, ex, ibapi.CommissionReport(), EPOCH)
        self.fills.append(fill)
        trade.fills.append(fill)
        trade.orderStatus.filled += shares
        trade.orderStatus.remaining -= shares
        if live:
            self.execDetailsEvent.emit(trade, fill)
            fill.commissionReport.execId = ex.execId
            fill.commissionReport.commission = commission
            self.commissionReportEvent.emit(trade, fill, fill.commissionReport)
        else:
            fill.commissionReport.execId = ex.execId
            fill.commissionReport.commission = commission
        if status:
            self.status(order_id, "Filled" if trade.orderStatus.remaining <= 0 else "Submitted")
        return fill

    def error(self, req_id: int, code: int, message: str) -> None:
        trade = self.trades.get(req_id)
        if trade is not None and code not in (10147, 161):
            trade.orderStatus.status = "Cancelled"
            trade.log.append(ibapi.TradeLogEntry(EPOCH, "Cancelled", message, code))
            self.orderStatusEvent.emit(trade)
        self.errorEvent.emit(req_id, code, message, None)

    def managedAccounts(self) -> list[str]:  # noqa: N802
        return list(self.accounts)

    # -- requests --------------------------------------------------------------------------
    async def reqExecutionsAsync(self, execFilter=None):  # noqa: N802, N803, ANN001
        self.requests.append((self._now(), "executions"))
        return list(self.fills)

    async def reqOpenOrdersAsync(self):  # noqa: N802
        self.requests.append((self._now(), "openOrders"))
        return [t for t in self.trades.values() if t.orderStatus.status in ("Submitted", "PreSubmitted", "PendingSubmit")]

    async def reqAllOpenOrdersAsync(self):  # noqa: N802
        return await self.reqOpenOrdersAsync()

    async def reqCompletedOrdersAsync(self, apiOnly):  # noqa: N802, N803, ANN001
        self.requests.append((self._now(), "completedOrders"))
        return [t for t in self.trades.values() if t.orderStatus.status in ("Filled", "Cancelled", "Inactive")]

    async def reqPositionsAsync(self):  # noqa: N802
        self.requests.append((self._now(), "positions"))
        return list(self.positions_rows)

    def reqMktData(self, contract, genericTickList="", snapshot=False, regulatorySnapshot=False):  # noqa: N802, N803, ANN001
        self.requests.append((self._now(), "mktData"))
        ticker = ibapi.Ticker(contract=contract)
        self.tickers[contract.conId] = ticker
        return ticker

    async def reqHistoricalDataAsync(self, contract, endDateTime, durationStr, barSizeSetting, whatToShow,  # noqa: N802, N803, ANN001
                                     useRTH, formatDate=1, keepUpToDate=False, chartOptions=(), timeout=60):
        self.requests.append((self._now(), "historical"))
        return [ibapi.BarData(date=EPOCH + dt.timedelta(minutes=i), volume=100.0 + i) for i in range(5)]
