"""The engine's fast paths change nothing a user sees.

- Push-mode dispatch (the simulator's stream hands events straight to the engine) gives the
  same fills, child states and statuses as reading the same stream in a task, faults included
  (rejects, dropped acknowledgements, duplicate and late fills, disconnects);
- an error while routing an event ends ``Engine.run`` in either mode;
- the garbage-collector policy is undone when the run ends.
"""

from __future__ import annotations

import gc

import pytest

from execution.algos import AlgoParams, MarketParams, build_parent
from dataclasses import replace

from execution.engine import Engine
from execution.host import EngineConfig, GcPolicy
from execution.orders import IllegalTransition
from execution.vtime import run
from sim_broker.tables import from_tables

FAULTS = {
    "reject_rate": 0.05,
    "drop_ack_rate": 0.05,
    "duplicate_fill_rate": 0.05,
    "late_fill_rate": 0.05,
    "disconnect_every_minutes": 40,
    "disconnect_seconds": 20,
}


class _Pull:
    """The simulator behind a plain async iterator: the engine must read it in a task."""

    def __init__(self, broker) -> None:
        self._broker = broker
        self.thresholds: list[tuple[int, int, int]] = []  # the collector's, as seen during the run
        self.enabled: list[bool] = []  # whether it collects on its own, as seen during the run

    def __getattr__(self, name):
        return getattr(self._broker, name)

    async def events(self):
        async for event in self._broker.events():
            self.thresholds.append(gc.get_threshold())
            self.enabled.append(gc.isenabled())
            yield event


def _run(pull: bool, faults: dict | None, seed: int = 11, config: EngineConfig | None = None):
    names = ["F0", "F1", "F2"]
    broker = from_tables(
        {n: {"kind": "future", "root": "ES", "price": 5000.0} for n in names},
        {n: {"adv": 1_500_000, "daily_vol": 0.012} for n in names},
        faults,
        seed=seed,
    )
    params = AlgoParams(horizon_seconds=3600.0, slice_seconds=60.0)
    market = MarketParams(price=5000.0, multiplier=50.0, tick=0.25)
    open_ = broker.session_open
    specs = []
    for k in range(6):
        spec = build_parent(k + 1, names[k % 3], (120 + 7 * k) * (1 if k % 2 else -1), params, market)
        specs.append(replace(spec, start=open_ + 1.37 * k))
    engine = Engine(_Pull(broker) if pull else broker, config=config or EngineConfig(ack_timeout=5.0, cancel_timeout=5.0))

    async def main():
        return await engine.run(specs)

    parents = run(main, start=open_)
    return engine, parents


def _outcome(engine, parents):
    return (
        [(p.parent_id, p.status, p.filled, p.reason, p.rejects, tuple(p.fills)) for p in parents],
        [(c.order_id, c.state, c.filled, c.reason, c.sent_at) for c in engine.children.values()],
    )


@pytest.mark.parametrize("faults", [None, FAULTS])
def test_push_dispatch_gives_what_the_dispatch_task_gives(faults):
    push = _outcome(*_run(False, faults))
    pull = _outcome(*_run(True, faults))
    assert push == pull
    assert push[1], "children were sent"


class _CorruptStream:
    """The simulator, but the consumer its event stream pushes to raises on the first event
    (as a corrupt event would in ``Engine._on_event``). A wrapper rather than a patched
    method: the compiled build's classes take no new attributes."""

    def __init__(self, broker) -> None:
        self._broker = broker
        self._stream = None

    def __getattr__(self, name):
        return getattr(self._broker, name)

    def events(self):
        self._stream = self._broker.events()
        return self

    def attach(self, consumer, on_error=None) -> None:
        if consumer is None:
            self._stream.attach(None)
            return

        def broken(ev) -> None:
            raise IllegalTransition("corrupt stream")

        self._stream.attach(broken, on_error)


def test_an_error_routing_an_event_ends_the_run():
    names = ["F0"]
    broker = from_tables({"F0": {"kind": "future", "root": "ES", "price": 5000.0}}, seed=1)
    market = MarketParams(price=5000.0, multiplier=50.0, tick=0.25)
    spec = build_parent(1, names[0], 10, AlgoParams(horizon_seconds=600.0, slice_seconds=60.0), market)
    engine = Engine(_CorruptStream(broker))  # the first event fails to route

    async def main():
        return await engine.run([spec])

    with pytest.raises(ExceptionGroup) as info:
        run(main, start=broker.session_open)
    assert info.group_contains(IllegalTransition)


def test_the_gc_policy_suspends_full_collections_during_the_run_and_is_undone_after():
    before = gc.get_threshold()
    frozen = gc.get_freeze_count()
    engine, parents = _run(True, None)
    during = set(engine.broker.thresholds)
    assert len(during) == 1 and during != {before}
    assert next(iter(during))[2] > 1_000_000  # no full collection within a run
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == frozen
    assert all(p.filled == p.quantity for p in parents)


