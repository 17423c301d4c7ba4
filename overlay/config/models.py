"""The portfolio configuration (TOML) as validated, frozen pydantic models.

One model per table of the user contract (``portfolio-config.md``); unknown keys are errors.
Checks that span tables (targets summing to one, references between sleeves, instruments and
positions, fx rates, date order) live in :mod:`overlay.config.checks` so that each can name
its own key path.
"""

from __future__ import annotations

import datetime as dt
import enum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field, PrivateAttr

from overlay.config.backtest import BacktestConfig
from overlay.config.policy import (  # re-exported: the policy tables are part of this model
    _STRICT,
    Band,
    BandKind,
    Calendar,
    Currency,
    Fraction,
    Illiquid,
    MomentumFilter,
    Name,
    NonNegativeFloat,
    Policy,
    PositiveFloat,
    RebalanceTo,
    Trigger,
    VolScaling,
)
from overlay.config.simulation import ExecutionConfig, FaultsConfig, MarketConfig, RiskConfig
from overlay.config.tax import AccountConfig, LotConfig, SleeveCosts, TaxConfig, TradeConfig

__all__ = [
    "Band", "BandKind", "CashFlow", "Calendar", "FutureInstrument", "Illiquid", "Instrument", "InstrumentKind",
    "MomentumFilter", "Policy", "Portfolio", "PortfolioConfig", "Position", "RebalanceTo", "Sleeve",
    "SwapInstrument", "Trigger", "VolScaling",
]


class InstrumentKind(str, enum.Enum):
    FUTURE = "future"
    SWAP = "swap"



class Portfolio(BaseModel):
    model_config = _STRICT

    name: Name
    currency: Currency = "USD"
    as_of: dt.date
    cash: NonNegativeFloat = 0.0
    fx: dict[Currency, PositiveFloat] = Field(default_factory=dict)



class Sleeve(BaseModel):
    model_config = _STRICT

    name: Name
    target: Fraction
    value: NonNegativeFloat
    band: Band = Band.model_construct(lower=0.05, upper=0.05)  # made without validation: see PortfolioConfig.policy
    beta: PositiveFloat = 1.0
    duration: PositiveFloat | None = None  # modified duration, years
    momentum: float | None = None
    vol: PositiveFloat | None = None  # annualised
    overlay: list[Name] = Field(default_factory=list)
    proxy: Name | None = None  # loss harvesting: another sleeve or a future of ``overlay``


class FutureInstrument(BaseModel):
    model_config = _STRICT

    kind: Literal["future"]
    root: str | None = None
    price: PositiveFloat
    expiry: dt.date | None = None
    multiplier: PositiveFloat | None = None
    tick: PositiveFloat | None = None
    currency: Currency | None = None
    dv01: PositiveFloat | None = None  # per contract, instrument currency
    initial_margin: NonNegativeFloat | None = None  # per contract, instrument currency
    spot: PositiveFloat | None = None
    rate: float | None = None
    dividend_yield: float = 0.0
    exchange: str | None = None  # a future outside the registry: the exchange whose business days it follows
    contract_month: str | None = None  # "YYYY-MM" (or "H6"): the held contract month; the registry dates it
    next_price: PositiveFloat | None = None  # the next contract's market price; None: priced at carry
    # Business days before the roll anchor (first position day, else last trade date) at which
    # positions roll; None: the registry root's default (5 for a future outside the registry).
    roll_days: Annotated[int, Field(ge=0)] | None = None


class SwapInstrument(BaseModel):
    model_config = _STRICT

    kind: Literal["swap"]
    currency: Currency | None = None
    financing_spread_bps: float = 35.0
    min_notional: NonNegativeFloat = 250_000.0
    rate: float | None = None  # floating rate, for the financing estimate
    booking_cost_bps: NonNegativeFloat = 2.0  # dealer charge on a notional change


Instrument = Annotated[FutureInstrument | SwapInstrument, Field(discriminator="kind")]


class Position(BaseModel):
    model_config = _STRICT

    instrument: Name
    quantity: float  # contracts for a future, notional (swap currency) for a swap


class CashFlow(BaseModel):
    model_config = _STRICT

    amount: float  # + contribution, - withdrawal, base currency


class PortfolioConfig(BaseModel):
    """The whole config file. ``source`` is the file it came from (for error messages)."""

    model_config = _STRICT

    portfolio: Portfolio
    # The default tables are made without validation (``model_construct``: the values, fields
    # set and equality a validation would give), so that importing the config builds no
    # validator: the root config's one build, at the first load, covers them.
    policy: Policy = Policy.model_construct()
    sleeves: list[Sleeve] = Field(min_length=1)
    instruments: dict[str, Instrument] = Field(default_factory=dict)
    positions: list[Position] = Field(default_factory=list)
    cash_flows: list[CashFlow] = Field(default_factory=list)
    market: dict[str, MarketConfig] = Field(default_factory=dict)
    execution: ExecutionConfig = ExecutionConfig.model_construct()
    faults: FaultsConfig = FaultsConfig.model_construct()
    risk: RiskConfig = RiskConfig.model_construct()
    tax: TaxConfig | None = None
    accounts: list[AccountConfig] = Field(default_factory=list)
    lots: list[LotConfig] = Field(default_factory=list)
    trades: list[TradeConfig] = Field(default_factory=list)
    costs: dict[str, SleeveCosts] = Field(default_factory=dict)
    backtest: BacktestConfig | None = None

    _source: str | None = PrivateAttr(default=None)

    @property
    def source(self) -> str | None:
        return self._source

    def resolve_path(self, path: str) -> Path:
        """A path from the config (e.g. ``market.ES.bars``), relative to the config's folder."""
        p = Path(path)
        if p.is_absolute() or self._source is None:
            return p
        return Path(self._source).parent / p

    def fx_rate(self, currency: str) -> float:
        """Base-currency value of one unit of ``currency`` (1.0 for the base currency)."""
        if currency == self.portfolio.currency:
            return 1.0
        return self.portfolio.fx[currency]
