"""An unmodified IB client trades the simulator through the TWS-API gateway.

The client is ``ib_async`` when installed, else ``ib_insync`` (same API; ``.ci/run`` runs
this module again in a second environment with ``ib_insync`` 0.9.86, protocol 176). The
gateway runs in a background thread on a paced virtual-time loop (``speed`` simulated
seconds per wall second) on an ephemeral loopback port. Every test fails if the client logs
a message it could not decode (protocol facts: docs reference, "Interactive Brokers").
"""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib
import logging
import socket
import struct
import time

import pytest

from pricing.contracts import REGISTRY
from sim_broker.tws.server import GatewayConfig, GatewayThread
from sim_broker.params import ROOT_DEFAULTS

for _name in ("ib_async", "ib_insync"):
    try:
        ib = importlib.import_module(_name)
        LIBRARY = _name
        break
    except ModuleNotFoundError:  # pragma: no cover - depends on the environment
        continue
else:  # pragma: no cover
    pytest.skip("neither ib_async nor ib_insync is installed", allow_module_level=True)

CLIENT_MAX = importlib.import_module(f"{LIBRARY}.client").Client.MaxClientVersion
SESSION_DATE = dt.date(2026, 3, 2)
START = 10 * 3600 + 30 * 60  # 10:30, an hour into the 09:30 session
SPEED = 30.0
_DECODE_WORDS = ("error handling fields", "decode", "unknown message", "unpack")


class DecodeGuard(logging.Handler):
    """Collects client log records that reveal a message the library could not decode."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.bad: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.name.endswith(".Decoder") or (
            record.levelno >= logging.ERROR and any(w in text.lower() for w in _DECODE_WORDS)
        ):
            self.bad.append(f"{record.name}: {text}")


@pytest.fixture
def gateway():
    with GatewayThread(GatewayConfig(speed=SPEED, session_date=SESSION_DATE, start=START, quote_interval=1.0)) as gw:
        yield gw


@pytest.fixture(autouse=True)
def decode_guard():
    guard = DecodeGuard()
    logger = logging.getLogger(LIBRARY)
    logger.addHandler(guard)
    logger.setLevel(logging.DEBUG)
    yield guard
    logger.removeHandler(guard)
    assert not guard.bad, f"{LIBRARY} could not decode: {guard.bad}"


async def connect(gw: GatewayThread, client_id: int = 1, timeout: float = 5.0):
    client = ib.IB()
    await client.connectAsync(gw.host, gw.port, clientId=client_id, timeout=timeout)
    return client


async def until(predicate, wall_seconds: float = 5.0) -> None:
    """Yield to the client's loop until ``predicate()`` holds (the gateway runs meanwhile)."""
    deadline = time.monotonic() + wall_seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.002)


def front(root: str) -> tuple[int, int]:
    return REGISTRY[root].contract_month(SESSION_DATE)


def es_future():
    y, mo = front("ES")
    return ib.Future("ES", f"{y}{mo:02d}", "CME")


async def test_connect_negotiates_the_lower_maximum_and_syncs(gateway):
    client = await connect(gateway)
    try:
        assert client.isConnected()
        assert client.client.serverVersion() == min(CLIENT_MAX, 178)
        assert client.managedAccounts() == ["DU1000001"]
        assert client.positions() == []
        assert client.openTrades() == []
        values = {v.tag: v.value for v in client.accountValues()}
        assert float(values["NetLiquidation"]) == pytest.approx(1_000_000.0)
    finally:
        client.disconnect()


