"""Simulation tables of the portfolio config: ``[market.<instrument>]``, ``[execution]``, ``[faults]``.

These are read by ``overlay simulate`` and ``overlay paper`` (see the CLI spec). Every field of
``[market.*]`` is optional: the registry and the simulator's defaults fill the gaps.
"""

from __future__ import annotations

import enum
import math
import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# defer_build: a model builds its validator when first used, so importing the config costs
# no schema builds; loading a config builds the root model once, nested models inside it
_STRICT = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, defer_build=True)

PositiveFloat = Annotated[float, Field(gt=0)]
NonNegativeFloat = Annotated[float, Field(ge=0)]
Rate = Annotated[float, Field(ge=0, le=1)]


class ImpactModelName(str, enum.Enum):
    """Impact models the simulator and ``overlay cost`` know (compares equal to its string)."""

    SQUARE_ROOT = "square-root"
    ALMGREN_CHRISS = "almgren-chriss"
    ATHL_2005 = "athl-2005"
    I_STAR = "i-star"
    NONE = "none"

    def __str__(self) -> str:
        return self.value


class ImpactSpec(BaseModel):
    """``impact = { model = "square-root", y = 0.7 }``: the model name and its numeric parameters.

    Parameters other than ``model`` are free-form (each model has its own) but must be finite
    numbers; :attr:`params` returns them as a ``dict[str, float]``.
    """

    model_config = ConfigDict(extra="allow", frozen=True, allow_inf_nan=False, defer_build=True)

    model: ImpactModelName

    @model_validator(mode="after")
    def _numeric_params(self) -> ImpactSpec:
        for key, value in (self.model_extra or {}).items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"parameter {key!r} must be a finite number, got {value!r}")
        return self

    @property
    def params(self) -> dict[str, float]:
        """The model's parameters (everything but ``model``) as floats."""
        return {k: float(v) for k, v in (self.model_extra or {}).items()}

    def get(self, key: str, default: float | None = None) -> float | None:
        return self.params.get(key, default)

    def __getitem__(self, key: str) -> float:
        return self.params[key]


_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class MarketConfig(BaseModel):
    """``[market.<instrument>]``: the simulated market of one instrument (all optional)."""

    model_config = _STRICT

    adv: PositiveFloat | None = None  # contracts per day
    daily_vol: PositiveFloat | None = None  # fraction of price per sqrt(day)
    spread_ticks: Annotated[int, Field(ge=1)] | None = None  # quoted spread, whole ticks
    fee_per_contract: NonNegativeFloat | None = None  # instrument currency
    impact: ImpactSpec | None = None
    bars: str | None = None  # historical 1-minute bars to replay; resolved against the config's folder
    session_start: str | None = None  # "HH:MM", local; 09:30 by default
    session_end: str | None = None  # "HH:MM", local; 16:00 by default

    @field_validator("session_start", "session_end")
    @classmethod
    def _clock_time(cls, value: str | None) -> str | None:
        if value is not None and not _HHMM.match(value):
            raise ValueError("expected a session time HH:MM")
        return value

    @model_validator(mode="after")
    def _session_order(self) -> MarketConfig:
        if self.session_start and self.session_end and self.session_end <= self.session_start:
            raise ValueError(f"session_end ({self.session_end}) must come after session_start ({self.session_start})")
        return self


class Algo(str, enum.Enum):
    TWAP = "twap"
    VWAP = "vwap"
    POV = "pov"
    IS = "is"

    def __str__(self) -> str:
        return self.value



class ExecutionConfig(BaseModel):
    """``[execution]``: how the execution engine works every futures order."""

    model_config = _STRICT

    algo: Algo = Algo.TWAP
    horizon_minutes: PositiveFloat = 390.0
    slice_minutes: PositiveFloat = 1.0
    participation: Annotated[float, Field(gt=0, le=1)] = 0.05
    risk_aversion: NonNegativeFloat = 1e-6
    limit_offset_ticks: Annotated[int, Field(ge=0)] | None = None  # None: market orders
    start: str = "09:30"
    timezone: str = "America/New_York"  # IANA zone of the session clock (dates and times in reports)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as America/New_York)") from None
        return value

    @field_validator("start")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        if not _HHMM.match(value):
            raise ValueError("expected a session time HH:MM")
        return value

    @model_validator(mode="after")
    def _slices_fit(self) -> ExecutionConfig:
        if self.slice_minutes > self.horizon_minutes:
            raise ValueError(
                f"slice_minutes ({self.slice_minutes:g}) is longer than horizon_minutes ({self.horizon_minutes:g})"
            )
        return self


class RiskConfig(BaseModel):
    """``[risk]``: pre-trade limits checked before every child order; each is off when absent.

    ``max_child_quantity`` contracts; ``max_child_notional`` instrument currency;
    ``max_participation`` share of the market volume since the parent's previous slice;
    ``collar_bps`` band around the arrival price an order may not cross; ``max_gross_exposure``
    base currency, summed over the overlay's futures positions plus working orders. A blocked
    child is retried at the next slice; a parent the limits keep from finishing is reported
    unfilled (exit status 1). See :mod:`execution.risk`.
    """

    model_config = _STRICT

    max_child_quantity: Annotated[int, Field(gt=0)] | None = None
    max_child_notional: PositiveFloat | None = None
    max_participation: Annotated[float, Field(gt=0, le=1)] | None = None
    collar_bps: PositiveFloat | None = None
    max_gross_exposure: PositiveFloat | None = None


class FaultsConfig(BaseModel):
    """``[faults]``: broker faults injected by the simulator, all off by default."""

    model_config = _STRICT

    reject_rate: Rate = 0.0
    drop_ack_rate: Rate = 0.0
    duplicate_fill_rate: Rate = 0.0
    late_fill_rate: Rate = 0.0
    disconnect_every_minutes: NonNegativeFloat = 0.0  # 0 = never
    disconnect_seconds: NonNegativeFloat = 0.0
