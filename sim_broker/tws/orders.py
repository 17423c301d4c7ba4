"""Client-facing order records of the TWS gateway: IB statuses and what a client asked for."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from execution import broker as port
from sim_broker.tws import messages as m
from sim_broker.tws.contracts import Listing


class IbStatus(str, enum.Enum):
    PENDING_SUBMIT = "PendingSubmit"
    SUBMITTED = "Submitted"
    PENDING_CANCEL = "PendingCancel"
    FILLED = "Filled"
    CANCELLED = "Cancelled"


DONE = (IbStatus.FILLED, IbStatus.CANCELLED)


@dataclass(frozen=True, slots=True)
class Terms:
    """What a client asked for: the parts of an order a modification may change."""

    total: int
    order_type: port.OrderType
    limit: float | None
    tif: port.TimeInForce


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

    @property
    def done(self) -> bool:
        return self.status in DONE

    def row(self) -> m.OrderRow:
        t = self.terms
        return m.OrderRow(
            self.order_id, self.client_id, self.perm_id, "BUY" if self.side > 0 else "SELL", float(t.total),
            t.order_type.value, t.limit, t.tif.value, "", self.order_ref, self.status.value,
        )
