"""The synthetic-rebalancing planner: config in, plan out (pure; no I/O, no clock).

Public API::

    plan(config: PortfolioConfig) -> Plan
    plan_to_dict(plan, suggestions=None) -> dict      # the JSON of ``overlay plan --json``

Steps (arrays run over sleeves in config order):

1. **Valuation.** ``NAV = Σ sleeve values + cash + Σ cash flows``. The cash held back is all
   the cash, or with ``equitize_cash`` the buffer ``min(cash, min_cash_buffer × NAV)``; the
   investable base is ``NAV − held back``. A sleeve's exposure is its physical value plus the
   exposure of the overlay positions in its instrument list.
2. **Cash flows** are invested (or raised) physically, most underweight (overweight) sleeve
   first; see :func:`overlay.plan.sizing.route_cash_flow`.
3. **Weights and bands.** ``weight = exposure / base`` (equal to exposure / NAV when no cash is
   held back), ``drift = weight − target``; band edges, breaches, the momentum filter and
   volatility scaling as in :mod:`overlay.plan.bands`.
4. **Trigger.** ``band``: a sleeve outside its band that is neither deferred nor held;
   ``calendar``: ``as_of`` on or after the next calendar date; ``band_or_calendar``: either;
   ``band_and_calendar``: both (a review on calendar dates that trades only on a breach).
   Steps 3 to 5 are :func:`overlay.plan.decide.decide`, which the policy backtest also calls.
5. **Exposure changes.** To the target (``target``) or the nearest band edge (``band_edge``),
   times the gap share. Deferred sleeves do not move, nor do held illiquid sleeves (no
   overlay instrument, ``policy.illiquid = "hold"``). The balance that makes the plan
   self-financing, ``Σ changes = base − Σ exposures``, goes to the sleeves furthest from
   target in its direction without pushing any through its target
   (:mod:`overlay.plan.balance`); the plan reports where it came from and where it went.
6. **Sizing** along each sleeve's instrument list (:func:`overlay.plan.sizing.size_change`);
   from a held contract's roll date on (:mod:`overlay.plan.rolls`, the registry's rule) new
   futures orders go to the front contract and the position held is rolled there as one
   calendar-spread order with its roll cost.
7. **Margin**: initial margin of the futures held after the plan against the cash held back.
8. **Warnings** (:mod:`overlay.plan.warnings`) and, for a rebalance that trades nothing, the
   reason why; a plan with a non-finite number or an order beyond 1e9 contracts is refused
   (:mod:`overlay.plan.guard`).
"""

from __future__ import annotations

import math
import os
from types import MappingProxyType

import numpy as np

from overlay.config.load import as_config
from overlay.config.models import Illiquid, PortfolioConfig, RebalanceTo, Trigger
from overlay.plan import bands
from overlay.plan import warnings as warn
from overlay.plan.decide import Decision, Rule, decide
from overlay.plan.guard import check_plan
from overlay.plan.instruments import ResolvedFuture, ResolvedSwap, resolve_instruments
from overlay.plan.types import (
    BalanceReport,
    BandSuggestion,
    Breach,
    InstrumentReport,
    MarginCheck,
    OrderKind,
    OrderPurpose,
    Plan,
    PlannedOrder,
    SleevePlan,
    plan_to_dict,
)
from overlay.plan.sizing import Leg, LegKind, route_cash_flow, size_change
from pricing import calendars
from pricing.swaps import booking_cost, financing_accrual

__all__ = [
    "BandSuggestion",
    "Breach",
    "InstrumentReport",
    "MarginCheck",
    "OrderKind",
    "OrderPurpose",
    "Plan",
    "PlannedOrder",
    "SleevePlan",
    "plan",
    "plan_to_dict",
]

Resolved = ResolvedFuture | ResolvedSwap


def _unit_exposures(cfg: PortfolioConfig, insts: dict[str, Resolved], trading: bool = False) -> dict[str, float]:
    """Base-currency sleeve exposure of one contract / one unit of swap notional: of the
    contract held now, or (``trading``) of the contract new orders go to."""
    out: dict[str, float] = {}
    for sleeve in cfg.sleeves:
        for key in sleeve.overlay:
            inst = insts[key]
            if isinstance(inst, ResolvedFuture):
                out[key] = inst.exposure_per_contract(sleeve, inst.trading_price if trading else None)
            else:
                out[key] = inst.fx
    return out


