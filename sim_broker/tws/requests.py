"""Incoming TWS API requests: :func:`parse_request` turns one client message into a record.

Layouts follow the requests ``ib_async``/``ib_insync`` send at server versions 157-178;
fields the simulator does not use are skipped, but every field is walked where a later one
matters (``placeOrder``'s ``whatIf`` flag sits behind variable-length sections).
"""

from __future__ import annotations

from dataclasses import dataclass

from sim_broker.tws.codec import UNSET_DOUBLE, FieldReader, ProtocolError
from sim_broker.tws.messages import V_NO_FA_PROFILE, ContractQuery, In



@dataclass(frozen=True, slots=True)
class StartApi:
    client_id: int
    capabilities: str = ""


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    order_id: int
    contract: ContractQuery
    action: str
    quantity: float
    order_type: str
    lmt_price: float | None
    tif: str
    account: str
    order_ref: str
    what_if: bool = False


@dataclass(frozen=True, slots=True)
class CancelOrder:
    order_id: int


@dataclass(frozen=True, slots=True)
class ReqContractDetails:
    req_id: int
    contract: ContractQuery


@dataclass(frozen=True, slots=True)
class ReqMktData:
    req_id: int
    contract: ContractQuery
    snapshot: bool


@dataclass(frozen=True, slots=True)
class ReqHistoricalData:
    req_id: int
    contract: ContractQuery
    end: str
    bar_size: str
    duration: str
    use_rth: bool
    what_to_show: str
    format_date: int
    keep_up_to_date: bool


@dataclass(frozen=True, slots=True)
class ReqAccountUpdates:
    subscribe: bool
    account: str


@dataclass(frozen=True, slots=True)
class ReqExecutions:
    req_id: int
    client_id: int
    account: str
    time: str
    symbol: str
    sec_type: str
    exchange: str
    side: str


@dataclass(frozen=True, slots=True)
class WithReqId:
    """A request identified by its id and nothing else (cancellations, multi updates)."""

    kind: In
    req_id: int


@dataclass(frozen=True, slots=True)
class Simple:
    """A request without parameters the server needs (reqPositions, reqOpenOrders...)."""

    kind: In


@dataclass(frozen=True, slots=True)
class Unsupported:
    msg_id: int


Request = (
    StartApi
    | PlaceOrder
    | CancelOrder
    | ReqContractDetails
    | ReqMktData
    | ReqHistoricalData
    | ReqAccountUpdates
    | ReqExecutions
    | WithReqId
    | Simple
    | Unsupported
)


def _contract(r: FieldReader) -> ContractQuery:
    return ContractQuery(
        con_id=r.int(),
        symbol=r.str(),
        sec_type=r.str(),
        last_trade=r.str(),
        strike=r.float(),
        right=r.str(),
        multiplier=r.str(),
        exchange=r.str(),
        primary_exchange=r.str(),
        currency=r.str(),
        local_symbol=r.str(),
        trading_class=r.str(),
    )


def _skip_combo(r: FieldReader, per_leg: int, contract: ContractQuery) -> None:
    if contract.sec_type == "BAG":
        r.skip(r.int() * per_leg)


def _what_if(r: FieldReader, v: int, contract: ContractQuery) -> bool:
    """Walk the rest of a placeOrder message up to its ``whatIf`` flag."""
    r.skip(7)  # transmit, parentId, blockOrder, sweepToFill, displaySize, triggerMethod, outsideRth
    r.skip(1)  # hidden
    if contract.sec_type == "BAG":
        r.skip(r.int() * 8)
        r.skip(r.int())
        r.skip(r.int() * 2)
    r.skip(7)  # sharesAllocation, discretionaryAmt, goodAfter, goodTill, faGroup, faMethod, faPct
    if v < V_NO_FA_PROFILE:
        r.skip(1)
    r.skip(22)  # modelCode .. volatilityType
    dn_type = r.str()
    r.skip(1)
    if dn_type:
        r.skip(8)
    r.skip(6)  # continuousUpdate .. scaleSubsLevelSize
    increment = r.float()
    if increment is not None and 0 < increment < UNSET_DOUBLE:
        r.skip(7)
    r.skip(3)  # scaleTable, activeStartTime, activeStopTime
    if r.str():
        r.skip(1)  # hedgeParam
    r.skip(4)  # optOutSmartRouting, clearingAccount, clearingIntent, notHeld
    if r.bool():
        r.skip(3)
    if r.str():  # algoStrategy
        r.skip(r.int() * 2)
    r.skip(1)  # algoId
    return r.bool()


def _place_order(r: FieldReader, v: int) -> PlaceOrder:
    order_id = r.int()
    contract = _contract(r)
    r.skip(2)  # secIdType, secId
    action = r.str()
    quantity = r.float(0.0)
    order_type = r.str()
    lmt_price = r.float()
    r.float()  # auxPrice
    tif = r.str()
    r.str()  # ocaGroup
    account = r.str()
    r.skip(2)  # openClose, origin
    order_ref = r.str()
    try:
        what_if = _what_if(r, v, contract)
    except ProtocolError:
        what_if = False  # a shorter but otherwise valid order from another client version
    return PlaceOrder(order_id, contract, action, quantity or 0.0, order_type, lmt_price, tif, account, order_ref, what_if)


def parse_request(fields: list[str], v: int) -> Request:
    """Parse one client message (already split into fields) at server version ``v``."""
    if not fields:
        raise ProtocolError("empty message")
    r = FieldReader(fields)
    msg_id = r.int()
    try:
        kind = In(msg_id)
    except ValueError:
        return Unsupported(msg_id)
    if kind is In.START_API:
        r.skip(1)
        client_id = r.int()
        return StartApi(client_id, r.str() if r.remaining else "")
    if kind is In.PLACE_ORDER:
        return _place_order(r, v)
    if kind is In.CANCEL_ORDER:
        r.skip(1)
        return CancelOrder(r.int())
    if kind is In.REQ_CONTRACT_DETAILS:
        r.skip(1)
        req_id = r.int()
        return ReqContractDetails(req_id, _contract(r))
    if kind is In.REQ_MKT_DATA:
        r.skip(1)
        req_id = r.int()
        contract = _contract(r)
        _skip_combo(r, 4, contract)
        if r.bool():
            r.skip(3)
        r.str()  # generic tick list
        return ReqMktData(req_id, contract, r.bool())
    if kind is In.REQ_HISTORICAL_DATA:
        req_id = r.int()
        contract = _contract(r)
        r.skip(1)  # includeExpired
        end, bar_size, duration = r.str(), r.str(), r.str()
        use_rth = r.bool()
        what, fmt = r.str(), r.int(1)
        _skip_combo(r, 4, contract)
        keep = r.bool() if r.remaining else False
        return ReqHistoricalData(req_id, contract, end, bar_size, duration, use_rth, what, fmt, keep)
    if kind is In.REQ_ACCOUNT_UPDATES:
        r.skip(1)
        return ReqAccountUpdates(r.bool(), r.str())
    if kind is In.REQ_EXECUTIONS:
        r.skip(1)
        req_id = r.int()
        return ReqExecutions(req_id, r.int(), r.str(), r.str(), r.str(), r.str(), r.str(), r.str())
    if kind in (In.CANCEL_MKT_DATA, In.CANCEL_HISTORICAL_DATA, In.CANCEL_ACCOUNT_SUMMARY,
                In.CANCEL_ACCOUNT_UPDATES_MULTI, In.REQ_ACCOUNT_UPDATES_MULTI, In.REQ_ACCOUNT_SUMMARY):
        r.skip(1)  # version
        return WithReqId(kind, r.int())
    return Simple(kind)
