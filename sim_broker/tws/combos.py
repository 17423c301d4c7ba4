"""Calendar-spread combo orders (``BAG``) at the gateway, as IB takes and reports them.

A client places a roll as one order on a ``BAG`` contract with two ``comboLegs`` (each
``conId`` of a listed futures month of one root, ``ratio`` 1, one ``BUY`` and one ``SELL``),
as IB's combo orders are built (TWS API "Spreads"/"Combo orders"). The combo's price is IB's:
``Σ price(BUY legs) − Σ price(SELL legs)``, so a combo buying the far month and selling the
near one is priced ``far − near``, the simulator's spread price (:mod:`execution.spreads`); a
combo the other way round trades the same spread with the opposite sign (``orientation``
−1). Its limit price may be zero or negative.

The order goes to the simulator as one spread order (never two legs). Each spread execution
is reported as IB reports a combo's: one ``execDetails`` per leg (the leg's contract,
``BOT``/``SLD``, the leg's quantity and price, with the commission report of that leg's
fee), then one for the ``BAG`` (the combo's quantity at the combo price, no commission of its
own), all with the order's ``orderId`` and ``permId``; clients count the order's fill from
the ``BAG`` executions (ib_async's ``Trade.filled`` does). Positions are the legs'.
"""

from __future__ import annotations

from dataclasses import replace

from execution import broker as port
from sim_broker.tws import messages as m
from sim_broker.tws import requests as rq
from sim_broker.tws.contracts import Listing

REJECT = m.ErrorCode.ORDER_REJECTED


def listing(desk, s, r: rq.PlaceOrder) -> Listing | None:
    """The combo listing of a ``BAG`` order, or None after telling the client why not."""
    legs = r.combo_legs
    if len(legs) != 2:
        s.error(r.order_id, REJECT, f"Order rejected - reason: a calendar spread takes two combo legs, got {len(legs)}")
        return None
    found = []
    for con_id, ratio, action in legs:
        lst = desk.book.by_con_id(con_id)
        if lst is None or lst.row.sec_type != "FUT":
            s.error(r.order_id, 200, f"No security definition has been found for the request (combo leg conId {con_id})")
            return None
        if ratio != 1 or action.upper() not in ("BUY", "SELL"):
            s.error(r.order_id, REJECT, f"Order rejected - reason: combo leg {con_id}: ratio 1 and BUY or SELL only (got {ratio} {action})")
            return None
        found.append((lst, action.upper()))
    (a, act_a), (b, act_b) = found
    if act_a == act_b or a.spec.root != b.spec.root or a.row.con_id == b.row.con_id:
        s.error(r.order_id, REJECT, "Order rejected - reason: a calendar spread buys one month and sells another month of one root")
        return None
    near, far = (a, b) if a.row.last_trade < b.row.last_trade else (b, a)
    buys_far = (act_a == "BUY") == (a is far)
    try:
        name = desk.broker.add_spread(near.instrument, far.instrument)
    except (ValueError, AttributeError) as exc:
        s.error(r.order_id, REJECT, f"Order rejected - reason: the simulator cannot trade this spread ({exc})")
        return None
    row = replace(
        near.row, con_id=0, sec_type="BAG", last_trade="", contract_month="", local_symbol="",
        long_name=f"{near.row.local_symbol}-{far.row.local_symbol} calendar spread",
        combo_legs=tuple((x.row.con_id, 1, act, x.row.exchange) for x, act in found),
    )
    return Listing(row, near.spec, name, False, (near, far, 1 if buys_far else -1))


def request(o, quantity: int) -> port.OrderRequest:
    """The simulator's spread order for ``quantity`` contracts of combo order ``o``."""
    near, far, orient = o.listing.combo
    t = o.terms
    limit = None if t.limit is None else t.limit * orient + 0.0
    return port.OrderRequest(o.sim_id, o.listing.instrument, o.side * quantity * orient, t.broker_type, limit,
                             t.broker_tif, (near.instrument, far.instrument))


def executions(desk, o, e: port.Execution) -> None:
    """Book and report one spread execution of combo order ``o`` (module docstring)."""
    near, far, orient = o.listing.combo
    leg_listing = {near.instrument: near, far.instrument: far}
    q = abs(e.quantity)
    new = False
    reports = []
    for k, leg in enumerate(e.legs, 1):
        lst = leg_listing[leg.instrument]
        exec_id = f"{e.exec_id}.{k:02d}"
        fee = e.fee / len(e.legs)
        booked = desk.ledger.book(lst.row.con_id, exec_id, leg.quantity, leg.price, fee, e.order_id)
        new = new or booked.new
        row = m.ExecRow(o.order_id, o.client_id, o.perm_id, exec_id, desk.calendar.text(e.time), desk.account,
                        "BOT" if leg.quantity > 0 else "SLD", float(abs(leg.quantity)), leg.price, 0.0, 0.0, o.order_ref)
        reports.append((row, lst, fee, booked))
    if new:
        o.filled += q
        o.notional += q * e.price * orient
        o.last_price = e.price * orient
    bag = m.ExecRow(o.order_id, o.client_id, o.perm_id, e.exec_id, desk.calendar.text(e.time), desk.account,
                    "BOT" if o.side > 0 else "SLD", float(q), e.price * orient + 0.0, float(o.filled), desk._avg(o), o.order_ref)
    owner = desk._sessions.get(o.client_id)
    for row, lst, fee, booked in reports:
        if booked.new:
            desk._fills.append(desk._fill(row, lst, fee, booked.realised))
        if owner is not None:
            owner.send(m.encode_exec_details(owner.version, -1, row, lst.row))
            owner.send(m.encode_commission(row.exec_id, fee, lst.row.currency, booked.realised))
    if new:
        desk._fills.append(desk._fill(bag, o.listing, 0.0, None))
    if owner is not None:
        owner.send(m.encode_exec_details(owner.version, -1, bag, o.listing.row))
        if new:
            owner.send(desk._status_fields(o))
    if new:
        for lst in (near, far):
            desk._publish_position(lst.row.con_id)
