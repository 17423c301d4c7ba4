"""Market-impact models: the protocol every model implements and its cost breakdown.

Every model answers the same questions, vectorised over numpy arrays (scalars broadcast):

``cost(quantity, horizon_days, price, daily_vol, adv) -> CostBreakdown``
    expected cost in currency of trading ``|quantity|`` units at a constant rate over
    ``horizon_days`` trading days, split into spread, temporary impact, permanent impact and
    fees. ``daily_vol`` is a fraction of price (0.019 = 1.9 % a day), ``adv`` is average daily
    volume in the same units as ``quantity``.

``temporary_impact(rate, price, daily_vol, adv)``
    the temporary price displacement, in price units (>= 0), felt by each unit traded while
    trading at ``rate`` units per day. Spread and fees are not included.

``permanent_impact(quantity, price, daily_vol, adv)``
    the permanent mid-price shift, in price units (>= 0), left by trading ``|quantity|`` units.

The three agree: for a constant-rate trade of Q over T days,
``cost.temporary = Q · temporary_impact(Q/T)`` and, for permanent impact linear in Q,
``cost.permanent = ½ · Q · permanent_impact(Q)``. The simulator uses the two impact
functions to move its prices, so the simulator's mean cost for a TWAP order reproduces
``cost`` for the same model and parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class CostBreakdown:
    """Expected cost of one order (or an array of orders), in currency, each part >= 0."""

    spread: Array | float
    temporary: Array | float
    permanent: Array | float
    fees: Array | float

    @property
    def total(self) -> Array | float:
        return self.spread + self.temporary + self.permanent + self.fees


@runtime_checkable
class ImpactModel(Protocol):
    name: str

    def cost(
        self, quantity: ArrayLike, horizon_days: ArrayLike, price: ArrayLike, daily_vol: ArrayLike, adv: ArrayLike
    ) -> CostBreakdown: ...

    def temporary_impact(self, rate: ArrayLike, price: ArrayLike, daily_vol: ArrayLike, adv: ArrayLike) -> Array: ...

    def permanent_impact(self, quantity: ArrayLike, price: ArrayLike, daily_vol: ArrayLike, adv: ArrayLike) -> Array: ...
