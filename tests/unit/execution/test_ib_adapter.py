"""The IB adapter against a scripted client (virtual time, no sockets)."""

from __future__ import annotations

import asyncio

import ib_async as ibapi
import numpy as np
import pytest
from test_ib_support import FakeIB

from execution.broker import (
    Broker,
    CancelRejected,
    ConnectionChanged,
    Execution,
    OrderAccepted,
    OrderCancelled,
    OrderFilled,
    OrderRejected,
    OrderRequest,
    OrderType,
)
from execution.ib.adapter import REQUEST_ID_BLOCK, IBBroker
from execution.ib.settings import ContractNotFound, IBSettings, LivePortRefused
from execution.ib.mapping import FutureRef
from execution.ib.orders import execution_key
from execution.vtime import run

ES = FutureRef("ES", "ES", "CME", "USD", 50.0)
FAST = dict(ack_timeout=2.0, commission_wait=0.2, reconcile_interval=1.0, reconnect_initial=0.5,
            reconnect_max=4.0, request_timeout=5.0)


async def connected(fake: FakeIB, **kw) -> IBBroker:
    broker = IBBroker(IBSettings(**{**FAST, **kw}), ib=fake)
    await broker.connect()
    await broker.resolve([ES])
    return broker


async def take(broker: IBBroker, n: int, within: float = 60.0) -> list:
    out = []
    it = broker.events()
    async with asyncio.timeout(within):
        while len(out) < n:
            out.append(await it.__anext__())
    return out


async def quiet(broker: IBBroker, seconds: float) -> list:
    """Every event within ``seconds`` of virtual time."""
    out = []
    it = broker.events()
    try:
        async with asyncio.timeout(seconds):
            while True:
                out.append(await it.__anext__())
    except TimeoutError:
        return out


def test_live_ports_are_refused_before_any_connection():
    # Reference facts, Interactive Brokers: TWS live 7496, Gateway live 4001.
    for port in (7496, 4001):
        fake = FakeIB()
        with pytest.raises(LivePortRefused, match="--allow-live"):
            IBBroker(IBSettings(port=port), ib=fake)
        assert fake.connect_calls == 0
    fake = FakeIB()
    broker = IBBroker(IBSettings(port=7496, allow_live=True, **FAST), ib=fake)

    async def main():
        await broker.connect()
        await broker.close()

    run(main)
    assert fake.connect_calls == 1


def test_it_is_a_broker():
    assert isinstance(IBBroker(IBSettings(), ib=FakeIB()), Broker)


def test_front_contract_is_resolved_from_the_continuous_future():
    async def main():
        broker = await connected(FakeIB(contfut=True))
        c = broker.contract("ES")
        assert (c.secType, c.conId, c.lastTradeDateOrContractMonth) == ("FUT", 501, "20260320")
        await broker.close()

    run(main)


def test_without_contfut_the_earliest_listed_expiry_is_traded():
    async def main():
        broker = await connected(FakeIB(contfut=False))
        assert broker.contract("ES").conId == 501
        await broker.close()

    run(main)


def test_pinned_month_and_unknown_or_mismatched_contracts():
    async def main():
        fake = FakeIB()
        broker = IBBroker(IBSettings(**FAST), ib=fake)
        await broker.connect()
        await broker.resolve([FutureRef("ES", "ES", "CME", "USD", 50.0, "202606")])
        assert broker.contract("ES").conId == 502
        with pytest.raises(ContractNotFound, match="IB error 200"):
            await broker.resolve([FutureRef("ZZ", "ZZ", "CME", "USD", 1.0)])
        with pytest.raises(ContractNotFound, match="multiplier"):
            await broker.resolve([FutureRef("MES", "ES", "CME", "USD", 5.0)])
        await broker.close()

    run(main)


