"""The trading desk behind the TWS gateway: every client's requests against one broker.

The desk is synchronous and does no I/O: sessions hand it parsed requests, the server
hands it the broker's events and market snapshots, and it queues answers on the sessions.
It owns the client-facing order book (IB order ids per client id, permanent ids, IB order
statuses), the account ledger and the market-data subscriptions. By concern:

- :mod:`sim_broker.tws.desk_orders` — placing, modifying and cancelling orders, stops,
  brackets and OCA groups, what-if previews and the broker's events;
- :mod:`sim_broker.tws.desk_data` — quotes, history, real-time bars, tick-by-tick, P&L;
- here — the sessions, dispatch, executions and the account.

Executions are forwarded as the broker delivers them, duplicates and late ones included
(clients deduplicate by ``execId``); the ledger books each ``execId`` once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from execution import broker as port
from sim_broker.tws import combos, hours
from sim_broker.tws import messages as m
from sim_broker.tws import requests as rq
from sim_broker.tws.contracts import ContractBook, Listing
from sim_broker.tws.ledger import Ledger
from sim_broker.tws.desk_data import DataDesk, no_definition
from sim_broker.tws.desk_orders import OrderDesk
from sim_broker.tws.fair import FairQueue
from sim_broker.tws.market import Calendar
from sim_broker.tws.orders import ClientOrder, IbStatus
from sim_broker.tws.session import Session

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DeskConfig:
    """``max_order_size`` (contracts) and ``max_order_value`` (contract currency) are the
    precautionary limits; ``fair_slots`` the orders one client may have in matching at once."""

    account: str = "DU1000001"
    first_perm_id: int = 1_000_001
    seed: int = 0
    max_order_size: int = 10_000
    max_order_value: float = 5e9
    fair_slots: int = 8


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


class Desk(OrderDesk, DataDesk):
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
        self.config = config
        self._fair = FairQueue(broker, config.fair_slots)
        self._parked: list[ClientOrder] = []  # GTC orders between sessions
        if hasattr(broker, "on_roll"):
            broker.on_roll(self.on_new_session)
        self._next_perm = config.first_perm_id
        self._sessions: dict[int, Session] = {}
        self._next_id: dict[int, int] = {}
        self._orders: dict[tuple[int, int], ClientOrder] = {}
        self._by_sim: dict[int, ClientOrder] = {}
        self._fills: list[_Fill] = []
        self._subs = _Subscribers()
        self._init_data(config.seed)

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
        self._release_data(session)

    def next_order_id(self, session: Session) -> int:
        return self._next_id.get(session.client_id, 1)

    def connection_time(self) -> str:
        return self.calendar.text(self.clock())

    def current_time(self) -> int:
        return self.calendar.epoch(self.clock())

    @property
    def sessions(self) -> list[Session]:
        return list(self._sessions.values())

    def restart(self, broker: port.Broker) -> None:
        """The gateway process restarted over a fresh simulator ``broker``: every client was
        disconnected, market data subscriptions are gone, and (as at IB, where orders live on
        the server) the account, the day's executions and the working orders remain; each
        working order's remainder goes to the new simulator under the same ``permId``. The
        new simulator numbers its executions from the start again (S1, S2...), as our
        gateway always has after a restart."""
        self.broker = broker
        self._fair = FairQueue(broker, self.config.fair_slots)  # matching slots live in the old simulator
        self._sessions.clear()
        self._subs = _Subscribers()
        self._quotes.clear()
        self._live.clear()  # real-time bars and tick-by-tick streams of the dropped sessions
        self._by_sim.clear()
        for o in self._orders.values():
            if o.done:
                continue
            o.replace, o.cancel_requested = None, False
            o.base = o.filled
            left = o.terms.total - o.filled
            if left > 0:
                o.sim_id = self._perm()
                self._submit(o, left)
            else:
                self._finish(o, IbStatus.FILLED, self.clock())

    # ------------------------------------------------------------ requests

    def handle(self, s: Session, r: rq.Request) -> None:
        if isinstance(r, rq.PlaceOrder):
            self._place(s, r)
        elif isinstance(r, rq.CancelOrder):
            self._cancel(s, r.order_id)
        elif isinstance(r, rq.ReqContractDetails):
            self._details(s, r)
        elif self._data_request(s, r):
            pass
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
        else:
            self._cancel_data(s, r.kind, r.req_id)

    def _details(self, s: Session, r: rq.ReqContractDetails) -> None:
        rows = self.book.details(r.contract)
        if not rows:
            no_definition(s, r.req_id)
            return
        day = self.calendar.at(self.clock()).date()
        for row in rows:
            lst = self.book.by_con_id(row.con_id)
            rule = hours.hours_of(lst.row.exchange)
            trading, liquid = hours.trading_hours(rule, day), hours.trading_hours(rule, day, liquid=True)
            s.send(m.encode_contract_details(s.version, r.req_id, row, lst.row.exchange, 0, trading, liquid))
        s.send([m.Out.CONTRACT_DATA_END, 1, r.req_id])

    # ------------------------------------------------------------ executions

    def _on_execution(self, o: ClientOrder, e: port.Execution) -> None:
        if o.listing.combo is not None:  # a calendar-spread combo: the legs and the BAG
            combos.executions(self, o, e)
            return
        lst = o.listing
        q = abs(e.quantity)
        booked = self.ledger.book(lst.row.con_id, e.exec_id, e.quantity, e.price, e.fee, e.order_id)
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

    _fill = _Fill  # (row, listing, fee, realised): a fill kept for reqExecutions

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
            if f.listing.combo is None:  # a combo's commissions are its legs'
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
