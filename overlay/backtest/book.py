"""What a backtest holds and trades, built once from the portfolio config.

:class:`Book` is the path-independent part of a backtest: sleeves and targets, the starting
NAV, every overlay future and swap with its exposure per contract (the planner's own
:mod:`overlay.plan.instruments` figure on the config's ``as_of``), its market and roll
schedule, the physical cost of each sleeve and the tax rules. :class:`PolicyRun` is one
``[[backtest.policies]]`` table turned into the planner's :class:`~overlay.plan.decide.Rule`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from overlay.backtest.costs import FuturesMarket, PhysicalCost, futures_market, physical_cost
from overlay.backtest.rolls import RollSchedule, roll_schedule
from overlay.config.backtest import BacktestPolicy, BacktestTax, Implementation, PolicyTrigger
from overlay.config.models import Band, Calendar, PortfolioConfig
from overlay.errors import InputError
from overlay.plan.bands import reference_vols
from overlay.plan.decide import Rule
from overlay.plan.instruments import ResolvedFuture, ResolvedSwap, resolve_instruments
from overlay.plan.sizing import Leg, LegKind


@dataclass(frozen=True)
class FutureLeg:
    """An overlay future: sleeve exposure, notional and initial margin per contract at the
    start (base currency); its market; its roll schedule."""

    key: str
    sleeve: int
    unit0: float
    notional0: float
    margin0: float
    market: FuturesMarket | None
    rolls: RollSchedule


@dataclass(frozen=True)
class SwapLeg:
    """An overlay total-return swap: ``spread`` annual financing over the cash rate (decimal),
    ``fx`` base currency per unit of notional, ``booking_bps`` dealer charge on a change."""

    key: str
    sleeve: int
    fx: float
    spread: float
    booking_bps: float
    ticket_fee: float
    min_notional: float


@dataclass(frozen=True)
class Book:
    sleeves: tuple[str, ...]
    targets: np.ndarray
    nav0: float
    futures: tuple[FutureLeg, ...]
    swaps: tuple[SwapLeg, ...]
    legs: tuple[tuple[tuple[LegKind, int], ...], ...]  # per sleeve: (kind, index into futures/swaps)
    physical_costs: tuple[PhysicalCost | None, ...]
    tax: BacktestTax | None
    notes: tuple[str, ...]

    def sleeve_legs(self, i: int) -> list[Leg]:
        """The planner's sizing legs of sleeve ``i`` (unit exposures filled in per date)."""
        out = []
        for kind, j in self.legs[i]:
            if kind is LegKind.FUTURE:
                out.append(Leg(self.futures[j].key, kind, self.futures[j].unit0))
            else:
                out.append(Leg(self.swaps[j].key, kind, self.swaps[j].fx, self.swaps[j].min_notional))
        return out


@dataclass(frozen=True)
class PolicyRun:
    """One policy of ``[[backtest.policies]]``: the planner's rule plus the backtest's switches.

    ``rule`` never triggers for buy and hold. ``buffer`` is the fraction of NAV held back as cash;
    ``momentum_periods``/``vol_periods`` the trailing windows of the signals, in periods.
    """

    name: str
    trigger: PolicyTrigger
    rule: Rule
    calendar: Calendar
    buffer: float
    momentum_periods: int
    vol_periods: int


