"""The official ``ibapi`` client (9.81, protocol 157: integer sizes) against the gateway.

``ibapi`` and ``ib_async`` are installed in separate environments (``.ci/run`` runs this module
again in one with ``ibapi`` from PyPI); without ``ibapi`` the module is skipped. The client runs
its reader thread as a user script would (``EClient`` + ``EWrapper``); every callback is recorded
with its request id and the test waits for the one it asked for. Any exception in the client's
decoder fails the test (``ibapi`` logs and swallows them). Protocol facts: TWS API reference;
CME Globex hours 17:00-16:00 CT.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import defaultdict

import pytest

from sim_broker.tws.server import GatewayConfig, GatewayThread

client_mod = pytest.importorskip("ibapi.client")
wrapper_mod = pytest.importorskip("ibapi.wrapper")
from ibapi.contract import Contract  # noqa: E402
from ibapi.order import Order  # noqa: E402

MONDAY = dt.date(2026, 3, 2)
OPEN_1800_ET = int(dt.datetime(2026, 3, 2, 23, 0, 1, tzinfo=dt.timezone.utc).timestamp())  # 18:00:01 ET


class App(wrapper_mod.EWrapper, client_mod.EClient):
    """Records every callback as ``(name, args)`` under its request or order id."""

    def __init__(self) -> None:
        wrapper_mod.EWrapper.__init__(self)
        client_mod.EClient.__init__(self, self)
        self.got: dict[int, list[tuple[str, tuple]]] = defaultdict(list)
        self.next_id: int | None = None
        self.lock = threading.Lock()

    def _rec(self, key: int, name: str, *args) -> None:
        with self.lock:
            self.got[key].append((name, args))

    def nextValidId(self, orderId):  # noqa: N802, N803
        self.next_id = orderId

    def error(self, reqId, errorCode, errorString):  # noqa: N802, N803
        self._rec(reqId, "error", errorCode, errorString)

    def contractDetails(self, reqId, cd):  # noqa: N802, N803
        self._rec(reqId, "contractDetails", cd)

    def contractDetailsEnd(self, reqId):  # noqa: N802, N803
        self._rec(reqId, "end")

    def historicalData(self, reqId, bar):  # noqa: N802, N803
        self._rec(reqId, "bar", bar)

    def historicalDataEnd(self, reqId, start, end):  # noqa: N802, N803
        self._rec(reqId, "end")

    def historicalDataUpdate(self, reqId, bar):  # noqa: N802, N803
        self._rec(reqId, "update", bar)

    def headTimestamp(self, reqId, headTimestamp):  # noqa: N802, N803
        self._rec(reqId, "head", headTimestamp)

    def symbolSamples(self, reqId, descs):  # noqa: N802, N803
        self._rec(reqId, "symbols", descs)

    def pnl(self, reqId, daily, unrealized, realized):  # noqa: N802, N803
        self._rec(reqId, "pnl", daily, unrealized, realized)

    def realtimeBar(self, reqId, time, open_, high, low, close, volume, wap, count):  # noqa: N802, N803
        self._rec(reqId, "rtbar", open_, high, low, close, volume)

    def tickByTickBidAsk(self, reqId, time, bid, ask, bidSize, askSize, attrib):  # noqa: N802, N803
        self._rec(reqId, "bidask", bid, ask, bidSize, askSize)

    def tickPrice(self, reqId, tickType, price, attrib):  # noqa: N802, N803
        self._rec(reqId, "price", tickType, price)

    def orderStatus(self, orderId, status, filled, remaining, *rest):  # noqa: N802, N803
        self._rec(orderId, "status", status, filled)

    def openOrder(self, orderId, contract, order, state):  # noqa: N802, N803
        self._rec(orderId, "open", order, state)

    def currentTime(self, time):  # noqa: N802
        self._rec(-2, "time", time)

    # ------------------------------------------------------------ helpers

    def now(self) -> int:
        """The gateway's clock (epoch seconds), asked for and waited for."""
        before = len(self.calls(-2, "time"))
        self.reqCurrentTime()
        self.wait(lambda: len(self.calls(-2, "time")) > before)
        return self.calls(-2, "time")[-1][0]

    def calls(self, key: int, name: str) -> list[tuple]:
        with self.lock:
            return [args for n, args in self.got[key] if n == name]

    def wait(self, predicate, seconds: float = 10.0) -> None:
        deadline = time.monotonic() + seconds
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not reached; received {[(k, v[-5:]) for k, v in self.got.items()]}")
            time.sleep(0.005)

    def status(self, order_id: int) -> str:
        st = self.calls(order_id, "status")
        return st[-1][0] if st else ""


