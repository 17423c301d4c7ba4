"""Parent and child order records and the child-order state machine.

The legal life of a child order is the one table :data:`TRANSITIONS`: ``(state, trigger) ->
next state``. Anything not in the table raises :class:`IllegalTransition`.

::

    PENDING_SUBMIT --accept--> WORKING --fill--> FILLED
          |                      |  \\--partial--> PARTIALLY_FILLED --fill--> FILLED
          |--reject--> REJECTED  |--cancel request--> CANCEL_PENDING --cancelled--> CANCELLED
          '--(fill/partial/cancelled before the ack: the ack may be lost or late)

Executions are the truth. Each execution is counted once (deduplicated by ``exec_id`` in
the parent) and counts toward ``filled`` even when it arrives after the order was
cancelled or reported filled; a terminal report (``OrderCancelled.filled`` or
``OrderFilled.filled``) that announces more than the executions received so far keeps the
difference *in flight* (still counted as working by the parent) until those executions
arrive, so the parent never re-sends quantity that is about to fill.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from execution.errors import IllegalTransition  # noqa: F401 (re-exported)

if TYPE_CHECKING:
    import asyncio


class OrderState(enum.Enum):
    PENDING_SUBMIT = 0
    WORKING = 1
    PARTIALLY_FILLED = 2
    FILLED = 3
    CANCEL_PENDING = 4
    CANCELLED = 5
    REJECTED = 6

    @property
    def terminal(self) -> bool:
        return _IS_TERMINAL[self._value_]


class Trigger(enum.Enum):
    ACCEPT = 0  # OrderAccepted
    REJECT = 1  # OrderRejected
    PARTIAL_FILL = 2  # an Execution that leaves some of the order open
    FILL = 3  # an Execution that completes the order, or OrderFilled
    CANCEL_REQUEST = 4  # we asked the broker to cancel
    CANCEL_REJECT = 5  # CancelRejected
    CANCELLED = 6  # OrderCancelled


S, T = OrderState, Trigger
_TERMINAL = frozenset({S.FILLED, S.CANCELLED, S.REJECTED})
_IS_TERMINAL = tuple(s in _TERMINAL for s in OrderState)  # indexed by value: no enum hashing

#: The whole child-order life cycle. Self-loops absorb late or repeated messages.
TRANSITIONS: dict[tuple[OrderState, Trigger], OrderState] = {
    (S.PENDING_SUBMIT, T.ACCEPT): S.WORKING,
    (S.PENDING_SUBMIT, T.REJECT): S.REJECTED,
    (S.PENDING_SUBMIT, T.PARTIAL_FILL): S.PARTIALLY_FILLED,
    (S.PENDING_SUBMIT, T.FILL): S.FILLED,
    (S.PENDING_SUBMIT, T.CANCEL_REQUEST): S.CANCEL_PENDING,
    (S.PENDING_SUBMIT, T.CANCELLED): S.CANCELLED,
    (S.WORKING, T.ACCEPT): S.WORKING,
    (S.WORKING, T.PARTIAL_FILL): S.PARTIALLY_FILLED,
    (S.WORKING, T.FILL): S.FILLED,
    (S.WORKING, T.CANCEL_REQUEST): S.CANCEL_PENDING,
    (S.WORKING, T.CANCELLED): S.CANCELLED,
    (S.PARTIALLY_FILLED, T.ACCEPT): S.PARTIALLY_FILLED,
    (S.PARTIALLY_FILLED, T.PARTIAL_FILL): S.PARTIALLY_FILLED,
    (S.PARTIALLY_FILLED, T.FILL): S.FILLED,
    (S.PARTIALLY_FILLED, T.CANCEL_REQUEST): S.CANCEL_PENDING,
    (S.PARTIALLY_FILLED, T.CANCELLED): S.CANCELLED,
    (S.CANCEL_PENDING, T.ACCEPT): S.CANCEL_PENDING,
    (S.CANCEL_PENDING, T.PARTIAL_FILL): S.CANCEL_PENDING,
    (S.CANCEL_PENDING, T.FILL): S.FILLED,
    (S.CANCEL_PENDING, T.CANCEL_REQUEST): S.CANCEL_PENDING,
    (S.CANCEL_PENDING, T.CANCEL_REJECT): S.WORKING,
    (S.CANCEL_PENDING, T.CANCELLED): S.CANCELLED,
    (S.CANCEL_PENDING, T.REJECT): S.REJECTED,
    (S.FILLED, T.ACCEPT): S.FILLED,
    (S.FILLED, T.PARTIAL_FILL): S.FILLED,
    (S.FILLED, T.FILL): S.FILLED,
    (S.FILLED, T.CANCEL_REQUEST): S.FILLED,
    (S.FILLED, T.CANCEL_REJECT): S.FILLED,
    (S.CANCELLED, T.ACCEPT): S.CANCELLED,
    (S.CANCELLED, T.PARTIAL_FILL): S.CANCELLED,
    (S.CANCELLED, T.FILL): S.CANCELLED,
    (S.CANCELLED, T.CANCEL_REQUEST): S.CANCELLED,
    (S.CANCELLED, T.CANCEL_REJECT): S.CANCELLED,
    (S.CANCELLED, T.CANCELLED): S.CANCELLED,
    (S.REJECTED, T.REJECT): S.REJECTED,
    (S.REJECTED, T.CANCEL_REQUEST): S.REJECTED,
    (S.REJECTED, T.CANCEL_REJECT): S.REJECTED,
    (S.REJECTED, T.CANCELLED): S.REJECTED,
}

_FILL, _PARTIAL = T.FILL, T.PARTIAL_FILL

# The same table as nested tuples indexed by enum value: the hot path's lookup.
_STATES = tuple(OrderState)
_FAST: tuple[tuple[OrderState | None, ...], ...] = tuple(
    tuple(TRANSITIONS.get((s, t)) for t in Trigger) for s in OrderState
)


def transition(state: OrderState, trigger: Trigger) -> OrderState:
    """The state after ``trigger``; raises :class:`IllegalTransition` if not allowed."""
    nxt = _FAST[state._value_][trigger._value_]
    if nxt is None:
        raise IllegalTransition(f"{trigger.name} is illegal in state {state.name}")
    return nxt


class Fill(NamedTuple):
    """One execution as the engine recorded it (quantity signed, fee in currency)."""

    time: float
    instrument: str
    quantity: int
    price: float
    exec_id: str
    order_id: int
    fee: float
    legs: tuple = ()  # a calendar spread's leg fills (execution.spreads.LegFill)


class ParentStatus(enum.Enum):
    PENDING = "pending"
    WORKING = "working"
    DONE = "done"  # filled exactly
    FAILED = "failed"  # gave up: retries exhausted, risk limits or the broker stopped it
    KILLED = "killed"  # stopped by the kill switch


@dataclass(slots=True)
class MarketTrail:
    """What a parent saw of its market, for transaction-cost analysis.

    ``arrival`` is the mid when the parent started, ``first_mid`` the mid when its first
    child was priced. Interval VWAP is accumulated from the snapshots taken at each slice:
    ``Σ last_k · ΔV_k / Σ ΔV_k`` with ``ΔV_k`` the market volume since the previous one.
    """

    start_time: float = float("nan")
    end_time: float = float("nan")
    arrival: float = float("nan")
    first_mid: float = float("nan")
    start_volume: float = 0.0
    last_volume: float = 0.0
    pv: float = 0.0
    volume: float = 0.0
    marks: list[tuple[float, float]] = field(default_factory=list)  # (time, mid) per slice

    def observe(self, time: float, mid: float, last: float, volume: float) -> float:
        """Record a snapshot; returns the market volume since the previous one."""
        dv = volume - self.last_volume
        if dv > 0:
            self.pv += last * dv
            self.volume += dv
        self.last_volume = volume
        self.marks.append((time, mid))
        return dv

    @property
    def interval_vwap(self) -> float:
        return self.pv / self.volume if self.volume > 0 else self.arrival


@dataclass(slots=True, eq=False)
class ChildOrder:
    """One child order sent to the broker; mutated only through :meth:`apply`."""

    order_id: int
    parent: ParentOrder
    quantity: int  # signed
    sent_at: float
    mid: float  # mid of the snapshot the child was priced from (for TCA)
    touch: float  # the far touch then: ask for a buy, bid for a sell
    limit_price: float = 0.0  # 0 for a market order
    state: OrderState = OrderState.PENDING_SUBMIT
    filled: int = 0  # signed, from executions received
    reported: int = 0  # signed, filled announced by a terminal report
    reason: str = ""

    @property
    def open_quantity(self) -> int:
        """Signed quantity that may still fill: the unfilled rest while the order lives,
        announced-but-undelivered executions once it is terminal."""
        if _IS_TERMINAL[self.state._value_]:
            rest = self.reported - self.filled
            return rest if rest * self.quantity > 0 else 0
        return self.quantity - self.filled

    def apply(self, trigger: Trigger) -> None:
        """Move to the next state (raises :class:`IllegalTransition`) and keep the
        parent's working quantity in step."""
        before = self.open_quantity
        nxt = _FAST[self.state._value_][trigger._value_]
        if nxt is None:
            raise IllegalTransition(f"child {self.order_id}: {trigger.name} is illegal in state {self.state.name}")
        if nxt is OrderState.WORKING and self.filled:
            nxt = OrderState.PARTIALLY_FILLED  # a refused cancel resumes a part-filled order
        self.state = nxt
        self.parent.working += self.open_quantity - before

    def add_fill(self, quantity: int) -> None:
        """Count an execution (already deduplicated) and move the state."""
        parent = self.parent
        if _IS_TERMINAL[self.state._value_]:
            before = self.open_quantity
            self.filled += quantity
            parent.working += self.open_quantity - before
            parent.filled += quantity
            return
        filled = self.filled = self.filled + quantity
        parent.filled += quantity
        parent.working -= quantity
        # a live order's open quantity is quantity - filled before and after the move, except
        # when it becomes FILLED (open 0 = quantity - filled too): no further adjustment.
        nxt = _FAST[self.state._value_][(_FILL if filled == self.quantity else _PARTIAL)._value_]
        if nxt is None:
            raise IllegalTransition(f"child {self.order_id}: fill is illegal in state {self.state.name}")
        self.state = nxt

    def report_terminal(self, trigger: Trigger, filled: int) -> None:
        """An OrderFilled / OrderCancelled report saying ``filled`` was done in total."""
        before = self.open_quantity
        if abs(filled) > abs(self.reported):
            self.reported = filled
        nxt = _FAST[self.state._value_][trigger._value_]
        if nxt is None:
            raise IllegalTransition(f"child {self.order_id}: {trigger.name} is illegal in state {self.state.name}")
        self.state = nxt
        self.parent.working += self.open_quantity - before


