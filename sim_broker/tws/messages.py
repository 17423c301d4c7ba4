"""TWS API message ids, the records they carry, and their field layouts.

Outgoing messages are built by ``encode_*`` functions that return a list of field values
for :func:`sim_broker.tws.codec.encode_frame`; their layout depends on the negotiated server
version where the protocol changed between 157 and 178 (``v`` below). Incoming requests are
parsed by :func:`sim_broker.tws.requests.parse_request` into small frozen records.

Layouts follow the TWS API as spoken by ``ib_async``/``ib_insync`` at server versions
157-178. Unset numbers travel as empty fields.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


# Server versions at which a layout changed.
V_FRACTIONAL_SIZE = 163  # sizes and volumes become decimals (before: integers)
V_SIZE_RULES = 164  # contract details: no version field, min/size increments
V_ADVANCED_REJECT = 166  # error: advanced order reject JSON
V_MANUAL_ORDER_TIME = 169  # cancelOrder carries manualOrderCancelTime
V_PEGBEST = 170  # openOrder: min trade qty / compete fields
V_BOND_ISSUER = 176  # reqContractDetails carries issuerId
V_NO_FA_PROFILE = 177  # faProfile dropped from orders
V_PENDING_PRICE_REVISION = 178  # execDetails: pendingPriceRevision


class In(enum.IntEnum):
    """Incoming (client to server) message ids."""

    REQ_MKT_DATA = 1
    CANCEL_MKT_DATA = 2
    PLACE_ORDER = 3
    CANCEL_ORDER = 4
    REQ_OPEN_ORDERS = 5
    REQ_ACCOUNT_UPDATES = 6
    REQ_EXECUTIONS = 7
    REQ_IDS = 8
    REQ_CONTRACT_DETAILS = 9
    REQ_AUTO_OPEN_ORDERS = 15
    REQ_ALL_OPEN_ORDERS = 16
    REQ_MANAGED_ACCTS = 17
    REQ_HISTORICAL_DATA = 20
    CANCEL_HISTORICAL_DATA = 25
    REQ_CURRENT_TIME = 49
    REQ_REAL_TIME_BARS = 50
    CANCEL_REAL_TIME_BARS = 51
    REQ_GLOBAL_CANCEL = 58
    REQ_MARKET_DATA_TYPE = 59
    REQ_POSITIONS = 61
    REQ_ACCOUNT_SUMMARY = 62
    CANCEL_ACCOUNT_SUMMARY = 63
    CANCEL_POSITIONS = 64
    START_API = 71
    REQ_ACCOUNT_UPDATES_MULTI = 76
    CANCEL_ACCOUNT_UPDATES_MULTI = 77
    REQ_SEC_DEF_OPT_PARAMS = 78
    REQ_MATCHING_SYMBOLS = 81
    REQ_HEAD_TIMESTAMP = 87
    REQ_HISTOGRAM_DATA = 88
    CANCEL_HISTOGRAM_DATA = 89
    CANCEL_HEAD_TIMESTAMP = 90
    REQ_PNL = 92
    CANCEL_PNL = 93
    REQ_PNL_SINGLE = 94
    CANCEL_PNL_SINGLE = 95
    REQ_TICK_BY_TICK_DATA = 97
    CANCEL_TICK_BY_TICK_DATA = 98
    REQ_COMPLETED_ORDERS = 99


class Out(enum.IntEnum):
    """Outgoing (server to client) message ids."""

    TICK_PRICE = 1
    TICK_SIZE = 2
    ORDER_STATUS = 3
    ERR_MSG = 4
    OPEN_ORDER = 5
    ACCT_VALUE = 6
    PORTFOLIO_VALUE = 7
    ACCT_UPDATE_TIME = 8
    NEXT_VALID_ID = 9
    CONTRACT_DATA = 10
    EXECUTION_DATA = 11
    MANAGED_ACCTS = 15
    HISTORICAL_DATA = 17
    CURRENT_TIME = 49
    CONTRACT_DATA_END = 52
    OPEN_ORDER_END = 53
    ACCT_DOWNLOAD_END = 54
    EXECUTION_DATA_END = 55
    TICK_SNAPSHOT_END = 57
    MARKET_DATA_TYPE = 58
    COMMISSION_REPORT = 59
    POSITION_DATA = 61
    POSITION_END = 62
    ACCOUNT_SUMMARY = 63
    ACCOUNT_SUMMARY_END = 64
    ACCOUNT_UPDATE_MULTI = 73
    ACCOUNT_UPDATE_MULTI_END = 74
    SEC_DEF_OPT_PARAMS_END = 76
    SYMBOL_SAMPLES = 79
    HEAD_TIMESTAMP = 88
    HISTOGRAM_DATA = 89
    HISTORICAL_DATA_UPDATE = 90
    PNL = 94
    PNL_SINGLE = 95
    TICK_BY_TICK = 99
    REAL_TIME_BARS = 50
    COMPLETED_ORDER = 101
    COMPLETED_ORDERS_END = 102


class TickType(enum.IntEnum):
    BID_SIZE = 0
    BID = 1
    ASK = 2
    ASK_SIZE = 3
    LAST = 4
    LAST_SIZE = 5
    VOLUME = 8


class ErrorCode(enum.IntEnum):
    """The TWS error codes this gateway sends."""

    MAX_TICKERS = 101
    MAX_RATE = 100
    DUPLICATE_ORDER_ID = 103
    CANNOT_MODIFY_FILLED = 104
    NO_SECURITY_DEFINITION = 200
    ORDER_REJECTED = 201
    ORDER_CANCELLED = 202
    UNSUPPORTED = 503  # TWS's answer to a request it does not implement
    CLIENT_ID_IN_USE = 326
    HISTORICAL_DATA_ERROR = 162
    MARKET_DATA_FARM_OK = 2104
    CONNECTIVITY_LOST = 1100
    CONNECTIVITY_RESTORED = 1102
    CANCEL_REJECTED = 10148


# ---------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class ContractQuery:
    """The 12 contract fields a client sends with a request."""

    con_id: int = 0
    symbol: str = ""
    sec_type: str = ""
    last_trade: str = ""
    strike: float | None = None
    right: str = ""
    multiplier: str = ""
    exchange: str = ""
    primary_exchange: str = ""
    currency: str = ""
    local_symbol: str = ""
    trading_class: str = ""


@dataclass(frozen=True, slots=True)
class ContractRow:
    """A fully described futures contract as the server reports it."""

    con_id: int
    symbol: str
    sec_type: str  # "FUT" or "CONTFUT"
    last_trade: str  # YYYYMMDD
    contract_month: str  # YYYYMM
    multiplier: str
    exchange: str
    currency: str
    local_symbol: str
    min_tick: float
    long_name: str
    time_zone: str
    combo_legs: tuple[tuple[int, int, str, str], ...] = ()  # a BAG's (conId, ratio, action, exchange)

    def combo_fields(self) -> list[object]:
        """comboLegsDescrip, the combo legs, the order's leg prices (none) and no routing
        params, as ``openOrder`` and ``completedOrder`` carry them."""
        legs = self.combo_legs
        f: list[object] = [",".join(f"{c}|{r}" for c, r, _, _ in legs), len(legs)]
        for c, r, action, exchange in legs:
            f += [c, r, action, exchange, 0, 0, "", -1]
        if legs:
            f += [len(legs)] + [None] * len(legs)
        else:
            f.append(0)
        return f + [0]

    def short_fields(self, with_exchange: bool = True) -> list[object]:
        """conId .. tradingClass as in positions, executions and open orders."""
        head: list[object] = [self.con_id, self.symbol, self.sec_type, self.last_trade, 0.0, "", self.multiplier]
        if with_exchange:
            head.append(self.exchange)
        return head + [self.currency, self.local_symbol, self.symbol]


@dataclass(frozen=True, slots=True)
class OrderRow:
    """What ``openOrder`` reports about one order."""

    order_id: int
    client_id: int
    perm_id: int
    action: str  # BUY / SELL
    total_quantity: float
    order_type: str  # MKT / LMT
    lmt_price: float | None
    tif: str
    account: str
    order_ref: str
    status: str
    aux_price: float | None = None
    parent_id: int = 0
    oca_group: str = ""


@dataclass(frozen=True, slots=True)
class WhatIf:
    """An order's margin and commission preview (``OrderState`` of a what-if ``openOrder``)."""

    init_before: float
    maint_before: float
    equity_before: float
    init_change: float
    maint_change: float
    init_after: float
    maint_after: float
    commission: float
    currency: str


