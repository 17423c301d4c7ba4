"""Client-facing order records of the TWS gateway: IB statuses and what a client asked for."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from execution import broker as port
from sim_broker.tws import messages as m
from sim_broker.tws.contracts import Listing


class IbStatus(str, enum.Enum):
    PENDING_SUBMIT = "PendingSubmit"
    PRE_SUBMITTED = "PreSubmitted"  # held: a stop not yet triggered, a child before its parent fills
    SUBMITTED = "Submitted"
    PENDING_CANCEL = "PendingCancel"
    FILLED = "Filled"
    CANCELLED = "Cancelled"


DONE = (IbStatus.FILLED, IbStatus.CANCELLED)


@dataclass(frozen=True, slots=True)
class Terms:
    """What a client asked for: the parts of an order a modification may change."""

    total: int
    order_type: str  # MKT, LMT, STP or STP LMT
    limit: float | None
    tif: str  # DAY, IOC or GTC
    stop: float | None = None

    @property
    def broker_type(self) -> port.OrderType:
        """What the simulator works once the order is live (a triggered stop is MKT or LMT)."""
        return port.OrderType.LIMIT if self.limit is not None else port.OrderType.MARKET

    @property
    def broker_tif(self) -> port.TimeInForce:
        return port.TimeInForce.IOC if self.tif == "IOC" else port.TimeInForce.DAY


@dataclass(eq=False, slots=True)
class ClientOrder:
    client_id: int
    order_id: int
    perm_id: int
    listing: Listing
    side: int
    terms: Terms
    order_ref: str
    sim_id: int
    status: IbStatus = IbStatus.PENDING_SUBMIT
    filled: int = 0  # contracts, unsigned
    base: int = 0  # filled by earlier children (before a modification)
    notional: float = 0.0
    last_price: float = 0.0
    replace: Terms | None = None
    cancel_requested: bool = False
    done_at: float = 0.0
    parent_id: int = 0
    oca_group: str = ""
    transmitted: bool = True
    at_broker: bool = False  # a child is working at the simulator
    triggered: bool = False  # a stop whose trigger the market crossed

    @property
    def done(self) -> bool:
        return self.status in DONE

    def row(self) -> m.OrderRow:
        t = self.terms
        return m.OrderRow(
            self.order_id, self.client_id, self.perm_id, "BUY" if self.side > 0 else "SELL", float(t.total),
            t.order_type, t.limit, t.tif, "", self.order_ref, self.status.value, t.stop, self.parent_id,
            self.oca_group,
        )