class DecoderErrors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.bad: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.bad.append(record.getMessage())


@pytest.fixture
def decoder_errors():
    handler = DecoderErrors()
    logging.getLogger("ibapi").addHandler(handler)
    yield handler
    logging.getLogger("ibapi").removeHandler(handler)
    assert not handler.bad, handler.bad


def connect(gw: GatewayThread, client_id: int = 1) -> App:
    app = App()
    app.connect(gw.host, gw.port, client_id)
    threading.Thread(target=app.run, daemon=True).start()
    app.wait(lambda: app.next_id is not None)
    return app


def gateway(day: dt.date = MONDAY, start: float = 10.5 * 3600, speed: float = 30.0) -> GatewayThread:
    return GatewayThread(GatewayConfig(speed=speed, session_date=day, start=start))


def es() -> Contract:
    c = Contract()
    c.symbol, c.secType, c.exchange, c.currency, c.lastTradeDateOrContractMonth = "ES", "FUT", "CME", "USD", "202603"
    return c


def order(action: str, qty: int, kind: str, lmt: float | None = None, aux: float | None = None, **kw) -> Order:
    o = Order()
    o.action, o.totalQuantity, o.orderType = action, qty, kind
    if lmt is not None:
        o.lmtPrice = lmt
    if aux is not None:
        o.auxPrice = aux
    for k, v in kw.items():
        setattr(o, k, v)
    return o


def on_tick(x: float, tick: float) -> bool:
    return abs(x / tick - round(x / tick)) < 1e-9


def last_price(app: App, req_id: int) -> float:
    app.reqMktData(req_id, es(), "", False, False, [])
    app.wait(lambda: any(t == 4 for t, _ in app.calls(req_id, "price")))
    return [p for t, p in app.calls(req_id, "price") if t == 4][-1]


@pytest.mark.parametrize("day,start", [(MONDAY, 10.5 * 3600), (dt.date(2026, 3, 7), 12 * 3600)])
def test_charts_on_tick_with_integer_volumes(decoder_errors, day, start):
    with gateway(day, start) as gw:
        app = connect(gw)
        try:
            app.reqContractDetails(1, es())
            app.reqHistoricalData(2, es(), "", "5 D", "1 hour", "TRADES", 0, 1, False, [])
            app.reqHistoricalData(3, es(), "", "1 D", "1 min", "TRADES", 0, 1, False, [])
            app.reqHistoricalData(4, es(), "", "1 D", "7 mins", "TRADES", 0, 1, False, [])
            for req in (1, 2, 3):
                app.wait(lambda req=req: app.calls(req, "end"))
            app.wait(lambda: app.calls(4, "error"))
        finally:
            app.disconnect()
    (cd,), = app.calls(1, "contractDetails")[:1]
    assert cd.tradingHours.startswith("20260301:1700-20260302:1600") or "CLOSED" in cd.tradingHours
    hourly = [b for (b,) in app.calls(2, "bar")]
    minutes = [b for (b,) in app.calls(3, "bar")]
    assert len(hourly) >= 4 * 23 and len(minutes) >= 30
    for b in hourly + minutes:
        assert isinstance(b.volume, int) and b.volume >= 0
        assert all(on_tick(x, 0.25) for x in (b.open, b.high, b.low, b.close))
    assert app.calls(4, "error")[0][0] == 162


