"""The account's orders as the broker shows them, across every client id (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from execution.ib.mapping import execution_sign

__all__ = ["BrokerOrder", "account_orders_from"]


@dataclass(slots=True)
class BrokerOrder:
    """One order the account shows (see :meth:`IBBroker.account_orders`)."""

    perm_id: int
    order_ref: str
    client_id: int
    order_id: int
    working: bool = False
    executed: int = 0  # signed, over today's executions


def account_orders_from(open_trades: Any, completed: Any, fills: Any) -> list[BrokerOrder]:
    """One :class:`BrokerOrder` per permanent id from ``reqAllOpenOrders`` (working),
    ``reqCompletedOrders`` and ``reqExecutions`` (signed executed quantity)."""
    out: dict[tuple[int, str], BrokerOrder] = {}

    def entry(perm: int, ref: str, client: int, order_id: int) -> BrokerOrder:
        key = (perm, ref) if perm else (-order_id, ref)
        return out.setdefault(key, BrokerOrder(perm, ref, client, order_id))

    for trade in open_trades:
        o = trade.order
        entry(o.permId, o.orderRef or "", o.clientId, o.orderId).working = True
    for trade in completed:
        o = trade.order
        entry(o.permId, o.orderRef or "", o.clientId, o.orderId)
    fills = list(fills)
    # a combo (BAG) order's executions come per leg and for the BAG: its quantity is the BAG's
    combos = {(f.execution.permId, f.execution.orderId) for f in fills if _sec_type(f) == "BAG"}
    for fill in fills:
        e = fill.execution
        if (e.permId, e.orderId) in combos and _sec_type(fill) != "BAG":
            continue
        rec = entry(e.permId, e.orderRef or "", e.clientId, e.orderId)
        rec.executed += execution_sign(e.side) * int(round(e.shares))
    return list(out.values())


def _sec_type(fill: Any) -> str:
    return getattr(getattr(fill, "contract", None), "secType", "") or ""