@dataclass(slots=True, eq=False)
class ParentOrder:
    """A parent order's live aggregate: quantities, children, fills and status."""

    parent_id: int
    instrument: str
    quantity: int  # signed contracts
    multiplier: float = 1.0
    tick: float = 0.01
    filled: int = 0
    working: int = 0  # signed open quantity of live children (and fills in flight)
    filled_value: float = 0.0  # sum of quantity * price over fills (price units * contracts)
    fees: float = 0.0
    status: ParentStatus = ParentStatus.PENDING
    reason: str = ""
    children: list[ChildOrder] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)
    exec_ids: set[str] = field(default_factory=set)
    rejects: int = 0
    risk_blocks: int = 0
    trail: MarketTrail = field(default_factory=lambda: MarketTrail())
    waiter: asyncio.Future[None] | None = None  # the engine's wake-up future while the parent waits on its children
    # the engine's: while it waits for a child's first word, the time the parent sleeps on to
    # after a good one (see Engine.await_ack), and whether it did
    resume_at: float | None = None
    slept: bool = False
    collar: tuple | None = None  # the engine's: (arrival, collar bps, buy, adverse bound) last worked out
    legs: tuple[str, str] | None = None  # (near, far): a calendar spread (execution.spreads)

    @property
    def remaining(self) -> int:
        """Signed quantity neither filled nor working: what a new child may take."""
        return self.quantity - self.filled - self.working

    @property
    def avg_price(self) -> float:
        """Average fill price, price units (``filled_value / filled``); NaN before a fill."""
        return self.filled_value / self.filled if self.filled else float("nan")

    @property
    def notional(self) -> float:
        """Signed notional filled, instrument currency: ``Σ quantity × price × multiplier``
        (+ bought, − sold); 2 ES bought at 4,996.5 is 499,650."""
        return self.filled_value * self.multiplier

    @property
    def side(self) -> int:
        return 1 if self.quantity > 0 else -1

    def record_execution(
        self, child: ChildOrder, time: float, exec_id: str, quantity: int, price: float, fee: float, legs: tuple = ()
    ) -> bool:
        """Count one execution once (a spread's with its ``legs``); False for a duplicate ``exec_id``."""
        ids = self.exec_ids
        if exec_id in ids:
            return False
        ids.add(exec_id)
        self.filled_value += quantity * price
        self.fees += fee
        self.fills.append(Fill(time, self.instrument, quantity, price, exec_id, child.order_id, fee, legs))
        child.add_fill(quantity)
        return True