def _roll_carry(cfg: PortfolioConfig, insts: dict[str, Resolved], positions: dict[str, float],
                unit: dict[str, float], unit_trade: dict[str, float]) -> np.ndarray:
    """Per sleeve, the exposure a roll adds by moving its position into the dearer (or
    cheaper) next contract: ``Σ position · (unit_next − unit_now)``, base currency."""
    out = np.zeros(len(cfg.sleeves))
    for i, s in enumerate(cfg.sleeves):
        for key in s.overlay:
            inst = insts[key]
            if isinstance(inst, ResolvedFuture) and inst.roll:
                out[i] += int(positions.get(key, 0)) * (unit_trade[key] - unit[key])
    return out


_WHY = {"deferred": "deferred", "held": "held (no overlay instrument)", "partial": "partial gap share",
        "band_edge": "moved to its band edge", "open": "gap left open"}


def _balance_report(cfg: PortfolioConfig, alloc, deferred: np.ndarray, held: np.ndarray, share: np.ndarray, mode: RebalanceTo) -> BalanceReport | None:
    if alloc.amount == 0.0 and not np.any(alloc.taken):
        return None
    sources = []
    for i, s in enumerate(cfg.sleeves):
        gap = float(alloc.open_gap[i])
        if abs(gap) <= 0.005:
            continue
        why = ("deferred" if deferred[i] else "held" if held[i] else "band_edge" if mode is RebalanceTo.BAND_EDGE
               else "partial" if share[i] < 1.0 else "open")
        sources.append((s.name, gap, _WHY[why]))
    absorbed = tuple(
        (s.name, float(alloc.taken[i]), alloc.stage[i].value) for i, s in enumerate(cfg.sleeves) if alloc.stage[i] is not None
    )
    return BalanceReport(alloc.amount, tuple(sources), absorbed, alloc.unplaced)


def _balance_reason(report: BalanceReport | None, currency: str) -> str | None:
    if report is None or abs(report.amount) < 0.5:
        return None
    src = ", ".join(f"{name} {gap:+,.0f} ({why})" for name, gap, why in report.sources)
    dst = ", ".join(f"{name} {amt:+,.0f} ({how.replace('_', ' ')})" for name, amt, how in report.absorbed) or "nowhere"
    return f"balance {report.amount:+,.0f} {currency} left open by {src}; went to {dst}"


def _reasons(cfg: PortfolioConfig, weights, edges, breach, deferred) -> list[str]:
    out = []
    for i, s in enumerate(cfg.sleeves):
        if breach[i] == 0:
            continue
        side, edge, cmp = ("above", edges[1][i], ">") if breach[i] > 0 else ("below", edges[0][i], "<")
        text = f"{s.name} {side} band: {weights[i]:.2%} {cmp} {edge:.2%}"
        if deferred[i]:
            text += f" (deferred: momentum {s.momentum:+.2%} runs with the drift)"
        out.append(text)
    return out


def _calendar_due(cfg: PortfolioConfig, reasons: list[str]) -> bool:
    """Whether the calendar date after ``last_rebalance`` has come (and say so)."""
    policy = cfg.policy
    if policy.trigger is Trigger.BAND or policy.last_rebalance is None:
        return False
    due = bands.next_calendar_date(policy.last_rebalance, policy.calendar, calendars.for_currency(cfg.portfolio.currency))
    calendar_due = cfg.portfolio.as_of >= due
    state = "due" if calendar_due else "next"
    reasons.append(f"calendar: {policy.calendar.value} rebalance {state} {due.isoformat()} (last {policy.last_rebalance.isoformat()})")
    return calendar_due


def _trigger_reasons(cfg: PortfolioConfig, decision: Decision, calendar_due: bool, reasons: list[str]) -> None:
    trigger = cfg.policy.trigger
    breach, deferred = decision.breach, decision.deferred
    fired = {
        Trigger.BAND: bool(decision.band_due),
        Trigger.CALENDAR: calendar_due,
        Trigger.BAND_OR_CALENDAR: bool(decision.band_due) or calendar_due,
        Trigger.BAND_AND_CALENDAR: bool(decision.band_due) and calendar_due,
    }[trigger]
    if fired and not decision.rebalance:
        reasons.append("every sleeve is deferred or held: nothing to rebalance")
    elif not fired:
        if trigger is Trigger.BAND_AND_CALENDAR and decision.band_due:
            reasons.append("no rebalance: a breach waits for the next calendar review")
        elif np.any(breach != 0) and trigger is not Trigger.CALENDAR:
            reasons.append("no rebalance: every breach is deferred by the momentum filter or held")
        elif not np.any(breach != 0):
            reasons.append("every sleeve is inside its band")


