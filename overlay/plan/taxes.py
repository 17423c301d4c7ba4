"""Taxes in the plan: lot sales for the plan's physical sells, loss harvesting and the
physical-against-synthetic comparison (pure; config and plan in, plan out).

Public API::

    add_taxes(config, plan, harvest=Harvest.OFF, compare_horizon=None) -> Plan

Steps, on ``as_of``:

1. The config's lots, accounts and recent buys (``[[trades]]``) open a
   :class:`~overlay.tax.book.LotBook`; the plan's own physical buys (cash-flow investments,
   harvest proxies that are sleeves) are recorded as purchases of that day, in the first
   taxable account, so that they count in the wash-sale window.
2. Every physical sell of the plan (withdrawals) takes lots (:func:`overlay.tax.book.sell`).
3. ``Harvest.ON``: every taxable lot whose loss exceeds ``harvest_threshold`` of its basis
   is sold whole; the sleeve's ``proxy`` buys the exposure back: the same value of the proxy
   sleeve, or the nearest whole number of contracts of the proxy future (so the sleeve's
   exposure changes by at most half a contract's exposure). A sleeve without a proxy is not
   harvested (the plan says so).
4. ``compare_horizon`` (days): :func:`compare` prices restoring each sleeve's exposure change
   physically against the plan's overlay orders (see :mod:`overlay.tax.compare`).

Without ``[[lots]]`` the plan is returned unchanged (``--harvest`` then is bad input).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import math
from types import MappingProxyType

from overlay.config.models import PortfolioConfig
from overlay.errors import InputError
from overlay.plan.instruments import ResolvedFuture, ResolvedSwap, resolve_instruments
from overlay.plan.types import MarginCheck, OrderKind, OrderPurpose, Plan, PlannedOrder
from overlay.tax import LotBook, LotSale, TaxPolicy, WashSale, harvest_candidates, sell, sell_lots, summarise
from overlay.tax.compare import (
    SECTION_1256_NOTE,
    Comparison,
    FuturesLeg,
    PhysicalCost,
    SleeveComparison,
    SwapLeg,
    physical_cost,
    synthetic_cost,
)
from overlay.tax.inputs import asset_costs, open_book, tax_policy
from overlay.tax.report import PlanLotSale, TaxReport
from overlay.tax.wash import Purchase, record_purchase
from pricing import contracts
from pricing.futures import round_half_away
from pricing.impact import model_from_spec

#: Futures market facts used when ``[market.<instrument>]`` does not give them.
DEFAULT_SPREAD_TICKS = 1
DEFAULT_FEE_PER_CONTRACT = 0.85  # instrument currency; zipline's futures commission default
DEFAULT_FUTURES_IMPACT = {"model": "square-root", "y": 0.7}


class Harvest(enum.Enum):
    OFF = "off"
    ON = "on"


def add_taxes(config: PortfolioConfig, plan: Plan, harvest: Harvest = Harvest.OFF,
              compare_horizon: int | None = None) -> Plan:
    """The plan with its lot sales and taxes (when the config has lots), harvest orders
    (``Harvest.ON``) and the comparison (``compare_horizon`` days, when given)."""
    cfg = config
    if not cfg.lots:
        if harvest is Harvest.ON:
            raise InputError(cfg.source, "lots", "--harvest needs [[lots]] to find losses to harvest")
        if compare_horizon is None:
            return plan
        return dataclasses.replace(plan, compare=compare(cfg, plan, None, compare_horizon))
    policy = tax_policy(cfg)
    book, notes_t = open_book(cfg)
    notes = list(notes_t)
    on = cfg.portfolio.as_of
    account = next(a.name for a in book.accounts if a.taxable)
    days = policy.wash_sale_days

    def record(sleeve: str, value: float) -> None:
        nonlocal book
        _, state = record_purchase(Purchase(sleeve, account, on, value), book.wash, days)
        book = dataclasses.replace(book, wash=state)

    for o in plan.orders:
        if o.kind is OrderKind.PHYSICAL and o.notional > 0:
            record(o.sleeve, o.notional)
    sold: list[PlanLotSale] = []
    washes: list[WashSale] = []
    for o in plan.orders:
        if o.kind is OrderKind.PHYSICAL and o.notional < 0:
            r = sell(book, o.sleeve, -o.notional, on, policy)
            book = r.book
            sold += [PlanLotSale(o.purpose.value, s) for s in r.sales]
            washes += r.washes
    orders = list(plan.orders)
    reasons = list(plan.reasons)
    if harvest is Harvest.ON:
        book, more_orders, more_sold, more_washes, harvest_notes = _harvest(cfg, book, policy, account)
        orders += more_orders
        sold += more_sold
        washes += more_washes
        reasons += harvest_notes
    sold = _fold_late(sold, washes)
    summary = summarise([p.sale for p in sold], policy, washes)
    for w in washes:
        reasons.append(
            f"wash sale: {w.disallowed:,.2f} of the loss on {w.sale.sleeve} {w.sale.lot_id} is disallowed "
            f"(the same sleeve was bought for {w.replacement.value:,.2f} on {w.replacement.date} in "
            f"{w.replacement.account}); it is added to the basis of that purchase"
        )
    report = TaxReport(tuple(sold), summary, tuple(notes))
    out = dataclasses.replace(plan, orders=tuple(orders), reasons=tuple(reasons), tax=report)
    if len(orders) != len(plan.orders):
        out = _with_margin(cfg, out)
    if compare_horizon is not None:
        out = dataclasses.replace(out, compare=compare(cfg, out, book, compare_horizon, policy))
    return out


def _fold_late(sold: list[PlanLotSale], washes: list[WashSale]) -> list[PlanLotSale]:
    """Flag the sales that a purchase recorded after them turned into wash sales."""
    extra: dict[tuple[str, float], float] = {}
    for w in washes:
        if not w.sale.wash_sale:
            key = (w.sale.lot_id, w.sale.value)
            extra[key] = extra.get(key, 0.0) + w.disallowed
    out = []
    for p in sold:
        add = extra.get((p.sale.lot_id, p.sale.value))
        if add:
            loss = max(0.0, -p.sale.gain)
            s = dataclasses.replace(p.sale, wash_sale=True, disallowed_loss=min(loss, p.sale.disallowed_loss + add))
            p = PlanLotSale(p.purpose, s)
        out.append(p)
    return out


def _harvest(cfg: PortfolioConfig, book: LotBook, policy: TaxPolicy, account: str):
    """Harvest orders: sell the loss lots, buy the proxy. Returns (book, orders, sales, washes, notes)."""
    on = cfg.portfolio.as_of
    insts = resolve_instruments(cfg)
    candidates = harvest_candidates(book, policy)
    by_sleeve = {s.name: [lot for lot in candidates if lot.sleeve == s.name] for s in cfg.sleeves}
    plan_rows: list[tuple] = []
    notes: list[str] = []
    for s in cfg.sleeves:
        lots = by_sleeve[s.name]
        if not lots:
            continue
        if s.proxy is None:
            notes.append(f"harvest: {s.name} has {len(lots)} lot(s) at a loss beyond {policy.harvest_threshold:.0%} "
                         f"of basis but no proxy; not harvested")
            continue
        plan_rows.append((s, lots, math.fsum(lot.value for lot in lots)))
    # proxies that are sleeves are physical buys of that day: record them before any sale
    for s, _, value in plan_rows:
        if s.proxy in {x.name for x in cfg.sleeves}:
            _, state = record_purchase(Purchase(s.proxy, account, on, value), book.wash, policy.wash_sale_days)
            book = dataclasses.replace(book, wash=state)
    orders: list[PlannedOrder] = []
    sold: list[PlanLotSale] = []
    washes: list[WashSale] = []
    for s, lots, value in plan_rows:
        r = sell_lots(book, [lot.lot_id for lot in lots], on, policy)
        book = r.book
        sold += [PlanLotSale(OrderPurpose.HARVEST.value, x) for x in r.sales]
        washes += r.washes
        loss = -math.fsum(x.gain for x in r.sales)
        orders.append(PlannedOrder(None, OrderKind.PHYSICAL, s.name, -value, -value, -value, OrderPurpose.HARVEST))
        inst = insts.get(s.proxy)
        if isinstance(inst, ResolvedFuture):
            unit = inst.exposure_per_contract(s, inst.trading_price)
            n = int(round_half_away(value / unit))
            c = inst.trading_contract
            orders.append(PlannedOrder(
                inst.key, OrderKind.FUTURE, s.name, n, n * inst.trading_price * inst.multiplier * inst.fx, n * unit,
                OrderPurpose.HARVEST, c.label if c else None, c.local_symbol if c else None, inst.trading_price,
            ))
            kept = f"{n:+d} {inst.key} ({n * unit:,.2f} of exposure)"
        else:
            orders.append(PlannedOrder(None, OrderKind.PHYSICAL, s.proxy, value, value, value, OrderPurpose.HARVEST))
            kept = f"{value:,.2f} of {s.proxy}"
        notes.append(f"harvest: sell {len(lots)} lot(s) of {s.name} worth {value:,.2f} at a loss of {loss:,.2f}; "
                     f"exposure kept with {kept}")
    return book, orders, sold, washes, notes


def _with_margin(cfg: PortfolioConfig, plan: Plan) -> Plan:
    """Positions after and initial margin, counting the harvest's futures orders too."""
    insts = resolve_instruments(cfg)
    extra: dict[str, int] = {}
    for o in plan.orders:
        if o.purpose is OrderPurpose.HARVEST and o.kind is OrderKind.FUTURE and o.instrument:
            extra[o.instrument] = extra.get(o.instrument, 0) + int(o.quantity)
    if not extra:
        return plan
    reports = dict(plan.instruments)
    for key, n in extra.items():
        reports[key] = dataclasses.replace(reports[key], position_after=reports[key].position_after + n)
    required, missing = 0.0, []
    for key, r in reports.items():
        inst = insts[key]
        if isinstance(inst, ResolvedFuture) and r.position_after != 0:
            if inst.margin_per_contract is None:
                missing.append(key)
            else:
                required += abs(r.position_after) * inst.margin_per_contract
    margin = MarginCheck(required, plan.margin.available, tuple(missing))
    return dataclasses.replace(plan, instruments=MappingProxyType(reports), margin=margin)


