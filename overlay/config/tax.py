"""Tax tables of the portfolio config: ``[tax]``, ``[[accounts]]``, ``[[lots]]``, ``[[trades]]``
and the per-sleeve trading costs ``[costs.<sleeve>]`` (see the tax spec).

All optional: a config without them plans exactly as before. Checks that span tables (lots
adding up to their sleeve's value, known accounts and sleeves, dates not after ``as_of``)
live in :mod:`overlay.config.tax_checks`.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from overlay.config.simulation import ImpactModelName, ImpactSpec

_STRICT = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, defer_build=True)

PositiveFloat = Annotated[float, Field(gt=0)]
NonNegativeFloat = Annotated[float, Field(ge=0)]
Rate = Annotated[float, Field(ge=0, le=1)]
Name = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]

#: The lots of a sleeve must sum to the sleeve's value within this fraction of it.
LOT_TOLERANCE = 0.005


class LotMethodName(str, enum.Enum):
    HIFO = "hifo"
    FIFO = "fifo"
    LOSS_FIRST = "loss_first"


class TaxConfig(BaseModel):
    """``[tax]``: rates, holding period, lot method, wash-sale window, harvest threshold."""

    model_config = _STRICT

    short_term: Rate = 0.37
    long_term: Rate = 0.20
    long_after_days: Annotated[int, Field(ge=0)] = 365
    lot_method: LotMethodName = LotMethodName.HIFO
    wash_sale_days: Annotated[int, Field(ge=0)] = 30
    harvest_threshold: Annotated[float, Field(ge=0, lt=1)] = 0.05


class AccountConfig(BaseModel):
    """``[[accounts]]``: a custody account; ``taxable = false`` for a tax-deferred one."""

    model_config = _STRICT

    name: Name
    taxable: StrictBool = True


class LotConfig(BaseModel):
    """``[[lots]]``: one tax lot; ``value`` is current market value, ``basis`` cost basis."""

    model_config = _STRICT

    sleeve: Name
    account: Name
    value: NonNegativeFloat
    basis: NonNegativeFloat
    acquired: dt.date


class TradeConfig(BaseModel):
    """``[[trades]]``: a recent physical trade (``value`` + buy, − sell), for the wash-sale look-back."""

    model_config = _STRICT

    sleeve: Name
    account: Name
    date: dt.date
    value: float


class SleeveCosts(BaseModel):
    """``[costs.<sleeve>]``: cost of trading the sleeve's physical assets.

    ``spread_bps`` half spread paid on every trade; ``impact`` an impact model
    (``{ model = "square-root", y = 0.7 }``) applied to the trade's value against ``adv``
    (currency per day) with ``daily_vol`` (fraction of price per √day).
    """

    model_config = _STRICT

    spread_bps: NonNegativeFloat = 0.0
    # made without validation (importing the config builds no validator); what validating
    # ``{ model = "square-root", y = 0.7 }`` gives
    impact: ImpactSpec = ImpactSpec.model_construct({"model", "y"}, model=ImpactModelName.SQUARE_ROOT, y=0.7)
    adv: PositiveFloat
    daily_vol: PositiveFloat
