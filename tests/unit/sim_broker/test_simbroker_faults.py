"""Fault injection: each fault on its own, and the price path does not care."""

import numpy as np
import pytest

from execution.broker import ConnectionChanged, Execution, OrderAccepted, OrderFilled, OrderRejected, OrderRequest
from sim_broker.faults import FaultPlan
from sim_broker.params import FaultParams
from sim_helpers import OPEN, drive, make_broker


def orders(n, start=1.0, every=5.0):
    return [(start + every * i, OrderRequest(i + 1, "ES", 1 if i % 2 else -1)) for i in range(n)]


def test_reject_everything():
    events = drive(make_broker(faults=FaultParams(reject_rate=1.0)), orders(5), until=60)
    assert [type(e) for e in events] == [OrderRejected] * 5
    assert {e.code for e in events} == {201}


def test_dropped_acknowledgements_still_fill():
    events = drive(make_broker(faults=FaultParams(drop_ack_rate=1.0)), orders(5), until=60)
    assert not any(isinstance(e, OrderAccepted) for e in events)
    assert sum(isinstance(e, OrderFilled) for e in events) == 5


def test_duplicated_executions_repeat_the_exec_id():
    events = drive(make_broker(faults=FaultParams(duplicate_fill_rate=1.0)), orders(5), until=60)
    ids = [e.exec_id for e in events if isinstance(e, Execution)]
    assert len(ids) == 10 and len(set(ids)) == 5


def test_late_executions_can_arrive_after_the_terminal_event():
    broker = make_broker(faults=FaultParams(late_fill_rate=1.0, late_fill_max_seconds=20.0))
    events = drive(broker, orders(10), until=120)
    position = {1: 0}
    late = 0
    for i, e in enumerate(events):
        if isinstance(e, Execution):
            position[1] += e.quantity
            done_before = any(isinstance(p, OrderFilled) and p.order_id == e.order_id for p in events[:i])
            late += done_before
    assert late > 0
    assert position[1] == 0  # five buys and five sells of one lot


def test_disconnect_windows_hold_events_and_refuse_orders():
    broker = make_broker(faults=FaultParams(disconnect_every_minutes=1, disconnect_seconds=10))
    script = [(59.999, OrderRequest(1, "ES", 1)), (65.0, OrderRequest(2, "ES", 1)), (75.0, OrderRequest(3, "ES", 1))]
    events = drive(broker, script, until=150)
    links = [(e.time - OPEN, e.connected) for e in events if isinstance(e, ConnectionChanged)]
    assert links == [(60.0, False), (70.0, True), (120.0, False), (130.0, True)]
    names = [(type(e).__name__, getattr(e, "order_id", None)) for e in events]
    # order 1 was sent just before the cut: its events wait for the reconnection
    assert names[:2] == [("ConnectionChanged", None), ("OrderRejected", 2)]
    assert names[2] == ("ConnectionChanged", None)
    assert ("OrderAccepted", 1) in names[3:6] and ("OrderFilled", 1) in names[3:6]
    rejected = events[1]
    assert rejected.code == 504 and rejected.time == pytest.approx(OPEN + 65.0)
    assert ("OrderFilled", 3) in names


def test_faults_draw_from_their_own_stream():
    plain = make_broker(seed=11)
    faulty = make_broker(seed=11, faults=FaultParams(reject_rate=0.5, late_fill_rate=0.5, disconnect_every_minutes=5, disconnect_seconds=3))
    assert np.array_equal(plain.path("ES").mid, faulty.path("ES").mid)
    assert np.array_equal(plain.path("ES").volume, faulty.path("ES").volume)


def test_fault_plan_rates_match_their_configuration():
    plan = FaultPlan(FaultParams(reject_rate=0.2, late_fill_rate=0.1, late_fill_max_seconds=8.0), np.random.default_rng(0))
    rejects = sum(plan.reject() for _ in range(20_000))
    assert rejects / 20_000 == pytest.approx(0.2, abs=4 * (0.2 * 0.8 / 20_000) ** 0.5)
    delays = [plan.late_delay() for _ in range(20_000)]
    late = [d for d in delays if d]
    assert len(late) / 20_000 == pytest.approx(0.1, abs=0.01)
    assert 0 < min(late) and max(late) <= 8.0
    assert plan.windows(0.0, 3600.0) == []
    assert FaultPlan(FaultParams(disconnect_every_minutes=20, disconnect_seconds=5), np.random.default_rng(0)).windows(0.0, 3600.0) == [
        (1200.0, 1205.0),
        (2400.0, 2405.0),
    ]
