"""A roll worked as one calendar-spread order: the engine against the simulator's spread market."""

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from execution.algos import AlgoParams, MarketParams, build_parent
from execution.broker import OrderRequest, OrderType
from execution.engine import Engine, EngineConfig
from execution.orders import ParentStatus
from execution.spreads import leg_fills, split_legs
from execution.vtime import run
from pricing.impact import SquareRootImpact
from sim_broker.broker import SimBroker
from sim_broker.params import FaultParams, MarketParams as SimMarket, SimConfig
from sim_broker.spreads import SpreadParams

NEAR, FAR = "ESH6", "ESM6"
HOUR = AlgoParams(horizon_seconds=3600.0, slice_seconds=60.0)


def _leg(name, price):
    return SimMarket(
        instrument=name, root="ES", price=price, tick=0.25, multiplier=50.0, adv=1_500_000.0, daily_vol=0.012,
        spread_ticks=1, fee_per_contract=2.0, impact=SquareRootImpact(0.7), underlying="SPX",
    )


def _broker(seed=7, faults=FaultParams(), sim=SimConfig(), spread=SpreadParams()):
    broker = SimBroker.simulate([_leg(NEAR, 5950.0), _leg(FAR, 5994.25)], seed, sim, faults)
    return broker, broker.add_spread(NEAR, FAR, spread)


def _spread_spec(broker, name, qty, params=HOUR, pid=1):
    sp = broker.params(name)
    mp = MarketParams(sp.price, sp.multiplier, sp.tick, 1.0, sp.daily_vol, sp.adv, sp.session_seconds)
    return replace(build_parent(pid, name, qty, params, mp, impact=sp.impact), legs=broker.legs(name))


def _work(broker, specs, config=None):
    engine = Engine(broker, config=config)

    async def main():
        parents = await engine.run(specs)
        return parents, await broker.positions()

    return engine, run(main, start=broker.session_open)


def test_the_spread_quotes_far_minus_near_one_tick_wide():
    broker, name = _broker()
    assert name == "ESH6-ESM6" and broker.legs(name) == (NEAR, FAR)

    async def quote():
        return await broker.snapshot(name)

    snap = run(quote, start=broker.session_open)
    assert snap.ask - snap.bid == pytest.approx(0.25)
    assert snap.mid == pytest.approx(5994.25 - 5950.0, abs=0.5)


def test_a_roll_is_one_order_per_child_and_both_legs_move_together():
    broker, name = _broker()
    engine, (parents, positions) = _work(broker, [_spread_spec(broker, name, 250)])
    (parent,) = parents
    assert parent.status is ParentStatus.DONE and parent.filled == 250
    # one order per child, on the spread itself: never a leg order
    assert {c.parent.instrument for c in engine.children.values()} == {name}
    assert positions == {NEAR: -250, FAR: 250}
    for f in parent.fills:
        near, far = f.legs
        assert (near.instrument, far.instrument) == (NEAR, FAR)
        assert near.quantity == -f.quantity and far.quantity == f.quantity
        assert far.price - near.price == pytest.approx(f.price)
    assert leg_fills(parent.fills) == {NEAR: -250, FAR: 250}


def test_buying_the_spread_moves_its_price_up():
    """Impact on the spread price: a larger roll pays a higher average spread."""
    small = _work(_broker()[0], [_spread_spec(_broker()[0], "ESH6-ESM6", 20)])[1][0][0]
    b, name = _broker()
    big = _work(b, [_spread_spec(b, name, 4000)])[1][0][0]
    assert big.avg_price > small.avg_price


def test_a_spread_order_with_other_legs_is_rejected():
    broker, name = _broker()

    async def script():
        stream = broker.events()
        broker.submit(OrderRequest(1, name, 5, legs=(FAR, NEAR)))
        async for ev in stream:
            return ev

    ev = run(script, start=broker.session_open + 60)
    assert type(ev).__name__ == "OrderRejected" and "not the spread" in ev.reason


def test_a_spread_limit_may_be_negative_but_an_outright_limit_may_not():
    OrderRequest(1, "ZNH6-ZNM6", 3, OrderType.LIMIT, -0.5, legs=("ZNH6", "ZNM6"))
    with pytest.raises(ValueError):
        OrderRequest(1, "ZNH6", 3, OrderType.LIMIT, -0.5)
    with pytest.raises(ValueError):
        OrderRequest(1, "ZNH6-ZNH6", 3, legs=("ZNH6", "ZNH6"))


def test_legs_of_two_roots_cannot_make_a_spread():
    broker = SimBroker.simulate([_leg(NEAR, 5950.0), replace(_leg("NQM6", 20000.0), root="NQ")], 1)
    with pytest.raises(ValueError, match="one root"):
        broker.add_spread(NEAR, "NQM6")


def test_split_legs_keeps_the_difference_on_the_tick_grid():
    near, far = split_legs(("ZNH6", "ZNM6"), -7, -0.296875, 111.28125, 1 / 64)
    assert far.price - near.price == -0.296875 and near.quantity == 7 and far.quantity == -7


@settings(max_examples=20, deadline=None)
@given(
    st.integers(0, 2**31), st.integers(-600, 600).filter(bool), st.sampled_from([None, 0, 2]),
    st.floats(0.0, 0.3), st.floats(0.0, 0.3), st.floats(0.0, 0.3), st.floats(0.01, 0.2),
)
def test_after_any_partial_spread_fills_the_legs_change_by_equal_and_opposite_amounts(
    seed, qty, offset, reject, drop, dup, participation
):
    faults = FaultParams(reject_rate=reject, drop_ack_rate=drop, duplicate_fill_rate=dup, late_fill_rate=dup)
    sim = SimConfig(max_participation=participation)
    broker, name = _broker(seed, faults, sim, SpreadParams(adv_share=0.002))
    params = AlgoParams(horizon_seconds=1800.0, slice_seconds=60.0, limit_offset_ticks=offset)
    cfg = EngineConfig(ack_timeout=5.0, cancel_timeout=5.0, max_retries=8, backoff=0.5)
    engine, (parents, positions) = _work(broker, [_spread_spec(broker, name, qty, params)], cfg)
    (parent,) = parents
    near, far = positions.get(NEAR, 0), positions.get(FAR, 0)
    assert near == -far  # never one leg without the other
    assert abs(far) <= abs(qty) and far * qty >= 0  # never overfilled
    assert leg_fills(parent.fills).get(FAR, 0) == parent.filled == far or parent.status is not ParentStatus.DONE
    if parent.status is ParentStatus.DONE:
        assert far == qty
    assert all(c.state.terminal for c in engine.children.values())
