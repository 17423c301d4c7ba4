"""The per-client session state machine: handshake, version negotiation, admission."""

from __future__ import annotations

import pytest

from sim_broker.tws.codec import FrameDecoder, encode_frame, encode_handshake, split_payload
from sim_broker.tws.session import SERVER_MAX, SERVER_MIN, Session, SessionState


class FakeDesk:
    account = "DU1"

    def __init__(self) -> None:
        self.clients: dict[int, Session] = {}
        self.handled: list[object] = []

    def admit(self, session: Session) -> bool:
        if session.client_id in self.clients:
            return False
        self.clients[session.client_id] = session
        return True

    def release(self, session: Session) -> None:
        self.clients.pop(session.client_id, None)

    def next_order_id(self, session: Session) -> int:
        return 5

    def connection_time(self) -> str:
        return "20260302 10:30:00 America/New_York"

    def current_time(self) -> int:
        return 1_772_465_400

    def handle(self, session: Session, request: object) -> None:
        self.handled.append(request)


def messages(session: Session) -> list[list[str]]:
    dec = FrameDecoder(expect_handshake=False)
    return [split_payload(p) for p in dec.feed(session.data_to_send())]


def started(desk: FakeDesk, client_id: int = 1, high: int = 178) -> Session:
    s = Session(desk)
    s.receive_data(encode_handshake(157, high))
    s.receive_data(encode_frame([71, 2, client_id, ""]))
    return s


@pytest.mark.parametrize(("low", "high", "agreed"), [(157, 178, 178), (157, 176, 176), (100, 300, SERVER_MAX), (157, 157, 157)])
def test_server_answers_the_lower_maximum(low, high, agreed):
    s = Session(FakeDesk())
    s.receive_data(encode_handshake(low, high))
    (hello,) = messages(s)
    assert hello == [str(agreed), "20260302 10:30:00 America/New_York"]
    assert s.version == agreed and s.state is SessionState.AWAIT_START


def test_no_common_version_closes():
    s = Session(FakeDesk())
    s.receive_data(encode_handshake(100, SERVER_MIN - 1))
    assert s.closed and "no common version" in s.close_reason


def test_start_api_sends_managed_accounts_and_next_valid_id():
    s = started(FakeDesk())
    out = messages(s)
    assert out[1] == ["15", "1", "DU1"]
    assert out[2] == ["9", "1", "5"]
    assert s.state is SessionState.READY


def test_duplicate_client_id_gets_326_and_closes_only_the_newcomer():
    desk = FakeDesk()
    first = started(desk, 3)
    second = started(desk, 3)
    out = messages(second)
    assert out[-1][:4] == ["4", "2", "-1", "326"]
    assert second.closed and not first.closed
    assert desk.clients[3] is first


def test_request_before_start_api_is_malformed():
    s = Session(FakeDesk())
    s.receive_data(encode_handshake(157, 178))
    s.receive_data(encode_frame([61, 1]))
    assert s.closed and s.close_reason.startswith("malformed")


def test_garbage_frame_closes_and_releases_the_client_id():
    desk = FakeDesk()
    s = started(desk, 9)
    messages(s)
    s.receive_data(encode_frame(["not-a-number"]))
    assert s.closed and 9 not in desk.clients
    s.send([1, 2, 3])  # nothing is queued once closed
    assert s.data_to_send() == b""


def test_session_answers_time_and_ids_itself_and_forwards_the_rest():
    desk = FakeDesk()
    s = started(desk)
    messages(s)
    s.receive_data(encode_frame([49, 1]) + encode_frame([8, 1, 1]) + encode_frame([61, 1]) + encode_frame([999, 1]))
    out = messages(s)
    assert out[0] == ["49", "1", "1772465400"]
    assert out[1] == ["9", "1", "5"]
    assert out[2][:4] == ["4", "2", "-1", "503"]  # unsupported request
    assert len(desk.handled) == 1  # reqPositions went to the desk


def test_a_turn_stops_serving_once_its_replies_pass_the_byte_limit():
    """The gateway writes a client's replies, and checks whether it reads, before serving
    it more: a burst of requests whose answers are large is served a few at a time."""
    desk = FakeDesk()
    s = started(desk)
    messages(s)
    burst = b"".join(encode_frame([49, 1]) for _ in range(10))  # reqCurrentTime: one short reply each
    s.receive_data(burst, budget=16, out_limit=1)
    assert s.pending == 9  # one reply queued: the turn ends there
    assert len(messages(s)) == 1
    reply = len(encode_frame(["49", "1", "1772465400"]))
    assert s.process(16, out_limit=3 * reply) == 6  # three replies reach the limit
    assert len(messages(s)) == 3
    assert s.process(16) == 0 and len(messages(s)) == 6  # no limit: the rest at once
