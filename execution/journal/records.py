"""The journal's records, states and errors (no I/O)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


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
    time: float  # the loop's clock when it was journaled
    perm_id: int = 0  # the broker's permanent order id (0: none)
    exec_time: str = ""  # the broker's time stamp
    key: str = ""  # the execution's identity (``Execution.key``)


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
    exec_keys: frozenset[str]  # ``Execution.key`` of every journaled execution
    next_order_id: int


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a run trades as: recorded on first use, taken by every resume."""

    run_id: str
    config_hash: str
    client_id: int
    account: str
    host: str
    port: int

    @property
    def order_ref_prefix(self) -> str:
        """``orderRef`` prefix of the run's orders: ``ovl-<config hash, 8>-<run id>-``; the
        order id follows."""
        return f"ovl-{self.config_hash[:8]}-{self.run_id}-"


class JournalError(RuntimeError):
    """The journal cannot be used as asked (wrong schema, unknown order, a second run)."""


class JournalUnusable(JournalError):
    """The journal file cannot be opened or written (a folder, not SQLite, read-only, full)."""


class JournalLocked(JournalError):
    """Another process owns the journal."""


class JournalDamaged(JournalError):
    """The journal fails its integrity check, or is behind what the broker shows."""


class ExecutionConflict(JournalError):
    """An execution arrived again with the same identity but other terms."""
