"""The order journal: write-ahead children, executions counted once, recovery state."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from execution.broker import (
    ConnectionChanged,
    Execution,
    OrderAccepted,
    OrderCancelled,
    OrderFilled,
    OrderRejected,
    OrderRequest,
    OrderType,
)
from execution.journal.store import (
    ChildState,
    Journal,
    JournalError,
    JournalUnusable,
    ParentState,
    RunStatus,
    Synchronous,
)


@pytest.fixture
def journal(tmp_path):
    with Journal(tmp_path / "run.sqlite") as j:
        j.start_run("abc123", {"orders": [{"instrument": "ES", "quantity": -7}]})
        j.add_parent("ES", "ES", -7, "twap")
        yield j


def test_fresh_journal_has_no_run(tmp_path):
    with Journal(tmp_path / "j.sqlite") as j:
        assert j.run() is None
        assert j.recovery().parents == ()
        assert j.next_order_id() == 1
        assert j.next_order_id(floor=1000) == 1000


def test_wal_mode_and_full_sync_by_default(tmp_path):
    path = tmp_path / "j.sqlite"
    with Journal(path) as j:
        assert j._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert j._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    with Journal(path, synchronous=Synchronous.NORMAL) as j:
        assert j._db.execute("PRAGMA synchronous").fetchone()[0] == 1


def test_run_is_recorded_once_and_survives_reopen(tmp_path, journal):
    with pytest.raises(JournalError):
        journal.start_run("other", {})
    journal.close()
    with Journal(journal.path) as again:
        run = again.run()
        assert run.config_hash == "abc123"
        assert run.plan["orders"][0]["quantity"] == -7
        assert run.sessions == 1
        assert again.begin_session() == 2
        again.set_run_status(RunStatus.COMPLETED, {"note": "done"})
        assert again.run().status is RunStatus.COMPLETED
        assert again.run().info == {"note": "done"}


def test_child_is_written_pending_before_submission(journal):
    order = OrderRequest(101, "ES", -3)
    journal.reserve_child("ES", order, time=1.0)
    child = journal.child(101)
    assert child.state is ChildState.PENDING and child.quantity == -3
    journal.mark_submitted(101, 1.1)
    assert journal.child(101).state is ChildState.SUBMITTED
    # the id can never be used twice, and the next id is above it
    with pytest.raises(JournalError):
        journal.reserve_child("ES", OrderRequest(101, "ES", -1), time=2.0)
    assert journal.next_order_id() == 102
    assert journal.next_order_id(floor=50) == 102


def test_child_must_match_its_parent(journal):
    with pytest.raises(JournalError):
        journal.reserve_child("ES", OrderRequest(1, "NQ", 1), time=0.0)
    with pytest.raises(JournalError):
        journal.reserve_child("nope", OrderRequest(1, "ES", 1), time=0.0)


def test_repeated_execution_is_counted_once(journal):
    journal.reserve_child("ES", OrderRequest(1, "ES", -3), 0.0)
    ex = Execution(1, 1.0, "e-1", -2, 5000.0, 2.5)
    assert journal.record_event(ex) is True
    assert journal.record_event(ex) is False
    assert journal.child(1).filled == -2
    assert journal.child(1).state is ChildState.WORKING
    rec = journal.recovery()
    assert rec.parents[0].filled == -2
    assert rec.parents[0].fees == pytest.approx(2.5)
    assert rec.exec_keys == {"e-1"}


def test_terminal_state_is_final_but_late_fills_still_count(journal):
    journal.reserve_child("ES", OrderRequest(1, "ES", -3, OrderType.LIMIT, 5000.0), 0.0)
    journal.record_event(OrderAccepted(1, 0.1))
    journal.record_event(Execution(1, 0.2, "a", -1, 5000.0))
    journal.record_event(OrderCancelled(1, 0.3, filled=-2))
    journal.record_event(OrderAccepted(1, 0.4))  # stale: must not reopen it
    journal.record_event(Execution(1, 0.5, "b", -1, 5000.0))  # fill after cancel
    child = journal.child(1)
    assert child.state is ChildState.CANCELLED
    assert child.filled == -2 and child.broker_filled == -2
    rec = journal.recovery()
    assert rec.parents[0].filled == -2
    assert rec.parents[0].open_children == ()
    assert rec.parents[0].remaining == -5


def test_recovery_lists_children_that_may_still_work(journal):
    journal.add_parent("NQ", "NQ", 4, "vwap")
    for oid, inst, q in [(1, "ES", -3), (2, "ES", -4), (3, "NQ", 4), (4, "NQ", 1)]:
        journal.reserve_child(inst, OrderRequest(oid, inst, q), 0.0)
    journal.mark_submitted(2, 0.0)
    journal.record_event(Execution(1, 1.0, "x1", -3, 5000.0))
    journal.record_event(OrderFilled(1, 1.0, -3))
    journal.record_event(OrderRejected(3, 1.0, "no margin", 201))
    journal.record_event(OrderAccepted(4, 1.0))
    journal.set_parent_state("ES", ParentState.WORKING)
    rec = journal.recovery()
    es, nq = rec.parents
    assert (es.parent_id, es.filled, [c.order_id for c in es.open_children]) == ("ES", -3, [2])
    assert (nq.parent_id, nq.filled, [c.order_id for c in nq.open_children]) == ("NQ", 0, [4])
    assert journal.child(3).reason == "201 no margin"
    assert rec.next_order_id == 5


def test_resolve_child_marks_lost_orders(journal):
    journal.reserve_child("ES", OrderRequest(9, "ES", -1), 0.0)
    journal.resolve_child(9, ChildState.LOST, 5.0, reason="not found at the broker")
    assert journal.child(9).state is ChildState.LOST
    assert journal.recovery().parents[0].open_children == ()
    assert journal.events()[-1][1] == "resolve"


def test_events_for_unknown_orders_are_logged_not_counted(journal):
    assert journal.record_event(Execution(77, 1.0, "zz", 1, 1.0)) is False
    assert journal.record_event(ConnectionChanged(2.0, False)) is True
    kinds = [e[1] for e in journal.events()]
    assert kinds == ["run", "unknown-order", "connection"]
    assert journal.executions() == []


def test_parent_is_idempotent_but_not_redefinable(journal):
    journal.add_parent("ES", "ES", -7, "twap")
    with pytest.raises(JournalError):
        journal.add_parent("ES", "ES", -8, "twap")
    with pytest.raises(ValueError):
        journal.add_parent("Z", "ZN", 0, "twap")


def test_a_failed_write_leaves_nothing_half_written(journal):
    journal.reserve_child("ES", OrderRequest(1, "ES", -1), 0.0)
    # an execution referencing a missing child violates the foreign key inside one transaction
    with pytest.raises(JournalUnusable, match="FOREIGN KEY"):
        with journal._tx():
            journal._db.execute("INSERT INTO executions VALUES ('k', 'k', 0, '', 1, -1, 1.0, 0.0, 0.0)")
            journal._db.execute("INSERT INTO executions VALUES ('k2', 'k2', 0, '', 999, -1, 1.0, 0.0, 0.0)")
    assert journal.executions() == []


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 3), st.integers(0, 5), st.integers(1, 2)), min_size=1, max_size=40))
def test_filled_is_the_sum_of_unique_executions(tmp_path_factory, stream):
    """Whatever the repetition pattern, a parent's filled quantity counts each exec id once."""
    path = tmp_path_factory.mktemp("j") / "p.sqlite"
    with Journal(path, synchronous=Synchronous.NORMAL) as j:
        j.start_run("h", {})
        j.add_parent("P", "ES", 100, "twap")
        for oid in (1, 2, 3):
            j.reserve_child("P", OrderRequest(oid, "ES", 30), 0.0)
        unique: dict[str, int] = {}
        for oid, k, qty in stream:
            exec_id = f"{oid}-{k}"
            first = exec_id not in unique
            unique.setdefault(exec_id, qty)
            # a repeated exec id carries the first message's quantity, as a broker would resend it
            assert j.record_event(Execution(oid, 0.0, exec_id, unique[exec_id], 1.0)) is first
        assert j.recovery().parents[0].filled == sum(unique.values())


def test_fills_announced_but_not_delivered_are_not_traded_again(journal):
    """A cancel that reports 3 filled while 2 executions arrived: 3 count as done on resume."""
    journal.reserve_child("ES", OrderRequest(1, "ES", -5), 0.0)
    journal.record_event(Execution(1, 0.1, "a", -2, 5000.0))
    journal.record_event(OrderCancelled(1, 0.2, filled=-3))
    parent = journal.recovery().parents[0]
    assert (parent.filled, parent.committed, parent.remaining) == (-2, -3, -4)
