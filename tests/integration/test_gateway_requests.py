"""Requests a typical IB script sends next: each is answered with its own request id.

Unmodified ``ib_async`` (or ``ib_insync`` in the second CI environment) against the gateway
on a paced virtual-time loop. Protocol facts: TWS API reference ("Historical Bar Data",
"Real Time Bars", "Tick-By-Tick", "PnL", "Bracket Orders", "OCA", "What-If"); CME Globex
hours (17:00-16:00 CT, maintenance break 16:00-17:00 CT).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math

import pytest

from sim_broker.tws.server import GatewayConfig, GatewayThread
from test_gateway import connect, decode_guard, ib, until  # noqa: F401  (same folder)

MONDAY = dt.date(2026, 3, 2)


def gateway_at(day: dt.date, start: float, speed: float = 30.0) -> GatewayThread:
    return GatewayThread(GatewayConfig(speed=speed, session_date=day, start=start, quote_interval=1.0))


def es():
    return ib.Future("ES", "202603", "CME")


def on_tick(x: float, tick: float) -> bool:
    return abs(x / tick - round(x / tick)) < 1e-9


@pytest.mark.parametrize("day,start", [
    (MONDAY, 10.5 * 3600),  # an hour into the US cash session
    (dt.date(2026, 3, 7), 12 * 3600),  # a Saturday: the market is closed
    (MONDAY, -5.5 * 3600),  # Sunday 18:30 ET, half an hour into Monday's Globex session
])
async def test_charts_of_five_days_of_hours_and_one_day_of_minutes(day, start):
    with gateway_at(day, start) as gw:
        client = await connect(gw)
        try:
            [c] = await client.qualifyContractsAsync(es())
            hourly = await client.reqHistoricalDataAsync(c, "", "5 D", "1 hour", "TRADES", False)
            minutes = await client.reqHistoricalDataAsync(c, "", "1 D", "1 min", "TRADES", False)
            mid = await client.reqHistoricalDataAsync(c, "", "1 D", "1 min", "MIDPOINT", False)
        finally:
            client.disconnect()
    days = {b.date.date() for b in hourly}
    assert len(days) >= 5  # five Globex sessions (each spans two calendar dates)
    assert len(hourly) >= 4 * 23
    assert len(minutes) >= 30
    for b in hourly + minutes:
        assert all(on_tick(x, 0.25) for x in (b.open, b.high, b.low, b.close))
        assert b.volume == int(b.volume) and b.volume >= 0
        assert b.low <= min(b.open, b.close) <= max(b.open, b.close) <= b.high
    assert all(on_tick(b.close, 0.125) for b in mid)
    # one continuous path: consecutive hourly bars never gap by more than a few percent
    closes = [b.close for b in hourly]
    assert max(abs(a - b) / a for a, b in zip(closes, closes[1:])) < 0.05


async def test_a_bad_bar_size_gets_an_error_on_its_own_request_id():
    with gateway_at(MONDAY, 10.5 * 3600) as gw:
        client = await connect(gw)
        errors = []
        client.errorEvent += lambda req_id, code, text, *a: errors.append((req_id, code, text))
        try:
            [c] = await client.qualifyContractsAsync(es())
            bars = await asyncio.wait_for(client.reqHistoricalDataAsync(c, "", "1 D", "7 mins", "TRADES", False), 5)
        finally:
            client.disconnect()
    assert len(bars) == 0
    assert any(code == 162 and "bar size setting is invalid" in text and req_id > 0 for req_id, code, text in errors)


async def test_keep_up_to_date_sends_the_bar_in_progress():
    with gateway_at(MONDAY, 10.5 * 3600) as gw:
        client = await connect(gw)
        try:
            [c] = await client.qualifyContractsAsync(es())
            bars = await client.reqHistoricalDataAsync(c, "", "1 D", "1 min", "TRADES", False, keepUpToDate=True)
            n = len(bars)
            updates = []
            bars.updateEvent += lambda b, has_new: updates.append(has_new)
            await until(lambda: len(bars) > n + 1, 10.0)  # simulated minutes roll over
        finally:
            client.disconnect()
    assert updates
    assert all(on_tick(b.close, 0.25) for b in bars[n:])


async def test_data_requests_are_answered_with_their_own_ids():
    with gateway_at(MONDAY, 10.5 * 3600) as gw:
        client = await connect(gw)
        try:
            [c] = await client.qualifyContractsAsync(es())
            wait = lambda aw: asyncio.wait_for(aw, 5)  # noqa: E731
            head = await wait(client.reqHeadTimeStampAsync(c, "TRADES", False, 1))
            symbols = await wait(client.reqMatchingSymbolsAsync("ES"))
            chains = await wait(client.reqSecDefOptParamsAsync("ES", "CME", "FUT", c.conId))
            histogram = await wait(client.reqHistogramDataAsync(c, False, "1 day"))
            details = (await wait(client.reqContractDetailsAsync(c)))[0]
            pnl = client.reqPnL("DU1000001")
            single = client.reqPnLSingle("DU1000001", "", c.conId)
            rt = client.reqRealTimeBars(c, 5, "TRADES", False)
            ticks = []
            tbt = client.reqTickByTickData(c, "BidAsk")
            tbt.updateEvent += lambda t: ticks.extend(t.tickByTicks)
            await until(lambda: len(rt) >= 2 and ticks and not math.isnan(pnl.dailyPnL) and not math.isnan(single.dailyPnL), 10.0)
        finally:
            client.disconnect()
    assert head.date() < MONDAY - dt.timedelta(days=300)
    assert symbols and symbols[0].contract.symbol == "ES"
    assert len(chains) == 0  # no options are listed
    assert histogram and sum(h.count for h in histogram) > 100
    assert details.tradingHours.startswith("20260301:1700-20260302:1600")  # Globex, US/Central
    assert details.liquidHours.startswith("20260302:0830-20260302:1515")
    assert all(on_tick(b.close, 0.25) and b.volume == int(b.volume) for b in rt)
    assert ticks[0].bidPrice < ticks[0].askPrice


async def test_an_order_at_20_28_utc_fills_on_globex():
    # 20:28 UTC on Monday 2 March 2026 is 15:28 ET: after the cash close, inside Globex hours
    with gateway_at(MONDAY, 15 * 3600 + 28 * 60) as gw:
        client = await connect(gw)
        try:
            [c] = await client.qualifyContractsAsync(es())
            trade = client.placeOrder(c, ib.MarketOrder("BUY", 1))
            await until(lambda: trade.isDone(), 5.0)
        finally:
            client.disconnect()
    assert trade.orderStatus.status == "Filled"


async def test_a_stop_order_triggers_when_the_market_crosses_it():
    with gateway_at(MONDAY, 10.5 * 3600, speed=120.0) as gw:
        client = await connect(gw)
        try:
            [c] = await client.qualifyContractsAsync(es())
            q = client.reqMktData(c)
            await until(lambda: q.last == q.last and q.last > 0)
            up = client.placeOrder(c, ib.StopOrder("BUY", 1, q.last + 0.25))
            down = client.placeOrder(c, ib.StopLimitOrder("SELL", 1, q.last - 0.75, q.last - 0.25))
            # the stop is held (PreSubmitted) until the market crosses it; at speed 120 that may
            # happen between two looks, so wait for the gateway's answer, whichever it is
            await until(lambda: up.orderStatus.status not in ("PendingSubmit", ""))
            await until(lambda: up.isDone() or down.isDone(), 20.0)
        finally:
            client.disconnect()
    done = up if up.isDone() else down
    assert done.orderStatus.status == "Filled"
    fill = done.fills[0].execution.price
    assert (fill >= up.order.auxPrice - 1.0) if done is up else (fill >= down.order.lmtPrice)


async def test_a_bracket_holds_children_until_the_parent_fills_and_they_cancel_each_other():
    with gateway_at(MONDAY, 10.5 * 3600, speed=120.0) as gw:
        client = await connect(gw)
        try:
            [c] = await client.qualifyContractsAsync(es())
            q = client.reqMktData(c)
            await until(lambda: q.last == q.last and q.last > 0)
            # a parent far below the market rests: its children must not trade
            resting = client.bracketOrder("BUY", 1, q.last - 50, q.last - 49, q.last - 51)
            held = [client.placeOrder(c, o) for o in resting]
            await until(lambda: held[1].orderStatus.status == "PreSubmitted")
            # a marketable parent with close targets: one child fills, the other is cancelled
            near = client.bracketOrder("BUY", 1, q.ask + 1.0, q.last + 0.5, q.last - 0.5)
            trades = [client.placeOrder(c, o) for o in near]
            await until(lambda: trades[1].isDone() and trades[2].isDone(), 30.0)
            positions = {p.contract.conId: p.position for p in client.positions()}
            held_states = [t.orderStatus.status for t in held]
        finally:
            client.disconnect()
    assert held_states[0] == "Submitted" and held_states[1:] == ["PreSubmitted", "PreSubmitted"]
    assert trades[0].orderStatus.status == "Filled"
    assert sorted(t.orderStatus.status for t in trades[1:]) == ["Cancelled", "Filled"]
    assert positions.get(c.conId, 0) == 0  # bought by the parent, sold by exactly one child


async def test_what_if_returns_margin_and_commission():
    with gateway_at(MONDAY, 10.5 * 3600) as gw:
        client = await connect(gw)
        try:
            [c] = await client.qualifyContractsAsync(es())
            state = await asyncio.wait_for(client.whatIfOrderAsync(c, ib.MarketOrder("BUY", 2)), 5)
            trades = client.openTrades()
        finally:
            client.disconnect()
    # 6 % of an ES contract's notional (≈ 5,000 × 50) per contract, two contracts
    assert 2 * 0.05 * 5000 * 50 < float(state.initMarginChange) < 2 * 0.07 * 5200 * 50
    assert float(state.commission) == pytest.approx(2 * 2.00)  # ES fee schedule, 2.00 per contract
    assert trades == []  # nothing was sent


async def test_precautionary_size_limit_and_market_data_lines():
    with gateway_at(MONDAY, 10.5 * 3600) as gw:
        client = await connect(gw)
        errors = []
        client.errorEvent += lambda req_id, code, text, *a: errors.append((req_id, code))
        try:
            [c] = await client.qualifyContractsAsync(es())
            huge = client.placeOrder(c, ib.MarketOrder("BUY", 10**15))
            await until(lambda: huge.isDone())
            for _ in range(101):
                client.client.reqMktData(client.client.getReqId(), c, "", False, False, [])
            await until(lambda: any(code == 101 for _, code in errors), 15.0)
        finally:
            client.disconnect()
    assert huge.orderStatus.status == "Cancelled"
    assert (huge.order.orderId, 201) in errors


async def test_a_gtc_order_survives_the_session_end():
    # 16:58 ET: the CME session ends at 17:00 ET and the next one opens at 18:00 ET
    with gateway_at(MONDAY, 16 * 3600 + 58 * 60, speed=600.0) as gw:
        client = await connect(gw)
        try:
            [c] = await client.qualifyContractsAsync(es())
            q = client.reqMktData(c)
            await until(lambda: q.last == q.last and q.last > 0)
            gtc = ib.LimitOrder("BUY", 1, q.last - 25, tif="GTC")
            good = client.placeOrder(c, gtc)
            day = client.placeOrder(c, ib.LimitOrder("BUY", 1, q.last - 25))
            await until(lambda: day.isDone(), 10.0)  # the DAY order ends with the session
            reopened = dt.datetime(2026, 3, 2, 23, 0, 1, tzinfo=dt.timezone.utc)
            while await client.reqCurrentTimeAsync() < reopened:
                await asyncio.sleep(0.1)
            status_between = good.orderStatus.status
            gtc.lmtPrice = q.ask + 25  # marketable in the new session
            client.placeOrder(c, gtc)
            await until(lambda: good.isDone(), 10.0)
        finally:
            client.disconnect()
    assert day.orderStatus.status == "Cancelled"
    assert status_between == "Submitted"
    assert good.orderStatus.status == "Filled"
    assert good.fills[-1].execution.time >= reopened


@pytest.mark.parametrize("speed", [1.0, 60.0])
async def test_the_current_time_runs_at_the_gateways_speed(speed):
    # `overlay paper --clock broker` reads the gateway's speed through reqCurrentTime: the
    # answer is the simulated clock (the session date, at `--speed` seconds per wall second),
    # not the wall clock
    import time

    with gateway_at(MONDAY, 10.5 * 3600, speed=speed) as gw:
        client = await connect(gw)
        try:
            t0 = time.monotonic()
            b0 = await client.reqCurrentTimeAsync()
            t0_done = time.monotonic()
            await asyncio.sleep(1.0)
            t1 = time.monotonic()
            b1 = await client.reqCurrentTimeAsync()
            t1_done = time.monotonic()
        finally:
            client.disconnect()
    assert b0.date() == MONDAY  # the session's day, not today's
    elapsed = (b1 - b0).total_seconds()  # whole seconds, as TWS reports them
    # b0 was read within [t0, t0_done] and b1 within [t1, t1_done]
    assert elapsed <= speed * (t1_done - t0) + 1
    assert elapsed >= 0.5 * speed * (t1 - t0_done) - 1  # the paced loop may lag under load, never leads
