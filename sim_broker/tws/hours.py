"""Exchange hours of the listed roots: trading days, sessions and TWS's hours text.

Trading days are the exchange's business days of :mod:`pricing.calendars` (``exchange-calendars``:
CME and CBOT trade dates on ``XNYS``, Eurex on ``XEUR``, ICE US on ``IEPA``, ICE Europe on
``XLON``). The hours of a session are the product's, in the exchange's time zone (facts: CME
Group, Eurex and ICE product pages):

- CME/CBOT futures trade on Globex from 17:00 CT the evening before the trading day to
  16:00 CT, with the daily maintenance break 16:00-17:00 CT between sessions; liquid hours
  08:30-15:15 CT for equity index futures, 07:20-14:00 CT for Treasury futures;
- Eurex index futures trade 01:10-22:00 CET, liquid 09:00-17:30 CET;
- ICE US index futures trade 20:00 ET the evening before to 18:00 ET, liquid 09:30-16:15 ET;
- ICE Europe FTSE 100 futures trade 01:00-21:00 London time, liquid 08:00-16:30.

:func:`trading_hours` writes TWS's ``tradingHours``/``liquidHours`` text:
``YYYYMMDD:HHMM-YYYYMMDD:HHMM`` per session, ``YYYYMMDD:CLOSED`` for a day without one,
separated by ``;``, in the contract's time zone.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class Hours:
    """One product's session rule: ``open`` on the previous day when ``overnight``."""

    exchange: str  # as the registry names it; its business days are the trading days
    tz: str  # IANA zone of the times below
    ib_zone: str  # the zone name TWS reports (contractDetails.timeZoneId)
    open: dt.time
    close: dt.time
    overnight: bool
    liquid_open: dt.time
    liquid_close: dt.time


_CME_EQUITY = Hours("CME", "America/Chicago", "US/Central", dt.time(17), dt.time(16), True, dt.time(8, 30), dt.time(15, 15))
_CBOT_RATES = Hours("CBOT", "America/Chicago", "US/Central", dt.time(17), dt.time(16), True, dt.time(7, 20), dt.time(14))
_EUREX = Hours("EUREX", "Europe/Berlin", "MET", dt.time(1, 10), dt.time(22), False, dt.time(9), dt.time(17, 30))
_ICE_US = Hours("NYBOT", "America/New_York", "US/Eastern", dt.time(20), dt.time(18), True, dt.time(9, 30), dt.time(16, 15))

_ICE_EU = Hours("ICEEU", "Europe/London", "Europe/London", dt.time(1), dt.time(21), False, dt.time(8), dt.time(16, 30))

BY_EXCHANGE = {"CME": _CME_EQUITY, "CBOT": _CBOT_RATES, "EUREX": _EUREX, "NYBOT": _ICE_US, "ICEEU": _ICE_EU}


def hours_of(exchange: str) -> Hours:
    return BY_EXCHANGE.get(exchange.upper(), _CME_EQUITY)


@functools.lru_cache(maxsize=4096)
def is_trading_day(exchange: str, day: dt.date) -> bool:
    from pricing.calendars import for_exchange

    return for_exchange(exchange).is_business_day(day)


@dataclass(frozen=True, slots=True)
class Session:
    """One trading day's session (``day`` is the trading date) as aware datetimes."""

    day: dt.date
    open: dt.datetime
    close: dt.datetime
    liquid_open: dt.datetime
    liquid_close: dt.datetime


def session(h: Hours, day: dt.date) -> Session | None:
    """The session of trading date ``day``, or None when the exchange is closed that day."""
    if not is_trading_day(h.exchange, day):
        return None
    tz = ZoneInfo(h.tz)
    open_day = day - dt.timedelta(days=1) if h.overnight else day
    return Session(
        day,
        dt.datetime.combine(open_day, h.open, tzinfo=tz),
        dt.datetime.combine(day, h.close, tzinfo=tz),
        dt.datetime.combine(day, h.liquid_open, tzinfo=tz),
        dt.datetime.combine(day, h.liquid_close, tzinfo=tz),
    )


def current_or_next(h: Hours, when: dt.datetime) -> Session:
    """The session open at ``when``, else the next one to open."""
    day = when.astimezone(ZoneInfo(h.tz)).date() - dt.timedelta(days=1)
    for _ in range(30):
        s = session(h, day)
        if s is not None and when < s.close:
            return s
        day += dt.timedelta(days=1)
    raise ValueError(f"no session of {h.exchange} within 30 days of {when}")


def sessions_before(h: Hours, day: dt.date, count: int) -> list[Session]:
    """The ``count`` sessions before trading date ``day``, oldest first."""
    out: list[Session] = []
    d = day
    while len(out) < count:
        d -= dt.timedelta(days=1)
        s = session(h, d)
        if s is not None:
            out.append(s)
    return out[::-1]


def trading_hours(h: Hours, start: dt.date, days: int = 7, liquid: bool = False) -> str:
    """TWS's hours text for the trading dates ``start .. start + days - 1``."""
    tz = ZoneInfo(h.tz)
    parts = []
    for i in range(days):
        day = start + dt.timedelta(days=i)
        s = session(h, day)
        if s is None:
            parts.append(f"{day:%Y%m%d}:CLOSED")
            continue
        a, b = (s.liquid_open, s.liquid_close) if liquid else (s.open, s.close)
        a, b = a.astimezone(tz), b.astimezone(tz)
        parts.append(f"{a:%Y%m%d:%H%M}-{b:%Y%m%d:%H%M}")
    return ";".join(parts)
