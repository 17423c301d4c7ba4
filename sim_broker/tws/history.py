"""Historical bars for ``reqHistoricalData``: past sessions by seed, then the live one.

Time axis: the gateway clock, seconds since midnight of the session date in the gateway's
time zone (past sessions have negative times).

Past sessions. The live session is the simulator's exogenous path (without our own
trades' impact). The sessions before it, on the exchange calendar (:mod:`sim_broker.tws.hours`),
are generated on demand, newest first, and cached: session ``d`` is an arithmetic Brownian
path on a 15-second grid, ``σ_P = daily_vol · price`` per √session, drawn from
``SeedSequence([seed, crc32("history:" + underlying), d.toordinal()])`` (instruments on one
underlying move together), shifted so that its last value is the next session's first, so
the whole history is one continuous path into the live session. Its volume per minute is
``adv · w_i · exp(s·Z − s²/2)`` with the U-shaped profile ``w`` and ``s = 0.5``, drawn from
the instrument's own stream. Whatever span a request covers, the same seed gives the same bars.

What a bar shows (facts: TWS API "Historical Bar Data" reference):

- ``TRADES``: open, high, low and close rounded to the tick; integer volume (per minute
  ``⌊V(t₁)⌋ − ⌊V(t₀)⌋`` of the cumulative volume ``V``, so sums are preserved); ``WAP`` the
  mean of the four prices; ``barCount`` the minutes in the bar;
- ``MIDPOINT``: prices rounded to half a tick, volume −1 as TWS sends it;
- ``BID`` / ``ASK``: the mid minus / plus half the quoted spread, on the tick.

Bar sizes are TWS's legal ones; sub-minute sizes and weeks/months are refused, and so is any
other text, with TWS's validation message ("Historical data bar size setting is invalid.
Legal ones are: …"), as error 162 so that the client's request ends. A bar never spans two sessions; a ``1 day`` bar is one
session, dated by its trading day. Durations: ``S`` seconds, ``D`` sessions (``1 D`` on a
weekend is Friday's session), ``W`` 7 calendar days, ``M`` 30, ``Y`` 365.
"""

from __future__ import annotations

import datetime as dt
import re
import zlib
from dataclasses import dataclass

import numpy as np

from pricing.volume_profile import volume_profile
from sim_broker.tws import hours
from sim_broker.tws.messages import BarRow

LEGAL_BAR_SIZES = (
    "1 secs", "5 secs", "10 secs", "15 secs", "30 secs", "1 min", "2 mins", "3 mins", "5 mins", "10 mins",
    "15 mins", "20 mins", "30 mins", "1 hour", "2 hours", "3 hours", "4 hours", "8 hours", "1 day", "1W", "1M",
)
_MINUTE_SIZES = {"1 min": 60, "2 mins": 120, "3 mins": 180, "5 mins": 300, "10 mins": 600, "15 mins": 900,
                 "20 mins": 1200, "30 mins": 1800, "1 hour": 3600, "2 hours": 7200, "3 hours": 10800,
                 "4 hours": 14400, "8 hours": 28800, "1 day": 86_400}
_DURATION = re.compile(r"^\s*(\d+)\s*([SDWMY])\s*$", re.I)
#: The longest history served, in calendar days before the live session.
MAX_DAYS = 366
#: The most bars one request may return.
MAX_BARS = 100_000
_SUB = 4  # grid points per minute of a generated session
_VOLUME_NOISE = 0.5


class BarRequestError(ValueError):
    """A request TWS refuses: error 162 (historical data service), which every client
    treats as the end of the request (some clients take TWS's 321 for a warning and wait)."""

    def __init__(self, text: str, code: int = 162) -> None:
        super().__init__(text)
        self.code = code


def bar_seconds(text: str) -> int:
    """TWS bar size text -> seconds; raises :class:`BarRequestError`."""
    key = " ".join(text.split())
    if key in _MINUTE_SIZES:
        return _MINUTE_SIZES[key]
    if key in LEGAL_BAR_SIZES:
        raise BarRequestError(f"bar size {key!r} is not kept by the simulator (whole minutes up to 1 day)")
    raise BarRequestError(
        "Error validating request.-'bK' : cause - Historical data bar size setting is invalid. Legal ones are: "
        + ", ".join(LEGAL_BAR_SIZES))


@dataclass(frozen=True, slots=True)
class Minutes:
    """Minute bars of consecutive sessions; ``session`` numbers them (0 = oldest kept)."""

    time: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray  # integer contracts
    session: np.ndarray
    days: tuple[dt.date, ...]  # trading date of each session number


@dataclass(frozen=True, slots=True)
class Market:
    """What generating an instrument's past needs (price units, contracts)."""

    instrument: str
    underlying: str
    price: float
    daily_vol: float
    adv: float
    tick: float
    half_spread: float