def build_book(cfg: PortfolioConfig, implementations: list[Implementation], file: str | None) -> Book:
    bt = cfg.backtest
    assert bt is not None
    sleeves = tuple(s.name for s in cfg.sleeves)
    for name in bt.costs:
        if name not in sleeves:
            raise InputError(file, f"backtest.costs.{name}", f"unknown sleeve {name!r}")
    insts = resolve_instruments(cfg)
    synthetic = Implementation.SYNTHETIC in implementations or Implementation.HYBRID in implementations
    futures: list[FutureLeg] = []
    swaps: list[SwapLeg] = []
    legs = []
    for i, s in enumerate(cfg.sleeves):
        mine = []
        for key in s.overlay:
            inst = insts[key]
            if isinstance(inst, ResolvedFuture):
                unit = inst.exposure_per_contract(s)
                tick = inst.config.tick or _registry_tick(inst.config.root) or 0.0
                market = futures_market(cfg, key, inst.config.root, tick, inst.multiplier, inst.fx, file) if synthetic else None
                margin = inst.margin_per_contract or 0.0
                rolls = roll_schedule(inst.config.root, inst.config.roll_days)
                mine.append((LegKind.FUTURE, len(futures)))
                futures.append(FutureLeg(key, i, unit, inst.notional_per_contract, margin, market, rolls))
            else:
                assert isinstance(inst, ResolvedSwap)
                mine.append((LegKind.SWAP, len(swaps)))
                swaps.append(
                    SwapLeg(key, i, inst.fx, inst.terms.financing_spread_bps * 1e-4, inst.terms.booking_cost_bps, inst.terms.ticket_fee, inst.min_notional)
                )
        legs.append(tuple(mine))
    notes = []
    no_costs = [s for s in sleeves if s not in bt.costs]
    if (Implementation.PHYSICAL in implementations or Implementation.HYBRID in implementations) and no_costs:
        notes.append(f"no [backtest.costs] for {', '.join(no_costs)}: physical trades there cost nothing")
    if synthetic:
        bare = [s.name for s in cfg.sleeves if not s.overlay]
        if bare:
            notes.append(f"no overlay instruments for {', '.join(bare)}: the synthetic run leaves their drift")
    nav0 = math.fsum(s.value for s in cfg.sleeves) + cfg.portfolio.cash
    return Book(
        sleeves=sleeves,
        targets=np.array([s.target for s in cfg.sleeves]),
        nav0=nav0,
        futures=tuple(futures),
        swaps=tuple(swaps),
        legs=tuple(legs),
        physical_costs=tuple(physical_cost(bt.costs.get(s)) for s in sleeves),
        tax=bt.tax,
        notes=tuple(notes),
    )


def _registry_tick(root: str | None) -> float | None:
    if root is None:
        return None
    from pricing import contracts

    return contracts.get(root).tick


def build_policy(cfg: PortfolioConfig, policy: BacktestPolicy, index: int, periods_per_year: int, file: str | None) -> PolicyRun:
    """The planner's rule for ``policy``: ``[policy]`` with the table's overrides."""
    pol = cfg.policy
    names = [s.name for s in cfg.sleeves]
    for name in policy.bands:
        if name not in names:
            raise InputError(file, f"backtest.policies[{index}].bands.{name}", f"unknown sleeve {name!r}")
    bands: list[Band] = [policy.bands.get(s.name, policy.band or s.band) for s in cfg.sleeves]
    trigger = policy.trigger
    vol_scaling = policy.vol_scaling or pol.vol_scaling
    rule = Rule.of(
        targets=np.array([s.target for s in cfg.sleeves]),
        lower_width=np.array([b.lower for b in bands]),
        upper_width=np.array([b.upper for b in bands]),
        trigger=trigger.planner_trigger,
        rebalance_to=policy.rebalance_to or pol.rebalance_to,
        band_kind=policy.band_kind or pol.band_kind,
        momentum_filter=policy.momentum_filter if policy.momentum_filter is not None else pol.momentum_filter,
        reference_vol=reference_vols(cfg.sleeves, vol_scaling),
    )
    equitize = policy.equitize_cash if policy.equitize_cash is not None else pol.equitize_cash
    buffer = policy.min_cash_buffer if policy.min_cash_buffer is not None else pol.min_cash_buffer
    return PolicyRun(
        name=policy.name,
        trigger=trigger,
        rule=rule,
        calendar=policy.calendar or pol.calendar,
        buffer=buffer if equitize else 0.0,
        momentum_periods=max(1, round(policy.momentum_months * periods_per_year / 12)),
        vol_periods=max(2, round(policy.vol_months * periods_per_year / 12)),
    )
