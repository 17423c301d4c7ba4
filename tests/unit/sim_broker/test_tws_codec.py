"""TWS API framing: 4-byte big-endian length, NUL-terminated fields (docs reference, IB)."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim_broker.tws.codec import (
    MAX_FRAME,
    UNSET_DOUBLE,
    UNSET_INTEGER,
    FieldReader,
    FrameDecoder,
    ProtocolError,
    encode_frame,
    encode_handshake,
    format_field,
    parse_version_range,
    split_payload,
)

text_fields = st.lists(st.text(alphabet=st.characters(blacklist_characters="\0", blacklist_categories=("Cs",))), max_size=20)


def test_frame_layout_is_length_prefix_and_nul_terminated_fields():
    assert encode_frame([9, 1, 42]) == struct.pack(">I", 7) + b"9\x001\x0042\x00"


@given(messages=st.lists(text_fields, min_size=1, max_size=5), cut=st.integers(1, 7))
def test_frames_survive_arbitrary_chunking(messages, cut):
    stream = b"API\0" + b"".join(encode_frame(m) for m in messages)
    dec = FrameDecoder()
    got = []
    for i in range(0, len(stream), cut):
        got += [split_payload(p) for p in dec.feed(stream[i : i + cut])]
    assert got == messages
    assert dec.buffered == 0


def test_handshake_range_and_options():
    hs = encode_handshake(157, 176, "+PACEAPI")
    dec = FrameDecoder()
    (payload,) = list(dec.feed(hs))
    r = parse_version_range(payload)
    assert (r.low, r.high, r.options) == (157, 176, "+PACEAPI")


@pytest.mark.parametrize("payload", [b"157..178", b"v178..157", b"vX..1", b""])
def test_bad_version_ranges_are_refused(payload):
    with pytest.raises(ProtocolError):
        parse_version_range(payload)


def test_stream_without_api_prefix_is_refused():
    with pytest.raises(ProtocolError):
        list(FrameDecoder().feed(b"GET / HTTP/1.1\r\n"))


def test_oversized_frame_is_refused_before_buffering_it():
    with pytest.raises(ProtocolError):
        list(FrameDecoder(expect_handshake=False).feed(struct.pack(">I", MAX_FRAME + 1)))


def test_payload_must_end_with_nul():
    with pytest.raises(ProtocolError):
        split_payload(b"9\x001")


def test_field_formatting():
    assert [format_field(v) for v in (None, True, False, 3, UNSET_INTEGER, 2.5, 50.0, UNSET_DOUBLE)] == [
        "", "1", "0", "3", "", "2.5", "50.0", "",
    ]
    assert format_field(float("inf")) == "Infinite"
    with pytest.raises(ValueError):
        format_field("a\0b")


def test_field_reader_types_defaults_and_bounds():
    r = FieldReader(["7", "", "1.5", "", "1", "x"])
    assert r.int() == 7
    assert r.int(default=-1) == -1
    assert r.float() == 1.5
    assert r.float() is None
    assert r.bool() is True
    with pytest.raises(ProtocolError):
        r.int()
    with pytest.raises(ProtocolError):
        r.str()