def test_suspend_stops_every_automatic_collection_during_a_simulated_run_and_is_undone_after():
    frozen = gc.get_freeze_count()
    engine, parents = _run(True, FAULTS, config=EngineConfig(ack_timeout=5.0, cancel_timeout=5.0, gc=GcPolicy.SUSPEND))
    assert set(engine.broker.enabled) == {False}
    assert gc.isenabled() and gc.get_freeze_count() == frozen
    assert all(p.status.name in ("DONE", "FAILED") for p in parents)


def test_suspend_gives_the_same_run():
    plain = _outcome(*_run(False, FAULTS))
    suspended = _outcome(*_run(False, FAULTS, config=EngineConfig(ack_timeout=5.0, cancel_timeout=5.0, gc=GcPolicy.SUSPEND)))
    assert plain == suspended


def test_leave_keeps_the_collector_as_it_was():
    before = gc.get_threshold()
    engine, parents = _run(True, None, config=EngineConfig(gc=GcPolicy.LEAVE))
    assert set(engine.broker.thresholds) == {before}
    assert all(p.filled == p.quantity for p in parents)


def test_overlapping_runs_restore_the_collector_once_the_last_ends():
    before = gc.get_threshold()
    broker_a = from_tables({"F0": {"kind": "future", "root": "ES", "price": 5000.0}}, seed=1)
    broker_b = from_tables({"F1": {"kind": "future", "root": "ES", "price": 5000.0}}, seed=2)
    market = MarketParams(price=5000.0, multiplier=50.0, tick=0.25)
    short = build_parent(1, "F0", 10, AlgoParams(horizon_seconds=300.0, slice_seconds=60.0), market)
    long = build_parent(2, "F1", 10, AlgoParams(horizon_seconds=900.0, slice_seconds=60.0), market)
    seen = []

    async def main():
        import asyncio

        a = asyncio.ensure_future(Engine(broker_a).run([short]))
        b = asyncio.ensure_future(Engine(broker_b).run([long]))
        await a
        seen.append(gc.get_threshold())  # the longer run still works
        await b

    run(main, start=broker_a.session_open)
    assert seen[0] != before
    assert gc.get_threshold() == before


def _wake_then_sleep(self, parent, waiter, then) -> bool:
    return False  # the plain path: wake the parent's task at the ack; it goes to sleep itself


@pytest.mark.parametrize("seed", [3, 11, 29])
def test_sleeping_through_a_good_ack_gives_what_waking_for_it_gives(seed, monkeypatch):
    """A good acknowledgement moves the parent's wait straight to its next slice's timer,
    without stepping its task: fills, child states, send times and statuses are those of
    the task that wakes at the ack and goes back to sleep, faults included."""
    fast = _outcome(*_run(False, FAULTS, seed=seed))
    monkeypatch.setattr(Engine, "_sleep_on", _wake_then_sleep)
    plain = _outcome(*_run(False, FAULTS, seed=seed))
    assert fast == plain
    assert any(state.name == "REJECTED" for _, state, *_ in fast[1]), "the faults were exercised"


def test_an_unacknowledged_child_is_cancelled_at_its_deadline_while_other_parents_trade():
    """The acknowledgement watchdog is armed only when no engine timer comes first; another
    parent's slices waking the engine in between must not move the deadline."""
    from tests.fakes import FakeBroker, FakeFaults

    market = MarketParams(price=5000.0, multiplier=50.0, tick=0.25, adv=1_500_000)
    params = AlgoParams(horizon_seconds=600.0, slice_seconds=2.0)
    quiet = build_parent(1, "ES", 30, params, market)  # order 1, its first child, is never answered
    busy = replace(build_parent(2, "NQ", 300, params, market), start=0.5)
    broker = FakeBroker({"ES": 5000.0, "NQ": 18000.0}, faults=FakeFaults(silent_ids=frozenset({1})))
    cancelled_at = {}
    real_cancel = broker.cancel

    def cancel(order_id: int) -> None:
        import asyncio

        cancelled_at[order_id] = asyncio.get_running_loop().time()
        real_cancel(order_id)

    broker.cancel = cancel
    engine = Engine(broker, config=EngineConfig(ack_timeout=5.0, cancel_timeout=5.0))

    async def main():
        return await engine.run([quiet, busy])

    parents = run(main)
    lost = engine.children[1]
    assert lost.reason.startswith("lost")
    assert cancelled_at[1] == pytest.approx(lost.sent_at + 5.0)
    assert all(p.filled == p.quantity for p in parents)