def _rolls(inst: ResolvedFuture, as_of: dt.date, horizon_days: int) -> int:
    """Rolls of a position opened now and held ``horizon_days``: the roll dates on or before the
    horizon of the contract traded now and of its successors, by the registry's roll rule
    (:mod:`pricing.contracts`: ``roll_days`` exchange business days before the first position
    day or the last trade date). A future outside the registry rolls every 91 days from its
    contract's roll date."""
    end = as_of + dt.timedelta(days=horizon_days)
    spec = contracts.REGISTRY.get(inst.config.root.upper()) if inst.config.root else None
    c = inst.dates.trading
    n = 0
    if spec is not None:
        listed = spec.contract(c.year, c.month, inst.config.roll_days)
        while listed.roll_date <= end:
            n += 1
            listed = spec.contract(*spec.next_contract(listed.year, listed.month), inst.config.roll_days)
        return n
    roll = c.roll_date
    while roll <= end:
        n += 1
        roll += dt.timedelta(days=91)
    return n


def _futures_leg(cfg: PortfolioConfig, inst: ResolvedFuture, contracts_: int, as_of, horizon_days: int,
                 notes: list[str]) -> FuturesLeg:
    market = cfg.market.get(inst.key)
    spec = contracts.get(inst.config.root) if inst.config.root else None
    tick = inst.config.tick if inst.config.tick is not None else (spec.tick if spec else 0.0)
    spread_ticks = market.spread_ticks if market and market.spread_ticks else DEFAULT_SPREAD_TICKS
    fee = market.fee_per_contract if market and market.fee_per_contract is not None else DEFAULT_FEE_PER_CONTRACT
    impact_spec = (
        {"model": market.impact.model.value, **market.impact.params} if market and market.impact else DEFAULT_FUTURES_IMPACT
    )
    adv = market.adv if market else None
    vol = market.daily_vol if market else None
    if adv is None or vol is None:
        notes.append(f"{inst.key}: futures impact not estimated (give [market.{inst.key}] adv and daily_vol)")
    price = inst.trading_price
    return FuturesLeg(
        contracts=contracts_, notional_per_contract=price * inst.multiplier * inst.fx,
        tick_value=tick * inst.multiplier * inst.fx, spread_ticks=spread_ticks, fee_per_contract=fee * inst.fx,
        impact=model_from_spec(impact_spec), adv=adv, daily_vol=vol, rolls=_rolls(inst, as_of, horizon_days),
        margin_per_contract=inst.margin_per_contract or 0.0,
    )


