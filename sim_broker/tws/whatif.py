"""What-if previews: the margin and commission an order would bring (``whatIfOrder``).

Initial margin per contract is the config's ``initial_margin`` for the instrument where it
gives one, else a share of the contract's notional by asset class: 6 % for equity index
futures, 3 % for rate futures (the order of magnitude of CME's and Eurex's published
margins); maintenance margin is initial / 1.1 (CME's speculative ratio). Commission is the
simulator's fee schedule (``fee_per_contract`` of the instrument's ``[market.*]`` table or
the root default) times the quantity. Values are in the contract's currency.

    init_after = init_before + |position + q| · m − |position| · m
"""

from __future__ import annotations

from sim_broker.tws.contracts import Listing
from sim_broker.tws.messages import WhatIf
from sim_broker.tws.orders import Terms

_RATE = {"equity": 0.06, "rates": 0.03}
MAINTENANCE_RATIO = 1.1


def margin_per_contract(desk, lst: Listing, price: float) -> float:
    configured = desk.ledger.margin(lst.row.con_id)
    if configured:
        return configured
    asset = getattr(lst.spec.asset_class, "value", str(lst.spec.asset_class)).lower()
    rate = next((v for k, v in _RATE.items() if k in asset), 0.05)
    return rate * price * lst.spec.multiplier


def preview(desk, lst: Listing, quantity: int, terms: Terms) -> WhatIf:
    """The what-if state of an order of signed ``quantity`` contracts."""
    price = terms.limit or terms.stop or desk._last_price(lst)
    per = margin_per_contract(desk, lst, price)
    values = desk.ledger.values()
    held = desk.ledger.position(lst.row.con_id)
    before = values["InitMarginReq"]
    change = (abs(held + quantity) - abs(held)) * per
    fee = desk.broker.params(lst.instrument).fee_per_contract * abs(quantity)
    return WhatIf(before, before / MAINTENANCE_RATIO, values["EquityWithLoanValue"], change,
                  change / MAINTENANCE_RATIO, before + change, (before + change) / MAINTENANCE_RATIO,
                  fee, lst.row.currency)
