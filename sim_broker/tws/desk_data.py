"""The desk's market-data side: quotes, history, real-time bars, tick-by-tick, P&L, symbols.

A mixin of :class:`sim_broker.tws.desk.Desk` (it uses the desk's broker, book, ledger,
calendar and clock). Every request is answered with its own request id: data where the
simulator has it, else TWS's error for that request (never a bare ``-1``).

Streams are driven by :meth:`DataDesk.on_snapshot`, which the server calls every quote
interval for each instrument someone watches (:meth:`DataDesk.quoted_instruments`):

- ``reqMktData``: quote changes (:class:`~sim_broker.tws.market.QuoteStream`); at most
  :data:`MAX_LINES` simultaneous lines per client, the next one gets error 101 as in TWS;
- ``reqHistoricalData(keepUpToDate=True)``: the bar in progress (``historicalDataUpdate``);
- ``reqRealTimeBars``: one 5-second bar of the last price when each 5-second window closes;
- ``reqTickByTickData``: ``BidAsk``, ``Last``/``AllLast`` and ``MidPoint`` ticks on change;
- ``reqPnL`` / ``reqPnLSingle``: the ledger's P&L once a second (TWS's rate), daily P&L being
  unrealised plus realised since the gateway opened.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from dataclasses import dataclass, field

from execution import broker as port
from sim_broker.tws import history as hist
from sim_broker.tws import hours
from sim_broker.tws import messages as m
from sim_broker.tws import requests as rq
from sim_broker.tws.contracts import Listing
from sim_broker.tws.market import QuoteStream

#: Simultaneous market-data lines per client (TWS's default allowance is 100).
MAX_LINES = 100
REAL_TIME_BAR = 5.0  # seconds


def no_definition(session, req_id: int) -> None:
    """Error 200, as TWS answers a contract it does not know."""
    session.error(req_id, m.ErrorCode.NO_SECURITY_DEFINITION, "No security definition has been found for the request")


@dataclass(slots=True)
class _Live:
    """One streaming request: who, which id, what, and its running state."""

    session: object
    req_id: int
    kind: m.In
    listing: Listing
    option: str = ""
    what: str = ""
    size: int = 0
    format_date: int = 1
    bar: list[float] = field(default_factory=list)  # open, high, low, close, start volume
    window: float = -1.0
    sent: tuple = ()


class DataDesk:
    """Mixin: market-data requests of :class:`~sim_broker.tws.desk.Desk`."""

    def _init_data(self, seed: int) -> None:
        self._seed = seed
        self._quotes: dict[str, QuoteStream] = {}
        self._live: dict[tuple[int, int], _Live] = {}  # (id(session), req_id)
        self._pnl: dict[tuple[int, int], tuple[object, rq.ReqPnL]] = {}
        self._histories: dict[str, hist.History] = {}
        self._session_bars: dict[tuple[str, float], tuple] = {}

    # ------------------------------------------------------------ dispatch

    def _data_request(self, s, r) -> bool:
        """Serve a market-data request; False if ``r`` is not one."""
        if isinstance(r, rq.ReqMktData):
            self._subscribe_quotes(s, r)
        elif isinstance(r, rq.ReqHistoricalData):
            self._history(s, r)
        elif isinstance(r, rq.ReqData):
            self._data(s, r)
        elif isinstance(r, rq.ReqMatchingSymbols):
            pattern = r.pattern.strip().upper()
            rows = [self.book.front(root).row for root in self.book.roots()
                    if pattern and (root.startswith(pattern) or pattern in self.book.front(root).row.long_name.upper())]
            s.send(m.encode_symbol_samples(s.version, r.req_id, rows))
        elif isinstance(r, rq.ReqPnL):
            if r.con_id and self.book.by_con_id(r.con_id) is None:
                no_definition(s, r.req_id)
                return True
            self._pnl[(id(s), r.req_id)] = (s, r)
            self._send_pnl(s, r)
        else:
            return False
        return True

    def _cancel_data(self, s, kind: m.In, req_id: int) -> None:
        key = (id(s), req_id)
        if kind is m.In.CANCEL_MKT_DATA:
            for stream in self._quotes.values():
                stream.remove(s, req_id)
        elif kind in (m.In.CANCEL_PNL, m.In.CANCEL_PNL_SINGLE):
            self._pnl.pop(key, None)
        else:
            self._live.pop(key, None)

    def _release_data(self, s) -> None:
        for stream in self._quotes.values():
            stream.remove(s)
        for key in [k for k, v in self._live.items() if v.session is s]:
            del self._live[key]
        for key in [k for k, v in self._pnl.items() if v[0] is s]:
            del self._pnl[key]

    def quoted_instruments(self) -> list[str]:
        names = {name for name, stream in self._quotes.items() if stream.subs}
        names.update(x.listing.instrument for x in self._live.values())
        names.update(self._watched_instruments())
        if self._pnl:
            names.update(self.book.by_con_id(cid).instrument for cid in self.ledger.held())
        return sorted(names)

    def _watched_instruments(self) -> set[str]:
        return set()  # the order side adds instruments with resting stop orders

    def _lines(self, s) -> int:
        quotes = sum(1 for stream in self._quotes.values() for key in stream.subs if key[0] is s)
        return quotes + sum(1 for x in self._live.values() if x.session is s and x.kind is not m.In.REQ_HISTORICAL_DATA)

    # ------------------------------------------------------------ quotes

    def _subscribe_quotes(self, s, r: rq.ReqMktData) -> None:
        lst = self.book.resolve(r.contract, data_only=True)
        if lst is None:
            no_definition(s, r.req_id)
            return
        if self._lines(s) >= MAX_LINES:
            s.error(r.req_id, m.ErrorCode.MAX_TICKERS, f"Max number of tickers has been reached ({MAX_LINES} lines)")
            return
        stream = self._quotes.get(lst.instrument)
        if stream is None:
            stream = self._quotes[lst.instrument] = QuoteStream(self._displayed_size(lst.instrument))
        s.send([m.Out.MARKET_DATA_TYPE, 1, r.req_id, 1])
        stream.add(s, r.req_id, r.snapshot)

    def _displayed_size(self, instrument: str) -> float:
        params = getattr(self.broker, "params", None)
        if params is None:
            return 1.0
        p = params(instrument)
        return p.adv / (p.session_seconds / 60.0)

    def on_snapshot(self, snap: port.MarketSnapshot) -> None:
        for cid in self.ledger.held():
            lst = self.book.by_con_id(cid)
            if lst is not None and lst.instrument == snap.instrument:
                self.ledger.mark(cid, snap.last)
        self._on_price(snap)
        stream = self._quotes.get(snap.instrument)
        if stream is not None:
            for session, req_id in stream.publish(snap, lambda sess, fields: sess.send(fields)):
                session.send([m.Out.TICK_SNAPSHOT_END, 1, req_id])
        for x in list(self._live.values()):
            if x.listing.instrument == snap.instrument:
                self._stream(x, snap)

    def _on_price(self, snap: port.MarketSnapshot) -> None:
        """Hook for the order side (stop triggers)."""

    def publish_pnl(self) -> None:
        for s, r in list(self._pnl.values()):
            self._send_pnl(s, r)

    # ------------------------------------------------------------ history

    def history_of(self, lst: Listing) -> hist.History:
        h = self._histories.get(lst.instrument)
        if h is None:
            p = self.broker.params(lst.instrument)
            rule = hours.hours_of(lst.row.exchange)
            market = hist.Market(lst.instrument, p.underlying_key, p.price, p.daily_vol, p.adv, p.tick,
                                 p.spread_ticks * p.tick / 2.0)
            h = self._histories[lst.instrument] = hist.History(
                market, rule, self._seed, lambda: self._sessions_of(lst.instrument, rule), self.calendar.seconds)
        return h

    def _sessions_of(self, instrument: str, rule: hours.Hours) -> list:
        """(trading day, minute bars) of every simulated session of ``instrument``."""
        paths = self.broker.paths(instrument) if hasattr(self.broker, "paths") else [self.broker.path(instrument)]
        out = []
        for path in paths:
            key = (instrument, path.start)
            got = self._session_bars.get(key)
            if got is None:
                day = hours.current_or_next(rule, self.calendar.at(path.start + 1.0)).day
                got = self._session_bars[key] = (day, path.minute_bars())
            out.append(got)
        return out

    def _history(self, s, r: rq.ReqHistoricalData) -> None:
        lst = self.book.resolve(r.contract, data_only=True)
        if lst is None:
            no_definition(s, r.req_id)
            return
        now = self.clock()
        try:
            end = now if r.keep_up_to_date else min(self.calendar.parse(r.end, now), now)
            if r.keep_up_to_date and r.end.strip():
                raise hist.BarRequestError("Error validating request.-'bK' : cause - End date not supported with live updates")
            start, rows = hist.bars(self.history_of(lst), now, end, r.duration, r.bar_size, r.what_to_show,
                                    lambda ts, size, days: self.calendar.bar_dates(ts, size, days, r.format_date))
        except hist.BarRequestError as exc:
            s.error(r.req_id, exc.code, f"Historical Market Data Service error message:{exc}")
            return
        except ValueError as exc:
            s.error(r.req_id, m.ErrorCode.HISTORICAL_DATA_ERROR, f"Historical Market Data Service error message:{exc}")
            return
        s.send(m.encode_historical_data(s.version, r.req_id, self.calendar.text(start), self.calendar.text(end), rows))
        if r.keep_up_to_date:
            size = hist.bar_seconds(r.bar_size)
            self._live[(id(s), r.req_id)] = _Live(s, r.req_id, m.In.REQ_HISTORICAL_DATA, lst, r.bar_size,
                                                  r.what_to_show or "TRADES", size, r.format_date)

    # ------------------------------------------------------------ other requests

    def _data(self, s, r: rq.ReqData) -> None:
        if r.kind is m.In.REQ_SEC_DEF_OPT_PARAMS:
            s.send([m.Out.SEC_DEF_OPT_PARAMS_END, r.req_id])  # the simulator lists no options
            return
        lst = self.book.resolve(r.contract, data_only=True)
        if lst is None:
            no_definition(s, r.req_id)
            return
        if r.kind is m.In.REQ_HEAD_TIMESTAMP:
            head = self.history_of(lst).head()
            utc = head.astimezone(dt.timezone.utc)
            text = str(int(head.timestamp())) if r.format_date == 2 else utc.strftime("%Y%m%d-%H:%M:%S")
            s.send([m.Out.HEAD_TIMESTAMP, r.req_id, text])
        elif r.kind is m.In.REQ_HISTOGRAM_DATA:
            self._histogram(s, r, lst)
        elif r.kind is m.In.REQ_REAL_TIME_BARS:
            if r.option.strip() not in ("5", "5 secs"):
                s.error(r.req_id, m.ErrorCode.HISTORICAL_DATA_ERROR, "Error validating request.-'bO' : cause - Invalid bar size for real time bars: only 5 second bars are supported")
                return
            self._add_live(s, _Live(s, r.req_id, r.kind, lst, r.option, r.what or "TRADES"))
        elif r.kind is m.In.REQ_TICK_BY_TICK_DATA:
            if r.option not in ("Last", "AllLast", "BidAsk", "MidPoint"):
                s.error(r.req_id, m.ErrorCode.HISTORICAL_DATA_ERROR, f"Error validating request.-'bZ' : cause - Invalid tick type {r.option!r}")
                return
            self._add_live(s, _Live(s, r.req_id, r.kind, lst, r.option))

    def _add_live(self, s, x: _Live) -> None:
        if self._lines(s) >= MAX_LINES:
            s.error(x.req_id, m.ErrorCode.MAX_TICKERS, f"Max number of tickers has been reached ({MAX_LINES} lines)")
            return
        self._live[(id(s), x.req_id)] = x

    def _histogram(self, s, r: rq.ReqData, lst: Listing) -> None:
        """Minutes per TRADES close price over the period (``"3 days"``, ``"1 week"`` …)."""
        parts = r.option.split()
        unit = {"day": "D", "days": "D", "week": "W", "weeks": "W", "month": "M", "months": "M"}.get(parts[-1] if parts else "")
        if len(parts) != 2 or not parts[0].isdigit() or unit is None:
            s.error(r.req_id, m.ErrorCode.HISTORICAL_DATA_ERROR, f"Historical Market Data Service error message:invalid period {r.option!r}")
            return
        h = self.history_of(lst)
        now = self.clock()
        start, minutes = hist.select(h, now, f"{parts[0]} {unit}")
        closes = hist.shown(minutes, "TRADES", h.market)[3]
        keep = (minutes.time >= start) & (minutes.time + 60 <= now)
        f: list[object] = [m.Out.HISTOGRAM_DATA, r.req_id]
        prices, counts = np.unique(closes[keep], return_counts=True)
        f.append(len(prices))
        for p, c in zip(prices, counts):
            f += [float(p), int(c)]
        s.send(f)

    # ------------------------------------------------------------ streaming

    def _stream(self, x: _Live, snap: port.MarketSnapshot) -> None:
        s = x.session
        if x.kind is m.In.REQ_TICK_BY_TICK_DATA:
            t = self.calendar.epoch(snap.time)
            if x.option == "BidAsk":
                sent = (snap.bid, snap.ask)
                if sent != x.sent:
                    size = self._quotes[x.listing.instrument].displayed_size if x.listing.instrument in self._quotes else 1.0
                    s.send([m.Out.TICK_BY_TICK, x.req_id, 3, t, snap.bid, snap.ask, m.size(s.version, size), m.size(s.version, size), 0])
            elif x.option == "MidPoint":
                sent = ((snap.bid + snap.ask) / 2.0,)
                if sent != x.sent:
                    s.send([m.Out.TICK_BY_TICK, x.req_id, 4, t, sent[0]])
            else:
                sent = (snap.last, snap.volume)
                if x.sent and sent != x.sent and snap.volume > x.sent[1]:
                    size = float(max(1, int(snap.volume) - int(x.sent[1])))
                    s.send([m.Out.TICK_BY_TICK, x.req_id, 1 if x.option == "Last" else 2, t, snap.last, m.size(s.version, size), 0, x.listing.row.exchange, ""])
            x.sent = sent
            return
        if x.kind is m.In.REQ_REAL_TIME_BARS:
            window = (snap.time // REAL_TIME_BAR) * REAL_TIME_BAR
            price = snap.last if x.what.upper() == "TRADES" else (snap.bid + snap.ask) / 2.0
            if x.window >= 0 and window > x.window and x.bar:
                o, hi, lo, c, v0, v1 = x.bar
                s.send(m.encode_real_time_bar(s.version, x.req_id, self.calendar.epoch(x.window), o, hi, lo, c,
                                              float(int(v1) - int(v0)), round((o + hi + lo + c) / 4, 10), 1))
                x.bar = []
            if not x.bar or window > x.window:
                x.bar = [price, price, price, price, snap.volume, snap.volume]
            else:
                x.bar[1], x.bar[2], x.bar[3], x.bar[5] = max(x.bar[1], price), min(x.bar[2], price), price, snap.volume
            x.window = window
            return
        # keepUpToDate: the bar in progress, from the completed minutes and the last price
        now = snap.time
        start = (now // x.size) * x.size if x.size < 86_400 else now - 1.0
        h = self.history_of(x.listing)
        minutes = h.minutes(0)
        today = minutes.days[-1]
        o, hi, lo, c, v = hist.shown(minutes, x.what, h.market)
        keep = (minutes.time >= start) & (minutes.time + 60 <= now)
        price = hist.shown_price(snap.last, x.what, h.market)
        if keep.any():
            bar = (float(o[keep][0]), float(max(hi[keep].max(), price)), float(min(lo[keep].min(), price)), float(price))
            vol = float(v[keep].sum()) if v[keep][0] >= 0 else -1.0
        else:
            bar, vol = (float(price),) * 4, 0.0 if v.size == 0 or v[0] >= 0 else -1.0
        sent = (start, bar, vol)
        if sent != x.sent:
            x.sent = sent
            date = self.calendar.bar_date(start, x.size, today, x.format_date)
            s.send(m.encode_historical_update(s.version, x.req_id, int(keep.sum()), date, bar[0], bar[3], bar[1], bar[2],
                                              round(sum(bar) / 4, 10), vol))

    def _send_pnl(self, s, r: rq.ReqPnL) -> None:
        if r.con_id:
            line = self.ledger.line(r.con_id)
            pos = float(line.position)
            s.send(m.encode_pnl_single(s.version, r.req_id, pos, line.unrealised + line.realised, line.unrealised,
                                       line.realised, line.market_value))
            return
        unreal = sum(self.ledger.line(c).unrealised for c in self.ledger.traded())
        real = sum(self.ledger.line(c).realised for c in self.ledger.traded())
        s.send(m.encode_pnl(r.req_id, unreal + real, unreal, real))
