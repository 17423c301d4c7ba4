"""The market, order and per-path results of the vectorized engine (:mod:`overlay.studies.vectorized`).

The model they describe (volumes, trades, impact dynamics, the shortfall's parts) is set out
in that module's docstring; :mod:`overlay.studies.setup` builds them from a study's cell.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from pricing.volume_profile import cumulative_volume_fraction

Array = NDArray[np.float64]


class ImpactDynamics(enum.Enum):
    """How a trade's impact rate and permanent shift are formed (see the module docstring)."""

    SIMULATOR = "simulator"
    PARTICIPATION = "participation"


@dataclass(frozen=True, slots=True)
class PathMarket:
    """The market of one cell: ``price`` (the exact mid at the start, which fills are priced
    from and shortfalls measured against) and ``half_spread`` in price units, ``adv``
    contracts per session, ``daily_vol`` a fraction of price per √session, ``fee_per_unit``
    currency per contract, ``volume_noise`` the per-*slice* log-normal σ, ``edge_ratio`` the
    U-shape, ``impact_half_life`` seconds (``SIMULATOR`` dynamics)."""

    price: float
    multiplier: float
    adv: float
    daily_vol: float
    half_spread: float = 0.0
    fee_per_unit: float = 0.0
    volume_noise: float = 0.0
    edge_ratio: float = 1.0
    session_minutes: float = 390.0
    dynamics: ImpactDynamics = ImpactDynamics.SIMULATOR
    impact_half_life: float = 180.0
    tick: float = 0.0  # price grid of fills; 0 = none

    @property
    def sigma(self) -> float:
        """Mid volatility in price units per √session."""
        return self.daily_vol * self.price


@dataclass(frozen=True, slots=True)
class Order:
    """A buy of ``quantity`` contracts over ``horizon_minutes`` in equal slices.

    Exactly one of ``cumulative`` (the fixed schedule's integer cumulative targets, one per
    slice, the last equal to ``quantity``) and ``pov_rate`` (share of market volume) is set.
    """

    quantity: int
    horizon_minutes: float
    n_slices: int
    cumulative: NDArray[np.int64] | None = None
    pov_rate: float | None = None

    def __post_init__(self) -> None:
        if self.quantity < 1:
            raise ValueError(f"quantity must be at least one contract, got {self.quantity}")
        if (self.cumulative is None) == (self.pov_rate is None):
            raise ValueError("give either a fixed schedule or a POV rate")
        if self.cumulative is not None:
            cum = np.asarray(self.cumulative)
            if cum.shape != (self.n_slices,) or cum[-1] != self.quantity or np.any(np.diff(cum) < 0) or cum[0] < 0:
                raise ValueError("the schedule must be monotone with one target per slice, ending at the quantity")
        elif not 0.0 < self.pov_rate <= 1.0:
            raise ValueError(f"POV rate must be in (0, 1], got {self.pov_rate!r}")

    def tau(self, session_minutes: float) -> float:
        """Slice length in days (sessions)."""
        return self.horizon_minutes / self.n_slices / session_minutes


@dataclass(frozen=True, slots=True)
class PathResults:
    """Per-path outcomes, each an array of ``n_paths`` values (see the module docstring)."""

    shortfall_bps: Array
    cost: Array
    participation_realised: Array
    filled: Array
    spread_bps: Array
    impact_bps: Array
    timing_bps: Array
    fees_bps: Array


def slice_volume_noise(step_noise: float, steps_per_slice: float) -> float:
    """Per-slice log-normal σ for a slice summing ``m`` steps of i.i.d. log-normal volume.

    A mean-one log-normal of σ ``s`` has variance ``e^{s²} − 1``; the mean of ``m`` of them
    has ``(e^{s²} − 1)/m``, which a single log-normal matches with
    ``σ² = ln(1 + (e^{s²} − 1)/m)``.
    """
    if step_noise == 0:
        return 0.0
    return math.sqrt(math.log1p(math.expm1(step_noise * step_noise) / max(steps_per_slice, 1.0)))


def expected_slice_volume(market: PathMarket, order: Order) -> Array:
    """``E[v_k] = V · (F(t_{k+1}) − F(t_k))``, ``F`` the cumulative U-shaped profile."""
    edges = np.linspace(0.0, order.horizon_minutes, order.n_slices + 1) / market.session_minutes
    return market.adv * np.diff(cumulative_volume_fraction(edges, market.edge_ratio))