def plan(config: PortfolioConfig | str | os.PathLike) -> Plan:
    """Plan the overlay for ``config`` (a loaded ``PortfolioConfig`` or the path of its TOML
    file): drift, trigger, exposure changes, orders, margin."""
    cfg = as_config(config)
    pol = cfg.policy
    insts = resolve_instruments(cfg)
    unit = _unit_exposures(cfg, insts)
    unit_trade = _unit_exposures(cfg, insts, trading=True)
    positions = {p.instrument: p.quantity for p in cfg.positions}
    sleeves = cfg.sleeves
    n = len(sleeves)

    targets = np.fromiter((s.target for s in sleeves), float, n)
    values = np.fromiter((s.value for s in sleeves), float, n)
    overlay_exposure = np.fromiter(
        (math.fsum(positions.get(k, 0.0) * unit[k] for k in s.overlay) for s in sleeves), float, n
    )
    exposures0 = values + overlay_exposure

    cash = cfg.portfolio.cash
    flow = math.fsum(f.amount for f in cfg.cash_flows)
    nav = float(values.sum()) + cash + flow
    held_cash = min(cash, pol.min_cash_buffer * nav) if pol.equitize_cash else cash
    base = nav - held_cash

    physical = route_cash_flow(exposures0, targets * base, values, flow)
    exposures = exposures0 + physical
    vols = np.fromiter((np.nan if s.vol is None else s.vol for s in sleeves), float, n)
    scaling = pol.vol_scaling
    multiplier, _ = bands.vol_scale(vols, bands.reference_vols(sleeves, scaling))  # for the warnings
    held = np.fromiter((not s.overlay and pol.illiquid is Illiquid.HOLD for s in sleeves), bool, n)
    momentum = np.fromiter((np.nan if s.momentum is None else s.momentum for s in sleeves), float, n)
    rule = Rule.of(
        targets=targets,
        lower_width=np.fromiter((s.band.lower for s in sleeves), float, n),
        upper_width=np.fromiter((s.band.upper for s in sleeves), float, n),
        trigger=pol.trigger,
        rebalance_to=pol.rebalance_to,
        band_kind=pol.band_kind,
        momentum_filter=pol.momentum_filter,
        reference_vol=bands.reference_vols(sleeves, scaling),
        held=held,
    )
    calendar_reasons: list[str] = []
    calendar_due = _calendar_due(cfg, calendar_reasons)
    decision = decide(rule, exposures, base, momentum, vols, calendar_due)
    weights, drift = decision.weights, decision.weights - targets
    edges = (decision.lower, decision.upper)
    breach, deferred, share = decision.breach, decision.deferred, decision.share

    reasons = _reasons(cfg, weights, edges, breach, deferred) + calendar_reasons
    _trigger_reasons(cfg, decision, calendar_due, reasons)
    rebalance = bool(decision.rebalance)
    changes = decision.changes
    alloc = decision.allocation
    own = changes if alloc is None else changes - alloc.taken
    balance = None if alloc is None else _balance_report(cfg, alloc, deferred, held, share, pol.rebalance_to)
    line = _balance_reason(balance, cfg.portfolio.currency)
    if line:
        reasons.append(line)

    orders: list[PlannedOrder] = []
    for i, s in enumerate(sleeves):
        if physical[i] != 0.0:
            orders.append(
                PlannedOrder(None, OrderKind.PHYSICAL, s.name, float(physical[i]), float(physical[i]), float(physical[i]), OrderPurpose.CASH_FLOW)
            )
    orders.extend(_roll_orders(cfg, insts, positions))
    # A rebalanced sleeve counts its roll's carry (the next contract's price differs) as hedge
    # already done, and sizes only the rest, at the price of the contract it trades.
    carry = _roll_carry(cfg, insts, positions, unit, unit_trade)
    hedged = np.zeros(n)
    residual = changes.copy()
    traded: dict[str, float] = {}
    for i, s in enumerate(sleeves):
        if changes[i] == 0.0:
            continue
        legs = [_leg(insts[k], unit_trade[k]) for k in s.overlay]
        fills, residual[i] = size_change(float(changes[i] - carry[i]), legs)
        hedged[i] = carry[i] + math.fsum(f.exposure for f in fills)
        for f in fills:
            traded[f.key] = traded.get(f.key, 0.0) + f.quantity
            orders.append(_rebalance_order(insts[f.key], s.name, f.quantity, f.exposure))

    sleeve_plans = tuple(
        SleevePlan(
            name=s.name,
            target=s.target,
            weight=float(weights[i]),
            drift=float(drift[i]),
            lower=float(edges[0][i]),
            upper=float(edges[1][i]),
            breach=Breach.UPPER if breach[i] > 0 else Breach.LOWER if breach[i] < 0 else None,
            deferred="momentum runs with the drift; inside the hard band" if deferred[i] else None,
            exposure=float(exposures[i]),
            exposure_change=float(changes[i]),
            hedged=float(hedged[i]),
            residual=float(residual[i]),
            physical=float(physical[i]),
            gap_share=float(share[i]),
            balance=0.0 if alloc is None else float(alloc.taken[i]),
            balance_stage=None if alloc is None or alloc.stage[i] is None else alloc.stage[i].value,
            held=bool(held[i]),
        )
        for i, s in enumerate(sleeves)
    )
    owners = {k: s.name for s in sleeves for k in s.overlay}
    reports = {k: _report(cfg, inst, owners.get(k), unit.get(k), positions.get(k, 0.0), traded.get(k, 0.0)) for k, inst in insts.items()}
    margin = _margin(insts, positions, traded, held_cash)
    if not margin.ok:
        reasons.append(f"margin shortfall: {margin.shortfall:,.2f} {cfg.portfolio.currency} of initial margin above the cash held back")
    if rebalance and not any(o.purpose is OrderPurpose.REBALANCE for o in orders):
        reasons.append(warn.why_nothing_trades(cfg, changes, own, hedged, residual, deferred, held, unit_trade))
    after = (exposures + changes) / base if base > 0 else np.zeros(n)
    warnings = [
        *warn.sizing_warnings(cfg),
        *warn.vol_warnings(cfg, multiplier),
        *warn.illiquid_warnings(cfg, weights, edges, breach, changes, (targets * base - exposures - changes), base, rebalance),
        *([] if alloc is None else warn.balance_warnings(cfg, alloc, after, edges)),
    ]
    result = Plan(
        as_of=cfg.portfolio.as_of,
        currency=cfg.portfolio.currency,
        nav=nav,
        base=base,
        rebalance=rebalance,
        reasons=tuple(reasons),
        sleeves=sleeve_plans,
        orders=tuple(orders),
        instruments=MappingProxyType(reports),
        margin=margin,
        vol_scaling_rule=None if scaling is None else bands.vol_scaling_rule(_references(cfg)),
        warnings=tuple(warnings),
        balance=balance,
    )
    check_plan(result, cfg.source)
    return result


