"""The engine against a scripted fake broker, in virtual time."""

import asyncio

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from execution.algos import AlgoKind, AlgoParams, MarketParams, build_parent
from execution.engine import Engine, EngineConfig
from execution.orders import OrderState, ParentStatus
from execution.risk import RiskLimits
from execution.vtime import run
from tests.fakes import FakeBroker, FakeFaults

ES = MarketParams(price=5000.0, multiplier=50.0, tick=0.25, adv=1_500_000)
HOUR = AlgoParams(horizon_seconds=3600.0, slice_seconds=60.0)


def _run(specs, broker, risk=None, config=None, kill_at=None):
    engine = Engine(broker, risk, config)

    async def main():
        if kill_at is None:
            return await engine.run(specs)
        loop = asyncio.get_running_loop()
        loop.call_at(loop.time() + kill_at, engine.kill)
        return await engine.run(specs)

    return engine, run(main)


def _spec(qty, params=HOUR, pid=1, instrument="ES", market=ES):
    return build_parent(pid, instrument, qty, params, market)


def test_twap_parent_fills_exactly_with_evenly_spaced_children():
    broker = FakeBroker({"ES": 5000.0})
    engine, (parent,) = _run([_spec(-120)], broker)
    assert parent.status is ParentStatus.DONE and parent.filled == -120
    sent = np.array([c.sent_at for c in parent.children])
    assert len(sent) == 60 and np.allclose(np.diff(sent), 60.0)
    assert all(c.quantity == -2 for c in parent.children)
    assert broker.open_orders() == []


def test_all_parents_are_worked_concurrently():
    prices = {f"I{k}": 100.0 + k for k in range(10)}
    broker = FakeBroker(prices)
    specs = [_spec(30 * (k + 1) * (-1) ** k, pid=k, instrument=f"I{k}") for k in range(10)]
    engine, parents = _run(specs, broker)
    assert [p.filled for p in parents] == [s.quantity for s in specs]
    # every parent sends its first child at t = 0: they ran side by side, not one after another
    assert {p.children[0].sent_at for p in parents} == {0.0}
    assert len({c.order_id for c in engine.children.values()}) == len(engine.children)


def test_small_parent_is_spread_over_the_horizon():
    broker = FakeBroker({"ES": 5000.0})
    _, (parent,) = _run([_spec(3)], broker)
    sent = [c.sent_at for c in parent.children]
    assert len(sent) == 3 and np.allclose(np.diff(sent), 1200.0)


def test_rejected_child_is_retried_with_backoff():
    broker = FakeBroker({"ES": 5000.0}, faults=FakeFaults(reject_ids=frozenset({1, 2})))
    cfg = EngineConfig(backoff=2.0)
    _, (parent,) = _run([_spec(60)], broker, config=cfg)
    assert parent.status is ParentStatus.DONE and parent.filled == 60 and parent.rejects == 2
    first = parent.children[:3]
    assert [c.state for c in first] == [OrderState.REJECTED, OrderState.REJECTED, OrderState.FILLED]
    assert [c.sent_at for c in first] == [0.0, 2.0, 6.0]  # 2 s, then 4 s


def test_parent_fails_after_retries_are_exhausted_and_leaves_nothing_working():
    broker = FakeBroker({"ES": 5000.0}, faults=FakeFaults(reject_rate=1.0))
    _, (parent,) = _run([_spec(60)], broker, config=EngineConfig(max_retries=2))
    assert parent.status is ParentStatus.FAILED
    assert "rejected 3 times" in parent.reason
    assert parent.filled == 0 and len(parent.children) == 3
    assert broker.open_orders() == []


def test_duplicate_executions_are_ignored():
    broker = FakeBroker({"ES": 5000.0}, faults=FakeFaults(duplicate_rate=1.0))
    _, (parent,) = _run([_spec(120)], broker)
    assert parent.filled == 120 and len(parent.fills) == 60
    assert (await_positions(broker))["ES"] == 120


def await_positions(broker):
    return run(broker.positions())


def test_late_executions_after_the_terminal_report_never_cause_a_resend():
    broker = FakeBroker({"ES": 5000.0}, faults=FakeFaults(late_rate=1.0, late_seconds=90.0))
    _, (parent,) = _run([_spec(120)], broker)
    assert parent.status is ParentStatus.DONE and parent.filled == 120
    assert sum(o.quantity for o in broker.submitted) == 120  # nothing sent twice


def test_missing_ack_times_out_and_a_lost_order_is_replaced():
    broker = FakeBroker({"ES": 5000.0}, faults=FakeFaults(silent_ids=frozenset({1})))
    cfg = EngineConfig(ack_timeout=5.0, cancel_timeout=5.0)
    _, (parent,) = _run([_spec(60)], broker, config=cfg)
    lost = parent.children[0]
    assert lost.state is OrderState.CANCELLED and lost.reason.startswith("lost")
    assert broker.cancels[0] == 1
    assert parent.status is ParentStatus.DONE and parent.filled == 60


def test_a_silently_filled_order_is_reconciled_from_positions_and_not_resent():
    broker = FakeBroker({"ES": 5000.0}, faults=FakeFaults(silent_ids=frozenset({1})))
    cfg = EngineConfig(ack_timeout=5.0, cancel_timeout=5.0, finish_timeout=60.0)

    async def main():
        engine = Engine(broker, config=cfg)
        loop = asyncio.get_running_loop()
        loop.call_at(2.0, broker.fill_silent, 1)  # it filled, but nobody told us
        return await engine.run([_spec(60)])

    (parent,) = run(main)
    assert run(broker.positions())["ES"] == 60  # the broker never overfilled
    assert parent.filled == 59  # the lost child's execution never arrived ...
    assert parent.status is ParentStatus.FAILED  # ... so the parent says so


