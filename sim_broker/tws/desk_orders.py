"""The desk's order side: placing, modifying and cancelling orders; the broker's events.

A mixin of :class:`sim_broker.tws.desk.Desk`. A client order ``(clientId, orderId)`` gets a
permanent id ``permId``, which is also the simulator id of its first child. IB statuses
follow the broker's events::

    placeOrder ─▶ (OrderAccepted) Submitted ─▶ (Execution…) ─▶ (OrderFilled) Filled
                                     │ cancelOrder ─▶ PendingCancel ─▶ (OrderCancelled) Cancelled + error 202
                                     └ (OrderRejected) error 201, Cancelled

Order types and linkage, as TWS does them (facts: TWS API "Bracket Orders", "OCA Orders"):

- ``MKT`` and ``LMT`` go to the simulator at once; ``STP`` and ``STP LMT`` wait at the desk
  (``PreSubmitted``) until the last price reaches the stop (buy: last ≥ stop; sell:
  last ≤ stop) on a quote update, then work as ``MKT`` / ``LMT`` at their limit;
- ``transmit=False`` holds an order at the desk; it is sent when a later order of the same
  client with ``transmit=True`` names it as ``parentId`` (the last leg of a bracket);
- a child (``parentId``) stays ``PreSubmitted`` until its parent has filled completely; a
  cancelled parent cancels its children; the children of one parent form one OCA group, and
  so does each ``ocaGroup`` name: the first execution of a member cancels the other members;
- ``GTC`` works like ``DAY`` within a session; ``whatIf`` answers an ``openOrder`` with the
  margin and commission preview (:mod:`sim_broker.tws.whatif`) and sends nothing;
- precautionary checks (TWS's order size and value limits) reject with error 201 and TWS's
  reason before anything reaches the simulator.

A modification is cancel-and-replace at the broker for a working order (the client keeps one
order with one ``permId``) and an in-place change for one held at the desk.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from execution import broker as port
from sim_broker.tws import messages as m
from sim_broker.tws import requests as rq
from sim_broker.tws import combos, whatif
from sim_broker.tws.contracts import Listing
from sim_broker.tws.desk_data import no_definition
from sim_broker.tws.orders import ClientOrder, IbStatus, Terms

log = logging.getLogger(__name__)

_TYPES = ("MKT", "LMT", "STP", "STP LMT")
_TIFS = ("DAY", "IOC", "GTC")


class OrderDesk:
    """Mixin: the order side of :class:`~sim_broker.tws.desk.Desk`."""

    # ------------------------------------------------------------ placing

    def _terms(self, s, r: rq.PlaceOrder, lst: Listing) -> tuple[Terms, int] | None:
        def reject(code: int, text: str) -> None:
            s.error(r.order_id, code, text)

        side = {"BUY": 1, "SELL": -1}.get(r.action.upper())
        if side is None:
            return reject(m.ErrorCode.ORDER_REJECTED, f"Order rejected - reason: unknown action {r.action!r}")
        qty = r.quantity
        if not (qty >= 1 and float(qty).is_integer()):
            return reject(m.ErrorCode.ORDER_REJECTED, f"Order rejected - reason: quantity must be a whole number of contracts, got {qty:g}")
        otype, tif = " ".join(r.order_type.upper().split()), r.tif.upper() or "DAY"
        if otype not in _TYPES or tif not in _TIFS:
            return reject(m.ErrorCode.ORDER_REJECTED, f"Order rejected - reason: the simulator takes MKT, LMT, STP and STP LMT orders, DAY, IOC or GTC (got {r.order_type} {r.tif})")
        prices = {}
        for name, value, needed in (("limit", r.lmt_price, "LMT" in otype), ("stop", r.aux_price, "STP" in otype)):
            if not needed:
                continue
            if value is None or not (value > 0 or (lst.combo is not None and name == "limit" and value == value)):
                return reject(m.ErrorCode.ORDER_REJECTED, f"Order rejected - reason: a {otype} order needs a positive {name} price")
            steps = value / lst.spec.tick
            if abs(steps - round(steps)) > 1e-6:
                return reject(110, "The price does not conform to the minimum price variation for this contract.")
            prices[name] = lst.spec.round_price(value)
        terms = Terms(int(qty), otype, prices.get("limit"), tif, prices.get("stop"))
        refusal = self._precaution(lst, terms)
        if refusal:
            return reject(m.ErrorCode.ORDER_REJECTED, f"Order rejected - reason:{refusal}")
        return terms, side

    def _precaution(self, lst: Listing, t: Terms) -> str:
        """TWS's precautionary order checks (size, then value); '' if the order passes."""
        cfg = self.config
        if t.total > cfg.max_order_size:
            return f"The order size {t.total} exceeds the Precautionary Setting size limit of {cfg.max_order_size}."
        price = t.limit or t.stop or self._last_price(lst)
        value = t.total * price * lst.spec.multiplier
        if value > cfg.max_order_value:
            return f"The order value {value:,.0f} exceeds the Precautionary Setting value limit of {cfg.max_order_value:,.0f}."
        return ""

    def _last_price(self, lst: Listing) -> float:
        stream = self._quotes.get(lst.instrument)
        if stream is not None and stream.last is not None:
            return stream.last.last
        return float(self.broker.path(lst.instrument).mid_at(self.clock()))

    def _place(self, s, r: rq.PlaceOrder) -> None:
        cid = s.client_id
        self._next_id[cid] = max(self._next_id.get(cid, 1), r.order_id + 1)
        existing = self._orders.get((cid, r.order_id))
        if r.contract.sec_type.upper() == "BAG":
            lst = combos.listing(self, s, r)
            if lst is None:
                return
        else:
            lst = self.book.resolve(r.contract, data_only=False)
        if lst is None:
            if r.contract.sec_type.upper() == "CONTFUT":
                s.error(r.order_id, m.ErrorCode.ORDER_REJECTED, "Order rejected - reason: a continuous future is for data only; trade the front contract")
            else:
                no_definition(s, r.order_id)
            return
        checked = self._terms(s, r, lst)
        if checked is None:
            return
        terms, side = checked
        if r.what_if:
            row = m.OrderRow(r.order_id, cid, 0, r.action.upper(), float(terms.total), terms.order_type, terms.limit,
                             terms.tif, "", r.order_ref, "PreSubmitted", terms.stop)
            preview = whatif.preview(self, lst, side * terms.total, terms)
            s.send(m.encode_open_order(s.version, row, lst.row, preview))
            return
        if existing is not None:
            self._modify(s, existing, lst, terms, side)
            return
        parent = self._orders.get((cid, r.parent_id)) if r.parent_id else None
        if r.parent_id and (parent is None or parent.done):
            s.error(r.order_id, m.ErrorCode.ORDER_REJECTED, f"Order rejected - reason:parent order {r.parent_id} is not working")
            return
        perm = self._perm()
        o = ClientOrder(cid, r.order_id, perm, lst, side, terms, r.order_ref, perm, parent_id=r.parent_id,
                        oca_group=r.oca_group, transmitted=r.transmit)
        self._orders[(cid, r.order_id)] = o
        if not r.transmit:
            self._to_owner(o, None)  # PendingSubmit until a transmitting order releases it
            return
        if parent is not None and not parent.transmitted:
            parent.transmitted = True
            self._activate(parent)
            for sibling in self._children(parent):
                if sibling is not o and not sibling.transmitted:
                    sibling.transmitted = True
                    self._activate(sibling)
        self._activate(o)

    def _children(self, parent: ClientOrder) -> list[ClientOrder]:
        return [o for o in self._orders.values() if o.client_id == parent.client_id and o.parent_id == parent.order_id]

    def _activate(self, o: ClientOrder) -> None:
        """Send a transmitted order on, or hold it: a stop until triggered, a child until its parent fills."""
        if o.done or o.at_broker or o in self._parked:
            return  # a parked GTC order goes on when its next session opens
        parent = self._orders.get((o.client_id, o.parent_id)) if o.parent_id else None
        waiting = parent is not None and parent.status is not IbStatus.FILLED
        if waiting or (o.terms.stop is not None and not o.triggered):
            if o.status is not IbStatus.PRE_SUBMITTED:
                o.status = IbStatus.PRE_SUBMITTED
                self._to_owner(o, None)
            return
        o.at_broker = True
        if o.sim_id in self._by_sim:  # sent before (a GTC order in an earlier session)
            o.sim_id = self._perm()
        self._submit(o, o.terms.total - o.filled)

    def _perm(self) -> int:
        perm = self._next_perm
        self._next_perm += 1
        return perm

    def _submit(self, o: ClientOrder, quantity: int) -> None:
        t = o.terms
        self._by_sim[o.sim_id] = o
        if o.listing.combo is not None:  # one spread order, both legs (sim_broker.tws.combos)
            self._fair.submit(o.client_id, combos.request(o, quantity))
            return
        self._fair.submit(o.client_id, port.OrderRequest(
            o.sim_id, o.listing.instrument, o.side * quantity, t.broker_type, t.limit, t.broker_tif))

    # ------------------------------------------------------------ stops

    def _watched_instruments(self) -> set[str]:
        return {o.listing.instrument for o in self._orders.values() if self._armed(o)}

    def _armed(self, o: ClientOrder) -> bool:
        return (o.terms.stop is not None and not o.triggered and not o.done and o.transmitted
                and o.status is IbStatus.PRE_SUBMITTED)

    def _on_price(self, snap: port.MarketSnapshot) -> None:
        for o in list(self._orders.values()):
            if o.listing.instrument != snap.instrument or not self._armed(o):
                continue
            parent = self._orders.get((o.client_id, o.parent_id)) if o.parent_id else None
            if parent is not None and parent.status is not IbStatus.FILLED:
                continue
            stop = o.terms.stop
            if (o.side > 0 and snap.last >= stop) or (o.side < 0 and snap.last <= stop):
                o.triggered = True
                o.status = IbStatus.SUBMITTED
                self._to_owner(o, None)
                self._activate(o)

    # ------------------------------------------------------------ modify / cancel

    def _modify(self, s, o: ClientOrder, lst: Listing, terms: Terms, side: int) -> None:
        if o.done:
            code = m.ErrorCode.CANNOT_MODIFY_FILLED if o.status is IbStatus.FILLED else m.ErrorCode.DUPLICATE_ORDER_ID
            s.error(o.order_id, code, f"Cannot modify order {o.order_id}: it is {o.status.value}")
            return
        if lst is not o.listing or side != o.side:
            s.error(o.order_id, m.ErrorCode.ORDER_REJECTED, "Order rejected - reason: a modification cannot change the contract or side")
            return
        if o.cancel_requested:
            return
        if not o.at_broker:  # held at the desk: change it in place
            o.terms = replace(terms, total=max(terms.total, o.filled))
            self._to_owner(o, None)
            self._activate(o)
            return
        first = o.replace is None
        o.replace = terms
        if first:
            self.broker.cancel(o.sim_id)

    def _cancel(self, s, order_id: int) -> None:
        o = self._orders.get((s.client_id, order_id))
        if o is None:
            s.error(order_id, 135, f"Can't find order with id = {order_id}")
            return
        if o.done:
            s.error(order_id, m.ErrorCode.CANCEL_REJECTED, f"OrderId {order_id} that needs to be cancelled cannot be cancelled, state: {o.status.value}.")
            return
        self._cancel_order(o)

    def _cancel_order(self, o: ClientOrder, reason: str = "") -> None:
        if o.cancel_requested or o.done:
            return
        for child in self._children(o):
            self._cancel_order(child)
        o.cancel_requested = True
        if not o.at_broker:
            self._send_owner_error(o, m.ErrorCode.ORDER_CANCELLED, f"Order Canceled - reason:{reason}")
            self._finish(o, IbStatus.CANCELLED, self.clock())
            return
        pending_replace = o.replace is not None
        o.replace = None
        o.status = IbStatus.PENDING_CANCEL
        self._to_owner(o, self._status_fields(o))
        if not pending_replace:  # a replacement already cancels the working child
            if not self._fair.withdraw(o.sim_id):
                self.broker.cancel(o.sim_id)
            else:
                self._send_owner_error(o, m.ErrorCode.ORDER_CANCELLED, f"Order Canceled - reason:{reason}")
                self._finish(o, IbStatus.CANCELLED, self.clock())

    def _oca_members(self, o: ClientOrder) -> list[ClientOrder]:
        """The other orders cancelled when ``o`` executes (bracket siblings, ``ocaGroup``)."""
        out = []
        for x in self._orders.values():
            if x is o or x.done or x.client_id != o.client_id:
                continue
            if (o.parent_id and x.parent_id == o.parent_id) or (o.oca_group and x.oca_group == o.oca_group):
                out.append(x)
        return out

    # ------------------------------------------------------------ sessions

    def on_new_session(self, instruments: frozenset[str]) -> None:
        """A new session of ``instruments`` opened: their ``GTC`` orders go on, their held
        ``DAY`` orders (untriggered stops, waiting children) expire."""
        parked = [o for o in self._parked if o.listing.instrument in instruments]
        self._parked = [o for o in self._parked if o.listing.instrument not in instruments]
        for o in parked:
            if not o.done and not o.cancel_requested:
                self._activate(o)
        for o in list(self._orders.values()):
            if (o.listing.instrument in instruments and not o.done and not o.at_broker and o.transmitted
                    and o.terms.tif != "GTC" and o not in parked):
                self._cancel_order(o, "session end")

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
            for other in self._oca_members(o):
                self._cancel_order(other, "OCA group")
        elif isinstance(e, port.OrderAccepted):
            if o.terms.limit is not None:
                self._fair.rested(o.client_id, e.order_id)
            if o.status in (IbStatus.PENDING_SUBMIT, IbStatus.PRE_SUBMITTED):
                o.status = IbStatus.SUBMITTED
                self._to_owner(o, None)
        elif isinstance(e, port.OrderFilled):
            o.replace = None
            self._fair.done(o.client_id, e.order_id)
            self._finish(o, IbStatus.FILLED, e.time)
            for child in self._children(o):
                self._activate(child)
        elif isinstance(e, port.OrderCancelled):
            self._fair.done(o.client_id, e.order_id)
            self._on_cancelled(o, e)
        elif isinstance(e, port.OrderRejected):
            self._fair.done(o.client_id, e.order_id)
            self._send_owner_error(o, m.ErrorCode.ORDER_REJECTED, f"Order rejected - reason: {e.reason}")
            self._finish(o, IbStatus.CANCELLED, e.time)
            for child in self._children(o):
                self._cancel_order(child, "parent rejected")
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
        if not o.cancel_requested and o.terms.tif == "GTC" and e.reason == "session end":
            o.at_broker = False  # good till cancelled: sent again when the next session opens
            o.base = o.filled
            self._parked.append(o)
            return
        if o.cancel_requested:
            self._send_owner_error(o, m.ErrorCode.ORDER_CANCELLED, "Order Canceled - reason:")
        self._finish(o, IbStatus.CANCELLED, e.time)
        for child in self._children(o):
            self._cancel_order(child, "parent cancelled")

    def _finish(self, o: ClientOrder, status: IbStatus, t: float) -> None:
        if o.done:
            return
        o.status = status
        o.done_at = t
        self._to_owner(o, self._status_fields(o))
