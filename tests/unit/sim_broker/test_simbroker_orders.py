"""Order flow of the simulated broker: fills, limits, IOC, caps, cancels, session hours."""

import math

import pytest

from execution.broker import (
    Broker,
    CancelRejected,
    Execution,
    OrderAccepted,
    OrderCancelled,
    OrderFilled,
    OrderRejected,
    OrderRequest,
    OrderType,
    TimeInForce,
)
from pricing.impact import LinearImpact
from sim_broker.params import SimConfig
from sim_helpers import OPEN, drive, make_broker

UNCAPPED = SimConfig(max_participation=math.inf)


def of(events, order_id):
    return [e for e in events if getattr(e, "order_id", None) == order_id]


def test_implements_the_broker_port():
    assert isinstance(make_broker(), Broker)


def test_market_buy_fills_at_the_ask_after_the_latency_and_pays_fees():
    broker = make_broker()
    quotes = []
    events = drive(
        broker,
        [(10.0, lambda: _snap(broker, quotes)), (10.0, OrderRequest(1, "ES", 3)), (20.0, lambda: _pos(broker, quotes))],
        until=30,
    )
    accepted, execution, filled = of(events, 1)
    assert isinstance(accepted, OrderAccepted) and accepted.time == pytest.approx(OPEN + 10.002)
    assert isinstance(execution, Execution) and execution.quantity == 3
    assert execution.price == quotes[0].ask  # no impact model: the touch
    assert execution.fee == pytest.approx(6.0)
    assert isinstance(filled, OrderFilled) and filled.filled == 3
    assert quotes[1] == {"ES": 3}


async def _snap(broker, out):
    out.append(await broker.snapshot("ES"))


async def _pos(broker, out):
    out.append(await broker.positions())


def test_quotes_are_on_the_tick_one_tick_wide_and_volume_accumulates():
    broker = make_broker()
    quotes = []
    drive(broker, [(t, lambda: _snap(broker, quotes)) for t in (0.0, 600.0, 3600.0)], until=3601)
    for q in quotes:
        assert q.spread == pytest.approx(0.25)
        assert q.bid / 0.25 == pytest.approx(round(q.bid / 0.25))
    assert quotes[0].mid == pytest.approx(5000.0, abs=0.25)
    assert quotes[0].volume == 0.0 < quotes[1].volume < quotes[2].volume
    # an hour of a 1.5M-contract day with a U-shaped profile: between 1/6.5 and 3/6.5 of it
    assert 1.5e6 / 6.5 < quotes[2].volume < 3 * 1.5e6 / 6.5


def test_sell_fills_at_the_bid():
    broker = make_broker()
    quotes = []
    events = drive(broker, [(5.0, lambda: _snap(broker, quotes)), (5.0, OrderRequest(1, "ES", -2))], until=10)
    assert of(events, 1)[1].price == quotes[0].bid


def test_resting_limit_fills_when_the_path_reaches_it():
    broker = make_broker(daily_vol=0.05)
    path = broker.path("ES")
    limit = 4990.0
    # first grid point after the order arrives where the ask is at or below the limit
    crossing = next(i for i in range(11, path.n) if round((path.mid[i] + 0.125) / 0.25) * 0.25 <= limit)
    events = drive(broker, [(10.0, OrderRequest(1, "ES", 2, OrderType.LIMIT, limit))], until=path.n)
    execution = next(e for e in of(events, 1) if isinstance(e, Execution))
    assert execution.time == pytest.approx(path.start + crossing * path.step)
    assert execution.price == limit  # the resting order is the maker: it trades at its price
    assert isinstance(of(events, 1)[-1], OrderFilled)


def test_a_resting_limit_never_fills_better_than_its_limit_when_the_market_gaps_through_it():
    # before: a resting sell at 4,998.75 filled at 5,002.50 when the path jumped past it, a
    # price the order never asked for (and outside a 3 bp collar around 5,000)
    broker = make_broker(daily_vol=0.20)
    path = broker.path("ES")
    for limit, side in ((5010.0, -1), (4990.0, 1)):
        broker = make_broker(daily_vol=0.20)
        events = drive(broker, [(10.0, OrderRequest(1, "ES", 2 * side, OrderType.LIMIT, limit))], until=path.n)
        fills = [e for e in of(events, 1) if isinstance(e, Execution)]
        assert fills and all(e.price == limit for e in fills)


def test_a_marketable_limit_takes_the_touch_not_its_limit():
    broker = make_broker()
    quotes = []
    events = drive(broker, [(5.0, lambda: _snap(broker, quotes)), (5.0, OrderRequest(1, "ES", 2, OrderType.LIMIT, 5100.0))], until=10)
    assert of(events, 1)[1].price == quotes[0].ask < 5100.0


def test_ioc_limit_that_is_not_marketable_is_cancelled_unfilled():
    broker = make_broker()
    events = drive(broker, [(1.0, OrderRequest(1, "ES", 1, OrderType.LIMIT, 4000.0, TimeInForce.IOC))], until=5)
    assert [type(e) for e in of(events, 1)] == [OrderAccepted, OrderCancelled]
    assert of(events, 1)[-1].filled == 0 and of(events, 1)[-1].reason == "ioc remainder"


