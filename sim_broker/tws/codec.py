"""Sans-I/O codec for the TWS API wire format.

The TWS API speaks length-prefixed text frames:

- **frame**: a 4-byte big-endian unsigned length ``n`` followed by ``n`` bytes of payload;
- **payload**: fields, each an ASCII/UTF-8 string terminated by one NUL byte (``b"\\0"``);
- **handshake**: the client first sends ``b"API\\0"`` and then one frame whose payload is the
  supported version range, ``b"v157..178"`` (optionally followed by a space and connect
  options). The server answers with one ordinary frame of two fields: the agreed server
  version and the connection time.

Nothing here touches a socket: :class:`FrameDecoder` consumes bytes and yields field lists,
:func:`encode_frame` turns values into bytes, :class:`FieldReader` reads typed fields from a
decoded message. Malformed input raises :class:`ProtocolError`.
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

#: The prefix a client sends before its version range.
API_SIGN = b"API\0"
#: Frames larger than this are refused and the client dropped: the largest legitimate request
#: (an order with every optional section) is a few kilobytes, so a partial frame buffered per
#: connection stays small.
MAX_FRAME = 1024 * 1024
#: IB's "no value" markers (Double.MAX_VALUE and Integer.MAX_VALUE).
UNSET_DOUBLE = 1.7976931348623157e308
UNSET_INTEGER = 2**31 - 1

_HEADER = struct.Struct(">I")
_RANGE = re.compile(rb"^v(\d+)\.\.(\d+)(?: (.*))?$", re.DOTALL)


class ProtocolError(ValueError):
    """The peer sent bytes that do not follow the protocol."""


@dataclass(frozen=True, slots=True)
class VersionRange:
    """The client's supported server-version range and connect options."""

    low: int
    high: int
    options: str = ""


def parse_version_range(payload: bytes) -> VersionRange:
    """Parse the handshake payload ``v<low>..<high>[ options]``."""
    m = _RANGE.match(payload)
    if not m:
        raise ProtocolError(f"bad version range {payload[:40]!r}")
    low, high = int(m.group(1)), int(m.group(2))
    if low > high:
        raise ProtocolError(f"empty version range {low}..{high}")
    return VersionRange(low, high, (m.group(3) or b"").decode("ascii", "replace"))


def format_field(value: object) -> str:
    """One field as text: ``None`` and IB's unset markers are empty, bools are ``1``/``0``.

    Floats print as the shortest text that round-trips (``repr``); integral floats keep
    their ``.0`` so that the client's ``float()`` reads them exactly.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return "" if value == UNSET_INTEGER else str(value)
    if isinstance(value, float):
        if value == UNSET_DOUBLE or math.isnan(value):
            return ""
        if math.isinf(value):
            return "Infinite" if value > 0 else "-Infinite"
        return repr(value)
    text = str(value)
    if "\0" in text:
        raise ValueError(f"a field cannot contain NUL: {text!r}")
    return text


def encode_payload(fields: Iterable[object]) -> bytes:
    """NUL-terminated fields, unframed."""
    return "".join(format_field(f) + "\0" for f in fields).encode("utf-8")


def encode_frame(fields: Iterable[object]) -> bytes:
    """A complete frame: length prefix plus NUL-terminated fields."""
    payload = encode_payload(fields)
    return _HEADER.pack(len(payload)) + payload


def encode_handshake(low: int, high: int, options: str = "") -> bytes:
    """What a client sends first (used by tests and benchmarks)."""
    text = f"v{low}..{high}" + (f" {options}" if options else "")
    body = text.encode("ascii")
    return API_SIGN + _HEADER.pack(len(body)) + body


def split_payload(payload: bytes) -> list[str]:
    """Fields of one frame payload; every field must be NUL-terminated."""
    if payload and not payload.endswith(b"\0"):
        raise ProtocolError("frame does not end with a NUL")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError(f"frame is not UTF-8: {exc}") from None
    return text.split("\0")[:-1]


class FrameDecoder:
    """Incremental frame splitter: ``feed`` bytes, iterate complete payloads.

    With ``expect_handshake`` the stream must start with ``API\\0``, which is consumed.
    """

    def __init__(self, expect_handshake: bool = True) -> None:
        self._buf = bytearray()
        self._need_sign = expect_handshake

    def feed(self, data: bytes) -> Iterator[bytes]:
        self._buf += data
        if self._need_sign:
            n = min(len(self._buf), len(API_SIGN))
            if bytes(self._buf[:n]) != API_SIGN[:n]:
                raise ProtocolError("stream does not start with API\\0")
            if n < len(API_SIGN):
                return
            del self._buf[: len(API_SIGN)]
            self._need_sign = False
        while len(self._buf) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self._buf)
            if size > MAX_FRAME:
                raise ProtocolError(f"frame of {size} bytes exceeds the {MAX_FRAME}-byte limit")
            end = _HEADER.size + size
            if len(self._buf) < end:
                return
            payload = bytes(self._buf[_HEADER.size : end])
            del self._buf[:end]
            yield payload

    @property
    def buffered(self) -> int:
        """Bytes received but not yet part of a complete frame."""
        return len(self._buf)


class FieldReader:
    """Typed, bounds-checked reading of one message's fields."""

    __slots__ = ("_fields", "_pos")

    def __init__(self, fields: list[str], start: int = 0) -> None:
        self._fields = fields
        self._pos = start

    def _next(self) -> str:
        if self._pos >= len(self._fields):
            raise ProtocolError(f"message ends after {len(self._fields)} fields")
        value = self._fields[self._pos]
        self._pos += 1
        return value

    def str(self) -> str:
        return self._next()

    def int(self, default: int = 0) -> int:
        text = self._next()
        if text == "":
            return default
        try:
            return int(text)
        except ValueError:
            raise ProtocolError(f"field {self._pos - 1}: not an integer: {text!r}") from None

    def float(self, default: float | None = None) -> float | None:
        text = self._next()
        if text == "":
            return default
        if text in ("Infinite", "-Infinite"):
            return math.inf if text[0] != "-" else -math.inf
        try:
            value = float(text)
        except ValueError:
            raise ProtocolError(f"field {self._pos - 1}: not a number: {text!r}") from None
        return None if value == UNSET_DOUBLE else value

    def bool(self) -> bool:
        return self.int() != 0

    def skip(self, n: int = 1) -> None:
        for _ in range(n):
            self._next()

    @property
    def remaining(self) -> int:
        return len(self._fields) - self._pos
