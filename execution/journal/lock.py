"""One owner per journal: an exclusive advisory lock held for the life of a run.

The lock is ``flock(LOCK_EX)`` on a side file ``<journal>.lock``. The kernel drops it when
its process ends, however it ends (``kill -9`` included), so a lock can never outlive its
owner on a local file system. The side file also holds the owner's pid and host; a
process that takes the lock and finds another pid written there learns that the previous
owner died without releasing it (a *stale* lock), and says so.

The side file, not the SQLite file, is locked: SQLite's own POSIX locks on the database
are per process and released by any ``close()``, so they cannot express ownership.
"""

from __future__ import annotations

import fcntl
import os
import socket
from pathlib import Path

from execution.journal.records import JournalLocked, JournalUnusable


def lock_path(journal: str | Path) -> Path:
    return Path(f"{journal}.lock")


class JournalLock:
    """``acquire()`` or raise :class:`JournalLocked`; ``release()`` at the end of the run."""

    def __init__(self, journal: str | Path) -> None:
        self.journal = Path(journal)
        self.path = lock_path(journal)
        self._fd: int | None = None
        self.stale: str = ""  # what a stale lock said, when one was taken over

    def acquire(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise JournalUnusable(f"{self.journal}: cannot create its lock file {self.path.name}: "
                                  f"{exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read(fd)
            os.close(fd)
            who = holder or "another process"
            raise JournalLocked(f"{self.journal}: in use by {who}; one process at a time owns a journal") from None
        previous = _read(fd)
        if previous and previous != _me():
            self.stale = (f"stale lock of {previous} taken over (that process is gone)"
                          if not _alive(previous) else f"lock of {previous} taken over (it no longer held it)")
        os.ftruncate(fd, 0)
        os.pwrite(fd, _me().encode(), 0)
        os.fsync(fd)
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)
        except OSError:
            pass
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None


def _me() -> str:
    return f"pid {os.getpid()} on {socket.gethostname()}"


def _read(fd: int) -> str:
    try:
        return os.pread(fd, 200, 0).decode(errors="replace").strip()
    except OSError:
        return ""


def _alive(text: str) -> bool:
    """Whether the pid in ``pid N on HOST`` runs here (False for another host's pid)."""
    parts = text.split()
    if len(parts) < 4 or parts[0] != "pid" or not parts[1].isdigit() or parts[3] != socket.gethostname():
        return False
    try:
        os.kill(int(parts[1]), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