def test_order_ids_start_above_next_valid_id_and_the_journal():
    async def main():
        fake = FakeIB(next_valid_id=40)
        broker = await connected(fake)
        assert broker.first_order_id(1) == 40
        assert broker.first_order_id(120) == 120
        # request ids live a block above the order ids
        assert fake.client.seq >= 120 + REQUEST_ID_BLOCK
        await broker.close()

    run(main)


def test_a_filled_order_reports_ack_execution_with_commission_and_fill():
    async def main():
        fake = FakeIB()
        broker = await connected(fake)
        broker.submit(OrderRequest(7, "ES", -3, OrderType.LIMIT, 5000.25))
        (ack,) = await take(broker, 1)
        assert isinstance(ack, OrderAccepted) and ack.order_id == 7
        placed = fake.placed[0][1]
        assert (placed.action, placed.totalQuantity, placed.orderType, placed.lmtPrice, placed.orderRef) == (
            "SELL", 3.0, "LMT", 5000.25, "overlay-7")
        fake.fill(7, 1, 5000.25, commission=1.5)
        fake.fill(7, 2, 5000.5, commission=3.0)
        events = await take(broker, 3)
        assert [type(e) for e in events] == [Execution, Execution, OrderFilled]
        assert [(e.quantity, e.price, e.fee) for e in events[:2]] == [(-1, 5000.25, 1.5), (-2, 5000.5, 3.0)]
        assert events[2].filled == -3
        assert await quiet(broker, 10.0) == []
        await broker.close()

    run(main)


def test_an_execution_seen_twice_is_reported_once():
    async def main():
        fake = FakeIB()
        broker = await connected(fake)
        broker.submit(OrderRequest(1, "ES", 2))
        await take(broker, 1)
        fill = fake.fill(1, 1, 5000.0, status=False)
        fake.execDetailsEvent.emit(fake.trades[1], fill)  # the same execId again
        await broker.reconcile()  # and once more through reqExecutions
        events = await quiet(broker, 5.0)
        assert [type(e) for e in events] == [Execution]
        await broker.close()

    run(main)


@pytest.mark.parametrize("code, expected", [(201, OrderRejected), (200, OrderRejected), (202, OrderCancelled)])
def test_error_codes_end_the_order(code, expected):
    async def main():
        fake = FakeIB(auto_ack=False)
        broker = await connected(fake)
        broker.submit(OrderRequest(3, "ES", 1))
        await asyncio.sleep(0.1)
        fake.error(3, code, "nope")
        events = await quiet(broker, 1.0)
        assert [type(e) for e in events] == [expected]
        if expected is OrderRejected:
            assert events[0].code == code
        await broker.close()

    run(main)


def test_fill_after_cancel_keeps_the_announced_quantity_and_still_reports_the_execution():
    async def main():
        fake = FakeIB()
        broker = await connected(fake)
        broker.submit(OrderRequest(5, "ES", 4))
        await take(broker, 1)
        fake.fill(5, 1, 5000.0, status=False)
        late = fake.fill(5, 1, 5000.25, status=False, live=False)  # executed, not yet delivered
        broker.cancel(5)
        await asyncio.sleep(0.1)
        assert fake.cancels == [5]
        fake.status(5, "Cancelled")  # IB's filled count includes the undelivered execution
        events = await take(broker, 2)
        assert isinstance(events[0], Execution)
        assert isinstance(events[1], OrderCancelled) and events[1].filled == 2
        fake.execDetailsEvent.emit(fake.trades[5], late)
        (ev,) = await take(broker, 1)
        assert isinstance(ev, Execution) and ev.quantity == 1 and ev.exec_id == late.execution.execId
        await broker.close()

    run(main)


def test_a_silently_dropped_order_is_cancelled_then_reported_lost():
    async def main():
        fake = FakeIB()
        fake.forgotten.add(9)
        broker = await connected(fake)
        broker.submit(OrderRequest(9, "ES", 2))
        events = await take(broker, 2, within=30.0)
        assert isinstance(events[0], CancelRejected)  # our cancel: "not found"
        assert isinstance(events[1], OrderCancelled) and events[1].filled == 0
        assert events[1].reason.startswith("lost")
        assert fake.cancels == [9]
        assert not broker.orders.needs_reconcile()
        await broker.close()

    run(main)