def test_requests_answered_with_their_own_ids(decoder_errors):
    with gateway() as gw:
        app = connect(gw)
        try:
            app.reqHeadTimeStamp(10, es(), "TRADES", 0, 1)
            app.reqMatchingSymbols(11, "ES")
            app.reqPnL(12, "DU1000001", "")
            app.reqRealTimeBars(13, es(), 5, "TRADES", False, [])
            app.reqTickByTickData(14, es(), "BidAsk", 0, False)
            app.reqHistoricalData(15, es(), "", "1 D", "1 min", "TRADES", 0, 1, True, [])
            for req, name in ((10, "head"), (11, "symbols"), (12, "pnl"), (13, "rtbar"), (14, "bidask"), (15, "update")):
                app.wait(lambda req=req, name=name: app.calls(req, name), 15.0)
            order_id = app.next_id
            app.placeOrder(order_id, es(), order("BUY", 2, "MKT", whatIf=True))
            app.wait(lambda: app.calls(order_id, "open"))
        finally:
            app.disconnect()
    assert isinstance(app.calls(13, "rtbar")[0][4], int)
    assert isinstance(app.calls(14, "bidask")[0][2], int)
    _, state = app.calls(order_id, "open")[0]
    assert float(state.initMarginChange) > 0 and float(state.commission) == pytest.approx(4.0)
    assert app.status(order_id) == ""  # a what-if order is not placed


def test_stop_bracket_and_a_globex_fill(decoder_errors):
    # 15:28 ET is 20:28 UTC: after the cash close, inside Globex hours
    with gateway(start=15 * 3600 + 28 * 60, speed=120.0) as gw:
        app = connect(gw)
        try:
            last = last_price(app, 20)
            n = app.next_id
            app.placeOrder(n, es(), order("BUY", 1, "MKT"))
            app.placeOrder(n + 1, es(), order("BUY", 1, "STP", aux=last + 0.25))
            app.placeOrder(n + 2, es(), order("SELL", 1, "STP", aux=last - 0.25))
            parent = order("BUY", 1, "LMT", lmt=last + 2.0, transmit=False)
            take = order("SELL", 1, "LMT", lmt=last + 0.5, parentId=n + 3, transmit=False)
            stop = order("SELL", 1, "STP", aux=last - 0.5, parentId=n + 3, transmit=True)
            for i, o in enumerate((parent, take, stop)):
                app.placeOrder(n + 3 + i, es(), o)
            app.wait(lambda: app.status(n) == "Filled")
            app.wait(lambda: "Filled" in (app.status(n + 1), app.status(n + 2)), 30.0)
            app.wait(lambda: app.status(n + 3) == "Filled")
            app.wait(lambda: {app.status(n + 4), app.status(n + 5)} == {"Filled", "Cancelled"}, 60.0)
        finally:
            app.disconnect()


def test_gtc_order_survives_the_session_end(decoder_errors):
    # 16:58 ET: the CME session ends at 17:00 ET and the next opens at 18:00 ET
    with gateway(start=16 * 3600 + 58 * 60, speed=600.0) as gw:
        app = connect(gw)
        try:
            last = last_price(app, 30)
            n = app.next_id
            app.placeOrder(n, es(), order("BUY", 1, "LMT", lmt=last - 25, tif="GTC"))
            app.placeOrder(n + 1, es(), order("BUY", 1, "LMT", lmt=last - 25, tif="DAY"))
            app.wait(lambda: app.status(n) == "Submitted" and app.status(n + 1) == "Submitted")
            app.wait(lambda: app.status(n + 1) == "Cancelled", 10.0)  # the DAY order ends with the session
            while app.now() < OPEN_1800_ET:  # until the next session opened
                time.sleep(0.1)
            app.wait(lambda: app.status(n) == "Submitted")
            app.placeOrder(n, es(), order("BUY", 1, "LMT", lmt=last + 25, tif="GTC"))  # now marketable
            app.wait(lambda: app.status(n) == "Filled", 10.0)
        finally:
            app.disconnect()