def integer_volumes(volume: np.ndarray) -> np.ndarray:
    """Whole contracts per bar with the same running total (rounded down)."""
    cum = np.floor(np.concatenate(([0.0], np.cumsum(volume))) + 1e-9)
    return np.diff(cum)


class History:
    """Past sessions of one instrument, joined to the simulated sessions' minute bars.

    ``live()`` returns the simulated sessions so far, oldest first, as ``(trading day,
    minute bars)``; the generated past ends where the first of them opens.
    """

    def __init__(self, market: Market, rule: hours.Hours, seed: int, live, to_clock) -> None:
        self.market = market
        self.rule = rule
        self.seed = seed
        self.live = live
        self.to_clock = to_clock  # aware datetime -> gateway clock seconds
        self._past: list[dict[str, np.ndarray]] = []  # newest first
        self._days: list[dt.date] = []

    @property
    def live_day(self) -> dt.date:
        """The trading day of the first simulated session."""
        return self.live()[0][0]

    def head(self) -> dt.datetime:
        """The open of the oldest session served (``reqHeadTimeStamp``)."""
        oldest = self.live_day - dt.timedelta(days=MAX_DAYS)
        s = hours.session(self.rule, oldest) or hours.current_or_next(
            self.rule, dt.datetime.combine(oldest, dt.time(12), tzinfo=dt.timezone.utc))
        return s.open

    def _extend(self, count: int) -> None:
        """Generate past sessions until ``count`` are cached."""
        if len(self._past) >= count:
            return
        first_day, first = self.live()[0]
        before = self._days[-1] if self._days else first_day
        next_open = float(self._past[-1]["open"][0]) if self._past else float(first["open"][0])
        for s in reversed(hours.sessions_before(self.rule, before, count - len(self._past))):
            bars = self._generate(s, next_open)
            self._past.append(bars)
            self._days.append(s.day)
            next_open = float(bars["open"][0])

    def _generate(self, s: hours.Session, next_open: float) -> dict[str, np.ndarray]:
        mk = self.market
        start, end = self.to_clock(s.open), self.to_clock(s.close)
        n = int((end - start) // 60)
        day = s.day.toordinal()
        shocks = np.random.default_rng(np.random.SeedSequence(
            [int(self.seed), zlib.crc32(b"history:" + mk.underlying.encode()), day])).standard_normal(n * _SUB)
        sd = mk.daily_vol * mk.price * np.sqrt(60.0 / _SUB / max(end - start, 60.0))
        path = np.concatenate(([0.0], np.cumsum(shocks * sd)))
        path += next_open - path[-1]
        grid = path[1:].reshape(n, _SUB)
        opens = path[0:-1:_SUB]
        noise = np.random.default_rng(np.random.SeedSequence(
            [int(self.seed), zlib.crc32(b"history-volume:" + mk.instrument.encode()), day])).standard_normal(n)
        volume = mk.adv * volume_profile(n) * np.exp(_VOLUME_NOISE * noise - _VOLUME_NOISE**2 / 2)
        return {
            "time": start + 60.0 * np.arange(n), "open": opens,
            "high": np.maximum(grid.max(axis=1), opens), "low": np.minimum(grid.min(axis=1), opens),
            "close": grid[:, -1], "volume": integer_volumes(volume),
        }

    def minutes(self, sessions: int) -> Minutes:
        """The last ``sessions`` past sessions and every simulated one."""
        self._extend(sessions)
        parts = list(reversed(self._past[:sessions]))
        live = self.live()
        for _, bars in live:
            part = dict(bars)
            part["volume"] = integer_volumes(bars["volume"])
            parts.append(part)
        days = tuple(reversed(self._days[:sessions])) + tuple(day for day, _ in live)
        cat = {k: np.concatenate([p[k] for p in parts]) for k in ("time", "open", "high", "low", "close", "volume")}
        cat["session"] = np.concatenate([np.full(p["time"].size, i) for i, p in enumerate(parts)])
        return Minutes(**cat, days=days)

    def sessions_for(self, start: float, end: float) -> int:
        """How many past sessions cover clock time ``start`` (at most the kept history)."""
        count = 0
        while count < 400:
            self._extend(count + 1)
            if len(self._past) <= count or self._days[count] < self.live_day - dt.timedelta(days=MAX_DAYS):
                break
            if float(self._past[count]["time"][0]) < start:
                return count + 1
            count += 1
        return count


def duration_start(text: str, end: float, starts: list[float], to_seconds_days) -> float:
    """Clock time where a duration ending at ``end`` starts.

    ``starts`` are session opens on the clock (oldest first): ``N D`` starts at the open of
    the N-th latest session that opened by ``end``.
    """
    m = _DURATION.match(text)
    if not m:
        raise BarRequestError(f"Error validating request.-'bK' : cause - Invalid duration {text!r}")
    n, unit = int(m.group(1)), m.group(2).upper()
    if n < 1:
        raise BarRequestError(f"duration {text!r} must be positive")
    if unit == "S":
        return end - n
    if unit == "D":
        opened = [s for s in starts if s <= end]
        return opened[-n] if len(opened) >= n else (opened[0] if opened else end)
    return end - n * to_seconds_days[unit] * 86_400


_DAYS = {"W": 7, "M": 30, "Y": 365}


def select(h: History, end: float, duration: str) -> tuple[float, Minutes]:
    """(start, minutes) covering a duration that ends at ``end``."""
    m = _DURATION.match(duration)
    if m and m.group(2).upper() == "D":
        sessions = int(m.group(1)) + 1
    else:
        provisional = duration_start(duration, end, [], _DAYS)
        sessions = h.sessions_for(provisional, end)
    minutes = h.minutes(min(sessions, 400))
    opens = [float(minutes.time[minutes.session == i][0]) for i in range(len(minutes.days)) if (minutes.session == i).any()]
    return duration_start(duration, end, opens, _DAYS), minutes


def _round(x: np.ndarray, step: float) -> np.ndarray:
    return np.round(x / step) * step


def shown(minutes: Minutes, what: str, market: Market) -> tuple[np.ndarray, ...]:
    """(open, high, low, close, volume) as ``whatToShow`` displays them."""
    w = what.upper() or "TRADES"
    o, h, lo, c = minutes.open, minutes.high, minutes.low, minutes.close
    if w == "TRADES":
        step, shift = market.tick, 0.0
    elif w == "MIDPOINT":
        step, shift = market.tick / 2.0, 0.0
    elif w in ("BID", "ASK"):
        step, shift = market.tick, (-market.half_spread if w == "BID" else market.half_spread)
    else:
        raise BarRequestError(f"Error validating request.-'bK' : cause - whatToShow {what!r} is not kept by the simulator")
    prices = tuple(_round(x + shift, step) for x in (o, h, lo, c))
    volume = minutes.volume if w == "TRADES" else np.full(o.size, -1.0)
    return (*prices, volume)


def shown_price(x: float, what: str, market: Market) -> float:
    """One price as ``whatToShow`` displays it (see :func:`shown`)."""
    w = what.upper() or "TRADES"
    shift = {"BID": -market.half_spread, "ASK": market.half_spread}.get(w, 0.0)
    step = market.tick / 2.0 if w == "MIDPOINT" else market.tick
    return float(round((x + shift) / step) * step)


def aggregate(minutes: Minutes, prices: tuple[np.ndarray, ...], start: float, end: float, size: int):
    """Bars of ``size`` s over minutes that start at/after ``start`` and end by ``end``.

    Yields ``(time, session, open, high, low, close, volume, minutes)``; the time is the bar's
    start (for day bars, the session number's first minute).
    """
    t = minutes.time
    keep = (t >= start) & (t + 60.0 <= end)
    if not keep.any():
        return []
    idx = np.flatnonzero(keep)
    o, h, lo, c, v = (x[idx] for x in prices)
    t, sess = t[idx], minutes.session[idx]
    within = np.zeros(t.size, dtype=np.int64) if size >= 86_400 else np.floor(t / size).astype(np.int64)
    key = sess.astype(np.int64) * (1 << 40) + within
    edges = np.flatnonzero(np.diff(key)) + 1
    starts = np.concatenate(([0], edges))
    stops = np.concatenate((edges, [t.size]))
    out = []
    for a, b in zip(starts, stops):
        when = float(t[a]) if size >= 86_400 else float(within[a] * size)
        vol = float(v[a:b].sum()) if v[a] >= 0 else -1.0
        out.append((when, int(sess[a]), float(o[a]), float(h[a:b].max()), float(lo[a:b].min()), float(c[b - 1]), vol, int(b - a)))
    return out


def bars(h: History, now: float, end: float, duration: str, bar_size: str, what: str,
         date_texts) -> tuple[float, list[BarRow]]:
    """(start, bars) of a request; ``date_texts(times, size, days)`` formats the bars' dates."""
    size = bar_seconds(bar_size)
    end = min(end, now)
    start, minutes = select(h, end, duration)
    prices = shown(minutes, what, h.market)
    raw = aggregate(minutes, prices, start, end, size)
    if len(raw) > MAX_BARS:
        raise BarRequestError("Historical Market Data Service error message:Time length exceed max.")
    dates = date_texts(np.array([b[0] for b in raw]), size, [minutes.days[b[1]] for b in raw])
    rows = [
        BarRow(date, o, hi, lo, c, v, round((o + hi + lo + c) / 4.0, 10), n)
        for date, (t, _, o, hi, lo, c, v, n) in zip(dates, raw)
    ]
    return start, rows
