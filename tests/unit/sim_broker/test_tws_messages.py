"""Message layouts, checked against the installed IB client library's own decoder and encoder.

Every outgoing message is decoded by ``ib_async`` (or ``ib_insync``) at every server version
it accepts, and every request the client library encodes is parsed back; a layout error
would show up as a decoder exception in the library's log (docs reference, IB wire protocol).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib
import logging
import struct

import pytest

from sim_broker.tws import messages as m
from sim_broker.tws import requests as rq
from sim_broker.tws.codec import encode_frame, split_payload

for _name in ("ib_async", "ib_insync"):
    try:
        ib = importlib.import_module(_name)
        LIBRARY = _name
        break
    except ModuleNotFoundError:  # pragma: no cover
        continue
else:  # pragma: no cover
    pytest.skip("no IB client library installed", allow_module_level=True)

Decoder = importlib.import_module(f"{LIBRARY}.decoder").Decoder
Client = importlib.import_module(f"{LIBRARY}.client").Client
VERSIONS = list(range(157, Client.MaxClientVersion + 1))

ES = m.ContractRow(400002603, "ES", "FUT", "20260320", "202603", "50", "CME", "USD", "ESH6", 0.25, "E-mini S&P 500", "US/Central")
ORDER = m.OrderRow(8, 1, 1000001, "BUY", 3.0, "LMT", 5000.25, "DAY", "DU1", "ref", "Submitted")
EXEC = m.ExecRow(8, 1, 1000001, "S1", "20260302 10:30:00 America/New_York", "DU1", "BOT", 3.0, 5000.5, 3.0, 5000.5, "ref")


class Recorder:
    """A wrapper that records every call the decoder makes."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple]] = []
        self.ib = type("IBStub", (), {"TimezoneTWS": ""})()
        self.defaultTimezone = dt.timezone.utc

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return lambda *args: self.calls.append((name, args))


class Failures(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record.getMessage())


def decode(fields: list[object], version: int) -> list[tuple[str, tuple]]:
    wrapper = Recorder()
    failures = Failures()
    logger = logging.getLogger(f"{LIBRARY}.Decoder")
    logger.addHandler(failures)
    try:
        payload = encode_frame(fields)[4:]
        Decoder(wrapper, version).interpret(split_payload(payload))
    finally:
        logger.removeHandler(failures)
    assert not failures.records, failures.records
    return wrapper.calls


@pytest.mark.parametrize("v", VERSIONS)
def test_open_order_and_status_decode(v):
    ((name, (order_id, contract, order, state)),) = decode(m.encode_open_order(v, ORDER, ES), v)
    assert name == "openOrder" and order_id == 8
    assert (contract.conId, contract.localSymbol, contract.multiplier) == (400002603, "ESH6", "50")
    assert (order.action, order.totalQuantity, order.orderType, order.lmtPrice, order.permId, order.clientId) == (
        "BUY", 3.0, "LMT", 5000.25, 1000001, 1)
    assert state.status == "Submitted"
    ((name, args),) = decode(m.encode_order_status(8, "Filled", 3.0, 0.0, 5000.5, 1000001, 5000.5, 1), v)
    assert name == "orderStatus" and args[:3] == (8, "Filled", 3.0) and args[8] == 1


@pytest.mark.parametrize("v", VERSIONS)
def test_completed_order_decodes(v):
    ((name, (contract, order, state)),) = decode(m.encode_completed_order(v, ORDER, ES, 3.0, "20260302 10:31:00 America/New_York"), v)
    assert name == "completedOrder"
    assert contract.conId == ES.con_id and order.permId == 1000001 and state.status == "Submitted"


@pytest.mark.parametrize("v", VERSIONS)
def test_execution_commission_and_position_decode(v):
    ((name, (req_id, contract, ex)),) = decode(m.encode_exec_details(v, -1, EXEC, ES), v)
    assert name == "execDetails" and req_id == -1
    assert (ex.execId, ex.side, ex.shares, ex.price, ex.permId, ex.orderId) == ("S1", "BOT", 3.0, 5000.5, 1000001, 8)
    assert ex.time == dt.datetime(2026, 3, 2, 15, 30, tzinfo=dt.timezone.utc)
    ((name, (report,)),) = decode(m.encode_commission("S1", 6.0, "USD", None), v)
    assert (report.execId, report.commission, report.currency) == ("S1", 6.0, "USD")
    ((name, (account, contract, pos, cost)),) = decode(m.encode_position("DU1", ES, -4.0, 250_000.0), v)
    assert (name, account, contract.conId, pos, cost) == ("position", "DU1", ES.con_id, -4.0, 250_000.0)
    ((name, args),) = decode(m.encode_portfolio("DU1", ES, 2.0, 5001.0, 500_100.0, 250_000.0, 100.0, 0.0), v)
    assert name == "updatePortfolio" and args[0].primaryExchange == "CME" and args[1:3] == (2.0, 5001.0)