@dataclass(frozen=True, slots=True)
class ExecRow:
    """One execution as ``execDetails`` reports it."""

    order_id: int
    client_id: int
    perm_id: int
    exec_id: str
    time: str  # "YYYYmmdd HH:MM:SS UTC"
    account: str
    side: str  # BOT / SLD
    shares: float
    price: float
    cum_qty: float
    avg_price: float
    order_ref: str


@dataclass(frozen=True, slots=True)
class BarRow:
    date: str
    open: float
    high: float
    low: float
    close: float
    volume: float
    wap: float
    count: int


# ---------------------------------------------------------------- encoders


def size(v: int, x: float) -> float | int:
    """A size or volume as server version ``v`` has it: an integer before
    :data:`V_FRACTIONAL_SIZE` (older clients parse it with ``int()``), else a decimal."""
    return int(x) if v < V_FRACTIONAL_SIZE else float(x)



def encode_error(v: int, req_id: int, code: int, text: str) -> list[object]:
    fields: list[object] = [Out.ERR_MSG, 2, req_id, int(code), text]
    if v >= V_ADVANCED_REJECT:
        fields.append("")
    return fields


def encode_order_status(
    order_id: int, status: str, filled: float, remaining: float, avg_price: float,
    perm_id: int, last_price: float, client_id: int,
) -> list[object]:
    return [Out.ORDER_STATUS, order_id, status, filled, remaining, avg_price, perm_id, 0, last_price, client_id, "", 0.0]


