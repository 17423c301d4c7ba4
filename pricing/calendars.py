"""Exchange business days from the ``exchange-calendars`` package (pure; no clock, no I/O).

A business day of an exchange is a day that is a trade date there. Each exchange the contract
registry names maps to one calendar of ``exchange-calendars`` (:data:`EXCHANGE_CALENDARS`):

- CME and CBOT equity-index and Treasury futures: ``XNYS``. CME Globex keeps an abbreviated
  session on most US holidays (the ``CMES`` calendar models that session), but trades made
  then are dated to the next business day, so the trade dates, and the days the underlying
  indexes are published, are NYSE's (New Year's Day, Martin Luther King Jr. Day, Presidents'
  Day, Good Friday, Memorial Day, Juneteenth, Independence Day, Labor Day, Thanksgiving,
  Christmas).
- ICE Futures U.S. (``NYBOT``): ``IEPA``.
- Eurex: ``XEUR`` (closed on Good Friday, Easter Monday, 1 May, 24, 25, 26 and 31 December).
- ICE Futures Europe (``ICEEU``, FTSE 100 futures): ``XLON`` (London business days).

Calendars are built once, over :data:`FIRST_YEAR`–:data:`LAST_YEAR` (fixed bounds, so the
wall clock never moves them), and kept as a sorted ``numpy.datetime64[D]`` array of
sessions; every function is a binary search on it. A date outside the bounds raises
``ValueError``.
"""

from __future__ import annotations

import datetime as dt
import functools
import warnings
from dataclasses import dataclass

import numpy as np

__all__ = [
    "EXCHANGE_CALENDARS",
    "FIRST_YEAR",
    "LAST_YEAR",
    "BusinessCalendar",
    "for_currency",
    "for_exchange",
    "known_exchanges",
]

#: Years every calendar covers (a backtest from 1990; contracts listed to 2060).
FIRST_YEAR = 1990
LAST_YEAR = 2060

#: Exchange (as the registry and Interactive Brokers spell it) -> ``exchange-calendars`` name.
EXCHANGE_CALENDARS: dict[str, str] = {
    "CME": "XNYS",  # trade dates of CME equity-index futures: days the indexes are published
    "CBOT": "XNYS",  # CBOT Treasury and Dow futures: US trade dates (see the module docstring)
    "NYBOT": "IEPA",  # ICE Futures U.S.
    "EUREX": "XEUR",
    "ICEEU": "XLON",  # ICE Futures Europe equity derivatives follow London business days
}


#: Business days of a portfolio in each base currency (calendar triggers); others: NYSE's.
CURRENCY_EXCHANGES: dict[str, str] = {"USD": "CME", "EUR": "EUREX", "GBP": "ICEEU"}


def for_currency(currency: str) -> BusinessCalendar:
    """Business days of a portfolio whose base currency is ``currency`` (NYSE for USD and any
    currency without a calendar here, Eurex for EUR, London for GBP)."""
    return for_exchange(CURRENCY_EXCHANGES.get(currency.upper(), "CME"))


def known_exchanges() -> tuple[str, ...]:
    return tuple(sorted(EXCHANGE_CALENDARS))


def _day(d: dt.date) -> np.datetime64:
    return np.datetime64(d, "D")


