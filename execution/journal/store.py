"""The order journal: a crash-safe record of a run in SQLite.

Every parent order, every child order and every execution of a run is written here, so that a
process killed at any moment (``kill -9``, a power cut) can be restarted with the same journal
and finish its plan without sending any quantity twice.

Write-ahead discipline
----------------------
1. A parent is written before any of its children.
2. A child is written with its intended quantity in state ``PENDING`` and committed *before*
   it is handed to the broker (:meth:`Journal.reserve_child`). A crash after the commit and
   before the send leaves a ``PENDING`` child that recovery resolves against the broker.
3. Each broker event is written as it arrives (:meth:`Journal.record_event`); executions are
   keyed by the broker's ``exec_id`` (the primary key), so a repeated execution is never
   counted twice, whether it repeats within a session or across a restart.

Storage choices
---------------
- ``journal_mode=WAL``: readers never block the writer, and a commit is one append to the
  write-ahead log, so the journal can be inspected while a run is live.
- ``synchronous=FULL`` (the default here): every commit waits for the log to reach the disk.
  With ``NORMAL`` a WAL commit survives a killed process but may be lost in a power cut or an
  OS crash; losing a committed ``PENDING`` child after the order reached the broker would let
  recovery send it again, so durability against power loss is worth one fsync per commit
  (a few milliseconds, far below IB's pacing of 50 messages a second). ``NORMAL`` is
  available for tests and simulations where the journal is disposable.
- Each public write is one transaction; nothing is left half written.

Recovery
--------
:meth:`Journal.recovery` returns, for every parent, the quantity filled according to the
unique executions recorded and the children that may still be working (states ``PENDING``,
``SUBMITTED`` and ``WORKING``). The caller reconciles those against the broker's open orders
and executions before it sends anything new.
"""

from __future__ import annotations

import enum
import json
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from execution.broker import (
    CancelRejected,
    ConnectionChanged,
    Execution,
    OrderAccepted,
    OrderCancelled,
    OrderEvent,
    OrderFilled,
    OrderRejected,
    OrderRequest,
)

SCHEMA_VERSION = 1


class Synchronous(enum.Enum):
    """SQLite ``synchronous`` level for the journal (see the module docstring)."""

    FULL = "FULL"
    NORMAL = "NORMAL"


class ChildState(enum.Enum):
    """Where a child order is, as far as the journal knows."""

    PENDING = "pending"  # written, not yet known to have left this process
    SUBMITTED = "submitted"  # handed to the broker connection, no acknowledgement yet
    WORKING = "working"  # acknowledged by the broker
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    LOST = "lost"  # reconciliation found no trace of it at the broker

    @property
    def is_open(self) -> bool:
        """True while the order may still trade."""
        return self in _OPEN_STATES


_OPEN_STATES = frozenset({ChildState.PENDING, ChildState.SUBMITTED, ChildState.WORKING})


class ParentState(enum.Enum):
    WORKING = "working"
    DONE = "done"  # the whole quantity filled
    STOPPED = "stopped"  # ended with quantity unfilled (horizon over, kill switch, error)


class RunStatus(enum.Enum):
    RUNNING = "running"
    COMPLETED = "completed"
    STOPPED = "stopped"  # ended early with a report (unfilled quantity, a fault)
    HALTED = "halted"  # the kill switch was used


@dataclass(frozen=True, slots=True)
class RunRecord:
    config_hash: str
    plan: dict[str, Any]
    info: dict[str, Any]
    status: RunStatus
    sessions: int  # how many processes have worked this run (1 + restarts)


@dataclass(frozen=True, slots=True)
class ChildRecord:
    order_id: int  # the broker's order id
    parent_id: str
    instrument: str
    quantity: int  # intended, signed
    order_type: str
    limit_price: float | None
    state: ChildState
    filled: int  # signed, from unique executions
    broker_filled: int  # signed, the largest filled quantity the broker reported by status
    reason: str