def test_kill_switch_cancels_working_orders_and_stops():
    # half of each marketable order rests at the broker, so there is always something working
    broker = FakeBroker({"ES": 5000.0, "NQ": 18000.0}, faults=FakeFaults(partial_fraction=0.5))
    params = AlgoParams(horizon_seconds=3600.0, slice_seconds=60.0, limit_offset_ticks=1)
    specs = [_spec(600, params), _spec(-600, params, pid=2, instrument="NQ")]
    engine, parents = _run(specs, broker, kill_at=1000.5)
    assert broker.open_orders() == []
    assert all(c.state.terminal for c in engine.children.values())
    assert {p.status for p in parents} == {ParentStatus.KILLED}
    assert all(0 < abs(p.filled) < 600 for p in parents)


def test_resting_limit_is_cancelled_and_caught_up_next_slice():
    broker = FakeBroker({"ES": 5000.0}, faults=FakeFaults(partial_fraction=0.5))
    params = AlgoParams(horizon_seconds=600.0, slice_seconds=60.0, limit_offset_ticks=2)
    _, (parent,) = _run([_spec(100, params)], broker)
    assert parent.status is ParentStatus.DONE and parent.filled == 100
    assert broker.submitted[0].limit_price == 5000.75  # ask 5000.25 + 2 ticks
    assert parent.children[0].state is OrderState.CANCELLED
    # golden figure changed: arrears are now spread over the slices left (5 behind, 9 slices
    # left: ceil(5/9) = 1 on top of this slice's 10), where the whole 5 used to go at once
    assert parent.children[1].quantity == 10 + 1


def test_size_limit_shrinks_children_and_the_parent_reports_what_it_could_not_trade():
    broker = FakeBroker({"ES": 5000.0})
    _, (parent,) = _run([_spec(600)], broker, risk=RiskLimits(max_child_quantity=5))
    assert broker.submitted and all(abs(o.quantity) == 5 for o in broker.submitted)
    assert 0 < parent.filled < 600
    assert parent.status is ParentStatus.FAILED and f"unfilled {600 - parent.filled}" in parent.reason


def test_a_limit_below_one_contract_blocks_the_child():
    broker = FakeBroker({"ES": 5000.0})
    # one ES contract is 250,000 of notional: a 100,000 limit admits none
    _, (parent,) = _run([_spec(600)], broker, risk=RiskLimits(max_child_notional=100_000))
    assert broker.submitted == []
    assert parent.status is ParentStatus.FAILED and parent.risk_blocks > 0


def test_collar_stops_trading_when_the_price_runs_away():
    broker = FakeBroker({"ES": 5000.0}, drift=0.05)  # +3 points a minute
    _, (parent,) = _run([_spec(60)], broker, risk=RiskLimits(collar_bps=20))  # 10 points
    # every child, the completion included, is a limit no worse than the collar bound
    bound = parent.trail.arrival * (1 + 20e-4)
    assert broker.submitted and all(o.limit_price is not None and o.limit_price <= bound for o in broker.submitted)
    assert parent.fills and all(f.price <= bound for f in parent.fills)
    assert parent.status is ParentStatus.FAILED and 0 < parent.filled < 60
    assert "collar" in parent.reason


def test_pov_tracks_the_participation_rate():
    broker = FakeBroker({"ES": 5000.0}, volume_rate=10.0)  # 600 contracts a minute
    params = AlgoParams(AlgoKind.POV, horizon_seconds=3600.0, slice_seconds=60.0, participation=0.05)
    _, (parent,) = _run([_spec(2000, params)], broker)
    assert parent.filled == 2000
    # 5% of 36,000 contracts is 1,800 by the horizon; the rest completes at the horizon
    mid_day = sum(f.quantity for f in parent.fills if f.time <= 1800.0)
    assert mid_day == pytest.approx(0.05 * 600 * 30, abs=31)


@settings(max_examples=25, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.floats(0, 0.4), st.floats(0, 0.4), st.floats(0, 0.5), st.floats(0, 0.5), st.floats(0.3, 1.0),
    st.sampled_from([None, 1]),
    st.one_of(st.none(), st.floats(100.0, 3000.0)),
)
def test_faults_never_overfill_and_every_child_ends(seed, rej, drop, dup, late, part, offset, kill_at):
    faults = FakeFaults(reject_rate=rej, drop_ack_rate=drop, duplicate_rate=dup, late_rate=late,
                        late_seconds=45.0, partial_fraction=part)
    broker = FakeBroker({"ES": 5000.0, "NQ": 18000.0}, faults=faults, seed=seed)
    params = AlgoParams(horizon_seconds=3600.0, slice_seconds=60.0, limit_offset_ticks=offset)
    specs = [_spec(137, params), _spec(-55, params, pid=2, instrument="NQ")]
    cfg = EngineConfig(ack_timeout=5.0, cancel_timeout=5.0, max_retries=6, backoff=0.5)
    engine, parents = _run(specs, broker, config=cfg, kill_at=kill_at)
    positions = run(broker.positions())
    for p in parents:
        assert abs(p.filled) <= abs(p.quantity) and p.filled * p.quantity >= 0
        assert abs(positions[p.instrument]) <= abs(p.quantity)
        if p.status is ParentStatus.DONE:
            assert p.filled == p.quantity
    assert all(c.state.terminal for c in engine.children.values())
    assert broker.open_orders() == []
