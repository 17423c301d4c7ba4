"""The journal's identity, execution identity, integrity checks and backups."""

from __future__ import annotations

import sqlite3

import pytest

from execution.broker import Execution, OrderRequest
from execution.journal.lock import JournalLock
from execution.journal.records import ExecutionConflict, Identity, JournalLocked
from execution.journal.store import Journal

IDENT = Identity("0a1b2c3d", "f" * 64, 7, "DU1000001", "127.0.0.1", 7497)


@pytest.fixture
def journal(tmp_path):
    with Journal(tmp_path / "j.sqlite") as j:
        j.start_run(IDENT.config_hash, {}, {}, IDENT)
        j.add_parent("ES", "ES", -10, "twap")
        j.reserve_child("ES", OrderRequest(1, "ES", -5), 0.0)
        j.reserve_child("ES", OrderRequest(2, "ES", -5), 0.0)
        yield j


def test_identity_is_recorded_with_the_run_and_read_back(journal):
    assert journal.identity() == IDENT
    assert IDENT.order_ref_prefix == "ovl-ffffffff-0a1b2c3d-"
    with pytest.raises(Exception, match="already belongs to run"):
        journal.set_identity(Identity("other", "f" * 64, 7, "DU1000001", "127.0.0.1", 7497))


def test_an_execution_id_reused_by_a_restarted_broker_is_a_new_execution(journal):
    before = Execution(1, 1.0, "S1", -2, 5000.0, 1.0, perm_id=1001, exec_time="2026-03-02T10:00:01")
    after = Execution(2, 9.0, "S1", -3, 5001.0, 1.5, perm_id=1007, exec_time="2026-03-02T10:05:00")
    assert journal.record_event(before) is True
    assert journal.record_event(after) is True
    assert journal.record_event(before) is False  # a repeat of the same execution
    assert [c.filled for c in journal.children()] == [-2, -3]
    assert {(e.exec_id, e.perm_id) for e in journal.executions()} == {("S1", 1001), ("S1", 1007)}


def test_a_conflicting_duplicate_execution_stops_rather_than_being_dropped(journal):
    journal.record_event(Execution(1, 1.0, "S1", -2, 5000.0, perm_id=1001, exec_time="t"))
    with pytest.raises(ExecutionConflict, match="came again as -4"):
        journal.record_event(Execution(1, 2.0, "S1", -4, 5000.0, perm_id=1001, exec_time="t"))
    assert journal.child(1).filled == -2


def test_one_writer_at_a_time(tmp_path, journal):
    with pytest.raises(JournalLocked, match="in use by pid"):
        Journal(journal.path)
    ro = Journal.open_readonly(journal.path)  # readers need no lock
    assert ro.identity() == IDENT
    ro.close()


def test_integrity_checks_the_event_log_chain(tmp_path, journal):
    journal.log("note", {"a": 1}, 1.0)
    assert journal.integrity() == "ok"
    db = sqlite3.connect(journal.path)
    db.execute("DELETE FROM events WHERE kind = 'run'")
    db.commit()
    db.close()
    assert "checksum chain" in journal.integrity()


def test_a_backup_is_a_consistent_single_file_copy_of_a_live_journal(tmp_path, journal):
    journal.record_event(Execution(1, 1.0, "S1", -2, 5000.0, perm_id=1001, exec_time="t"))
    journal.backup(tmp_path / "copy.sqlite")  # the writer is still open: part of it is in -wal
    assert not (tmp_path / "copy.sqlite-wal").exists()
    with Journal.open_readonly(tmp_path / "copy.sqlite") as copy:
        assert copy.identity() == IDENT
        assert copy.executions() == journal.executions()
        assert copy.integrity() == "ok"


def test_a_lock_released_is_free_again(tmp_path):
    lock = JournalLock(tmp_path / "x.sqlite")
    lock.acquire()
    lock.release()
    again = JournalLock(tmp_path / "x.sqlite")
    again.acquire()
    assert again.stale == ""
    again.release()