@pytest.mark.parametrize("v", VERSIONS)
def test_contract_details_decode(v):
    calls = decode(m.encode_contract_details(v, 4, ES, "CME", 0), v)
    ((name, (req_id, cd)),) = calls
    assert name == "contractDetails" and req_id == 4
    c = cd.contract
    assert (c.conId, c.symbol, c.secType, c.lastTradeDateOrContractMonth, c.exchange, c.currency) == (
        400002603, "ES", "FUT", "20260320", "CME", "USD")
    assert (cd.minTick, cd.contractMonth, cd.longName, c.multiplier) == (0.25, "202603", "E-mini S&P 500", "50")


@pytest.mark.parametrize("v", [157, 166, VERSIONS[-1]])
def test_error_ticks_and_bars_decode(v):
    ((name, args),) = decode(m.encode_error(v, 7, 200, "No security definition"), v)
    assert name == "error" and args[:3] == (7, 200, "No security definition")
    ((name, args),) = decode(m.encode_tick_price(v, 3, m.TickType.BID, 5000.25, 12.0), v)
    assert name == "priceSizeTick" and args == (3, 1, 5000.25, 12.0)
    ((name, args),) = decode(m.encode_tick_size(v, 3, m.TickType.VOLUME, 1234.0), v)
    assert name == "tickSize" and args == (3, 8, 1234.0)
    bar = m.BarRow("20260302 09:30:00 America/New_York", 1.0, 2.0, 0.5, 1.5, 10.0, 1.25, 5)
    calls = decode(m.encode_historical_data(v, 9, "a", "b", [bar, bar]), v)
    assert [c[0] for c in calls] == ["historicalData", "historicalData", "historicalDataEnd"]


class _Capture:
    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def sendMsg(self, msg: bytes) -> None:  # noqa: N802 - the library's name
        self.sent.append(msg)


@pytest.fixture
def client_loop():
    """ib_insync's ``Client`` asks for the current event loop when it is built, and an earlier
    async test may have left none set: give it a loop of its own for the test."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield loop
    asyncio.set_event_loop(None)
    loop.close()


def client_request(v: int, call) -> rq.Request:
    client = Client(Recorder())
    client.MaxRequests = 0
    client._serverVersion = v
    client.connState = Client.CONNECTED
    capture = _Capture()
    client.conn = capture
    call(client)
    (raw,) = capture.sent
    assert struct.unpack(">I", raw[:4])[0] == len(raw) - 4
    return rq.parse_request(split_payload(raw[4:]), v)


@pytest.mark.parametrize("v", VERSIONS)
def test_place_order_as_the_client_encodes_it(v, client_loop):
    fut = ib.Future(conId=400002603, symbol="ES", lastTradeDateOrContractMonth="202603", exchange="CME")
    order = ib.LimitOrder("SELL", 2, 5000.25, tif="IOC", orderRef="x1")
    r = client_request(v, lambda c: c.placeOrder(12, fut, order))
    assert isinstance(r, rq.PlaceOrder)
    assert (r.order_id, r.action, r.quantity, r.order_type, r.lmt_price, r.tif, r.order_ref, r.what_if) == (
        12, "SELL", 2.0, "LMT", 5000.25, "IOC", "x1", False)
    assert (r.contract.con_id, r.contract.symbol, r.contract.last_trade, r.contract.exchange) == (400002603, "ES", "202603", "CME")
    order.whatIf = True
    assert client_request(v, lambda c: c.placeOrder(13, fut, order)).what_if is True


@pytest.mark.parametrize("v", [157, VERSIONS[-1]])
def test_other_requests_as_the_client_encodes_them(v, client_loop):
    fut = ib.Future("ZN", "202603", "CBOT")
    r = client_request(v, lambda c: c.reqContractDetails(5, fut))
    assert isinstance(r, rq.ReqContractDetails) and r.req_id == 5 and r.contract.symbol == "ZN"
    r = client_request(v, lambda c: c.reqMktData(6, fut, "", True, False, []))
    assert isinstance(r, rq.ReqMktData) and r.snapshot is True
    r = client_request(v, lambda c: c.reqHistoricalData(7, fut, "", "1 D", "5 mins", "TRADES", 1, 1, False, []))
    assert isinstance(r, rq.ReqHistoricalData) and (r.duration, r.bar_size, r.format_date) == ("1 D", "5 mins", 1)
    r = client_request(v, lambda c: c.cancelOrder(12))
    assert r == rq.CancelOrder(12)
    r = client_request(v, lambda c: c.reqExecutions(8, ib.ExecutionFilter(clientId=3, symbol="ES")))
    assert isinstance(r, rq.ReqExecutions) and (r.req_id, r.client_id, r.symbol) == (8, 3, "ES")
    r = client_request(v, lambda c: c.reqAccountUpdates(True, "DU1"))
    assert r == rq.ReqAccountUpdates(True, "DU1")