async def test_qualify_es_zn_fesx_and_the_continuous_front(gateway):
    client = await connect(gateway)
    try:
        wanted = {"ES": "CME", "ZN": "CBOT", "FESX": "EUREX"}
        contracts = [ib.Future(root, "%d%02d" % front(root), exch) for root, exch in wanted.items()]
        cont = ib.ContFuture("ES", "CME")
        result = await client.qualifyContractsAsync(*contracts, cont)
        assert all(c is not None for c in result)
        for c in contracts:
            spec = REGISTRY[c.symbol]
            y, mo = front(c.symbol)
            assert c.conId > 0
            assert c.exchange == wanted[c.symbol]
            assert c.lastTradeDateOrContractMonth == spec.expiry(y, mo).strftime("%Y%m%d")
            assert float(c.multiplier) == spec.multiplier
            assert c.currency == spec.currency
            assert c.localSymbol == spec.local_symbol(y, mo)
        assert cont.conId == contracts[0].conId  # the continuous future resolves to the front ES
        details = await client.reqContractDetailsAsync(ib.Future("ZN", exchange="CBOT"))
        # ZNH6 (rolled from on 2026-02-23, trading until 2026-03-20), the front ZNM6 and the next
        # ZNU6: without a month the future is ambiguous
        assert len(details) == 3
        assert details[0].minTick == pytest.approx(1 / 64)
    finally:
        client.disconnect()


async def test_unknown_symbol_gets_error_200(gateway):
    client = await connect(gateway)
    errors = []
    client.errorEvent += lambda req_id, code, text, contract: errors.append(code)
    try:
        result = await client.qualifyContractsAsync(ib.Future("XYZ", "202603", "CME"), ib.Future("ES", "202603", "GLOBEX"))
        assert not any(result)  # ib_async keeps a None per contract, ib_insync drops them
        assert errors == [200, 200]
    finally:
        client.disconnect()


async def test_market_order_fills_with_commission_and_moves_positions(gateway):
    client = await connect(gateway)
    try:
        es = es_future()
        await client.qualifyContractsAsync(es)
        trade = client.placeOrder(es, ib.MarketOrder("BUY", 3))
        await until(lambda: trade.isDone() and trade.fills and trade.fills[-1].commissionReport.execId)
        assert trade.orderStatus.status == "Filled"
        assert trade.orderStatus.filled == 3
        assert sum(f.execution.shares for f in trade.fills) == 3
        commission = sum(f.commissionReport.commission for f in trade.fills)
        assert commission == pytest.approx(3 * ROOT_DEFAULTS["ES"].fee_per_contract)
        avg = trade.orderStatus.avgFillPrice
        await until(lambda: any(p.position == 3 for p in client.positions()))
        (pos,) = client.positions()
        assert pos.contract.conId == es.conId
        assert pos.avgCost == pytest.approx(avg * 50)  # IB reports futures cost per contract
        await until(lambda: any(p.position == 3 for p in client.portfolio()))
        fills = await client.reqExecutionsAsync()
        assert [f.execution.execId for f in fills] == [f.execution.execId for f in trade.fills]
    finally:
        client.disconnect()


async def test_limit_order_rests_then_cancels(gateway):
    client = await connect(gateway)
    try:
        es = es_future()
        await client.qualifyContractsAsync(es)
        trade = client.placeOrder(es, ib.LimitOrder("BUY", 1, 4000.0))  # far below the market
        await until(lambda: trade.orderStatus.status == "Submitted")
        await asyncio.sleep(0.05)
        assert trade.orderStatus.status == "Submitted" and not trade.fills
        client.cancelOrder(trade.order)
        await until(lambda: trade.orderStatus.status == "Cancelled")
        assert trade.orderStatus.filled == 0
        assert client.positions() == []
    finally:
        client.disconnect()


async def test_modified_limit_order_becomes_marketable_and_fills(gateway):
    client = await connect(gateway)
    try:
        es = es_future()
        await client.qualifyContractsAsync(es)
        order = ib.LimitOrder("SELL", 2, 6000.0)
        trade = client.placeOrder(es, order)
        await until(lambda: trade.orderStatus.status == "Submitted")
        order.lmtPrice = 4000.0  # now marketable
        client.placeOrder(es, order)
        await until(lambda: trade.orderStatus.status == "Filled")
        assert trade.orderStatus.filled == 2
        assert trade.order.permId == trade.orderStatus.permId
    finally:
        client.disconnect()