@dataclass(frozen=True, slots=True)
class ExecutionRecord:
    exec_id: str
    order_id: int
    parent_id: str
    quantity: int
    price: float
    fee: float
    time: float


@dataclass(frozen=True, slots=True)
class ParentRecovery:
    """One parent as recovery sees it."""

    parent_id: str
    instrument: str
    quantity: int  # signed parent quantity
    algo: str
    state: ParentState
    filled: int  # signed, sum over unique executions of all its children
    fees: float
    open_children: tuple[ChildRecord, ...]  # may still be working at the broker
    committed: int = 0  # signed: per child the larger of its executions and the broker's report

    @property
    def remaining(self) -> int:
        """Signed quantity still to trade: the parent less what its children are known to
        have filled, counting fills the broker announced whose executions are not yet in
        (so that they are never sent again). Children still open are not subtracted: settle
        them first."""
        return self.quantity - self.committed


@dataclass(frozen=True, slots=True)
class RecoveryState:
    run: RunRecord | None
    parents: tuple[ParentRecovery, ...]
    exec_ids: frozenset[str]
    next_order_id: int


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS run (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    config_hash TEXT NOT NULL,
    plan TEXT NOT NULL,
    info TEXT NOT NULL,
    status TEXT NOT NULL,
    sessions INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS parents (
    parent_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    instrument TEXT NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity != 0),
    algo TEXT NOT NULL,
    state TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS children (
    order_id INTEGER PRIMARY KEY,
    parent_id TEXT NOT NULL REFERENCES parents(parent_id),
    instrument TEXT NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity != 0),
    order_type TEXT NOT NULL,
    limit_price REAL,
    tif TEXT NOT NULL,
    state TEXT NOT NULL,
    broker_filled INTEGER NOT NULL DEFAULT 0,
    reason TEXT NOT NULL DEFAULT '',
    session INTEGER NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS executions (
    exec_id TEXT PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES children(order_id),
    quantity INTEGER NOT NULL CHECK (quantity != 0),
    price REAL NOT NULL,
    fee REAL NOT NULL,
    time REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id INTEGER,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL,
    time REAL NOT NULL
);
"""


class JournalError(RuntimeError):
    """The journal cannot be used as asked (wrong schema, unknown order, a second run)."""


class Journal:
    """An open journal file. Not thread-safe; one writer process at a time.

    Use as a context manager or call :meth:`close`.
    """

    def __init__(self, path: str | Path, synchronous: Synchronous = Synchronous.FULL) -> None:
        self.path = Path(path)
        self._db = sqlite3.connect(str(self.path), isolation_level=None, timeout=10.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={synchronous.value}")
        self._db.execute("PRAGMA foreign_keys=ON")
        with self._tx():
            for stmt in _SCHEMA.split(";"):
                if stmt.strip():
                    self._db.execute(stmt)
            row = self._db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            if row is None:
                self._db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            elif int(row[0]) != SCHEMA_VERSION:
                raise JournalError(f"{self.path}: journal schema {row[0]}, expected {SCHEMA_VERSION}")
        self._session = self._current_session()

    # -- plumbing -----------------------------------------------------------------------

    def _tx(self) -> "_Transaction":
        return _Transaction(self._db)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "Journal":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _current_session(self) -> int:
        row = self._db.execute("SELECT sessions FROM run WHERE id=1").fetchone()
        return int(row[0]) if row else 1

    # -- the run ------------------------------------------------------------------------

    def run(self) -> RunRecord | None:
        """The run held by this journal, or None for a fresh journal."""
        row = self._db.execute("SELECT config_hash, plan, info, status, sessions FROM run WHERE id=1").fetchone()
        if row is None:
            return None
        return RunRecord(row[0], json.loads(row[1]), json.loads(row[2]), RunStatus(row[3]), int(row[4]))

    def start_run(self, config_hash: str, plan: Mapping[str, Any], info: Mapping[str, Any] | None = None) -> RunRecord:
        """Record a new run: the config's hash, the plan being executed and free-form info."""
        with self._tx():
            if self._db.execute("SELECT 1 FROM run").fetchone():
                raise JournalError(f"{self.path}: already holds a run; resume it instead")
            self._db.execute(
                "INSERT INTO run (id, config_hash, plan, info, status, sessions) VALUES (1, ?, ?, ?, ?, 1)",
                (config_hash, json.dumps(plan, sort_keys=True), json.dumps(dict(info or {}), sort_keys=True),
                 RunStatus.RUNNING.value),
            )
        self._session = 1
        run = self.run()
        assert run is not None
        return run

    def begin_session(self) -> int:
        """Count one more process working this run (call on resume); returns its number."""
        with self._tx():
            cur = self._db.execute("UPDATE run SET sessions = sessions + 1, status = ? WHERE id=1",
                                   (RunStatus.RUNNING.value,))
            if cur.rowcount != 1:
                raise JournalError(f"{self.path}: no run to resume")
        self._session = self._current_session()
        return self._session

    def set_run_status(self, status: RunStatus, info: Mapping[str, Any] | None = None) -> None:
        """Set the run's status; ``info`` keys are merged into the run's info."""
        with self._tx():
            row = self._db.execute("SELECT info FROM run WHERE id=1").fetchone()
            if row is None:
                raise JournalError(f"{self.path}: no run")
            merged = {**json.loads(row[0]), **dict(info or {})}
            self._db.execute("UPDATE run SET status=?, info=? WHERE id=1", (status.value, json.dumps(merged, sort_keys=True)))

    # -- parents ------------------------------------------------------------------------

    def add_parent(self, parent_id: str, instrument: str, quantity: int, algo: str) -> None:
        """Record a parent order (idempotent for an identical parent)."""
        if not isinstance(quantity, int) or quantity == 0:
            raise ValueError(f"parent {parent_id}: quantity must be a non-zero int")
        with self._tx():
            row = self._db.execute("SELECT instrument, quantity FROM parents WHERE parent_id=?", (parent_id,)).fetchone()
            if row is not None:
                if (row[0], row[1]) != (instrument, quantity):
                    raise JournalError(f"parent {parent_id} already recorded as {row[1]} {row[0]}")
                return
            seq = self._db.execute("SELECT COUNT(*) FROM parents").fetchone()[0]
            self._db.execute(
                "INSERT INTO parents VALUES (?, ?, ?, ?, ?, ?)",
                (parent_id, seq, instrument, quantity, algo, ParentState.WORKING.value),
            )

    def set_parent_state(self, parent_id: str, state: ParentState) -> None:
        with self._tx():
            cur = self._db.execute("UPDATE parents SET state=? WHERE parent_id=?", (state.value, parent_id))
            if cur.rowcount != 1:
                raise JournalError(f"unknown parent {parent_id}")

    # -- children -----------------------------------------------------------------------

    def next_order_id(self, floor: int = 1) -> int:
        """The smallest order id above every child ever journaled, and at least ``floor``."""
        row = self._db.execute("SELECT MAX(order_id) FROM children").fetchone()
        return max(int(floor), (row[0] or 0) + 1)

    def reserve_child(self, parent_id: str, order: OrderRequest, time: float) -> None:
        """Write a child in state PENDING and commit; call *before* sending it to the broker."""
        with self._tx():
            parent = self._db.execute("SELECT instrument FROM parents WHERE parent_id=?", (parent_id,)).fetchone()
            if parent is None:
                raise JournalError(f"child {order.order_id}: unknown parent {parent_id}")
            if parent[0] != order.instrument:
                raise JournalError(f"child {order.order_id} trades {order.instrument}, its parent {parent[0]}")
            if self._db.execute("SELECT 1 FROM children WHERE order_id=?", (order.order_id,)).fetchone():
                raise JournalError(f"order id {order.order_id} was already used")
            self._db.execute(
                "INSERT INTO children (order_id, parent_id, instrument, quantity, order_type, limit_price, tif,"
                " state, session, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (order.order_id, parent_id, order.instrument, order.quantity, order.order_type.value,
                 order.limit_price, order.tif.value, ChildState.PENDING.value, self._session, time, time),
            )

    def mark_submitted(self, order_id: int, time: float) -> None:
        """The child has been handed to the broker connection."""
        with self._tx():
            self._set_state(order_id, ChildState.SUBMITTED, time, only_from=(ChildState.PENDING,))

    def resolve_child(self, order_id: int, state: ChildState, time: float, reason: str = "",
                      broker_filled: int | None = None) -> None:
        """Set a child's state from reconciliation (e.g. LOST when the broker never saw it)."""
        with self._tx():
            self._set_state(order_id, state, time, reason=reason)
            if broker_filled is not None:
                self._raise_broker_filled(order_id, broker_filled)
            self._log(order_id, "resolve", {"state": state.value, "reason": reason}, time)

    def record_event(self, event: OrderEvent) -> bool:
        """Write one broker event. Returns False for an execution already recorded."""
        with self._tx():
            if isinstance(event, ConnectionChanged):
                self._log(None, "connection", {"connected": event.connected}, event.time)
                return True
            oid = event.order_id
            if self._db.execute("SELECT 1 FROM children WHERE order_id=?", (oid,)).fetchone() is None:
                self._log(oid, "unknown-order", {"event": type(event).__name__}, event.time)
                return False
            if isinstance(event, Execution):
                cur = self._db.execute(
                    "INSERT OR IGNORE INTO executions VALUES (?, ?, ?, ?, ?, ?)",
                    (event.exec_id, oid, event.quantity, event.price, event.fee, event.time),
                )
                if cur.rowcount == 0:
                    return False
                self._promote(oid, ChildState.WORKING, event.time)
                return True
            if isinstance(event, OrderAccepted):
                self._promote(oid, ChildState.WORKING, event.time)
            elif isinstance(event, OrderRejected):
                self._set_state(oid, ChildState.REJECTED, event.time, reason=f"{event.code} {event.reason}".strip())
            elif isinstance(event, OrderCancelled):
                self._set_state(oid, ChildState.CANCELLED, event.time, reason=event.reason)
                self._raise_broker_filled(oid, event.filled)
            elif isinstance(event, OrderFilled):
                self._set_state(oid, ChildState.FILLED, event.time)
                self._raise_broker_filled(oid, event.filled)
            elif isinstance(event, CancelRejected):
                self._log(oid, "cancel-rejected", {"reason": event.reason}, event.time)
                return True
            self._log(oid, type(event).__name__, {}, event.time)
            return True

    def log(self, kind: str, detail: Mapping[str, Any], time: float, order_id: int | None = None) -> None:
        """Append a free-form entry (a kill switch, a reconciliation summary) to the event log."""
        with self._tx():
            self._log(order_id, kind, detail, time)

    def _log(self, order_id: int | None, kind: str, detail: Mapping[str, Any], time: float) -> None:
        self._db.execute(
            "INSERT INTO events (order_id, kind, detail, time) VALUES (?, ?, ?, ?)",
            (order_id, kind, json.dumps(dict(detail), sort_keys=True), time),
        )

    def _set_state(self, order_id: int, state: ChildState, time: float, reason: str = "",
                   only_from: Iterable[ChildState] | None = None) -> None:
        row = self._db.execute("SELECT state FROM children WHERE order_id=?", (order_id,)).fetchone()
        if row is None:
            raise JournalError(f"unknown child order {order_id}")
        current = ChildState(row[0])
        if only_from is not None and current not in tuple(only_from):
            return
        if not current.is_open and current is not state:
            # A terminal state is final; a late event only leaves a trace in the log.
            return
        self._db.execute("UPDATE children SET state=?, reason=?, updated=? WHERE order_id=?",
                         (state.value, reason, time, order_id))

    def _promote(self, order_id: int, state: ChildState, time: float) -> None:
        """Move PENDING/SUBMITTED forward to ``state``; leave later states alone."""
        self._set_state(order_id, state, time, only_from=(ChildState.PENDING, ChildState.SUBMITTED))

    def _raise_broker_filled(self, order_id: int, filled: int) -> None:
        self._db.execute(
            "UPDATE children SET broker_filled = CASE WHEN ABS(?) > ABS(broker_filled) THEN ? ELSE broker_filled END"
            " WHERE order_id=?",
            (filled, filled, order_id),
        )

    # -- reading ------------------------------------------------------------------------

    def child(self, order_id: int) -> ChildRecord:
        rows = self._children("WHERE c.order_id=?", (order_id,))
        if not rows:
            raise JournalError(f"unknown child order {order_id}")
        return rows[0]

    def children(self, parent_id: str | None = None) -> list[ChildRecord]:
        if parent_id is None:
            return self._children("", ())
        return self._children("WHERE c.parent_id=?", (parent_id,))

    def _children(self, where: str, args: tuple[Any, ...]) -> list[ChildRecord]:
        rows = self._db.execute(
            "SELECT c.order_id, c.parent_id, c.instrument, c.quantity, c.order_type, c.limit_price, c.state,"
            " COALESCE((SELECT SUM(e.quantity) FROM executions e WHERE e.order_id=c.order_id), 0),"
            f" c.broker_filled, c.reason FROM children c {where} ORDER BY c.order_id",
            args,
        ).fetchall()
        return [ChildRecord(r[0], r[1], r[2], r[3], r[4], r[5], ChildState(r[6]), int(r[7]), int(r[8]), r[9]) for r in rows]

    def executions(self) -> list[ExecutionRecord]:
        rows = self._db.execute(
            "SELECT e.exec_id, e.order_id, c.parent_id, e.quantity, e.price, e.fee, e.time"
            " FROM executions e JOIN children c USING (order_id) ORDER BY e.time, e.exec_id"
        ).fetchall()
        return [ExecutionRecord(*r) for r in rows]

    def events(self) -> list[tuple[int | None, str, dict[str, Any], float]]:
        rows = self._db.execute("SELECT order_id, kind, detail, time FROM events ORDER BY seq").fetchall()
        return [(r[0], r[1], json.loads(r[2]), r[3]) for r in rows]

    def recovery(self) -> RecoveryState:
        """Everything a restarted process needs: fills per parent, open children, next id."""
        parents = []
        for pid, instrument, quantity, algo, state in self._db.execute(
            "SELECT parent_id, instrument, quantity, algo, state FROM parents ORDER BY seq"
        ).fetchall():
            filled, fees = self._db.execute(
                "SELECT COALESCE(SUM(e.quantity), 0), COALESCE(SUM(e.fee), 0.0) FROM executions e"
                " JOIN children c USING (order_id) WHERE c.parent_id=?",
                (pid,),
            ).fetchone()
            children = self.children(pid)
            open_children = tuple(c for c in children if c.state.is_open)
            committed = sum(c.filled if abs(c.filled) >= abs(c.broker_filled) else c.broker_filled for c in children)
            parents.append(ParentRecovery(pid, instrument, quantity, algo, ParentState(state), int(filled),
                                          float(fees), open_children, int(committed)))
        exec_ids = frozenset(r[0] for r in self._db.execute("SELECT exec_id FROM executions"))
        return RecoveryState(self.run(), tuple(parents), exec_ids, self.next_order_id())


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on error); nests as a no-op."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self._outer = False

    def __enter__(self) -> None:
        if not self._db.in_transaction:
            self._db.execute("BEGIN IMMEDIATE")
            self._outer = True

    def __exit__(self, exc_type: object, *_: object) -> None:
        if not self._outer:
            return
        if exc_type is None:
            self._db.execute("COMMIT")
        else:
            self._db.execute("ROLLBACK")
