"""The policy tables of the config (``[policy]``, bands, triggers, momentum and vol scaling)
and the field types every config model shares.

Split from :mod:`overlay.config.models` so that the ``[backtest]`` table
(:mod:`overlay.config.backtest`), whose policies override these, can use them without an
import cycle.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

_STRICT = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, defer_build=True)

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