def compare(cfg: PortfolioConfig, plan: Plan, book: LotBook | None, horizon_days: int,
            policy: TaxPolicy | None = None) -> Comparison:
    """Physical against synthetic for each sleeve the plan moves (see :mod:`overlay.tax.compare`).

    ``book``: the lots after the plan's own sells (None: no lots, taxes not estimated).
    """
    insts = resolve_instruments(cfg)
    policy = policy or tax_policy(cfg)
    on = cfg.portfolio.as_of
    notes = [SECTION_1256_NOTE,
             f"synthetic costs hold the overlay {horizon_days} days: rolls in that time, swap financing spread; "
             "margin is collateral held, not a cost",
             "physical tax: the estimated tax on the lots the sells would realise, netted within each sleeve"]
    if book is None:
        notes.append("no [[lots]]: physical taxes not estimated")
    if not plan.rebalance:
        notes.append("no rebalance: nothing to compare")
    rows: list[SleeveComparison] = []
    for s in plan.sleeves:
        change = s.exposure_change
        if change == 0.0:
            continue
        costs = asset_costs(cfg, s.name, "--compare needs it for every sleeve that would trade physically")
        sales: tuple[LotSale, ...] = ()
        tax = 0.0
        if change < 0 and book is not None:
            amount = min(-change, book.value(s.name))
            if amount < -change:
                notes.append(f"{s.name}: the physical sell is capped at the lots held, {amount:,.2f}")
            if amount > 0:
                r = sell(book, s.name, amount, on, policy)
                sales = r.sales
                tax = summarise(r.sales, policy, r.washes).estimated_tax
        if change > 0 and book is not None:
            late, _ = record_purchase(Purchase(s.name, "physical rebalance", on, change), book.wash, policy.wash_sale_days)
            if late:
                lost = math.fsum(w.disallowed for w in late)
                notes.append(f"{s.name}: buying it physically now would make {lost:,.2f} of the plan's realised loss "
                             "a wash sale (the overlay would not)")
        phys: PhysicalCost = physical_cost(change, costs, tax)
        futures, swaps = [], []
        for o in plan.orders:
            if o.sleeve != s.name or o.purpose is not OrderPurpose.REBALANCE or o.instrument is None:
                continue
            inst = insts[o.instrument]
            if isinstance(inst, ResolvedFuture):
                futures.append(_futures_leg(cfg, inst, int(o.quantity), on, horizon_days, notes))
            elif isinstance(inst, ResolvedSwap):
                swaps.append(SwapLeg(o.notional, inst.terms.financing_spread_bps, inst.terms.booking_cost_bps))
        rows.append(SleeveComparison(s.name, change, phys, synthetic_cost(futures, swaps, horizon_days), sales))
    unique = tuple(dict.fromkeys(notes))
    return Comparison(tuple(rows), horizon_days, plan.nav, unique)
