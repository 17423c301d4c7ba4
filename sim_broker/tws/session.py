"""One client's TWS API session as a pure state machine (no sockets, no clock).

States::

    HANDSHAKE --(API\\0 + "v<lo>..<hi>")--> AWAIT_START --(startApi)--> READY --> CLOSED
          \\______________ malformed input, refused client id, close() ______/

The server answers the handshake with the agreed version, the lower of the two maxima
(``min(client_high, SERVER_MAX)``), and refuses a range that does not overlap
``SERVER_MIN..SERVER_MAX``. On ``startApi`` it asks the :class:`Desk` to admit the client id;
a refused id gets error 326 and the session closes. An admitted session receives
``managedAccounts`` and ``nextValidId``; every later request goes to the desk, except the few
the session answers itself (current time, ids, managed accounts, market data type).

Use: feed received bytes to :meth:`Session.receive_data`, send whatever
:meth:`Session.data_to_send` returns, and close the transport once :attr:`Session.closed`.
Messages the desk originates (fills, quotes) are queued with :meth:`Session.send`.
"""

from __future__ import annotations

import enum
import logging
from collections import deque
from collections.abc import Callable
from typing import Protocol

from sim_broker.tws import messages as m
from sim_broker.tws import requests as rq
from sim_broker.tws.codec import FrameDecoder, ProtocolError, encode_frame, parse_version_range, split_payload

SERVER_MIN = 157
SERVER_MAX = 178
#: TWS's pacing: at most this many client messages per (wall-clock) second; more get error 100.
MAX_RATE = 50
BURST = 2 * MAX_RATE

log = logging.getLogger(__name__)


class SessionState(enum.Enum):
    HANDSHAKE = "handshake"
    AWAIT_START = "await_start"
    READY = "ready"
    CLOSED = "closed"


class Desk(Protocol):
    """What a session needs from the shared trading desk behind the gateway."""

    account: str

    def admit(self, session: Session) -> bool:
        """Register the session's client id; False if another session holds it."""
        ...

    def release(self, session: Session) -> None:
        """The session closed: forget its subscriptions (its orders keep working)."""
        ...

    def next_order_id(self, session: Session) -> int:
        """The smallest order id this client may use next."""
        ...

    def connection_time(self) -> str:
        """Text for the handshake's connection-time field."""
        ...

    def current_time(self) -> int:
        """Simulated time in epoch seconds."""
        ...

    def handle(self, session: Session, request: rq.Request) -> None:
        """Serve a request; answers are queued on ``session`` with :meth:`Session.send`."""
        ...


