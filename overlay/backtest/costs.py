"""Trading costs of a backtest, from the impact models of :mod:`pricing.impact` (vectorised).

Physical trade of value ``v`` (base currency) in a sleeve with ``[backtest.costs.<sleeve>]``::

    cost = |v| · spread_bps · 1e-4 + impact(|v|, 1 day, price 1, daily_vol, adv)

(the trade's value is its quantity at a unit price, ``adv`` is currency per day). A sleeve
without a costs table trades physically at no cost (the summary says so).

Futures trade of ``q`` contracts at price ``F`` (points), multiplier ``m``, fx ``x``::

    cost = |q| · (½ · spread_ticks · tick · m · x + fee · x) + impact(|q|, 1 day, F·m·x, daily_vol, adv)

with the instrument's ``[market.<key>]`` table, whose missing figures come from the
registry root's market defaults (``adv`` contracts a day, ``daily_vol``, ``spread_ticks``,
``fee_per_contract``; ``impact`` default square-root with ``y = 0.7``, as the simulator uses). A roll is one calendar-spread order per contract held:
``|q| · (½ · spread_ticks · tick · m · x + 2 · fee · x)`` (one spread crossed, two legs' fees).

Swap notional change ``Δn`` (base currency): :func:`pricing.swaps.booking_cost`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from overlay.config.backtest import BacktestCosts
from overlay.config.models import PortfolioConfig
from overlay.errors import InputError
from pricing import contracts
from pricing.impact import ImpactModel, model_from_spec

#: The impact model of a future whose market table names none (the simulator's default).
DEFAULT_FUTURES_IMPACT = {"model": "square-root", "y": 0.7}


@dataclass(frozen=True)
class PhysicalCost:
    """Cost of trading one sleeve's physical assets."""

    spread_bps: float
    impact: ImpactModel
    adv: float
    daily_vol: float

    def __call__(self, value: np.ndarray) -> np.ndarray:
        v = np.abs(value)
        if self.impact.name == "none":
            return v * (self.spread_bps * 1e-4)
        c = self.impact.cost(v, 1.0, 1.0, self.daily_vol, self.adv)
        return v * (self.spread_bps * 1e-4) + c.spread + c.temporary + c.permanent + c.fees


def physical_cost(spec: BacktestCosts | None) -> PhysicalCost | None:
    if spec is None:
        return None
    impact = model_from_spec({"model": spec.impact.model.value, **spec.impact.params})
    return PhysicalCost(spec.spread_bps, impact, spec.adv or 1.0, spec.daily_vol or 0.0)


@dataclass(frozen=True)
class FuturesMarket:
    """One future's market: ``half_spread`` and ``fee`` in base currency per contract."""

    half_spread: float
    fee: float
    adv: float
    daily_vol: float
    impact: ImpactModel

    def trade_cost(self, contracts: np.ndarray, contract_value: np.ndarray) -> np.ndarray:
        """Cost (base currency) of trading ``contracts`` worth ``contract_value`` each."""
        q = np.abs(contracts)
        out = q * (self.half_spread + self.fee)
        if self.impact.name != "none":
            c = self.impact.cost(q, 1.0, contract_value, self.daily_vol, self.adv)
            out = out + c.spread + c.temporary + c.permanent + c.fees
        return out

    def roll_cost(self, contracts: np.ndarray) -> np.ndarray:
        """Cost of rolling ``contracts``: one calendar spread crossed, two legs' fees."""
        return np.abs(contracts) * (self.half_spread + 2.0 * self.fee)


def futures_market(
    cfg: PortfolioConfig, key: str, root: str | None, tick: float, multiplier: float, fx: float, file: str | None
) -> FuturesMarket:
    """The market of future ``key``: ``[market.<key>]``, then the registry root's market
    defaults (:class:`pricing.contracts.MarketDefaults`, each figure sourced there). A future
    outside the registry must give ``adv``, ``daily_vol`` and ``fee_per_contract`` itself (no
    market is invented for a contract)."""
    m = cfg.market.get(key)
    defaults = contracts.get(root).market if root is not None else None
    values = {}
    for field, what in (("adv", "contracts traded a day"), ("daily_vol", "daily volatility"), ("fee_per_contract", "fee per contract")):
        value = getattr(m, field) if m is not None else None
        if value is None and defaults is not None:
            value = getattr(defaults, field)
        if value is None:
            raise InputError(file, f"market.{key}.{field}", f"required by the synthetic backtest ({what})")
        values[field] = float(value)
    spec = m.impact.params | {"model": m.impact.model.value} if m is not None and m.impact is not None else DEFAULT_FUTURES_IMPACT
    spread_ticks = (m.spread_ticks if m is not None else None) or (defaults.spread_ticks if defaults is not None else 1)
    return FuturesMarket(
        half_spread=0.5 * spread_ticks * tick * multiplier * fx,
        fee=values["fee_per_contract"] * fx,
        adv=values["adv"],
        daily_vol=values["daily_vol"],
        impact=model_from_spec(dict(spec)),
    )