async def test_historical_bars_cover_the_session_so_far(gateway):
    client = await connect(gateway)
    try:
        es = es_future()
        await client.qualifyContractsAsync(es)
        bars = await client.reqHistoricalDataAsync(es, "", "3600 S", "5 mins", "TRADES", False)
        assert len(bars) == 12  # 09:30-10:30 in five-minute bars
        assert all(b.low <= min(b.open, b.close) <= max(b.open, b.close) <= b.high for b in bars)
        assert all(b.volume > 0 for b in bars)
        times = [b.date for b in bars]
        assert times == sorted(times) and (times[1] - times[0]).total_seconds() == 300
    finally:
        client.disconnect()


async def test_streaming_quotes(gateway):
    client = await connect(gateway)
    try:
        es = es_future()
        await client.qualifyContractsAsync(es)
        ticker = client.reqMktData(es)
        await until(lambda: ticker.bid > 0 and ticker.ask > 0 and ticker.last > 0 and ticker.volume > 0)
        assert ticker.ask - ticker.bid == pytest.approx(0.25)  # one-tick spread (registry tick)
        first_volume = ticker.volume
        await until(lambda: ticker.volume > first_volume)  # the market keeps trading
        client.cancelMktData(es)
    finally:
        client.disconnect()


async def test_two_clients_at_once_and_a_duplicate_client_id_is_refused(gateway):
    a = await connect(gateway, 1)
    b = await connect(gateway, 2)
    try:
        es = es_future()
        await a.qualifyContractsAsync(es)
        ta = a.placeOrder(es, ib.MarketOrder("BUY", 1))
        tb = b.placeOrder(es, ib.MarketOrder("SELL", 1))
        await until(lambda: ta.isDone() and tb.isDone())
        assert ta.orderStatus.status == tb.orderStatus.status == "Filled"
        dup = ib.IB()
        errors = []
        dup.errorEvent += lambda req_id, code, text, contract: errors.append(code)
        with pytest.raises((ConnectionError, asyncio.TimeoutError, TimeoutError)):
            await dup.connectAsync(gateway.host, gateway.port, clientId=1, timeout=1.0)
        assert not dup.isConnected()
        assert a.isConnected()  # the first holder of the id is unaffected
        await a.reqCurrentTimeAsync()
    finally:
        a.disconnect()
        b.disconnect()


def _raw_client(gw: GatewayThread) -> socket.socket:
    sock = socket.create_connection((gw.host, gw.port), timeout=5)
    body = b"v157..178"
    sock.sendall(b"API\0" + struct.pack(">I", len(body)) + body)
    return sock


async def test_malformed_frame_drops_only_that_client(gateway):
    good = await connect(gateway, 1)
    try:
        bad = _raw_client(gateway)
        bad.settimeout(5)
        answer = await asyncio.to_thread(bad.recv, 4096)
        assert answer  # the handshake (server version, connection time) was answered
        bad.sendall(struct.pack(">I", 5) + b"71\x002\x00")  # startApi without its client id
        bad.sendall(struct.pack(">I", 3) + b"xy\0")

        def until_dropped() -> bool:
            # a close with our second frame still unread reaches us as a reset: also a drop
            try:
                while bad.recv(4096):
                    pass
            except ConnectionResetError:
                pass
            return True

        assert await asyncio.to_thread(until_dropped)
        bad.close()
        assert good.isConnected()
        es = es_future()
        assert (await good.qualifyContractsAsync(es))[0] is not None
    finally:
        good.disconnect()


async def test_client_that_disconnects_mid_order_finds_it_on_reconnect(gateway):
    first = await connect(gateway, 7)
    es = es_future()
    await first.qualifyContractsAsync(es)
    trade = first.placeOrder(es, ib.LimitOrder("BUY", 1, 4000.0))
    await until(lambda: trade.orderStatus.status == "Submitted")
    first.disconnect()
    other = await connect(gateway, 8)
    again = None
    try:
        t2 = other.placeOrder(es, ib.MarketOrder("BUY", 1))
        await until(t2.isDone)
        again = await connect(gateway, 7)
        open_ids = [t.order.orderId for t in again.openTrades()]
        assert trade.order.orderId in open_ids
    finally:
        other.disconnect()
        if again is not None:
            again.disconnect()