def test_participation_cap_splits_a_large_day_order_over_intervals():
    broker = make_broker(adv=50_000.0)
    events = drive(broker, [(1.0, OrderRequest(1, "ES", 2_000))], until=3600)
    fills = [e for e in of(events, 1) if isinstance(e, Execution)]
    assert len(fills) > 3
    assert sum(f.quantity for f in fills) == 2_000
    path = broker.path("ES")
    for f in fills:  # each interval at most a quarter of that minute's market volume
        minute = int((f.time - path.start) // 60)
        minute_volume = path.cum_volume[60 * (minute + 1)] - path.cum_volume[60 * minute]
        assert f.quantity <= 0.25 * minute_volume + 1e-9
    assert isinstance(of(events, 1)[-1], OrderFilled)


def test_participation_cap_leaves_an_ioc_partially_filled():
    broker = make_broker(adv=50_000.0)
    events = drive(broker, [(1.0, OrderRequest(1, "ES", -2_000, tif=TimeInForce.IOC))], until=120)
    execution, cancelled = of(events, 1)[1:]
    assert -2_000 < execution.quantity < 0
    assert isinstance(cancelled, OrderCancelled) and cancelled.filled == execution.quantity


def test_cancel_a_resting_order_and_a_filled_one():
    broker = make_broker(daily_vol=0.0)
    events = drive(
        broker,
        [(1.0, OrderRequest(1, "ES", 1, OrderType.LIMIT, 4900.0)), (1.0, OrderRequest(2, "ES", 1)), (5.0, 1), (5.0, 2), (6.0, 99)],
        until=10,
    )
    assert [type(e) for e in of(events, 1)] == [OrderAccepted, OrderCancelled]
    assert [type(e) for e in of(events, 2)] == [OrderAccepted, Execution, OrderFilled, CancelRejected]
    assert isinstance(of(events, 99)[0], CancelRejected)


def test_cancel_sent_with_the_order_cancels_it():
    broker = make_broker(daily_vol=0.0)
    events = drive(broker, [(1.0, OrderRequest(1, "ES", 1, OrderType.LIMIT, 4900.0)), (1.0, 1)], until=5)
    assert isinstance(of(events, 1)[-1], OrderCancelled)


def test_orders_outside_the_session_are_rejected_and_resting_ones_end_with_it():
    broker = make_broker(daily_vol=0.0)
    length = broker.path("ES").end - OPEN
    events = drive(
        broker,
        [(1.0, OrderRequest(1, "ES", 1, OrderType.LIMIT, 4900.0)), (length + 1, OrderRequest(2, "ES", 1))],
        until=length + 5,
    )
    cancelled = of(events, 1)[-1]
    assert isinstance(cancelled, OrderCancelled) and cancelled.reason == "session end"
    assert cancelled.time == pytest.approx(broker.path("ES").end)
    rejected = of(events, 2)[0]
    assert isinstance(rejected, OrderRejected) and rejected.reason == "market closed"


def test_unknown_instrument_is_rejected_and_reused_ids_are_refused():
    broker = make_broker()
    errors = []

    def resubmit():
        try:
            broker.submit(OrderRequest(1, "ES", 1))
        except ValueError as exc:
            errors.append(exc)

    events = drive(broker, [(1.0, OrderRequest(1, "NQ", 1)), (3.0, resubmit)], until=4)
    assert isinstance(of(events, 1)[0], OrderRejected)
    assert len(of(events, 1)) == 1 and len(errors) == 1


def test_our_buy_lifts_the_quote_by_the_models_impact_and_it_decays():
    model = LinearImpact(eta=2e-4, gamma=2e-3)
    quiet, active = (make_broker(sim=UNCAPPED, impact=model, daily_vol=0.0) for _ in range(2))
    q = 500
    seen = {"quiet": [], "active": []}
    times = (60.0, 60.0 + 180.0, 60.0 + 1800.0)  # just after, one half-life, ten half-lives
    events = drive(active, [(1.0, OrderRequest(1, "ES", q))] + [(t, lambda: _snap(active, seen["active"])) for t in times], until=1801)
    drive(quiet, [(t, lambda: _snap(quiet, seen["quiet"])) for t in times], until=1801)
    k = math.log(2) / 180.0
    day = 23_400.0
    perm = 2e-3 * q
    for t, before, after in zip(times, seen["quiet"], seen["active"]):
        flow = q * math.exp(-k * (t - 1.002))
        expected = perm + 2e-4 * k * flow * day
        assert after.mid - before.mid == pytest.approx(expected, abs=0.25)
    # the child itself paid half its own flow's temporary impact and none of its permanent one
    execution = next(e for e in of(events, 1) if isinstance(e, Execution))
    assert execution.price == pytest.approx(5000.0 + 0.125 + 2e-4 * k * (q / 2) * day, abs=0.125)
