"""Pure mapping tables between our order model and the Interactive Brokers API.

Nothing here talks to a socket or imports the IB client library; the adapter in
:mod:`execution.ib.adapter` uses these tables, and they are tested on their own.

- :func:`order_fields`: an :class:`~execution.broker.OrderRequest` as the fields of an IB
  ``Order`` (action, totalQuantity, orderType, lmtPrice, tif, orderRef).
- :data:`ERROR_CODES` / :func:`classify_error`: IB error codes as :class:`ErrorKind`.
- :data:`STATUS_KINDS` / :func:`classify_status`: IB order-status strings as :class:`StatusKind`.
- :func:`execution_sign`: the side of an execution (``BOT`` +1, ``SLD`` -1).
- :data:`LIVE_PORTS` / :func:`live_port_name`: the ports of live (real-money) sessions.
- :class:`FutureRef` / :func:`front_month_pick`: what to ask IB for to find the front contract.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from execution.broker import OrderRequest, OrderType, TimeInForce

#: Ports of live sessions (source: IB's defaults, TWS live 7496 and IB Gateway live 4001).
LIVE_PORTS: dict[int, str] = {7496: "TWS live", 4001: "IB Gateway live"}
#: Ports of paper sessions: TWS paper 7497 and IB Gateway paper 4002.
PAPER_PORTS: dict[int, str] = {7497: "TWS paper", 4002: "IB Gateway paper"}


def live_port_name(port: int) -> str | None:
    """The name of the live session that listens on ``port`` by default, or None."""
    return LIVE_PORTS.get(int(port))


_ORDER_TYPES = {OrderType.MARKET: "MKT", OrderType.LIMIT: "LMT"}
_TIFS = {TimeInForce.DAY: "DAY", TimeInForce.IOC: "IOC"}


@dataclass(frozen=True, slots=True)
class IBOrderFields:
    """The fields of an IB ``Order`` for one child order."""

    orderId: int
    action: str  # "BUY" | "SELL"
    totalQuantity: float  # unsigned
    orderType: str  # "MKT" | "LMT"
    lmtPrice: float | None
    tif: str  # "DAY" | "IOC"
    orderRef: str

    def as_kwargs(self) -> dict[str, object]:
        kwargs: dict[str, object] = {
            "orderId": self.orderId,
            "action": self.action,
            "totalQuantity": self.totalQuantity,
            "orderType": self.orderType,
            "tif": self.tif,
            "orderRef": self.orderRef,
            "transmit": True,
        }
        if self.lmtPrice is not None:
            kwargs["lmtPrice"] = self.lmtPrice
        return kwargs


def order_ref(prefix: str, order_id: int) -> str:
    """The ``orderRef`` tag that lets us recognise our own orders and executions."""
    return f"{prefix}{order_id}"


def order_id_from_ref(prefix: str, ref: str) -> int | None:
    """Inverse of :func:`order_ref`; None for a reference that is not ours."""
    if not ref or not ref.startswith(prefix):
        return None
    tail = ref[len(prefix):]
    return int(tail) if tail.isdigit() else None


def order_fields(order: OrderRequest, ref_prefix: str = "overlay-") -> IBOrderFields:
    """The IB order for ``order``: the sign of the quantity becomes BUY/SELL."""
    return IBOrderFields(
        orderId=order.order_id,
        action="BUY" if order.quantity > 0 else "SELL",
        totalQuantity=float(abs(order.quantity)),
        orderType=_ORDER_TYPES[order.order_type],
        lmtPrice=order.limit_price,
        tif=_TIFS[order.tif],
        orderRef=order_ref(ref_prefix, order.order_id),
    )


def execution_sign(side: str) -> int:
    """+1 for a buy execution (``BOT``), -1 for a sell (``SLD``)."""
    s = side.upper()
    if s in ("BOT", "BUY"):
        return 1
    if s in ("SLD", "SELL"):
        return -1
    raise ValueError(f"unknown execution side {side!r}")


class ErrorKind(enum.Enum):
    """What an IB error code means for us."""

    REJECTED = "rejected"  # a new order refused: terminal, nothing filled
    CANCELLED = "cancelled"  # the order was cancelled (by us or the server): terminal
    UNKNOWN_CONTRACT = "unknown_contract"  # no security definition: the order is rejected
    CANCEL_REJECTED = "cancel_rejected"  # a cancel that could not be done; not terminal
    CONNECTION_LOST = "connection_lost"
    CONNECTION_RESTORED = "connection_restored"  # data kept: reconcile anyway
    CONNECTION_RESTORED_DATA_LOST = "connection_restored_data_lost"  # resubscribe and reconcile
    CLIENT_ID_IN_USE = "client_id_in_use"
    PACING = "pacing"  # we sent too many messages: slow down
    MARKET_DATA = "market_data"  # market data unavailable or not subscribed
    INFO = "info"  # a notice, no action


#: IB error codes (source: IB's TWS API message codes page) and what they mean here.
ERROR_CODES: dict[int, ErrorKind] = {
    100: ErrorKind.PACING,  # max rate of messages per second has been exceeded
    103: ErrorKind.REJECTED,  # duplicate order id
    104: ErrorKind.CANCEL_REJECTED,  # can't modify a filled order
    110: ErrorKind.REJECTED,  # price does not conform to the minimum price variation
    135: ErrorKind.CANCEL_REJECTED,  # can't find order with that id
    161: ErrorKind.CANCEL_REJECTED,  # cancel attempted when the order is not cancellable
    200: ErrorKind.UNKNOWN_CONTRACT,  # no security definition has been found
    201: ErrorKind.REJECTED,  # order rejected
    202: ErrorKind.CANCELLED,  # order cancelled
    203: ErrorKind.REJECTED,  # security not available or allowed for this account
    326: ErrorKind.CLIENT_ID_IN_USE,
    354: ErrorKind.MARKET_DATA,  # requested market data is not subscribed
    502: ErrorKind.CONNECTION_LOST,  # couldn't connect to TWS
    504: ErrorKind.CONNECTION_LOST,  # not connected
    1100: ErrorKind.CONNECTION_LOST,  # connectivity between IB and TWS has been lost
    1101: ErrorKind.CONNECTION_RESTORED_DATA_LOST,
    1102: ErrorKind.CONNECTION_RESTORED,
    1300: ErrorKind.CONNECTION_LOST,  # socket port has been reset
    10147: ErrorKind.CANCEL_REJECTED,  # order id to cancel not found
    10148: ErrorKind.CANCEL_REJECTED,  # order cannot be cancelled in its state
    10167: ErrorKind.MARKET_DATA,  # delayed market data shown
    10168: ErrorKind.MARKET_DATA,  # market data not subscribed, delayed disabled
    10197: ErrorKind.MARKET_DATA,  # no market data during competing live session
}


def classify_error(code: int, about_an_order: bool) -> ErrorKind:
    """What IB error ``code`` means. Codes 2100-2199 are notices.

    An unlisted code about one of our orders is taken as a rejection: IB ends an order it
    reports an error for, and treating it as still working would wait forever.
    """
    kind = ERROR_CODES.get(int(code))
    if kind is not None:
        return kind
    if 2100 <= code < 2200 or code in (2000,):
        return ErrorKind.INFO
    return ErrorKind.REJECTED if about_an_order else ErrorKind.INFO


class StatusKind(enum.Enum):
    PENDING = "pending"  # not yet at the exchange (PendingSubmit, ApiPending, PendingCancel)
    WORKING = "working"  # acknowledged (PreSubmitted, Submitted)
    FILLED = "filled"
    CANCELLED = "cancelled"  # Cancelled, ApiCancelled
    INACTIVE = "inactive"  # IB stopped it (often with an error message); ends the order
    OTHER = "other"  # ValidationError, ApiUpdate and unknown strings: no state change


#: IB order-status strings (source: IB's TWS API order-status documentation).
STATUS_KINDS: dict[str, StatusKind] = {
    "PendingSubmit": StatusKind.PENDING,
    "ApiPending": StatusKind.PENDING,
    "PendingCancel": StatusKind.PENDING,
    "PreSubmitted": StatusKind.WORKING,
    "Submitted": StatusKind.WORKING,
    "Filled": StatusKind.FILLED,
    "Cancelled": StatusKind.CANCELLED,
    "ApiCancelled": StatusKind.CANCELLED,
    "Inactive": StatusKind.INACTIVE,
}


def classify_status(status: str) -> StatusKind:
    return STATUS_KINDS.get(status, StatusKind.OTHER)


@dataclass(frozen=True, slots=True)
class FutureRef:
    """One overlay future as IB knows it: ``symbol`` (the root) on ``exchange``.

    ``contract_month`` (``YYYYMM`` or ``YYYYMMDD``) pins a contract; None asks for the front.
    """

    instrument: str  # our key, e.g. "ES"
    symbol: str
    exchange: str
    currency: str
    multiplier: float
    contract_month: str | None = None


def front_month_pick(expiries: Iterable[str], after: str = "") -> int | None:
    """Index of the front contract among ``expiries`` (``YYYYMM[DD]`` strings).

    The front contract is the one with the earliest expiry that is not before ``after``
    (``YYYYMMDD``; empty = no bound). IB lists only live contracts, so the earliest listed
    is the front. Returns None when none qualifies.
    """
    best: tuple[str, int] | None = None
    for i, e in enumerate(expiries):
        key = (e + "99")[:8] if len(e) == 6 else e[:8]  # a bare month sorts after its days
        if after and key < after:
            continue
        if best is None or key < best[0]:
            best = (key, i)
    return None if best is None else best[1]
