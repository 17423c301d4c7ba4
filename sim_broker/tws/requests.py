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
    aux_price: float | None = None
    oca_group: str = ""
    parent_id: int = 0
    transmit: bool = True
    combo_legs: tuple[tuple[int, int, str], ...] = ()  # a BAG's legs: (conId, ratio, action)


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
class ReqData:
    """A market-data request about one contract: real-time bars, head timestamp,
    histogram or tick-by-tick (``kind``); ``option`` is the bar size, histogram period or
    tick type, ``what`` the whatToShow."""

    kind: In
    req_id: int
    contract: ContractQuery
    option: str = ""
    what: str = ""
    format_date: int = 1


@dataclass(frozen=True, slots=True)
class ReqMatchingSymbols:
    req_id: int
    pattern: str


@dataclass(frozen=True, slots=True)
class ReqPnL:
    req_id: int
    account: str
    con_id: int = 0  # 0: the account's P&L (reqPnL), else one position's (reqPnLSingle)


@dataclass(frozen=True, slots=True)
class Unsupported:
    msg_id: int
    req_id: int = -1


#: Where the request id sits in requests the gateway does not serve (field index; the
#: message id is field 0): market depth, scanners, fundamentals, option calculations,
#: positions by model, soft-dollar tiers, smart components, news, historical ticks,
#: Wall Street Horizon data, user info.
_REQ_ID_AT = {10: 2, 52: 2, 54: 2, 55: 2, 74: 2, 79: 1, 83: 1, 84: 1, 86: 1, 96: 1, 100: 1, 102: 1, 104: 1}


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
    | ReqData
    | ReqMatchingSymbols
    | ReqPnL
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


def _what_if(r: FieldReader, v: int, contract: ContractQuery, legs: list) -> bool:
    """Walk the rest of a placeOrder message (after parentId) up to its ``whatIf`` flag; a
    BAG's combo legs (conId, ratio, action, then five fields IB sends) go to ``legs``."""
    r.skip(5)  # blockOrder, sweepToFill, displaySize, triggerMethod, outsideRth
    r.skip(1)  # hidden
    if contract.sec_type.upper() == "BAG":
        for _ in range(r.int()):
            legs.append((r.int(), r.int(), r.str()))
            r.skip(5)  # exchange, openClose, shortSaleSlot, designatedLocation, exemptCode
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
    aux_price = r.float()
    tif = r.str()
    oca_group = r.str()
    account = r.str()
    r.skip(2)  # openClose, origin
    order_ref = r.str()
    transmit, parent_id, what_if, legs = True, 0, False, []
    try:
        transmit = r.bool() if r.remaining else True
        parent_id = r.int() if r.remaining else 0
        what_if = _what_if(r, v, contract, legs)
    except ProtocolError:
        pass  # a shorter but otherwise valid order from another client version
    return PlaceOrder(order_id, contract, action, quantity or 0.0, order_type, lmt_price, tif, account, order_ref,
                      what_if, aux_price, oca_group, parent_id, transmit, tuple(legs))


def parse_request(fields: list[str], v: int) -> Request:
    """Parse one client message (already split into fields) at server version ``v``."""
    if not fields:
        raise ProtocolError("empty message")
    r = FieldReader(fields)
    msg_id = r.int()
    try:
        kind = In(msg_id)
    except ValueError:
        at = _REQ_ID_AT.get(msg_id)
        if at is not None and len(fields) > at:
            try:
                return Unsupported(msg_id, int(fields[at]))
            except ValueError:
                pass
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
    if kind is In.REQ_REAL_TIME_BARS:
        r.skip(1)
        req_id = r.int()
        contract = _contract(r)
        return ReqData(kind, req_id, contract, r.str(), r.str())
    if kind is In.REQ_HEAD_TIMESTAMP:
        req_id = r.int()
        contract = _contract(r)
        r.skip(2)  # includeExpired, useRTH
        return ReqData(kind, req_id, contract, "", r.str(), r.int(1))
    if kind is In.REQ_HISTOGRAM_DATA:
        req_id = r.int()
        contract = _contract(r)
        r.skip(2)  # includeExpired, useRTH
        return ReqData(kind, req_id, contract, r.str())
    if kind is In.REQ_TICK_BY_TICK_DATA:
        req_id = r.int()
        contract = _contract(r)
        return ReqData(kind, req_id, contract, r.str())
    if kind is In.REQ_SEC_DEF_OPT_PARAMS:
        req_id = r.int()
        return ReqData(kind, req_id, ContractQuery(symbol=r.str(), exchange=r.str(), sec_type=r.str(), con_id=r.int()))
    if kind is In.REQ_MATCHING_SYMBOLS:
        return ReqMatchingSymbols(r.int(), r.str())
    if kind is In.REQ_PNL:
        return ReqPnL(r.int(), r.str())
    if kind is In.REQ_PNL_SINGLE:
        req_id, account = r.int(), r.str()
        r.skip(1)  # modelCode
        return ReqPnL(req_id, account, r.int())
    if kind in (In.CANCEL_HISTOGRAM_DATA, In.CANCEL_HEAD_TIMESTAMP, In.CANCEL_PNL, In.CANCEL_PNL_SINGLE,
                In.CANCEL_TICK_BY_TICK_DATA):
        return WithReqId(kind, r.int())
    if kind in (In.CANCEL_REAL_TIME_BARS, In.CANCEL_MKT_DATA, In.CANCEL_HISTORICAL_DATA, In.CANCEL_ACCOUNT_SUMMARY,
                In.CANCEL_ACCOUNT_UPDATES_MULTI, In.REQ_ACCOUNT_UPDATES_MULTI, In.REQ_ACCOUNT_SUMMARY):
        r.skip(1)  # version
        return WithReqId(kind, r.int())
    return Simple(kind)
