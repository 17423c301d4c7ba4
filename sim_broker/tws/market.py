"""Market data for the gateway: streaming quotes and historical bars.

Quotes: a subscription remembers the last values it sent and gets only changes: bid and ask
(price with a displayed size), last (price with the size traded since the previous update)
and the session's cumulative volume. The displayed bid and ask size is one minute's average
volume, ``adv / session minutes`` (at least one contract): the simulator has no book depth.

Historical bars: :mod:`sim_broker.tws.history`. :class:`Calendar` maps the gateway clock to
dates and IB's date-time text.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from execution.broker import MarketSnapshot
from sim_broker.tws.messages import TickType, encode_tick_price, encode_tick_size

@dataclass(slots=True)
class _Subscription:
    req_id: int
    snapshot: bool
    sent: dict[TickType, float] = field(default_factory=dict)
    last_volume: float | None = None


class QuoteStream:
    """Quote subscriptions of one instrument, keyed by (session, request id)."""

    def __init__(self, displayed_size: float) -> None:
        self.displayed_size = max(1.0, float(math.floor(displayed_size)))
        self.subs: dict[tuple[object, int], _Subscription] = {}
        self.last: MarketSnapshot | None = None

    def add(self, session: object, req_id: int, snapshot: bool) -> None:
        self.subs[(session, req_id)] = _Subscription(req_id, snapshot)

    def remove(self, session: object, req_id: int | None = None) -> None:
        for key in [k for k in self.subs if k[0] is session and (req_id is None or k[1] == req_id)]:
            del self.subs[key]

    def publish(self, snap: MarketSnapshot, send: Callable[[object, list[object]], None]) -> list[tuple[object, int]]:
        """Send changes to every subscriber; returns the finished snapshot requests."""
        self.last = snap
        done = []
        for key, sub in self.subs.items():
            session = key[0]
            for fields in self._ticks(sub, snap, getattr(session, "version", 178)):
                send(session, fields)
            if sub.snapshot:
                done.append(key)
        for key in done:
            del self.subs[key]
        return done

    def _ticks(self, sub: _Subscription, snap: MarketSnapshot, v: int) -> list[list[object]]:
        out: list[list[object]] = []
        size = self.displayed_size
        for tick, price in ((TickType.BID, snap.bid), (TickType.ASK, snap.ask)):
            if sub.sent.get(tick) != price:
                sub.sent[tick] = price
                out.append(encode_tick_price(v, sub.req_id, tick, price, size))
        traded = 0.0 if sub.last_volume is None else max(0.0, snap.volume - sub.last_volume)
        if sub.sent.get(TickType.LAST) != snap.last or traded:
            sub.sent[TickType.LAST] = snap.last
            out.append(encode_tick_price(v, sub.req_id, TickType.LAST, snap.last, float(math.floor(traded)) or 1.0))
        volume = float(math.floor(snap.volume))
        if sub.last_volume is None or volume != math.floor(sub.last_volume):
            out.append(encode_tick_size(v, sub.req_id, TickType.VOLUME, volume))
        sub.last_volume = snap.volume
        return out


@dataclass(frozen=True, slots=True)
class Calendar:
    """Maps the simulator's clock (seconds since local midnight) to dates and IB text."""

    session_date: dt.date
    time_zone: str

    def _tz(self) -> dt.tzinfo:
        from zoneinfo import ZoneInfo

        return ZoneInfo(self.time_zone)

    def at(self, t: float) -> dt.datetime:
        midnight = dt.datetime.combine(self.session_date, dt.time(), tzinfo=self._tz())
        return midnight + dt.timedelta(seconds=t)

    def seconds(self, when: dt.datetime) -> float:
        midnight = dt.datetime.combine(self.session_date, dt.time(), tzinfo=self._tz())
        return (when - midnight).total_seconds()

    def text(self, t: float) -> str:
        """``YYYYmmdd HH:MM:SS <zone>``, the form IB clients parse with a time zone."""
        return self.at(t).strftime("%Y%m%d %H:%M:%S ") + self.time_zone

    def epoch(self, t: float) -> int:
        return int(self.at(t).timestamp())

    def parse(self, text: str, now: float) -> float:
        """An IB end-date-time (``""`` = now) as seconds on this clock."""
        s = text.strip()
        if not s:
            return now
        try:
            if "-" in s[:9] and len(s) >= 17:  # "yyyymmdd-hh:mm:ss" is UTC
                when = dt.datetime.strptime(s[:17], "%Y%m%d-%H:%M:%S").replace(tzinfo=dt.timezone.utc)
            else:
                parts = s.split()
                naive = dt.datetime.strptime(" ".join(parts[:2]), "%Y%m%d %H:%M:%S")
                if len(parts) > 2:
                    from zoneinfo import ZoneInfo

                    when = naive.replace(tzinfo=ZoneInfo(parts[2]))
                else:
                    when = naive.replace(tzinfo=self._tz())
        except (ValueError, KeyError) as exc:
            raise ValueError(f"bad end date-time {text!r}: {exc}") from None
        return self.seconds(when)

    def bar_dates(self, times, size: int, days: list[dt.date], format_date: int) -> list[str]:
        """:meth:`bar_date` of many bars at once (vectorised through pandas)."""
        if size >= 86_400:
            return [d.strftime("%Y%m%d") for d in days]
        import pandas as pd

        origin = self.at(0.0).timestamp()
        epochs = pd.to_datetime(origin + times, unit="s", utc=True)
        if format_date == 2:
            return [str(int(x)) for x in origin + times]
        local = epochs.tz_convert(self.time_zone)
        return list(local.strftime("%Y%m%d %H:%M:%S ") + self.time_zone)

    def bar_date(self, t: float, size: int, day: dt.date, format_date: int) -> str:
        """A bar's date: its trading day for day bars, else its start (epoch seconds if ``format_date`` 2)."""
        if size >= 86_400:
            return day.strftime("%Y%m%d")
        if format_date == 2:
            return str(self.epoch(t))
        return self.text(t)