def encode_open_order(v: int, o: OrderRow, c: ContractRow, what_if: WhatIf | None = None) -> list[object]:
    f: list[object] = [Out.OPEN_ORDER, o.order_id, *c.short_fields()]
    f += [o.action, o.total_quantity, o.order_type, o.lmt_price, o.aux_price, o.tif]
    f += [o.oca_group, o.account, "O", 0, o.order_ref, o.client_id, o.perm_id, 0, 0, None, "", "", "", "", ""]
    if v < V_NO_FA_PROFILE:
        f.append("")  # faProfile
    # modelCode .. deltaNeutralAuxPrice (29 fields)
    f += ["", "", "", None, "", 0, "", "", 0, None, None, None, None, None, None]
    f += [0, 0, 0, None, 1 if o.oca_group else 0, 0, 0, None, o.parent_id, 0, None, None, "", None]
    # continuousUpdate, referencePriceType, trailStopPrice, trailingPercent, basisPoints,
    # basisPointsType, comboLegsDescrip; then no combo legs, order legs or routing params
    f += [0, None, None, None, None, None, *c.combo_fields()]
    f += [None, None, None]  # scaleInitLevelSize, scaleSubsLevelSize, scalePriceIncrement
    f += [""]  # hedgeType
    f += [0, "", "", 0, 0]  # optOutSmartRouting, clearingAccount/Intent, notHeld, no delta-neutral
    f += [""]  # algoStrategy
    if what_if is None:
        f += [0, 0, o.status, "", "", "", "", "", "", "", "", "", None, None, None, "", "", 0, 0]
    else:
        w = what_if
        margins = [w.init_before, w.maint_before, w.equity_before, w.init_change, w.maint_change, 0.0,
                   w.init_after, w.maint_after, w.equity_before]
        f += [0, 1, "PreSubmitted", *(f"{x:.2f}" for x in margins), w.commission, w.commission, w.commission,
              w.currency, "", 0, 0]
    f += [0]  # no conditions
    f += ["", None, None, None, None, None, None, 0, "", "", "", None, 0, 0, None, 0]
    if v >= 159:
        f.append("")  # duration
    if v >= 160:
        f.append(0)  # postToAts
    if v >= 162:
        f.append(0)  # autoCancelParent
    if v >= V_PEGBEST:
        f += [None, None, None, None, None]
    return f


def encode_completed_order(v: int, o: OrderRow, c: ContractRow, filled: float, completed: str) -> list[object]:
    f: list[object] = [Out.COMPLETED_ORDER, *c.short_fields()]
    f += [o.action, o.total_quantity, o.order_type, o.lmt_price, None, o.tif]
    f += ["", o.account, "O", 0, o.order_ref, o.perm_id, 0, 0, None, "", "", "", ""]
    if v < V_NO_FA_PROFILE:
        f.append("")
    f += ["", "", "", None, "", 0, "", "", None, None, None, None, None, None, 0, 0, 0, 0, 0, None, None, "", None]
    f += [0, None, None, None, *c.combo_fields()]  # ... comboLegsDescrip, legs, params
    f += [None, None, None, ""]  # scale sizes, increment, hedgeType
    f += ["", "", 0, 0, ""]  # clearingAccount, clearingIntent, notHeld, no dnc, algoStrategy
    f += [0, o.status, 0, 0, 0]  # solicited, status, randomizeSize/Price, no conditions
    f += [None, None, None, 0, 0, "", filled, 0, 0, "", 0, 0, 0, completed, o.status]
    if v >= V_PEGBEST:
        f += [None, None, None, None, None]
    return f