def _nan(x: float | None) -> float:
    return np.nan if x is None else x


def _references(cfg: PortfolioConfig) -> dict[str, float] | float:
    ref = cfg.policy.vol_scaling.reference_vol  # type: ignore[union-attr]
    return dict(ref) if isinstance(ref, dict) else ref


def _leg(inst: Resolved, unit_exposure: float) -> Leg:
    if isinstance(inst, ResolvedFuture):
        return Leg(inst.key, LegKind.FUTURE, unit_exposure)
    return Leg(inst.key, LegKind.SWAP, unit_exposure, inst.min_notional)


def _rebalance_order(inst: Resolved, sleeve: str, quantity: float, exposure: float) -> PlannedOrder:
    if isinstance(inst, ResolvedFuture):
        c = inst.trading_contract
        price = inst.trading_price
        return PlannedOrder(
            inst.key, OrderKind.FUTURE, sleeve, int(quantity), quantity * price * inst.multiplier * inst.fx, exposure,
            OrderPurpose.REBALANCE, c.label if c else None, c.local_symbol if c else None, price,
        )
    return PlannedOrder(inst.key, OrderKind.SWAP, sleeve, float(quantity), quantity * inst.fx, exposure)


def _roll_orders(cfg: PortfolioConfig, insts: dict[str, Resolved], positions: dict[str, float]) -> list[PlannedOrder]:
    """One calendar-spread order per rolling future with a position: close the held contract,
    reopen the same quantity in the next one, at one price (the spread ``F_next − F_held``)."""
    owners = {k: s for s in cfg.sleeves for k in s.overlay}
    out: list[PlannedOrder] = []
    for key, inst in insts.items():
        qty = int(positions.get(key, 0))
        if not isinstance(inst, ResolvedFuture) or not inst.roll or qty == 0 or inst.next_contract is None:
            continue
        sleeve = owners[key]
        old, new = inst.contract, inst.next_contract
        close = PlannedOrder(
            key, OrderKind.FUTURE, sleeve.name, -qty, -qty * inst.notional_per_contract,
            -qty * inst.exposure_per_contract(sleeve), OrderPurpose.ROLL_CLOSE, old.label, old.local_symbol, inst.price,
        )
        open_ = PlannedOrder(
            key, OrderKind.FUTURE, sleeve.name, qty, qty * inst.next_price * inst.multiplier * inst.fx,
            qty * inst.exposure_per_contract(sleeve, inst.next_price), OrderPurpose.ROLL_OPEN,
            new.label, new.local_symbol, inst.next_price,
        )
        cost = inst.roll_cost(qty)
        out.append(PlannedOrder(
            key, OrderKind.SPREAD, sleeve.name, qty, close.notional + open_.notional, close.exposure + open_.exposure,
            OrderPurpose.ROLL, old.label, old.local_symbol, inst.next_price - inst.price,
            legs=(close, open_), roll_cost=cost, priced_at=inst.priced_at.value, roll_cost_base=cost.amount * inst.fx,
        ))
    return out