def test_a_missing_ack_is_recovered_from_the_open_orders():
    async def main():
        fake = FakeIB(auto_ack=False)
        broker = await connected(fake)
        broker.submit(OrderRequest(4, "ES", 2))
        await asyncio.sleep(0.1)
        fake.trades[4].orderStatus.status = "Submitted"  # working, but the status message was lost
        (ev,) = await take(broker, 1, within=10.0)
        assert isinstance(ev, OrderAccepted)
        assert fake.cancels == []
        await broker.close()

    run(main)


def test_a_missing_ack_and_missing_executions_are_recovered_by_reconciliation():
    async def main():
        fake = FakeIB(auto_ack=False)
        broker = await connected(fake)
        broker.submit(OrderRequest(6, "ES", -2))
        await asyncio.sleep(0.1)
        fake.fill(6, 2, 4999.75, status=False, live=False)
        fake.trades[6].orderStatus.status = "Filled"
        events = await take(broker, 3, within=10.0)
        assert [type(e) for e in events] == [OrderAccepted, Execution, OrderFilled]
        assert events[1].quantity == -2 and events[1].fee == 2.0
        await broker.close()

    run(main)


def test_pacing_keeps_every_second_under_fifty_messages():
    async def main():
        fake = FakeIB()
        broker = await connected(fake)
        for oid in range(1, 151):
            broker.submit(OrderRequest(oid, "ES", 1))
        await take(broker, 150)
        times = np.array(sorted(t for t, _ in fake.placed))
        counts = np.searchsorted(times, times + 1.0 - 1e-9, side="right") - np.arange(times.size)
        assert counts.max() < 50  # reference facts: IB paces clients at 50 messages a second
        assert times[-1] - times[0] > 2.0
        await broker.close()

    run(main)


def test_disconnect_holds_orders_then_reconnects_with_backoff():
    async def main():
        fake = FakeIB()
        broker = await connected(fake)
        fake.refuse_connects = 2
        fake.drop_connection()
        broker.submit(OrderRequest(1, "ES", 1))
        broker.submit(OrderRequest(2, "ES", 1))
        broker.cancel(2)  # never sent: cancelled locally
        events = await take(broker, 2)
        assert isinstance(events[0], ConnectionChanged) and not events[0].connected
        assert isinstance(events[1], OrderCancelled) and events[1].order_id == 2 and events[1].filled == 0
        assert fake.placed == []
        events = await take(broker, 2, within=30.0)
        assert isinstance(events[0], ConnectionChanged) and events[0].connected
        assert isinstance(events[1], OrderAccepted) and events[1].order_id == 1
        assert [o.orderId for _, o in fake.placed] == [1]
        assert fake.connect_calls == 4  # first connect, two refused, one accepted
        await broker.close()

    run(main)


def test_reconnection_gives_up_after_its_attempts():
    async def main():
        fake = FakeIB()
        broker = await connected(fake, reconnect_attempts=3)
        fake.refuse_connects = 10
        fake.drop_connection()
        await asyncio.sleep(60.0)
        assert broker.failed and not broker.connected
        await broker.close()

    run(main)


def test_adopted_orders_of_an_earlier_session_are_reconciled_and_cancelled():
    async def main():
        fake = FakeIB()
        broker = await connected(fake)
        # an earlier session placed order 11 (still working, 1 filled) and order 12 (never arrived)
        broker.submit(OrderRequest(11, "ES", 3))
        await take(broker, 1)
        fake.fill(11, 1, 5000.0, status=False)
        await take(broker, 1)
        fresh = await connected(fake)  # a new process
        fresh.adopt(OrderRequest(11, "ES", 3), executed=1, exec_keys=[execution_key(f.execution) for f in fake.fills])
        fresh.adopt(OrderRequest(12, "ES", 2))
        await fresh.reconcile()
        fresh.cancel(11)
        fresh.cancel(12)
        await asyncio.sleep(0.5)
        fake.status(11, "Cancelled")
        events = await quiet(fresh, 30.0)
        by_type = {(type(e).__name__, e.order_id) for e in events}
        assert ("OrderAccepted", 11) in by_type
        assert ("OrderCancelled", 11) in by_type and ("OrderCancelled", 12) in by_type
        assert not any(isinstance(e, Execution) for e in events)  # the old fill is not reported again
        await fresh.close()
        await broker.close()

    run(main)


