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
   keyed by their identity (:attr:`~execution.broker.Execution.key`: the execution id, the
   broker's permanent order id and the execution's time), so a repeated execution is never
   counted twice, whether it repeats within a session or across a restart, while an id a
   restarted broker issues again is a new execution. The same identity with other terms
   raises :class:`ExecutionConflict`: the run stops rather than guess.

Ownership, identity and integrity
---------------------------------
- A writer owns the journal through :class:`~execution.journal.lock.JournalLock` for as long
  as it is open; a second writer gets :class:`JournalLocked` before it touches anything.
- The run's :class:`Identity` (run id, config hash, client id, account, host, port) is
  written once (:meth:`Journal.set_identity`) and read by every resume.
- Every entry of the event log carries a SHA-256 chain value over the previous one;
  :meth:`Journal.integrity` runs SQLite's ``quick_check`` and verifies the chain.
  A journal that lost its ``-wal`` or the tail of it is consistent but behind: only the
  broker can tell (the run's orders carry the run id), and the session checks that.
- Open errors (a folder, not SQLite, read-only, disk full) raise :class:`JournalUnusable`
  with one line; a write that fails mid-run raises it too, before the order is sent.

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

Copying a journal
-----------------
While a run is live (and after a ``kill -9``) its state lives partly in ``<journal>-wal``:
copy with :meth:`Journal.backup` (SQLite's online backup API, ``overlay journal FILE
--backup DEST``), never by copying the ``.sqlite`` file alone.

Recovery
--------
:meth:`Journal.recovery` returns, for every parent, the quantity filled according to the
unique executions recorded and the children that may still be working (states ``PENDING``,
``SUBMITTED`` and ``WORKING``). The caller reconciles those against the broker's open orders
and executions before it sends anything new.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
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
from execution.journal.lock import JournalLock
from execution.journal.records import (  # noqa: F401  (re-exported)
    ChildRecord, ChildState, ExecutionConflict, ExecutionRecord, Identity, JournalDamaged, JournalError,
    JournalLocked, JournalUnusable, ParentRecovery, ParentState, RecoveryState, RunRecord, RunStatus, Synchronous,
)
from execution.journal.sql import _IDENTITY_INT, _SCHEMA, SCHEMA_VERSION, _chain, _open_problem, _Transaction


class Journal:
    """An open journal file. Not thread-safe; one writer process at a time.

    ``Journal(path)`` opens (creating) it for writing and takes its lock (``lock=False``
    skips the lock: tests and tools that own the file otherwise); :meth:`open_readonly`
    opens it to read, without lock, schema or writes. Use as a context manager or call
    :meth:`close`.
    """

    def __init__(self, path: str | Path, synchronous: Synchronous = Synchronous.FULL, *, lock: bool = True,
                 readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        self.lock = JournalLock(self.path)
        self._db: sqlite3.Connection | None = None
        if self.path.is_dir():
            raise JournalUnusable(f"{self.path}: is a folder, not a journal file")
        if readonly and not self.path.is_file():
            raise JournalUnusable(f"{self.path}: no such journal")
        if lock and not readonly:
            self.lock.acquire()
        try:
            self._open(synchronous)
        except sqlite3.Error as exc:
            self.close()
            raise JournalUnusable(f"{self.path}: {_open_problem(exc)}") from None
        except JournalError:
            self.close()
            raise
        self._session = self._current_session()

    @classmethod
    def open_readonly(cls, path: str | Path) -> "Journal":
        return cls(path, readonly=True)

    def _open(self, synchronous: Synchronous) -> None:
        if self.readonly:
            self._db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None,
                                       timeout=10.0)
            self._db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()  # "not a database" shows here
            row = self._db.execute("SELECT value FROM meta WHERE key='schema'").fetchone() if self._has("meta") else None
            if row is not None and int(row[0]) != SCHEMA_VERSION:
                raise JournalUnusable(f"{self.path}: journal schema {row[0]}, expected {SCHEMA_VERSION}")
            return
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
                raise JournalUnusable(f"{self.path}: journal schema {row[0]}, expected {SCHEMA_VERSION}")
            # count the opens: a real write, so a journal that cannot be written fails here
            self._db.execute("INSERT INTO meta VALUES ('opens', '1') ON CONFLICT(key) DO UPDATE"
                             " SET value = CAST(value AS INTEGER) + 1")

    def _has(self, table: str) -> bool:
        return self._db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (table,)).fetchone() is not None

    # -- plumbing -----------------------------------------------------------------------

    def _tx(self) -> "_Transaction":
        return _Transaction(self._db, self.path)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        self.lock.release()

    def __enter__(self) -> "Journal":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- identity and integrity -----------------------------------------------------------

    def identity(self) -> Identity | None:
        """The run's identity, or None before first use."""
        if not self._has("identity"):
            return None
        rows = dict(self._db.execute("SELECT key, value FROM identity").fetchall())
        if not rows:
            return None
        try:
            return Identity(**{k: int(rows[k]) if k in _IDENTITY_INT else rows[k] for k in Identity.__dataclass_fields__})
        except (KeyError, ValueError) as exc:
            raise JournalDamaged(f"{self.path}: its identity is incomplete ({exc})") from None

    def set_identity(self, identity: Identity) -> None:
        """Record the run's identity (once; the same identity again is a no-op)."""
        with self._tx():
            current = self.identity()
            if current is not None:
                if current != identity:
                    raise JournalError(f"{self.path}: already belongs to run {current.run_id}")
                return
            for k in Identity.__dataclass_fields__:
                self._db.execute("INSERT INTO identity VALUES (?, ?)", (k, str(getattr(identity, k))))

    def is_empty(self) -> bool:
        """No identity, no run, no order: a journal never used (or one that lost its content)."""
        return self.identity() is None and self.run() is None and not self.children()

    def integrity(self) -> str:
        """``"ok"``, or why the journal cannot be trusted (SQLite's quick check, the event
        log's chain, the run's pieces agreeing)."""
        try:
            rows = [r[0] for r in self._db.execute("PRAGMA quick_check").fetchall()]
        except sqlite3.Error as exc:
            return f"SQLite cannot read it ({exc})"
        if rows != ["ok"]:
            return f"SQLite integrity check failed: {'; '.join(map(str, rows[:3]))}"
        if not self._has("events"):
            return "ok"
        prev = ""
        for seq, oid, kind, detail, time, chain in self._db.execute(
                "SELECT seq, order_id, kind, detail, time, chain FROM events ORDER BY seq"):
            prev = _chain(prev, oid, kind, detail, time)
            if chain != prev:
                return f"event log entry {seq} does not match its checksum chain"
        has_run = self.run() is not None
        if (self.identity() is not None and not has_run) or (self.children() and not has_run):
            return "its identity, run and orders do not agree (a partial journal)"
        return "ok"

    def backup(self, dest: str | Path) -> None:
        """A consistent single-file copy (SQLite online backup), live run or not."""
        dest = Path(dest)
        if dest.exists():
            raise JournalUnusable(f"{dest}: exists; the backup does not overwrite")
        try:
            target = sqlite3.connect(str(dest))
        except sqlite3.Error as exc:
            raise JournalUnusable(f"{dest}: {_open_problem(exc)}") from None
        try:
            self._db.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")
        except sqlite3.Error as exc:
            raise JournalUnusable(f"{dest}: {_open_problem(exc)}") from None
        finally:
            target.close()

    def _current_session(self) -> int:
        if not self._has("run"):
            return 1
        row = self._db.execute("SELECT sessions FROM run WHERE id=1").fetchone()
        return int(row[0]) if row else 1

    # -- the run ------------------------------------------------------------------------

    def run(self) -> RunRecord | None:
        """The run held by this journal, or None for a fresh journal."""
        if not self._has("run"):
            return None
        row = self._db.execute("SELECT config_hash, plan, info, status, sessions FROM run WHERE id=1").fetchone()
        if row is None:
            return None
        return RunRecord(row[0], json.loads(row[1]), json.loads(row[2]), RunStatus(row[3]), int(row[4]))

    def start_run(self, config_hash: str, plan: Mapping[str, Any], info: Mapping[str, Any] | None = None,
                  identity: Identity | None = None) -> RunRecord:
        """Record a new run: the config's hash, the plan being executed, free-form info and
        the run's identity, in one transaction."""
        with self._tx():
            if self._db.execute("SELECT 1 FROM run").fetchone():
                raise JournalError(f"{self.path}: already holds a run; resume it instead")
            if identity is not None:
                self.set_identity(identity)
            self._db.execute(
                "INSERT INTO run (id, config_hash, plan, info, status, sessions) VALUES (1, ?, ?, ?, ?, 1)",
                (config_hash, json.dumps(plan, sort_keys=True), json.dumps(dict(info or {}), sort_keys=True),
                 RunStatus.RUNNING.value),
            )
            self._log(None, "run", {"config_hash": config_hash}, 0.0)
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
                key = event.key
                row = self._db.execute("SELECT order_id, quantity, price FROM executions WHERE key=?", (key,)).fetchone()
                if row is not None:
                    if (row[0], row[1]) != (oid, event.quantity) or abs(row[2] - event.price) > 1e-9:
                        raise ExecutionConflict(
                            f"execution {event.exec_id} (perm id {event.perm_id}, {event.exec_time or 'no time'}) "
                            f"came again as {event.quantity} @ {event.price:g} of order {oid}; the journal holds "
                            f"{row[1]} @ {row[2]:g} of order {row[0]}")
                    return False
                self._db.execute(
                    "INSERT INTO executions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (key, event.exec_id, event.perm_id, event.exec_time, oid, event.quantity, event.price,
                     event.fee, event.time),
                )
                self._log(oid, "execution", {"key": key, "quantity": event.quantity, "price": event.price}, event.time)
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
        text = json.dumps(dict(detail), sort_keys=True)
        row = self._db.execute("SELECT chain FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        self._db.execute(
            "INSERT INTO events (order_id, kind, detail, time, chain) VALUES (?, ?, ?, ?, ?)",
            (order_id, kind, text, time, _chain(row[0] if row else "", order_id, kind, text, time)),
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
        if not self._has("children"):
            return []
        rows = self._db.execute(
            "SELECT c.order_id, c.parent_id, c.instrument, c.quantity, c.order_type, c.limit_price, c.state,"
            " COALESCE((SELECT SUM(e.quantity) FROM executions e WHERE e.order_id=c.order_id), 0),"
            f" c.broker_filled, c.reason FROM children c {where} ORDER BY c.order_id",
            args,
        ).fetchall()
        return [ChildRecord(r[0], r[1], r[2], r[3], r[4], r[5], ChildState(r[6]), int(r[7]), int(r[8]), r[9]) for r in rows]

    def executions(self) -> list[ExecutionRecord]:
        if not self._has("executions"):
            return []
        rows = self._db.execute(
            "SELECT e.exec_id, e.order_id, c.parent_id, e.quantity, e.price, e.fee, e.time, e.perm_id, e.exec_time,"
            " e.key FROM executions e JOIN children c USING (order_id) ORDER BY e.time, e.key"
        ).fetchall()
        return [ExecutionRecord(*r) for r in rows]

    def events(self) -> list[tuple[int | None, str, dict[str, Any], float]]:
        if not self._has("events"):
            return []
        rows = self._db.execute("SELECT order_id, kind, detail, time FROM events ORDER BY seq").fetchall()
        return [(r[0], r[1], json.loads(r[2]), r[3]) for r in rows]

    def recovery(self) -> RecoveryState:
        """Everything a restarted process needs: fills per parent, open children, next id."""
        parents = []
        if not self._has("parents"):
            return RecoveryState(self.run(), (), frozenset(), 1)
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
        keys = frozenset(r[0] for r in self._db.execute("SELECT key FROM executions"))
        return RecoveryState(self.run(), tuple(parents), keys, self.next_order_id())