def encode_exec_details(v: int, req_id: int, e: ExecRow, c: ContractRow) -> list[object]:
    f: list[object] = [Out.EXECUTION_DATA, req_id, e.order_id, *c.short_fields()]
    f += [e.exec_id, e.time, e.account, c.exchange, e.side, e.shares, e.price, e.perm_id, e.client_id, 0]
    f += [e.cum_qty, e.avg_price, e.order_ref, "", None, "", 0]
    if v >= V_PENDING_PRICE_REVISION:
        f.append(0)
    return f


def encode_commission(exec_id: str, commission: float, currency: str, realized: float | None) -> list[object]:
    return [Out.COMMISSION_REPORT, 1, exec_id, commission, currency, realized, None, None]


def encode_position(account: str, c: ContractRow, position: float, avg_cost: float) -> list[object]:
    return [Out.POSITION_DATA, 3, account, *c.short_fields(), position, avg_cost]


def encode_portfolio(
    account: str, c: ContractRow, position: float, price: float, value: float, avg_cost: float,
    unrealized: float, realized: float,
) -> list[object]:
    head = c.short_fields(with_exchange=False)
    head.insert(7, c.exchange)  # primaryExchange takes the exchange's place
    return [Out.PORTFOLIO_VALUE, 8, *head, position, price, value, avg_cost, unrealized, realized, account]


def encode_contract_details(v: int, req_id: int, c: ContractRow, valid_exchanges: str, under_con_id: int,
                            trading_hours: str = "", liquid_hours: str = "") -> list[object]:
    f: list[object] = [Out.CONTRACT_DATA]
    if v < V_SIZE_RULES:
        f.append(8)
    f += [req_id, c.symbol, c.sec_type, c.last_trade, 0.0, "", c.exchange, c.currency, c.local_symbol]
    f += [c.symbol, c.symbol, c.con_id, c.min_tick]
    if v < V_SIZE_RULES:
        f.append(1)  # mdSizeMultiplier
    f += [c.multiplier, "ACTIVETIM,GTC,LMT,MKT,OCA,STP,STPLMT,WHATIF", valid_exchanges, 1, under_con_id, c.long_name, "", c.contract_month]
    f += ["", "", "", c.time_zone, trading_hours, liquid_hours, "", None, 0]  # industry .. evMultiplier, no secIds
    f += [1, c.symbol, "IND", "", c.last_trade, ""]
    if v == 163:
        f.append(1.0)
    if v >= V_SIZE_RULES:
        f += [1.0, 1.0, 1.0]
    return f


def encode_historical_data(v: int, req_id: int, start: str, end: str, bars: list[BarRow]) -> list[object]:
    f: list[object] = [Out.HISTORICAL_DATA, req_id, start, end, len(bars)]
    for b in bars:
        f += [b.date, b.open, b.high, b.low, b.close, size(v, b.volume), b.wap, b.count]
    return f


def encode_tick_price(v: int, req_id: int, tick: TickType, price: float, amount: float) -> list[object]:
    return [Out.TICK_PRICE, 6, req_id, int(tick), price, size(v, amount), 0]


def encode_tick_size(v: int, req_id: int, tick: TickType, amount: float) -> list[object]:
    return [Out.TICK_SIZE, 6, req_id, int(tick), size(v, amount)]


def encode_historical_update(v: int, req_id: int, count: int, date: str, o: float, c: float, h: float,
                             lo: float, wap: float, volume: float) -> list[object]:
    """``historicalDataUpdate``: the bar in progress of a ``keepUpToDate`` request."""
    return [Out.HISTORICAL_DATA_UPDATE, req_id, count, date, o, c, h, lo, wap, size(v, volume)]


def encode_real_time_bar(v: int, req_id: int, time: int, o: float, h: float, lo: float, c: float,
                         volume: float, wap: float, count: int) -> list[object]:
    return [Out.REAL_TIME_BARS, 3, req_id, time, o, h, lo, c, size(v, volume), wap, count]


def encode_symbol_samples(v: int, req_id: int, rows: list[ContractRow]) -> list[object]:
    f: list[object] = [Out.SYMBOL_SAMPLES, req_id, len(rows)]
    for c in rows:
        f += [c.con_id, c.symbol, c.sec_type, c.exchange, c.currency, 0]
        if v >= V_BOND_ISSUER:
            f += [c.long_name, ""]
    return f


def encode_pnl(req_id: int, daily: float, unrealized: float, realized: float) -> list[object]:
    return [Out.PNL, req_id, daily, unrealized, realized]


def encode_pnl_single(v: int, req_id: int, position: float, daily: float, unrealized: float, realized: float,
                      value: float) -> list[object]:
    return [Out.PNL_SINGLE, req_id, size(v, position), daily, unrealized, realized, value]
