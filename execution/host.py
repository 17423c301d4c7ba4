"""What an execution algorithm may ask of the engine that runs it.

:func:`execution.algos.follow` works one parent order through the primitives of
:class:`AlgoHost`; :class:`execution.engine.Engine` implements them. The protocol keeps the
algorithms independent of the engine's internals (dispatch, coalesced timers, risk guard),
so the dependency runs one way: the engine imports the algorithms, never the reverse.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from execution.broker import Broker, MarketSnapshot
    from execution.orders import ChildOrder, ParentOrder, ParentStatus
    from execution.risk import RiskVerdict


class GcPolicy(enum.Enum):
    """What :meth:`execution.engine.Engine.run` does with Python's garbage collector."""

    #: Freeze the heap the run starts with and suspend full collections during the run
    #: (young ones go on); thresholds are restored, and the heap unfrozen, afterwards. For
    #: runs on a real clock (paper trading), which may last hours.
    RUN = "run"
    #: Freeze the heap the run starts with and suspend automatic collection during the run,
    #: young generations included; restored afterwards. For simulated runs: the engine and
    #: the simulator make no cyclic garbage on their usual path (children, fills, futures
    #: and timers are freed by reference counting), so young collections during a run only
    #: traverse objects that live on, about 5 % of a run at 20 parents and 13 % at 10,000.
    #: Cycles a run does make (faults' exceptions) are collected after it.
    SUSPEND = "suspend"
    #: Leave the collector as the caller set it.
    LEAVE = "leave"


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """Timeouts (seconds of the loop's clock), retry policy and garbage-collector policy."""

    ack_timeout: float = 10.0
    cancel_timeout: float = 10.0
    max_retries: int = 3
    backoff: float = 1.0  # first retry delay; doubles per consecutive reject
    finish_timeout: float = 300.0  # after the horizon, time allowed to complete the rest
    first_order_id: int = 1
    gc: GcPolicy = GcPolicy.RUN

    def __post_init__(self) -> None:
        if min(self.ack_timeout, self.cancel_timeout, self.finish_timeout) <= 0 or self.backoff < 0:
            raise ValueError("timeouts must be positive and backoff non-negative")
        if self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")


class AlgoHost(Protocol):
    """The engine as an algorithm sees it. Times are seconds of the event loop's clock."""

    broker: Broker
    config: EngineConfig
    killed: bool  # the kill switch: send nothing more
    connected: bool  # the broker's connection as last reported

    async def sleep_until(self, parent: ParentOrder, when: float) -> None:
        """Sleep until loop time ``when`` (returns at once when killed)."""

    async def wait_event(self, parent: ParentOrder) -> None:
        """Wait for the next broker event on one of ``parent``'s children (or a kill)."""

    async def wait_connected(self, parent: ParentOrder) -> None:
        """Wait until the broker's link is up again (or a kill)."""

    def send_child(
        self,
        parent: ParentOrder,
        quantity: int,
        snap: MarketSnapshot,
        offset_ticks: int | None,
        interval_volume: float | None,
        unit_value: float,
    ) -> ChildOrder | RiskVerdict:
        """Risk-check and submit one child; the child, or the verdict that blocked it."""

    async def await_ack(self, parent: ParentOrder, child: ChildOrder, then: float | None = None) -> bool:
        """Wait for the broker's first word on ``child`` (the parent's latest); reconcile after
        the ack timeout. With ``then``, a good first word lets the parent sleep on until loop
        time ``then`` (unless its order is done or killed); True: it did."""

    def live_children(self, parent: ParentOrder) -> list[ChildOrder]:
        """``parent``'s children not yet in a terminal state."""

    async def cancel_children(self, parent: ParentOrder, children: list[ChildOrder]) -> None:
        """Cancel ``children`` and wait until each is terminal."""

    def finish(self, parent: ParentOrder, status: ParentStatus, reason: str = "") -> None:
        """End ``parent`` with ``status`` and ``reason``."""
