"""The ``[backtest]`` table of the portfolio config (see ``overlay backtest``).

``[backtest]`` names the history, the implementations and the policies to compare;
``[[backtest.policies]]`` each override keys of ``[policy]`` (and every sleeve's ``band``);
``[backtest.costs.<sleeve>]`` prices physical trades; ``[backtest.tax]`` taxes them.
Unknown keys are errors, like everywhere else in the config.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from overlay.config.policy import (
    Band,
    BandKind,
    Calendar,
    MomentumFilter,
    RebalanceTo,
    Trigger,
    VolScaling,
)
from overlay.config.simulation import ImpactModelName, ImpactSpec
from overlay.config.tax import LotMethodName

_STRICT = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, defer_build=True)

PositiveFloat = Annotated[float, Field(gt=0)]
NonNegativeFloat = Annotated[float, Field(ge=0)]
Rate = Annotated[float, Field(ge=0, le=1)]


class Implementation(str, enum.Enum):
    """How a policy's trades are carried out."""

    PHYSICAL = "physical"  # trade the sleeves themselves
    SYNTHETIC = "synthetic"  # restore the drift with the sleeves' futures and swaps
    HYBRID = "hybrid"  # the overlay at once; cash flows move the physical holdings toward the policy


class PolicyTrigger(str, enum.Enum):
    """The planner's triggers plus ``never`` (buy and hold)."""

    NEVER = "never"
    BAND = "band"
    CALENDAR = "calendar"
    BAND_OR_CALENDAR = "band_or_calendar"
    BAND_AND_CALENDAR = "band_and_calendar"

    @property
    def planner_trigger(self) -> Trigger | None:
        return None if self is PolicyTrigger.NEVER else Trigger(self.value)


class FuturesTax(str, enum.Enum):
    """How futures gains are taxed: Section 1256 (60 % long-term, 40 % short-term, marked to
    market at year end)."""

    SECTION_1256 = "section_1256"


class BacktestPolicy(BaseModel):
    """One ``[[backtest.policies]]`` table: a name plus overrides of ``[policy]``.

    ``band`` overrides every sleeve's band; ``bands`` overrides named sleeves' bands.
    ``momentum_months`` and ``vol_months`` are the trailing windows (in months of data) of the
    momentum and volatility signals the policy's filter and scaling read.
    """

    model_config = _STRICT

    name: Annotated[str, Field(min_length=1)]
    trigger: PolicyTrigger = PolicyTrigger.BAND
    calendar: Calendar | None = None
    rebalance_to: RebalanceTo | None = None
    band_kind: BandKind | None = None
    band: Band | None = None
    bands: dict[str, Band] = Field(default_factory=dict)
    equitize_cash: bool | None = None
    min_cash_buffer: Annotated[float, Field(ge=0, lt=1)] | None = None
    momentum_filter: MomentumFilter | None = None
    vol_scaling: VolScaling | None = None
    momentum_months: Annotated[int, Field(ge=1)] = 12
    vol_months: Annotated[int, Field(ge=2)] = 12


class BacktestCosts(BaseModel):
    """``[backtest.costs.<sleeve>]``: the cost of trading a sleeve's physical assets.

    The keys of ``[costs.<sleeve>]`` (:class:`overlay.config.tax.SleeveCosts`), except that
    ``impact`` defaults to ``{ model = "none" }`` and ``adv``/``daily_vol`` are needed only
    with an impact model.

    ``spread_bps`` half spread paid on every trade; ``impact`` a model of ``overlay cost``
    applied to the trade's value against ``adv`` (currency per day) over one day with
    ``daily_vol``.
    """

    model_config = _STRICT

    spread_bps: NonNegativeFloat = 0.0
    # made without validation (importing the config builds no validator); what validating
    # ``{ model = "none" }`` gives
    impact: ImpactSpec = ImpactSpec.model_construct({"model"}, model=ImpactModelName.NONE)
    adv: PositiveFloat | None = None
    daily_vol: PositiveFloat | None = None

    @model_validator(mode="after")
    def _impact_needs_market(self) -> BacktestCosts:
        if self.impact.model.value != "none":
            if self.adv is None:
                raise ValueError("adv is required with an impact model (currency traded per day)")
            if self.daily_vol is None:
                raise ValueError("daily_vol is required with an impact model")
        return self


class BacktestTax(BaseModel):
    """``[backtest.tax]``: an investor who pays tax on realised gains."""

    model_config = _STRICT

    short_term: Rate = 0.37
    long_term: Rate = 0.20
    long_after_days: Annotated[int, Field(ge=0)] = 365
    lot_method: LotMethodName = LotMethodName.HIFO
    wash_sale_days: Annotated[int, Field(ge=0)] = 30
    futures: FuturesTax = FuturesTax.SECTION_1256


class BacktestConfig(BaseModel):
    """``[backtest]``: what history to run over and which policies to compare."""

    model_config = _STRICT

    data: Annotated[str, Field(min_length=1)]
    start: dt.date | None = None
    end: dt.date | None = None
    implementations: list[Implementation] = Field(default_factory=lambda: [Implementation.PHYSICAL, Implementation.SYNTHETIC], min_length=1)
    paths: Annotated[int, Field(ge=0)] = 0
    block_months: PositiveFloat = 12.0
    horizon_years: PositiveFloat = 20.0
    seed: Annotated[int, Field(ge=0)] = 1
    policies: list[BacktestPolicy] = Field(min_length=1)
    costs: dict[str, BacktestCosts] = Field(default_factory=dict)
    tax: BacktestTax | None = None

    @model_validator(mode="after")
    def _dates(self) -> BacktestConfig:
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError(f"end {self.end} is not after start {self.start}")
        return self
