"""The journal's SQLite plumbing: schema, transactions, the event-log chain, error text."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

from execution.journal.records import JournalUnusable

SCHEMA_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS identity (key TEXT PRIMARY KEY, value TEXT NOT NULL);
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
    key TEXT PRIMARY KEY,
    exec_id TEXT NOT NULL,
    perm_id INTEGER NOT NULL,
    exec_time TEXT NOT NULL,
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
    time REAL NOT NULL,
    chain TEXT NOT NULL
);
"""

_IDENTITY_INT = ("client_id", "port")


def _open_problem(exc: BaseException) -> str:
    """One line for why a journal file cannot be used."""
    text = str(exc)
    low = text.lower()
    if "not a database" in low:
        return "is not an SQLite journal"
    if "readonly" in low or "read-only" in low:
        return "is read-only"
    if "disk is full" in low or "disk full" in low:
        return "cannot be written: the disk is full"
    if "disk i/o error" in low:
        return "cannot be written: disk I/O error (a full disk or a file size limit?)"
    if "unable to open" in low:
        return "cannot be opened (is its folder writable?)"
    return f"cannot be used: {text}"


def _chain(prev: str, order_id: int | None, kind: str, detail: str, time: float) -> str:
    text = json.dumps([prev, order_id, kind, detail, repr(float(time))])
    return hashlib.sha256(text.encode()).hexdigest()[:32]



class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on error); nests as a no-op. An
    SQLite failure (disk full, I/O error, read-only) becomes :class:`JournalUnusable`."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self._db = db
        self._path = path
        self._outer = False

    def __enter__(self) -> None:
        if not self._db.in_transaction:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise JournalUnusable(f"{self._path}: {_open_problem(exc)}") from None
            self._outer = True

    def __exit__(self, exc_type: object, exc: object, tb: object) -> bool:
        if not self._outer:
            return False
        if exc_type is None:
            try:
                self._db.execute("COMMIT")
                return False
            except sqlite3.Error as err:
                exc_type, exc = type(err), err
        try:
            self._db.execute("ROLLBACK")
        except sqlite3.Error:
            pass
        if isinstance(exc, sqlite3.Error):
            raise JournalUnusable(f"{self._path}: {_open_problem(exc)}") from None
        return False
