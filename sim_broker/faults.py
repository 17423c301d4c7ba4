"""Fault injection for the simulated broker, driven by its own random stream.

The broker asks one question per decision; each question with a zero rate draws nothing, so
switching faults on never touches the market's random streams and a run without faults
draws no fault numbers at all.

What each fault does (see :class:`~sim_broker.broker.SimBroker` for the event flow):

- ``reject``: the order is refused on arrival (``OrderRejected``, code 201);
- ``drop_ack``: the order works but its ``OrderAccepted`` is never sent;
- ``duplicate``: an execution is delivered a second time, same ``exec_id``, a little later;
- ``late``: an execution is delivered up to ``late_fill_max_seconds`` late, possibly after the
  order's terminal event (a fill after a cancel);
- disconnect windows: from the session start, every ``disconnect_every_minutes`` the link is
  down for ``disconnect_seconds``. ``ConnectionChanged(False)`` opens a window and
  ``ConnectionChanged(True)`` closes it. Orders and cancels sent while the link is down are
  refused at once (``OrderRejected`` / ``CancelRejected``, code 504 "not connected", as a
  client library does); events that fall due while it is down are held and delivered, in
  order, right after ``ConnectionChanged(True)`` (the replay a client requests on reconnect).
"""

from __future__ import annotations

import numpy as np

from sim_broker.params import FaultParams

_BLOCK = 1024


class FaultPlan:
    """Answers the broker's fault questions from a dedicated ``numpy`` Generator."""

    __slots__ = ("params", "_rng", "_buf", "_i")

    def __init__(self, params: FaultParams, rng: np.random.Generator) -> None:
        self.params = params
        self._rng = rng
        self._buf: list[float] = []
        self._i = 0

    def _u(self) -> float:
        if self._i >= len(self._buf):
            self._buf = self._rng.random(_BLOCK).tolist()
            self._i = 0
        u = self._buf[self._i]
        self._i += 1
        return u

    def reject(self) -> bool:
        rate = self.params.reject_rate
        return bool(rate) and self._u() < rate

    def drop_ack(self) -> bool:
        rate = self.params.drop_ack_rate
        return bool(rate) and self._u() < rate

    def duplicate_delay(self) -> float | None:
        """Delay (s) of a duplicate delivery of an execution, or ``None`` for no duplicate."""
        rate = self.params.duplicate_fill_rate
        if rate and self._u() < rate:
            return 0.001 + 0.999 * self._u()
        return None

    def late_delay(self) -> float:
        """Extra delivery delay (s) of an execution; 0 when it is on time."""
        rate = self.params.late_fill_rate
        if rate and self._u() < rate:
            return self.params.late_fill_max_seconds * (1.0 - self._u())
        return 0.0

    def windows(self, start: float, end: float) -> list[tuple[float, float]]:
        """Disconnect windows ``(down, up)`` in ``[start, end)``, seconds."""
        every = 60.0 * self.params.disconnect_every_minutes
        length = self.params.disconnect_seconds
        if not every or not length:
            return []
        downs = np.arange(start + every, end, every)
        return [(float(d), float(d + length)) for d in downs]