class Session:
    """Protocol state of one connected client (see the module docstring)."""

    def __init__(self, desk: Desk, peer: str = "", wall: Callable[[], float] | None = None) -> None:
        self.desk = desk
        self.peer = peer
        self._wall = wall  # the pacing clock (wall seconds); None: no pacing
        self._tokens = float(BURST)
        self._stamp: float | None = None
        self.state = SessionState.HANDSHAKE
        self.version = 0
        self.client_id: int | None = None
        self.close_reason = ""
        self._decoder = FrameDecoder(expect_handshake=True)
        self._out: list[bytes] = []
        self._out_bytes = 0  # queued for the client since the last data_to_send
        self._pending: deque[bytes] = deque()
        self._admitted = False

    # ------------------------------------------------------------ I/O surface

    @property
    def closed(self) -> bool:
        return self.state is SessionState.CLOSED

    def receive_data(self, data: bytes, budget: int | None = None, out_limit: int | None = None) -> None:
        """Consume bytes from the client and serve up to ``budget`` of its messages (all
        when None; see :meth:`process` for ``out_limit``); the rest wait for :meth:`process`.
        A protocol violation closes the session."""
        if self.closed:
            return
        try:
            self._pending.extend(self._decoder.feed(data))
        except ProtocolError as exc:
            self.close(f"malformed input: {exc}")
            return
        self.process(budget, out_limit)

    def process(self, budget: int | None = None, out_limit: int | None = None) -> int:
        """Serve up to ``budget`` received messages, stopping early once ``out_limit`` bytes
        wait to be sent (so that the caller writes them, and sees whether the client reads,
        before serving more); returns how many messages still wait."""
        served = 0
        while (
            self._pending
            and not self.closed
            and (budget is None or served < budget)
            and (out_limit is None or self._out_bytes < out_limit)
        ):
            payload = self._pending.popleft()
            served += 1
            try:
                self._on_payload(payload)
            except ProtocolError as exc:
                self.close(f"malformed input: {exc}")
        if self.closed:
            self._pending.clear()
        return len(self._pending)

    @property
    def pending(self) -> int:
        """Messages received and not yet served."""
        return len(self._pending)

    def data_to_send(self) -> bytes:
        """Everything queued for the client since the last call."""
        if not self._out:
            return b""
        data = b"".join(self._out)
        self._out.clear()
        self._out_bytes = 0
        return data

    def send(self, fields: list[object]) -> None:
        """Queue one message (ignored once closed)."""
        if not self.closed:
            frame = encode_frame(fields)
            self._out.append(frame)
            self._out_bytes += len(frame)

    def error(self, req_id: int, code: int, text: str) -> None:
        self.send(m.encode_error(self.version, req_id, code, text))

    def close(self, reason: str = "closed") -> None:
        """Close the session (idempotent); the desk forgets its subscriptions."""
        if self.closed:
            return
        self.state = SessionState.CLOSED
        self.close_reason = reason
        if self._admitted:
            self._admitted = False
            self.desk.release(self)

    # ------------------------------------------------------------ protocol

    def _on_payload(self, payload: bytes) -> None:
        if self.state is SessionState.HANDSHAKE:
            self._handshake(payload)
            return
        fields = split_payload(payload)
        if self.state is SessionState.READY and not self._paced(fields):
            return
        request = rq.parse_request(fields, self.version)
        if self.state is SessionState.AWAIT_START:
            if not isinstance(request, rq.StartApi):
                raise ProtocolError(f"expected startApi, got message {fields[0] if fields else '?'}")
            self._start(request)
            return
        self._dispatch(request)

    def _handshake(self, payload: bytes) -> None:
        wanted = parse_version_range(payload)
        if wanted.high < SERVER_MIN or wanted.low > SERVER_MAX:
            raise ProtocolError(f"no common version: client {wanted.low}..{wanted.high}, server {SERVER_MIN}..{SERVER_MAX}")
        self.version = min(wanted.high, SERVER_MAX)
        self.state = SessionState.AWAIT_START
        frame = encode_frame([self.version, self.desk.connection_time()])
        self._out.append(frame)
        self._out_bytes += len(frame)

    def _start(self, request: rq.StartApi) -> None:
        self.client_id = request.client_id
        if not self.desk.admit(self):
            self.error(-1, m.ErrorCode.CLIENT_ID_IN_USE, f"Unable to connect as the client id {request.client_id} is already in use.")
            self.close(f"client id {request.client_id} in use")
            return
        self._admitted = True
        self.state = SessionState.READY
        self.send([m.Out.MANAGED_ACCTS, 1, self.desk.account])
        self.send([m.Out.NEXT_VALID_ID, 1, self.desk.next_order_id(self)])
        for farm in ("usfarm", "eufarm"):
            self.error(-1, m.ErrorCode.MARKET_DATA_FARM_OK, f"Market data farm connection is OK:{farm}")

    def _paced(self, fields: list[str]) -> bool:
        """False (and error 100) for a message beyond TWS's rate.

        A token bucket: :data:`MAX_RATE` messages per wall second sustained, with a burst of
        :data:`BURST` (network and scheduling jitter bunch up messages a client paced
        correctly)."""
        if self._wall is None:
            return True
        now = self._wall()
        if self._stamp is not None:
            self._tokens = min(float(BURST), self._tokens + (now - self._stamp) * MAX_RATE)
        self._stamp = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        req_id = -1
        if fields and fields[0] == str(int(m.In.PLACE_ORDER)) and len(fields) > 1 and fields[1].lstrip("-").isdigit():
            req_id = int(fields[1])
        self.error(req_id, m.ErrorCode.MAX_RATE, f"Max rate of messages per second has been exceeded:max={MAX_RATE} rec={MAX_RATE + 1} (1)")
        return False

    def _dispatch(self, request: rq.Request) -> None:
        if isinstance(request, rq.StartApi):
            raise ProtocolError("startApi sent twice")
        if isinstance(request, rq.Unsupported):
            self.error(request.req_id, m.ErrorCode.UNSUPPORTED,
                       f"The TWS is out of date and must be upgraded: request {request.msg_id} is not supported by the simulator gateway")
            return
        if isinstance(request, rq.Simple):
            kind = request.kind
            if kind is m.In.REQ_CURRENT_TIME:
                self.send([m.Out.CURRENT_TIME, 1, self.desk.current_time()])
                return
            if kind is m.In.REQ_IDS:
                self.send([m.Out.NEXT_VALID_ID, 1, self.desk.next_order_id(self)])
                return
            if kind is m.In.REQ_MANAGED_ACCTS:
                self.send([m.Out.MANAGED_ACCTS, 1, self.desk.account])
                return
            if kind is m.In.REQ_MARKET_DATA_TYPE:
                return  # the simulator only has live data
        self.desk.handle(self, request)
