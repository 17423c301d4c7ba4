"""The Broker port: what the execution engine needs from any broker.

Algorithms never know which broker they talk to. The simulator (``sim_broker``) and the
Interactive Brokers adapter (``execution.ib.adapter``) both implement :class:`Broker`.

Conventions
-----------
- ``quantity`` is a signed ``int`` of contracts: positive buys, negative sells.
- Prices are floats in the instrument's currency, already rounded to the tick.
- ``time`` on every event is the event loop's clock (``loop.time()``) in seconds: virtual
  seconds on the simulator, the loop's monotonic clock against a live broker.
- ``order_id`` is assigned by the caller and unique within one broker connection.

Events (all frozen, delivered in order through :meth:`Broker.events`)
--------------------------------------------------------------------
``OrderAccepted``     the broker acknowledged the order (it is working).
``OrderRejected``     terminal: the order was refused, nothing filled.
``Execution``         a fill of ``quantity`` at ``price``; ``key`` is unique per fill: the
                      ``exec_id``, qualified by the broker's permanent order id and the
                      execution's time where the broker gives them (a broker restarted
                      mid-day may issue an execution id again).
                      A broker may deliver the same execution twice and may deliver fills
                      after a cancel: executions, not status messages, are the truth.
``OrderCancelled``    terminal: the remainder is cancelled (a cancel request, an IOC
                      remainder, the end of the session); ``filled`` is what filled before.
``OrderFilled``       terminal: the whole quantity filled.
``CancelRejected``    a cancel request was refused (the order was already done); not terminal.
``ConnectionChanged`` the link to the broker went down or came back.
"""

from __future__ import annotations

import enum
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol, runtime_checkable

from execution.quick_init import quick_init
from execution.spreads import LegFill, Legs, validate_legs


class OrderType(enum.Enum):
    MARKET = "MKT"
    LIMIT = "LMT"


class TimeInForce(enum.Enum):
    DAY = "DAY"
    IOC = "IOC"


@quick_init
@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A child order as sent to a broker.

    ``legs`` ``(near, far)`` makes it one calendar-spread order (:mod:`execution.spreads`):
    ``quantity`` spreads (buy far, sell near), ``limit_price`` the spread ``far − near`` in
    points, which may be zero or negative."""

    order_id: int
    instrument: str
    quantity: int
    order_type: OrderType = OrderType.MARKET
    limit_price: float | None = None
    tif: TimeInForce = TimeInForce.DAY
    legs: Legs | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.quantity, int) or self.quantity == 0:
            raise ValueError(f"order {self.order_id}: quantity must be a non-zero int, got {self.quantity!r}")
        if self.legs is not None:
            validate_legs(self.legs)
        if self.order_type is OrderType.LIMIT:
            if self.limit_price is None or not math.isfinite(self.limit_price):
                raise ValueError(f"order {self.order_id}: a limit order needs a finite limit price")
            if self.limit_price <= 0 and self.legs is None:
                raise ValueError(f"order {self.order_id}: a limit order needs a positive limit price")
        elif self.limit_price is not None:
            raise ValueError(f"order {self.order_id}: a market order takes no limit price")

    @property
    def side(self) -> int:
        """+1 buy, -1 sell."""
        return 1 if self.quantity > 0 else -1


@quick_init
@dataclass(frozen=True, slots=True)
class OrderAccepted:
    """The broker acknowledged the order: it is working."""

    order_id: int
    time: float


@quick_init
@dataclass(frozen=True, slots=True)
class OrderRejected:
    """Terminal: the broker refused the order; nothing filled."""

    order_id: int
    time: float
    reason: str
    code: int = 0


@quick_init
@dataclass(frozen=True, slots=True)
class Execution:
    """A fill of ``quantity`` contracts at ``price``; :attr:`key` tells one fill from another."""

    order_id: int
    time: float
    exec_id: str
    quantity: int  # signed like the order
    price: float
    fee: float = 0.0  # currency, >= 0
    perm_id: int = 0  # the broker's permanent order id; 0 where the broker has none
    exec_time: str = ""  # the broker's time stamp of the execution, as it gave it
    # a calendar spread's execution: its two legs, (near, −q, p_near) and (far, +q, p_far)
    legs: tuple[LegFill, ...] = field(default=(), repr=False)

    @property
    def key(self) -> str:
        """The execution's identity: ``exec_id``, or ``exec_id|perm_id|exec_time`` when the
        broker gives a permanent order id, so that a reused execution id is a new fill."""
        return f"{self.exec_id}|{self.perm_id}|{self.exec_time}" if self.perm_id else self.exec_id


@quick_init
@dataclass(frozen=True, slots=True)
class OrderCancelled:
    """Terminal: the remainder is cancelled; ``filled`` is what filled before."""

    order_id: int
    time: float
    filled: int  # signed quantity filled before the cancel took effect
    reason: str = "cancelled"


@quick_init
@dataclass(frozen=True, slots=True)
class OrderFilled:
    """Terminal: the whole quantity filled."""

    order_id: int
    time: float
    filled: int


@quick_init
@dataclass(frozen=True, slots=True)
class CancelRejected:
    """A cancel request was refused (the order was already done); not terminal."""

    order_id: int
    time: float
    reason: str


@quick_init
@dataclass(frozen=True, slots=True)
class ConnectionChanged:
    """The link to the broker went down (``connected`` false) or came back."""

    time: float
    connected: bool
    order_id: None = None


OrderEvent = (
    OrderAccepted | OrderRejected | Execution | OrderCancelled | OrderFilled | CancelRejected | ConnectionChanged
)

#: Events after which an order does no more (apart from late executions).
TERMINAL_EVENTS = (OrderRejected, OrderCancelled, OrderFilled)


class MarketSnapshot(NamedTuple):
    """Top of book and the session's traded volume for one instrument."""

    instrument: str
    time: float
    bid: float
    ask: float
    last: float
    volume: float  # market volume traded so far in the session, contracts

    @property
    def mid(self) -> float:
        return 0.5 * (self.bid + self.ask)

    @property
    def spread(self) -> float:
        return self.ask - self.bid


@runtime_checkable
class Broker(Protocol):
    """A broker as the execution engine sees it.

    ``submit`` and ``cancel`` return at once; their outcome arrives as events.
    """

    def submit(self, order: OrderRequest) -> None: ...

    def cancel(self, order_id: int) -> None: ...

    def events(self) -> AsyncIterator[OrderEvent]: ...

    async def positions(self) -> dict[str, int]: ...

    async def snapshot(self, instrument: str) -> MarketSnapshot: ...


def snapshot_now(broker: Broker):
    """The broker's ``snapshot_now(instrument)`` if it has one (a broker that answers at once,
    such as the simulator, may offer it), else ``None``: then await ``snapshot``."""
    return getattr(broker, "snapshot_now", None)
