"""The trading desk behind the TWS gateway: every client's requests against one broker.

The desk is synchronous and does no I/O: sessions hand it parsed requests, the server
hands it the broker's events and market snapshots, and it queues answers on the sessions.
It owns the client-facing order book (IB order ids per client id, permanent ids, IB order
statuses), the account ledger and the market-data subscriptions.

Order mapping. A client order ``(clientId, orderId)`` gets a permanent id ``permId``, which
is also the broker order id of its first child. IB statuses follow the broker's events::

    placeOrder ─▶ (OrderAccepted) Submitted ─▶ (Execution…) ─▶ (OrderFilled) Filled
                                     │ cancelOrder ─▶ PendingCancel ─▶ (OrderCancelled) Cancelled + error 202
                                     └ (OrderRejected) error 201, Cancelled

A modification (``placeOrder`` with a working order's id) is cancel-and-replace at the
broker: the working child is cancelled and a new child for ``new quantity − filled`` is
sent; the client keeps seeing one order with one ``permId``. Executions are forwarded as
the broker delivers them, duplicates and late ones included (clients deduplicate by
``execId``); the ledger books each ``execId`` once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from execution import broker as port
from sim_broker.tws import messages as m
from sim_broker.tws import requests as rq
from sim_broker.tws.contracts import ContractBook, Listing
from sim_broker.tws.ledger import Ledger
from sim_broker.tws.orders import ClientOrder, IbStatus, Terms
from sim_broker.tws.market import BarRequestError, Calendar, QuoteStream, history
from sim_broker.tws.session import Session

log = logging.getLogger(__name__)


def _no_definition(session: Session, req_id: int) -> None:
    """Error 200, as TWS answers a contract it does not know."""
    session.error(req_id, m.ErrorCode.NO_SECURITY_DEFINITION, "No security definition has been found for the request")


@dataclass(frozen=True, slots=True)
class DeskConfig:
    account: str = "DU1000001"
    first_perm_id: int = 1_000_001


@dataclass(frozen=True, slots=True)
class _Fill:
    row: m.ExecRow
    listing: Listing
    fee: float
    realised: float | None


@dataclass(slots=True)
class _Subscribers:
    positions: set[Session] = field(default_factory=set)
    account: set[Session] = field(default_factory=set)


class Desk:
    """Shared state of one gateway (see the module docstring)."""

    def __init__(
        self, broker: port.Broker, book: ContractBook, ledger: Ledger, calendar: Calendar,
        clock: Callable[[], float], config: DeskConfig = DeskConfig(),
    ) -> None:
        self.broker = broker
        self.book = book
        self.ledger = ledger
        self.calendar = calendar
        self.clock = clock
        self.account = config.account
        self._next_perm = config.first_perm_id
        self._sessions: dict[int, Session] = {}
        self._next_id: dict[int, int] = {}
        self._orders: dict[tuple[int, int], ClientOrder] = {}
        self._by_sim: dict[int, ClientOrder] = {}
        self._fills: list[_Fill] = []
        self._quotes: dict[str, QuoteStream] = {}
        self._subs = _Subscribers()
        self._minute_bars: dict[str, dict] = {}

    # ------------------------------------------------------------ session hooks

    def admit(self, session: Session) -> bool:
        cid = session.client_id
        if cid in self._sessions:
            return False
        self._sessions[cid] = session
        return True

    def release(self, session: Session) -> None:
        if self._sessions.get(session.client_id) is session:
            del self._sessions[session.client_id]
        self._subs.positions.discard(session)
        self._subs.account.discard(session)
        for stream in self._quotes.values():
            stream.remove(session)

    def next_order_id(self, session: Session) -> int:
        return self._next_id.get(session.client_id, 1)

    def connection_time(self) -> str:
        return self.calendar.text(self.clock())

    def current_time(self) -> int:
        return self.calendar.epoch(self.clock())

    @property
    def sessions(self) -> list[Session]:
        return list(self._sessions.values())

    # ------------------------------------------------------------ requests

    def handle(self, s: Session, r: rq.Request) -> None:
        if isinstance(r, rq.PlaceOrder):
            self._place(s, r)
        elif isinstance(r, rq.CancelOrder):
            self._cancel(s, r.order_id)
        elif isinstance(r, rq.ReqContractDetails):
            rows = self.book.details(r.contract)
            if not rows:
                _no_definition(s, r.req_id)
                return
            for row in rows:
                lst = self.book.by_con_id(row.con_id)
                s.send(m.encode_contract_details(s.version, r.req_id, row, lst.row.exchange, 0))
            s.send([m.Out.CONTRACT_DATA_END, 1, r.req_id])
        elif isinstance(r, rq.ReqMktData):
            self._subscribe_quotes(s, r)
        elif isinstance(r, rq.ReqHistoricalData):
            self._history(s, r)
        elif isinstance(r, rq.ReqAccountUpdates):
            if r.subscribe:
                self._subs.account.add(s)
                self._send_account(s)
                s.send([m.Out.ACCT_DOWNLOAD_END, 1, self.account])
            else:
                self._subs.account.discard(s)
        elif isinstance(r, rq.ReqExecutions):
            self._executions(s, r)
        elif isinstance(r, rq.WithReqId):
            self._with_req_id(s, r)
        elif isinstance(r, rq.Simple):
            self._simple(s, r.kind)

    def _simple(self, s: Session, kind: m.In) -> None:
        if kind is m.In.REQ_POSITIONS:
            self._subs.positions.add(s)
            for cid in self.ledger.traded():
                s.send(self._position_fields(cid))
            s.send([m.Out.POSITION_END, 1])
        elif kind is m.In.CANCEL_POSITIONS:
            self._subs.positions.discard(s)
        elif kind in (m.In.REQ_OPEN_ORDERS, m.In.REQ_ALL_OPEN_ORDERS):
            mine = kind is m.In.REQ_OPEN_ORDERS
            for o in self._orders.values():
                if not o.done and (not mine or o.client_id == s.client_id):
                    s.send(m.encode_open_order(s.version, o.row(), o.listing.row))
                    s.send(self._status_fields(o))
            s.send([m.Out.OPEN_ORDER_END, 1])
        elif kind is m.In.REQ_COMPLETED_ORDERS:
            for o in self._orders.values():
                if o.done:
                    when = self.calendar.at(o.done_at).strftime("%Y%m%d %H:%M:%S ") + self.calendar.time_zone
                    s.send(m.encode_completed_order(s.version, o.row(), o.listing.row, float(o.filled), when))
            s.send([m.Out.COMPLETED_ORDERS_END])
        elif kind is m.In.REQ_GLOBAL_CANCEL:
            for o in list(self._orders.values()):
                if not o.done:
                    self._cancel_order(o)

    def _with_req_id(self, s: Session, r: rq.WithReqId) -> None:
        if r.kind is m.In.REQ_ACCOUNT_UPDATES_MULTI:
            for key, value, cur in self._account_rows():
                s.send([m.Out.ACCOUNT_UPDATE_MULTI, 1, r.req_id, self.account, "", key, value, cur])
            s.send([m.Out.ACCOUNT_UPDATE_MULTI_END, 1, r.req_id])
        elif r.kind is m.In.REQ_ACCOUNT_SUMMARY:
            for key, value, cur in self._account_rows():
                s.send([m.Out.ACCOUNT_SUMMARY, 1, r.req_id, self.account, key, value, cur])
            s.send([m.Out.ACCOUNT_SUMMARY_END, 1, r.req_id])
        elif r.kind is m.In.CANCEL_MKT_DATA:
            for stream in self._quotes.values():
                stream.remove(s, r.req_id)

    # ------------------------------------------------------------ orders

    def _terms(self, s: Session, r: rq.PlaceOrder, lst: Listing) -> tuple[Terms, int] | None:
        def reject(code: int, text: str) -> None:
            s.error(r.order_id, code, text)

        side = {"BUY": 1, "SELL": -1}.get(r.action.upper())
        if side is None:
            return reject(m.ErrorCode.ORDER_REJECTED, f"Order rejected - reason: unknown action {r.action!r}")
        qty = r.quantity
        if not (qty >= 1 and float(qty).is_integer()):
            return reject(m.ErrorCode.ORDER_REJECTED, f"Order rejected - reason: quantity must be a whole number of contracts, got {qty:g}")
        try:
            otype = port.OrderType(r.order_type.upper())
            tif = port.TimeInForce(r.tif.upper() or "DAY")
        except ValueError:
            return reject(m.ErrorCode.ORDER_REJECTED, f"Order rejected - reason: the simulator takes MKT and LMT orders, DAY or IOC (got {r.order_type} {r.tif})")
        limit = r.lmt_price if otype is port.OrderType.LIMIT else None
        if otype is port.OrderType.LIMIT:
            if limit is None or not limit > 0:
                return reject(m.ErrorCode.ORDER_REJECTED, "Order rejected - reason: a limit order needs a positive limit price")
            steps = limit / lst.spec.tick
            if abs(steps - round(steps)) > 1e-6:
                return reject(110, "The price does not conform to the minimum price variation for this contract.")
            limit = lst.spec.round_price(limit)
        return Terms(int(qty), otype, limit, tif), side

    def _place(self, s: Session, r: rq.PlaceOrder) -> None:
        cid = s.client_id
        self._next_id[cid] = max(self._next_id.get(cid, 1), r.order_id + 1)
        existing = self._orders.get((cid, r.order_id))
        if r.what_if:
            s.error(r.order_id, m.ErrorCode.ORDER_REJECTED, "Order rejected - reason: what-if orders are not supported by the simulator")
            return
        lst = self.book.resolve(r.contract, data_only=False)
        if lst is None:
            if r.contract.sec_type.upper() == "CONTFUT":
                s.error(r.order_id, m.ErrorCode.ORDER_REJECTED, "Order rejected - reason: a continuous future is for data only; trade the front contract")
            else:
                _no_definition(s, r.order_id)
            return
        checked = self._terms(s, r, lst)
        if checked is None:
            return
        terms, side = checked
        if existing is not None:
            self._modify(s, existing, lst, terms, side)
            return
        perm = self._perm()
        o = ClientOrder(cid, r.order_id, perm, lst, side, terms, r.order_ref, perm)
        self._orders[(cid, r.order_id)] = o
        self._submit(o, terms.total)

    def _perm(self) -> int:
        perm = self._next_perm
        self._next_perm += 1
        return perm

    def _submit(self, o: ClientOrder, quantity: int) -> None:
        t = o.terms
        self._by_sim[o.sim_id] = o
        req = port.OrderRequest(o.sim_id, o.listing.instrument, o.side * quantity, t.order_type, t.limit, t.tif)
        self.broker.submit(req)

    def _modify(self, s: Session, o: ClientOrder, lst: Listing, terms: Terms, side: int) -> None:
        if o.done:
            code = m.ErrorCode.CANNOT_MODIFY_FILLED if o.status is IbStatus.FILLED else m.ErrorCode.DUPLICATE_ORDER_ID
            s.error(o.order_id, code, f"Cannot modify order {o.order_id}: it is {o.status.value}")
            return
        if lst is not o.listing or side != o.side:
            s.error(o.order_id, m.ErrorCode.ORDER_REJECTED, "Order rejected - reason: a modification cannot change the contract or side")
            return
        if o.cancel_requested:
            return
        first = o.replace is None
        o.replace = terms
        if first:
            self.broker.cancel(o.sim_id)

    def _cancel(self, s: Session, order_id: int) -> None:
        o = self._orders.get((s.client_id, order_id))
        if o is None:
            s.error(order_id, 135, f"Can't find order with id = {order_id}")
            return
        if o.done:
            s.error(order_id, m.ErrorCode.CANCEL_REJECTED, f"OrderId {order_id} that needs to be cancelled cannot be cancelled, state: {o.status.value}.")
            return
        self._cancel_order(o)

    def _cancel_order(self, o: ClientOrder) -> None:
        if o.cancel_requested:
            return
        o.cancel_requested = True
        pending_replace = o.replace is not None
        o.replace = None
        o.status = IbStatus.PENDING_CANCEL
        self._to_owner(o, self._status_fields(o))
        if not pending_replace:  # a replacement already cancels the working child
            self.broker.cancel(o.sim_id)

    # ------------------------------------------------------------ broker events

    def on_event(self, e: port.OrderEvent) -> None:
        if isinstance(e, port.ConnectionChanged):
            code, text = (
                (m.ErrorCode.CONNECTIVITY_RESTORED, "Connectivity between IB and Trader Workstation has been restored - data maintained.")
                if e.connected else (m.ErrorCode.CONNECTIVITY_LOST, "Connectivity between IB and Trader Workstation has been lost.")
            )
            for s in self.sessions:
                s.error(-1, code, text)
            return
        o = self._by_sim.get(e.order_id)
        if o is None:
            log.warning("event for an unknown order: %s", e)
            return
        if isinstance(e, port.Execution):
            self._on_execution(o, e)
        elif isinstance(e, port.OrderAccepted):
            if o.status is IbStatus.PENDING_SUBMIT:
                o.status = IbStatus.SUBMITTED
                self._to_owner(o, None)
        elif isinstance(e, port.OrderFilled):
            o.replace = None
            self._finish(o, IbStatus.FILLED, e.time)
        elif isinstance(e, port.OrderCancelled):
            self._on_cancelled(o, e)
        elif isinstance(e, port.OrderRejected):
            self._send_owner_error(o, m.ErrorCode.ORDER_REJECTED, f"Order rejected - reason: {e.reason}")
            self._finish(o, IbStatus.CANCELLED, e.time)
        elif isinstance(e, port.CancelRejected):
            if o.replace is not None:
                o.replace = None
                self._send_owner_error(o, m.ErrorCode.CANNOT_MODIFY_FILLED, f"Cannot modify order {o.order_id}: {e.reason}")
            elif o.cancel_requested and not o.done:
                o.cancel_requested = False
                self._send_owner_error(o, m.ErrorCode.CANCEL_REJECTED, f"OrderId {o.order_id} that needs to be cancelled cannot be cancelled: {e.reason}.")

    def _on_cancelled(self, o: ClientOrder, e: port.OrderCancelled) -> None:
        if o.sim_id != e.order_id or o.done:
            return
        new = o.replace
        if new is not None:
            o.replace = None
            o.base += abs(e.filled)
            o.terms = new
            left = new.total - max(o.base, o.filled)
            if left > 0:
                o.sim_id = self._perm()
                self._submit(o, left)
                o.status = IbStatus.SUBMITTED
                self._to_owner(o, None)
            else:
                self._finish(o, IbStatus.FILLED, e.time)
            return
        if o.cancel_requested:
            self._send_owner_error(o, m.ErrorCode.ORDER_CANCELLED, "Order Canceled - reason:")
        self._finish(o, IbStatus.CANCELLED, e.time)

    def _finish(self, o: ClientOrder, status: IbStatus, t: float) -> None:
        if o.done:
            return
        o.status = status
        o.done_at = t
        self._to_owner(o, self._status_fields(o))

    def _on_execution(self, o: ClientOrder, e: port.Execution) -> None:
        lst = o.listing
        q = abs(e.quantity)
        booked = self.ledger.book(lst.row.con_id, e.exec_id, e.quantity, e.price, e.fee)
        if booked.new:
            o.filled += q
            o.notional += q * e.price
            o.last_price = e.price
        row = m.ExecRow(
            o.order_id, o.client_id, o.perm_id, e.exec_id, self.calendar.text(e.time), self.account,
            "BOT" if e.quantity > 0 else "SLD", float(q), e.price, float(o.filled), self._avg(o), o.order_ref,
        )
        fill = _Fill(row, lst, e.fee, booked.realised)
        if booked.new:
            self._fills.append(fill)
        owner = self._sessions.get(o.client_id)
        if owner is not None:
            owner.send(m.encode_exec_details(owner.version, -1, row, lst.row))
            owner.send(m.encode_commission(e.exec_id, e.fee, lst.row.currency, booked.realised))
            if booked.new:
                owner.send(self._status_fields(o))
        if booked.new:
            self._publish_position(lst.row.con_id)

    # ------------------------------------------------------------ market data

    def quoted_instruments(self) -> list[str]:
        return [name for name, stream in self._quotes.items() if stream.subs]

    def on_snapshot(self, snap: port.MarketSnapshot) -> None:
        for cid in self.ledger.held():
            lst = self.book.by_con_id(cid)
            if lst is not None and lst.instrument == snap.instrument:
                self.ledger.mark(cid, snap.last)
        stream = self._quotes.get(snap.instrument)
        if stream is None:
            return
        for session, req_id in stream.publish(snap, lambda sess, fields: sess.send(fields)):
            session.send([57, 1, req_id])  # tickSnapshotEnd

    def _subscribe_quotes(self, s: Session, r: rq.ReqMktData) -> None:
        lst = self.book.resolve(r.contract, data_only=True)
        if lst is None:
            _no_definition(s, r.req_id)
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

    def _history(self, s: Session, r: rq.ReqHistoricalData) -> None:
        lst = self.book.resolve(r.contract, data_only=True)
        if lst is None:
            _no_definition(s, r.req_id)
            return
        bars = self._minute_bars.get(lst.instrument)
        if bars is None:
            bars = self._minute_bars[lst.instrument] = self.broker.path(lst.instrument).minute_bars()
        try:
            start, end, rows = history(bars, self.calendar, self.clock(), r.end, r.duration, r.bar_size, r.format_date)
        except BarRequestError as exc:
            s.error(r.req_id, m.ErrorCode.HISTORICAL_DATA_ERROR, f"Historical Market Data Service error message:{exc}")
            return
        s.send(m.encode_historical_data(r.req_id, start, end, rows))

    # ------------------------------------------------------------ account

    def _executions(self, s: Session, r: rq.ReqExecutions) -> None:
        since = self.calendar.parse(r.time, self.clock()) if r.time.strip() else None
        for f in self._fills:
            row = f.row
            if r.client_id and row.client_id != r.client_id:
                continue
            if r.symbol and r.symbol.upper() != f.listing.spec.root:
                continue
            if r.sec_type and r.sec_type.upper() != "FUT":
                continue
            if r.exchange and r.exchange.upper() != f.listing.row.exchange:
                continue
            if r.side and {"BUY": "BOT", "SELL": "SLD"}.get(r.side.upper(), r.side.upper()) != row.side:
                continue
            if since is not None and self.calendar.parse(row.time, 0.0) < since:
                continue
            s.send(m.encode_exec_details(s.version, r.req_id, row, f.listing.row))
            s.send(m.encode_commission(row.exec_id, f.fee, f.listing.row.currency, f.realised))
        s.send([m.Out.EXECUTION_DATA_END, 1, r.req_id])

    def _account_rows(self) -> list[tuple[str, str, str]]:
        base = self.ledger.base
        rows = [("AccountCode", self.account, ""), ("AccountType", "INDIVIDUAL", ""), ("Currency", base, base)]
        rows += [(k, f"{v:.2f}", base) for k, v in self.ledger.values().items()]
        return rows

    def _send_account(self, s: Session) -> None:
        for key, value, cur in self._account_rows():
            s.send([m.Out.ACCT_VALUE, 2, key, value, cur, self.account])
        for cid in self.ledger.traded():
            s.send(self._portfolio_fields(cid))
        s.send([m.Out.ACCT_UPDATE_TIME, 1, self.calendar.at(self.clock()).strftime("%H:%M")])

    def _publish_position(self, cid: int) -> None:
        for s in self._subs.positions:
            s.send(self._position_fields(cid))
        for s in self._subs.account:
            self._send_account(s)

    def _position_fields(self, cid: int) -> list[object]:
        line = self.ledger.line(cid)
        return m.encode_position(self.account, self.book.by_con_id(cid).row, float(line.position), line.average_cost)

    def _portfolio_fields(self, cid: int) -> list[object]:
        line = self.ledger.line(cid)
        return m.encode_portfolio(
            self.account, self.book.by_con_id(cid).row, float(line.position), line.mark, line.market_value,
            line.average_cost, line.unrealised, line.realised,
        )

    # ------------------------------------------------------------ helpers

    @staticmethod
    def _avg(o: ClientOrder) -> float:
        return o.notional / o.filled if o.filled else 0.0

    def _status_fields(self, o: ClientOrder) -> list[object]:
        remaining = 0 if o.done else max(0, o.terms.total - o.filled)
        return m.encode_order_status(
            o.order_id, o.status.value, float(o.filled), float(remaining), self._avg(o), o.perm_id, o.last_price, o.client_id,
        )

    def _to_owner(self, o: ClientOrder, status: list[object] | None) -> None:
        """Send the order's state to its client: openOrder + orderStatus, or just ``status``."""
        s = self._sessions.get(o.client_id)
        if s is None:
            return
        if status is None:
            s.send(m.encode_open_order(s.version, o.row(), o.listing.row))
            status = self._status_fields(o)
        s.send(status)

    def _send_owner_error(self, o: ClientOrder, code: int, text: str) -> None:
        s = self._sessions.get(o.client_id)
        if s is not None:
            s.error(o.order_id, code, text)