@dataclass(frozen=True, eq=False)
class BusinessCalendar:
    """Business days of one exchange: ``sessions`` is the sorted array of trade dates."""

    exchange: str
    name: str
    sessions: np.ndarray  # datetime64[D], sorted, unique

    def _check(self, d: dt.date) -> None:
        if not FIRST_YEAR <= d.year <= LAST_YEAR:
            raise ValueError(f"{d} is outside the {self.exchange} calendar ({FIRST_YEAR}-{LAST_YEAR})")

    def _index(self, d: dt.date) -> int:
        """Position of the first session on or after ``d``."""
        self._check(d)
        return int(np.searchsorted(self.sessions, _day(d), side="left"))

    def _date(self, i: int) -> dt.date:
        if not 0 <= i < len(self.sessions):
            raise ValueError(f"outside the {self.exchange} calendar ({FIRST_YEAR}-{LAST_YEAR})")
        return self.sessions[i].astype(dt.date)

    def is_business_day(self, d: dt.date) -> bool:
        i = self._index(d)
        return i < len(self.sessions) and self.sessions[i] == _day(d)

    def on_or_before(self, d: dt.date) -> dt.date:
        """``d`` if it is a business day, else the business day before it."""
        return d if self.is_business_day(d) else self._date(self._index(d) - 1)

    def on_or_after(self, d: dt.date) -> dt.date:
        """``d`` if it is a business day, else the business day after it."""
        return self._date(self._index(d))

    def add(self, d: dt.date, n: int) -> dt.date:
        """``n`` business days after ``d`` (before it when ``n < 0``); ``d`` need not be a
        business day (``add(saturday, 1)`` is the Monday, ``add(saturday, -1)`` the Friday)."""
        i = self._index(d)
        if n > 0:
            on = i < len(self.sessions) and self.sessions[i] == _day(d)
            return self._date(i + n - (0 if on else 1))
        return self._date(i + n) if n < 0 else d

    def count(self, start: dt.date, end: dt.date) -> int:
        """Business days in ``(start, end]``; negative when ``end`` is before ``start``."""
        if end < start:
            return -self.count(end, start)
        a = int(np.searchsorted(self.sessions, _day(start), side="right"))
        b = int(np.searchsorted(self.sessions, _day(end), side="right"))
        self._check(start)
        self._check(end)
        return b - a

    def first_of_month(self, year: int, month: int) -> dt.date:
        """First business day of ``year``/``month``."""
        return self.on_or_after(dt.date(year, month, 1))

    def last_of_month(self, year: int, month: int) -> dt.date:
        """Last business day of ``year``/``month``."""
        nxt = dt.date(year + month // 12, month % 12 + 1, 1)
        return self.on_or_before(nxt - dt.timedelta(days=1))


def weekdays() -> np.ndarray:
    """Every Monday to Friday of :data:`FIRST_YEAR`–:data:`LAST_YEAR`, ``datetime64[D]``."""
    days = np.arange(f"{FIRST_YEAR}-01-01", f"{LAST_YEAR + 1}-01-01", dtype="datetime64[D]")
    return days[(days.astype(np.int64) + 3) % 7 < 5]  # day 0, 1970-01-01, was a Thursday


@functools.lru_cache(maxsize=None)
def _build(name: str) -> np.ndarray:
    """Sessions of calendar ``name``: the weekdays less the closed days tabulated from
    ``exchange-calendars`` in :mod:`pricing.calendar_holidays` (a test keeps the two equal),
    so no command pays for pandas and the calendar build; the package itself otherwise."""
    from pricing import calendar_holidays as table

    closed = table.CLOSED.get(name)
    if closed is None or (table.FIRST_YEAR, table.LAST_YEAR) != (FIRST_YEAR, LAST_YEAR):
        return _from_package(name)
    return _without(weekdays(), np.array(closed, dtype="datetime64[D]"))


def _without(days: np.ndarray, closed: np.ndarray) -> np.ndarray:
    """``days`` (sorted, distinct) less every date in ``closed``: what ``np.setdiff1d`` gives
    here, by binary search (``setdiff1d`` imports ``numpy.ma``, ~10 ms of every command's start)."""
    pos = np.searchsorted(days, closed)
    inside = pos < days.size
    pos, closed = pos[inside], closed[inside]
    keep = np.ones(days.size, dtype=bool)
    keep[pos[days[pos] == closed]] = False
    return days[keep]


def _from_package(name: str) -> np.ndarray:
    """Sessions of ``name`` as ``exchange-calendars`` builds them (about a second)."""
    import exchange_calendars as xc

    with warnings.catch_warnings():
        # exchange-calendars 4.x still reads Series.values, which pandas 3 deprecates.
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        cal = xc.get_calendar(name, start=f"{FIRST_YEAR}-01-01", end=f"{LAST_YEAR}-12-31")
    return np.unique(np.asarray(cal.sessions, dtype="datetime64[D]"))


@functools.lru_cache(maxsize=None)
def for_exchange(exchange: str) -> BusinessCalendar:
    """The business-day calendar of ``exchange`` (``KeyError`` names the known ones)."""
    key = exchange.upper()
    try:
        name = EXCHANGE_CALENDARS[key]
    except KeyError:
        raise KeyError(f"no business-day calendar for exchange {exchange!r}; known: {', '.join(known_exchanges())}") from None
    return BusinessCalendar(key, name, _build(name))
