"""Exchange hours, generated history and fair scheduling of the gateway (pure parts).

Facts: CME Globex equity futures trade 17:00-16:00 CT (CME Group product calendar); TWS's
``tradingHours`` is ``YYYYMMDD:HHMM-YYYYMMDD:HHMM`` per session and ``YYYYMMDD:CLOSED``
(TWS API ContractDetails reference); Good Friday 2026 (3 April) is a CME holiday.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from execution.broker import OrderRequest, OrderType, TimeInForce
from sim_broker.tws import history as hist
from sim_broker.tws import hours
from sim_broker.tws.fair import FairQueue
from sim_broker.tws.market import Calendar

CME = hours.hours_of("CME")
CAL = Calendar(dt.date(2026, 3, 2), "America/New_York")


def test_globex_hours_in_tws_format():
    text = hours.trading_hours(CME, dt.date(2026, 3, 6), days=3)
    assert text == "20260305:1700-20260306:1600;20260307:CLOSED;20260308:CLOSED"
    assert hours.trading_hours(CME, dt.date(2026, 3, 2), 1, liquid=True) == "20260302:0830-20260302:1515"
    assert hours.session(CME, dt.date(2026, 4, 3)) is None  # Good Friday


def test_an_order_at_20_28_utc_is_inside_the_globex_session():
    when = dt.datetime(2026, 3, 2, 20, 28, tzinfo=dt.timezone.utc)
    s = hours.current_or_next(CME, when)
    assert s.day == dt.date(2026, 3, 2) and s.open <= when < s.close


def _history(seed: int = 0) -> hist.History:
    n = 60 * 23
    live = {"time": CAL.seconds(hours.session(CME, dt.date(2026, 3, 2)).open) + 60.0 * np.arange(n),
            "open": np.full(n, 5000.0), "high": np.full(n, 5000.5), "low": np.full(n, 4999.5),
            "close": np.full(n, 5000.0), "volume": np.full(n, 1000.4)}
    market = hist.Market("ES", "SPX", 5000.0, 0.012, 1_500_000, 0.25, 0.125)
    return hist.History(market, CME, seed, lambda: [(dt.date(2026, 3, 2), live)], CAL.seconds)


def test_past_sessions_join_the_live_one_and_do_not_depend_on_the_span():
    short, long = _history(), _history()
    a = short.minutes(2)
    b = long.minutes(10)
    assert a.days[-3:] == (dt.date(2026, 2, 26), dt.date(2026, 2, 27), dt.date(2026, 3, 2))
    tail = b.time >= a.time[0]
    assert np.array_equal(a.close, b.close[tail]) and np.array_equal(a.volume, b.volume[tail])
    first_live = np.flatnonzero(a.session == 2)[0]
    assert a.close[first_live - 1] == a.open[first_live]  # one path into the live session
    assert np.all(a.volume == np.floor(a.volume))


def test_shown_prices_are_on_the_tick_or_half_tick():
    m = _history().minutes(3)
    o, h, lo, c, v = hist.shown(m, "TRADES", _history().market)
    assert np.allclose(np.round(c / 0.25), c / 0.25) and np.all(v == np.floor(v))
    o, h, lo, c, v = hist.shown(m, "MIDPOINT", _history().market)
    assert np.allclose(np.round(c / 0.125), c / 0.125) and np.all(v == -1)


def test_bad_bar_sizes_are_refused_with_tws_text():
    for text in ("7 mins", "1 sec", "hourly"):
        try:
            hist.bar_seconds(text)
        except hist.BarRequestError as exc:
            assert exc.code == 162 and "Legal ones are" in str(exc)
        else:
            raise AssertionError(text)
    assert hist.bar_seconds("1 hour") == 3600


class _Broker:
    def __init__(self) -> None:
        self.sent: list[int] = []

    def submit(self, req: OrderRequest) -> None:
        self.sent.append(req.order_id)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 3), st.booleans()), min_size=1, max_size=80))
def test_fair_queue_bounds_each_client_and_sends_every_order_once(steps):
    """At most ``per_client`` orders of a client are in matching; each is sent exactly once."""
    broker = _Broker()
    q = FairQueue(broker, per_client=2)
    owner: dict[int, int] = {}
    finished: set[int] = set()

    def in_flight(client: int) -> list[int]:
        return [o for o in broker.sent if owner[o] == client and o not in finished]

    for i, (client, finish) in enumerate(steps):
        owner[i] = client
        q.submit(client, OrderRequest(i, "ES", 1, OrderType.MARKET, None, TimeInForce.DAY))
        if finish and in_flight(client):
            oldest = in_flight(client)[0]
            finished.add(oldest)
            q.done(client, oldest)
        assert all(len(in_flight(c)) <= 2 for c in (1, 2, 3))
    while any(in_flight(c) for c in (1, 2, 3)):
        for c in (1, 2, 3):
            for o in in_flight(c):
                finished.add(o)
                q.done(c, o)
    assert sorted(broker.sent) == list(range(len(steps)))
    assert not any(q.waiting(c) for c in (1, 2, 3))