def _report(cfg: PortfolioConfig, inst: Resolved, sleeve: str | None, unit: float | None, position: float, traded: float) -> InstrumentReport:
    as_of = cfg.portfolio.as_of
    if isinstance(inst, ResolvedSwap):
        rate = None if inst.rate is None else inst.rate + inst.terms.financing_spread_bps * 1e-4
        review = bands.next_calendar_date(as_of, cfg.policy.calendar, calendars.for_currency(cfg.portfolio.currency))
        days = (review - as_of).days
        accrual = None
        if inst.rate is not None:
            accrual = float(financing_accrual(position + traded, inst.rate, days, inst.terms)) * inst.fx
        return InstrumentReport(
            key=inst.key, kind=OrderKind.SWAP, sleeve=sleeve, currency=inst.currency, fx=inst.fx,
            position=position, position_after=position + traded, financing_rate=rate,
            booking_cost=float(booking_cost(traded, inst.terms)) * inst.fx,
            financing_days=days, financing_accrual=accrual,
        )
    fair = inst.fair_value(as_of)
    spot = inst.config.spot
    return InstrumentReport(
        key=inst.key, kind=OrderKind.FUTURE, sleeve=sleeve, currency=inst.currency, fx=inst.fx,
        position=position, position_after=position + traded, price=inst.price,
        notional_per_contract=inst.notional_per_contract, exposure_per_contract=unit,
        fair_value=fair, basis=None if spot is None else spot - inst.price,
        mispricing=None if fair is None else inst.price - fair, expiry=inst.expiry,
        days_to_expiry=(inst.expiry - as_of).days, roll=inst.roll,
        contract_month=inst.contract.label,
        roll_to=inst.next_contract.label if inst.roll and inst.next_contract else None,
        roll_price=inst.next_price if inst.roll and inst.next_contract else None,
        last_trade_date=inst.dates.held.last_trade, first_notice_date=inst.dates.held.first_notice,
        roll_date=inst.dates.held.roll_date,
    )


def _margin(insts: dict[str, Resolved], positions: dict[str, float], traded: dict[str, float], held: float) -> MarginCheck:
    required = 0.0
    missing = []
    for key, inst in insts.items():
        if not isinstance(inst, ResolvedFuture):
            continue
        after = positions.get(key, 0.0) + traded.get(key, 0.0)
        if after == 0:
            continue
        per = inst.margin_per_contract
        if per is None:
            missing.append(key)
        else:
            required += abs(after) * per
    return MarginCheck(required=required, available=held, missing=tuple(missing))
