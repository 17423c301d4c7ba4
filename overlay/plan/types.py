"""The plan the planner returns: frozen records, and their JSON form.

Money is in the portfolio's base currency unless a field says otherwise. Signs: a positive
``quantity``/``notional``/``exposure`` adds exposure (buy), a negative one removes it (sell).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pricing.futures import RollCost

if TYPE_CHECKING:  # the tax package loads only for a plan that has taxes (see plan_to_dict)
    from overlay.tax.compare import Comparison
    from overlay.tax.report import TaxReport


class OrderKind(enum.Enum):
    FUTURE = "future"
    SPREAD = "spread"  # a calendar spread: a roll, both legs at one price
    SWAP = "swap"
    PHYSICAL = "physical"


class OrderPurpose(enum.Enum):
    """Why an order is in the plan. A roll is one calendar-spread order (``ROLL``) whose two
    legs close the held contract (``ROLL_CLOSE``) and reopen the position in the next one
    (``ROLL_OPEN``)."""

    REBALANCE = "rebalance"  # overlay the drift (futures and swaps)
    ROLL = "roll"  # the calendar spread
    ROLL_CLOSE = "roll_close"  # its leg closing the held contract
    ROLL_OPEN = "roll_open"  # its leg reopening the position in the next contract
    CASH_FLOW = "cash_flow"  # physical investment or sale of a contribution / withdrawal
    HARVEST = "harvest"  # loss harvest: a physical sale at a loss and its proxy, exposure kept


class Breach(enum.Enum):
    UPPER = "upper"
    LOWER = "lower"


@dataclass(frozen=True, slots=True)
class PlannedOrder:
    """One order of the plan.

    ``quantity``: an ``int`` of contracts for a future, notional in the swap's currency for a
    swap, base currency for a physical order. ``notional``: base-currency notional traded
    (contracts × price × multiplier × fx for a future). ``exposure``: the change in the
    sleeve's exposure (beta- or DV01-adjusted for a future). ``contract_month`` is
    ``"YYYY-MM"`` and ``local_symbol`` the exchange symbol (``"ESM6"``) when known; ``price``
    is the futures contract's price (the next contract's, by carry, for a roll's opening leg
    and for new orders inside the roll window).

    A roll is one ``SPREAD`` order: ``quantity`` is the position rolled (contracts, signed as
    held), ``contract_month``/``local_symbol`` the held contract, ``price`` the spread
    ``F_next − F_held`` in points, ``legs`` the two futures orders the engine works, and
    ``roll_cost`` the spread against its cost-of-carry fair value.
    """

    instrument: str | None
    kind: OrderKind
    sleeve: str
    quantity: int | float
    notional: float
    exposure: float
    purpose: OrderPurpose = OrderPurpose.REBALANCE
    contract_month: str | None = None
    local_symbol: str | None = None
    price: float | None = None  # futures: the contract's price; spread: next − held, points
    legs: tuple[PlannedOrder, ...] = ()  # a spread's two futures legs (close, open)
    roll_cost: RollCost | None = None  # a spread's cost against its carry fair value
    priced_at: str | None = None  # a spread: "market" (config next_price) or "carry"
    roll_cost_base: float | None = None  # a spread: roll_cost.amount in base currency


@dataclass(frozen=True, slots=True)
class SleevePlan:
    """One sleeve before and after the plan.

    ``exposure`` is the exposure after cash flows and before the overlay; ``weight`` =
    exposure / investable base; ``lower``/``upper`` are the band edges in weight (after vol
    scaling); ``exposure_change`` = ``hedged`` + ``residual``; ``physical`` is the cash flow
    routed to the sleeve; ``gap_share`` the share of the gap the plan closes.
    """

    name: str
    target: float
    weight: float
    drift: float
    lower: float
    upper: float
    breach: Breach | None
    deferred: str | None
    exposure: float
    exposure_change: float
    hedged: float
    residual: float
    physical: float = 0.0
    gap_share: float = 1.0
    balance: float = 0.0  # part of exposure_change that is the plan's balance (overlay.plan.balance)
    balance_stage: str | None = None  # how it took it: trade_less, close_more, ...
    held: bool = False  # an illiquid sleeve (no overlay instrument) held where it is


@dataclass(frozen=True, slots=True)
class InstrumentReport:
    """Market facts the plan used for one instrument (prices in instrument currency).

    Futures: ``notional_per_contract`` (base currency), ``exposure_per_contract`` (base
    currency of sleeve exposure per contract), when spot and rate are given the cost-of-carry
    ``fair_value``, ``basis = spot − price`` (Hull's definition) and ``mispricing = price −
    fair_value``; ``days_to_expiry`` (calendar days), ``roll``, and the held contract's
    ``last_trade_date``, ``first_notice_date`` (None when cash-settled) and ``roll_date``.
    Swaps: notional is per unit of swap currency, ``financing_rate`` the floating rate plus
    spread (annual) when the rate is known, and ``financing_accrual`` the financing the
    position after the plan pays over the ``financing_days`` to the next calendar review (base
    currency; negative: received).
    """

    key: str
    kind: OrderKind
    sleeve: str | None
    currency: str
    fx: float
    position: float
    position_after: float
    price: float | None = None
    notional_per_contract: float | None = None
    exposure_per_contract: float | None = None
    fair_value: float | None = None
    basis: float | None = None
    expiry: dt.date | None = None
    days_to_expiry: int | None = None
    roll: bool = False
    contract_month: str | None = None
    roll_to: str | None = None
    roll_price: float | None = None  # the next contract's price, by carry or the config's next_price
    last_trade_date: dt.date | None = None  # of the held contract
    first_notice_date: dt.date | None = None  # None when cash-settled
    roll_date: dt.date | None = None  # from this day on the held contract rolls
    financing_rate: float | None = None
    booking_cost: float | None = None
    mispricing: float | None = None
    financing_days: int | None = None
    financing_accrual: float | None = None


@dataclass(frozen=True, slots=True)
class MarginCheck:
    """Initial margin of the futures held after the plan against the cash held back."""

    required: float
    available: float
    missing: tuple[str, ...] = ()  # futures held without an initial_margin figure

    @property
    def ok(self) -> bool:
        return self.required <= self.available + 1e-9

    @property
    def shortfall(self) -> float:
        return max(0.0, self.required - self.available)


@dataclass(frozen=True, slots=True)
class BandSuggestion:
    """A proposed symmetric band half-width for one sleeve (weight points) and its inputs."""

    sleeve: str
    half_width: float
    round_trip_cost: float  # fraction of notional
    vol: float  # annualised vol used
    current_lower: float
    current_upper: float


class WarningCode(enum.Enum):
    """What a plan warning is about (``warnings[].code`` in the JSON)."""

    NOTIONAL_SIZING = "notional_sizing"  # a bond sleeve without duration, a future with a dv01
    UNHEDGED = "unhedged"  # a sleeve without overlay instrument: its change is all residual
    ILLIQUID_HELD = "illiquid_held"  # a sleeve without overlay instrument held; its gap went to the balance
    ILLIQUID_OUTSIDE_BAND = "illiquid_outside_band"  # such a sleeve outside its band
    SHARED_REFERENCE_VOL = "shared_reference_vol"  # one reference_vol doubles or halves a band
    OUTSIDE_BAND_AFTER = "outside_band_after"  # the balance leaves a sleeve outside its band
    DEFERRAL_YIELDS = "deferral_yields"  # the balance moves a deferred sleeve
    UNPLACED_BALANCE = "unplaced_balance"  # no sleeve could take the balance


@dataclass(frozen=True, slots=True)
class PlanWarning:
    """Something a portfolio manager should look at before trading the plan."""

    code: WarningCode
    message: str
    sleeve: str | None = None
    instrument: str | None = None


@dataclass(frozen=True, slots=True)
class BalanceReport:
    """The plan's self-financing balance: ``amount`` (base currency), where it came from
    (``sources``: sleeve, open gap, why) and where it went (``absorbed``: sleeve, amount,
    stage); ``unplaced`` is what no sleeve could take."""

    amount: float
    sources: tuple[tuple[str, float, str], ...]
    absorbed: tuple[tuple[str, float, str], ...]
    unplaced: float = 0.0


@dataclass(frozen=True, slots=True)
class Plan:
    """What the planner decided: the sleeves, the orders and every report about them."""

    as_of: dt.date
    currency: str
    nav: float
    base: float  # investable base: NAV less the cash held back
    rebalance: bool
    reasons: tuple[str, ...]
    sleeves: tuple[SleevePlan, ...]
    orders: tuple[PlannedOrder, ...]
    instruments: Mapping[str, InstrumentReport]  # read-only, config order
    margin: MarginCheck
    vol_scaling_rule: str | None = None
    tax: TaxReport | None = None  # lot sales and taxes, when the config gives [[lots]]
    compare: Comparison | None = None  # physical against synthetic (--compare)
    warnings: tuple[PlanWarning, ...] = ()
    balance: BalanceReport | None = None

    def orders_of(self, kind: OrderKind) -> tuple[PlannedOrder, ...]:
        return tuple(o for o in self.orders if o.kind is kind)

    @property
    def futures_orders(self) -> tuple[PlannedOrder, ...]:
        """Every futures order in plan order, a spread as its two legs: what the engine works."""
        out: list[PlannedOrder] = []
        for o in self.orders:
            if o.kind is OrderKind.FUTURE:
                out.append(o)
            elif o.kind is OrderKind.SPREAD:
                out.extend(o.legs)
        return tuple(out)

    @property
    def spreads(self) -> tuple[PlannedOrder, ...]:
        """The rolls, one calendar-spread order each."""
        return self.orders_of(OrderKind.SPREAD)

    def sleeve(self, name: str) -> SleevePlan:
        for s in self.sleeves:
            if s.name == name:
                return s
        raise KeyError(name)

    @property
    def orders_frame(self):
        """The orders as a pandas DataFrame, one row per order (see :mod:`overlay.frames`)."""
        from overlay import frames

        return frames.plan_orders(self)

    @property
    def sleeves_frame(self):
        """The sleeves as a pandas DataFrame indexed by sleeve (see :mod:`overlay.frames`)."""
        from overlay import frames

        return frames.plan_sleeves(self)

    def to_frame(self):
        """The orders as a pandas DataFrame (``orders_frame``)."""
        return self.orders_frame


def _money(x: float | None) -> float | None:
    return None if x is None else round(float(x), 2) + 0.0


def _iso(d: dt.date | None) -> str | None:
    return None if d is None else d.isoformat()


def _w(x: float) -> float:
    return round(float(x), 10) + 0.0


def _order_dict(o: PlannedOrder) -> dict[str, Any]:
    d = {
        "instrument": o.instrument,
        "kind": o.kind.value,
        "sleeve": o.sleeve,
        "quantity": o.quantity if o.kind in (OrderKind.FUTURE, OrderKind.SPREAD) else _money(o.quantity),
        "notional": _money(o.notional),
        "exposure": _money(o.exposure),
        "purpose": o.purpose.value,
        "contract_month": o.contract_month,
        "local_symbol": o.local_symbol,
        "price": None if o.price is None else round(o.price, 10) + 0.0,
    }
    if o.kind is OrderKind.SPREAD:
        d["legs"] = [
            {"local_symbol": leg.local_symbol, "contract_month": leg.contract_month, "quantity": leg.quantity,
             "price": leg.price, "purpose": leg.purpose.value, "notional": _money(leg.notional)}
            for leg in o.legs
        ]
        c = o.roll_cost
        if c is not None:
            d["roll_cost"] = {
                "market_spread": round(c.market_spread, 10) + 0.0,
                "fair_spread": round(c.fair_spread, 10) + 0.0,
                "points": round(c.points, 10) + 0.0,
                "amount": _money(c.amount),
                "amount_base": _money(o.roll_cost_base),
                "bps": round(c.bps, 6) + 0.0,
                "priced_at": o.priced_at,
            }
    return d


def _sleeve_dict(s: SleevePlan) -> dict[str, Any]:
    return {
        "name": s.name,
        "target": _w(s.target),
        "weight": _w(s.weight),
        "drift": _w(s.drift),
        "lower": _w(s.lower),
        "upper": _w(s.upper),
        "breach": s.breach.value if s.breach else None,
        "deferred": s.deferred,
        "exposure": _money(s.exposure),
        "exposure_change": _money(s.exposure_change),
        "hedged": _money(s.hedged),
        "residual": _money(s.residual),
        "physical": _money(s.physical),
        "gap_share": s.gap_share,
        "balance": _money(s.balance),
        "balance_stage": s.balance_stage,
        "held": s.held,
    }


def _instrument_dict(r: InstrumentReport) -> dict[str, Any]:
    d: dict[str, Any] = {"kind": r.kind.value, "sleeve": r.sleeve, "currency": r.currency, "fx": r.fx}
    if r.kind is OrderKind.FUTURE:
        d.update(
            price=r.price,
            notional_per_contract=_money(r.notional_per_contract),
            exposure_per_contract=_money(r.exposure_per_contract),
            fair_value=None if r.fair_value is None else round(r.fair_value, 6),
            basis=None if r.basis is None else round(r.basis, 6),
            mispricing=None if r.mispricing is None else round(r.mispricing, 6),
            expiry=r.expiry.isoformat() if r.expiry else None,
            days_to_expiry=r.days_to_expiry,
            roll=r.roll,
            contract_month=r.contract_month,
            roll_to=r.roll_to,
            roll_price=r.roll_price,
            last_trade_date=_iso(r.last_trade_date),
            first_notice_date=_iso(r.first_notice_date),
            roll_date=_iso(r.roll_date),
            position=int(r.position),
            position_after=int(r.position_after),
        )
    else:
        d.update(
            position=_money(r.position),
            position_after=_money(r.position_after),
            financing_rate=r.financing_rate,
            financing_days=r.financing_days,
            financing_accrual=_money(r.financing_accrual),
            booking_cost=_money(r.booking_cost),
        )
    return d


def _balance_dict(b: BalanceReport) -> dict[str, Any]:
    return {
        "amount": _money(b.amount),
        "sources": [{"sleeve": s, "amount": _money(a), "why": why} for s, a, why in b.sources],
        "absorbed": [{"sleeve": s, "amount": _money(a), "how": how} for s, a, how in b.absorbed],
        "unplaced": _money(b.unplaced),
    }


def plan_to_dict(plan: Plan, suggestions: tuple[BandSuggestion, ...] | None = None) -> dict[str, Any]:
    """The plan as the JSON object of the spec (``overlay plan --json``); money to the cent."""
    out: dict[str, Any] = {
        "as_of": plan.as_of.isoformat(),
        "currency": plan.currency,
        "nav": _money(plan.nav),
        "base": _money(plan.base),
        "rebalance": plan.rebalance,
        "reasons": list(plan.reasons),
        "sleeves": [_sleeve_dict(s) for s in plan.sleeves],
        "orders": [_order_dict(o) for o in plan.orders],
        "instruments": {k: _instrument_dict(r) for k, r in plan.instruments.items()},
        "margin": {
            "required": _money(plan.margin.required),
            "available": _money(plan.margin.available),
            "ok": plan.margin.ok,
            "shortfall": _money(plan.margin.shortfall),
            "missing": list(plan.margin.missing),
        },
        "vol_scaling": plan.vol_scaling_rule,
        "warnings": [
            {"code": w.code.value, "sleeve": w.sleeve, "instrument": w.instrument, "message": w.message}
            for w in plan.warnings
        ],
        "balance": None if plan.balance is None else _balance_dict(plan.balance),
    }
    if plan.tax is not None or plan.compare is not None:
        from overlay.tax.report import tax_json

        out.update(tax_json(plan.tax, plan.compare))
    if suggestions is not None:
        out["suggested_bands"] = [
            {
                "sleeve": b.sleeve,
                "half_width": b.half_width,
                "round_trip_cost": b.round_trip_cost,
                "vol": b.vol,
                "current": {"lower": b.current_lower, "upper": b.current_upper},
            }
            for b in suggestions
        ]
    return out
