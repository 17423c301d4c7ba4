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
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, StringConstraints, model_validator

from overlay.config.simulation import ExecutionConfig, FaultsConfig, MarketConfig, RiskConfig
from overlay.config.tax import AccountConfig, LotConfig, SleeveCosts, TaxConfig, TradeConfig

_STRICT = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

PositiveFloat = Annotated[float, Field(gt=0)]
NonNegativeFloat = Annotated[float, Field(ge=0)]
Fraction = Annotated[float, Field(ge=0, le=1)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Name = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]


class Trigger(str, enum.Enum):
    BAND = "band"
    CALENDAR = "calendar"
    BAND_OR_CALENDAR = "band_or_calendar"
    BAND_AND_CALENDAR = "band_and_calendar"  # review on calendar dates, trade only on a breach


class Calendar(str, enum.Enum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    SEMIANNUAL = "semiannual"
    ANNUAL = "annual"

    @property
    def months(self) -> int:
        return {"monthly": 1, "quarterly": 3, "semiannual": 6, "annual": 12}[self.value]


class RebalanceTo(str, enum.Enum):
    TARGET = "target"
    BAND_EDGE = "band_edge"


class BandKind(str, enum.Enum):
    ABSOLUTE = "absolute"  # weight points around the target
    RELATIVE = "relative"  # fractions of the target


class Illiquid(str, enum.Enum):
    """What the plan does with a sleeve the overlay cannot trade (``overlay = []``)."""

    HOLD = "hold"  # keep its exposure; its gap goes to the balance (out of the self-financing sum)
    PLAN = "plan"  # plan its move like any sleeve's; it stays an unhedged residual


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


class MomentumFilter(BaseModel):
    """Defer a breach whose momentum points the same way as its drift, unless beyond ``hard_band``."""

    model_config = _STRICT

    threshold: NonNegativeFloat = 0.0
    hard_band: PositiveFloat = 0.10


class VolScaling(BaseModel):
    """Link band widths and the share of the gap closed to ``vol / reference_vol``.

    ``reference_vol`` is each sleeve's long-run volatility: a table by sleeve name
    (``{ treasuries = 0.05, us_equity = 0.16 }``), or one number shared by every sleeve. A
    sleeve missing from the table is measured against its own ``vol`` (``r = 1``: unscaled).
    """

    model_config = _STRICT

    reference_vol: PositiveFloat | dict[str, PositiveFloat] = Field(default_factory=dict)

    def reference_for(self, sleeve: str, vol: float | None) -> float | None:
        """The reference volatility of ``sleeve`` (its own ``vol`` when the table omits it)."""
        if isinstance(self.reference_vol, dict):
            return self.reference_vol.get(sleeve, vol)
        return self.reference_vol

    @property
    def shared(self) -> bool:
        """One number for every sleeve (the plan warns where it doubles or halves a band)."""
        return not isinstance(self.reference_vol, dict)


class Policy(BaseModel):
    model_config = _STRICT

    trigger: Trigger = Trigger.BAND
    calendar: Calendar = Calendar.QUARTERLY
    last_rebalance: dt.date | None = None
    rebalance_to: RebalanceTo = RebalanceTo.TARGET
    band_kind: BandKind = BandKind.ABSOLUTE
    equitize_cash: bool = False
    min_cash_buffer: Annotated[float, Field(ge=0, lt=1)] = 0.0
    momentum_filter: MomentumFilter | None = None
    vol_scaling: VolScaling | None = None
    illiquid: Illiquid = Illiquid.HOLD  # sleeves with ``overlay = []``


class Band(BaseModel):
    """Band half-widths below and above the target; a plain number means a symmetric band."""

    model_config = _STRICT

    lower: NonNegativeFloat
    upper: NonNegativeFloat

    @model_validator(mode="before")
    @classmethod
    def _symmetric(cls, data: Any) -> Any:
        if isinstance(data, (int, float)) and not isinstance(data, bool):
            return {"lower": data, "upper": data}
        if not isinstance(data, (dict, Band)):
            raise ValueError(f"expected a number or {{ lower = ..., upper = ... }}, got {data!r}")
        return data


class Sleeve(BaseModel):
    model_config = _STRICT

    name: Name
    target: Fraction
    value: NonNegativeFloat
    band: Band = Band(lower=0.05, upper=0.05)
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
    policy: Policy = Policy()
    sleeves: list[Sleeve] = Field(min_length=1)
    instruments: dict[str, Instrument] = Field(default_factory=dict)
    positions: list[Position] = Field(default_factory=list)
    cash_flows: list[CashFlow] = Field(default_factory=list)
    market: dict[str, MarketConfig] = Field(default_factory=dict)
    execution: ExecutionConfig = ExecutionConfig()
    faults: FaultsConfig = FaultsConfig()
    risk: RiskConfig = RiskConfig()
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


# ``[backtest]`` reuses this module's enums and models, so it is defined after them.
from overlay.config.backtest import BacktestConfig  # noqa: E402

PortfolioConfig.model_rebuild()