def test_positions_snapshot_and_bars():
    async def main():
        fake = FakeIB()
        broker = await connected(fake)
        fake.positions_rows = [
            ibapi.Position("DU1", fake.front, -4.0, 1.0),
            ibapi.Position("DU1", fake.next, 2.0, 1.0),  # another expiry: not the traded contract
        ]
        assert await broker.positions() == {"ES": -4}
        task = asyncio.ensure_future(broker.snapshot("ES"))
        await asyncio.sleep(0.2)
        ticker = fake.tickers[501]
        ticker.bid, ticker.ask, ticker.last, ticker.volume = 4999.75, 5000.0, 5000.0, 12345.0
        snap = await task
        assert (snap.bid, snap.ask, snap.last, snap.volume) == (4999.75, 5000.0, 5000.0, 12345.0)
        bars = await broker.historical_bars("ES")
        assert [b.volume for b in bars] == [100.0, 101.0, 102.0, 103.0, 104.0]
        await broker.close()

    run(main)


def test_cancelling_the_consumer_mid_wait_loses_no_event():
    async def main():
        fake = FakeIB()
        broker = await connected(fake, commission_wait=5.0)
        broker.submit(OrderRequest(1, "ES", 1))
        await take(broker, 1)
        trade = fake.trades[1]
        ex = ibapi.Execution(execId="x-1", side="BOT", shares=1.0, price=5000.0, orderId=1, clientId=1,
                             orderRef="overlay-1")
        fill = ibapi.Fill(trade.contract, ex, ibapi.CommissionReport(), None)
        fake.execDetailsEvent.emit(trade, fill)  # commission report not yet in
        consumer = asyncio.ensure_future(take(broker, 1))
        await asyncio.sleep(1.0)
        consumer.cancel()
        with pytest.raises(asyncio.CancelledError):
            await consumer
        fill.commissionReport.execId, fill.commissionReport.commission = "x-1", 0.85
        fake.commissionReportEvent.emit(trade, fill, fill.commissionReport)
        (ev,) = await take(broker, 1)
        assert isinstance(ev, Execution) and ev.fee == 0.85
        await broker.close()

    run(main)


def test_an_execution_replayed_during_recovery_keeps_its_commission():
    # before: after crash recovery an execution booked during recovery got fee 0.0 (MME fees
    # 1,213.50 instead of 1,246.50). ib_async keeps the commission report on the first copy
    # of a fill (wrapper.fills) and hands reqExecutions a fresh copy with an empty report,
    # announcing no report for an order placed before this connection.
    from types import SimpleNamespace

    async def main():
        fake = FakeIB(auto_ack=False)
        broker = await connected(fake)
        broker.submit(OrderRequest(6, "ES", -2))
        await asyncio.sleep(0.1)
        kept = fake.fill(6, 2, 4999.75, commission=3.3, status=False, live=False)
        fresh = ibapi.Fill(kept.contract, kept.execution, ibapi.CommissionReport(), kept.time)
        fake.fills[-1] = fresh
        fake.wrapper = SimpleNamespace(fills={kept.execution.execId: kept})
        fake.trades[6].orderStatus.status = "Filled"
        await broker.reconcile()
        events = [e for e in await quiet(broker, 5.0) if isinstance(e, Execution)]
        assert [e.fee for e in events] == [3.3]  # once, from the execution's own commission
        await broker.close()

    run(main)
