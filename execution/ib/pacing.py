"""Client-side pacing for a broker API: a token bucket on an injected clock.

IB disconnects a client that sends more than 50 messages a second. A token bucket with
``rate`` tokens per second and room for ``burst`` tokens lets through at most
``burst + rate · w`` messages in any window of ``w`` seconds, so ``burst + rate < 50`` keeps
every one-second window under the limit (defaults: 40/s and a burst of 5, at most 45).

The bucket is pure: it never sleeps and never reads a clock. :meth:`TokenBucket.reserve`
takes the current time and returns how long the caller must wait before sending.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PacingLimits:
    rate: float = 40.0  # messages per second, sustained
    burst: int = 5  # messages that may go back to back after a quiet spell

    def __post_init__(self) -> None:
        if not (math.isfinite(self.rate) and self.rate > 0):
            raise ValueError("rate must be positive messages per second")
        if self.burst < 1:
            raise ValueError("burst must be at least one message")

    @property
    def max_per_second(self) -> float:
        """Upper bound on messages in any one-second window: ``burst + rate``."""
        return self.burst + self.rate


class TokenBucket:
    """A token bucket; :meth:`reserve` books the next message slot."""

    def __init__(self, limits: PacingLimits = PacingLimits(), start: float = 0.0) -> None:
        self.limits = limits
        self._tokens = float(limits.burst)
        self._stamp = float(start)

    def reserve(self, now: float) -> float:
        """Book one message at or after ``now``; returns the delay (seconds, >= 0) before it may go.

        Tokens refill at ``rate`` per second up to ``burst``; a booking that finds less than
        one token takes the deficit from the future, so successive bookings queue up at
        ``1 / rate`` second intervals.
        """
        if now > self._stamp:
            self._tokens = min(float(self.limits.burst), self._tokens + (now - self._stamp) * self.limits.rate)
            self._stamp = now
        self._tokens -= 1.0
        if self._tokens >= 0.0:
            return max(0.0, self._stamp - now)
        # The deficit is repaid at ``rate``; the message goes when the token it used exists.
        return max(0.0, self._stamp - now) + (-self._tokens) / self.limits.rate
