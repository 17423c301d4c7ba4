"""Physical against synthetic: the cost of restoring a drift by trading the assets or by
trading the overlay (pure; numbers in, numbers out; base currency).

Physical, for a trade of ``A`` (base currency) in a sleeve with ``[costs.<sleeve>]``::

    spread = A × spread_bps × 1e-4
    impact = the sleeve's impact model on Q = A at price 1 over one day against adv (currency
             per day) and daily_vol; for the square-root law  Y · daily_vol · A · sqrt(A / adv)
    tax    = the estimated tax on the lots the sells realise (overlay.tax.summary)

Synthetic, per futures leg of ``n`` contracts (notional ``N`` base currency per contract,
tick value ``k`` base currency, ``s`` ticks of quoted spread, fee ``f`` base per contract)::

    spread    = |n| × s × k / 2                           (half the quoted spread)
    fees      = |n| × f
    impact    = the instrument's impact model on Q = |n| contracts at price N over one day
    roll      = rolls × |n| × 2 × (s × k / 2 + f)         (close and reopen at each roll before
                                                           the horizon; roll impact ignored)
    margin    = |n| × initial margin                      (collateral held, not a cost)

per swap leg of notional ``S`` (base)::

    spread    = |S| × booking_cost_bps × 1e-4
    financing = |S| × financing_spread_bps × 1e-4 × horizon_days / 365

Futures carry their financing in the price (cost of carry), so their ``financing`` is 0.
``total`` is the sum of the cost items (margin excluded). Basis points are of NAV, so the
sleeves' bps add up to the total's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from overlay.tax.lots import LotSale
from pricing.impact import ImpactModel

SECTION_1256_NOTE = (
    "futures gains fall under Section 1256: 60% long-term, 40% short-term, marked to market at year end"
)


@dataclass(frozen=True, slots=True)
class PhysicalCost:
    spread: float = 0.0
    impact: float = 0.0
    tax: float = 0.0

    @property
    def total(self) -> float:
        return self.spread + self.impact + self.tax


@dataclass(frozen=True, slots=True)
class SyntheticCost:
    spread: float = 0.0
    impact: float = 0.0
    fees: float = 0.0
    roll: float = 0.0
    financing: float = 0.0
    margin: float = 0.0  # initial margin held, not a cost

    @property
    def total(self) -> float:
        return self.spread + self.impact + self.fees + self.roll + self.financing

    def __add__(self, other: SyntheticCost) -> SyntheticCost:
        return SyntheticCost(
            self.spread + other.spread, self.impact + other.impact, self.fees + other.fees,
            self.roll + other.roll, self.financing + other.financing, self.margin + other.margin,
        )


@dataclass(frozen=True, slots=True)
class AssetCosts:
    """``[costs.<sleeve>]``: half spread in bps, an impact model, adv (currency per day) and
    daily volatility (fraction)."""

    spread_bps: float
    impact: ImpactModel
    adv: float
    daily_vol: float


@dataclass(frozen=True, slots=True)
class FuturesLeg:
    """One futures order of the overlay and the market facts to cost it (base currency)."""

    contracts: int
    notional_per_contract: float
    tick_value: float
    spread_ticks: float = 1.0
    fee_per_contract: float = 0.0
    impact: ImpactModel | None = None  # None: impact not estimated
    adv: float | None = None  # contracts per day
    daily_vol: float | None = None
    rolls: int = 0  # rolls before the horizon
    margin_per_contract: float = 0.0


@dataclass(frozen=True, slots=True)
class SwapLeg:
    notional: float  # base currency
    financing_spread_bps: float
    booking_cost_bps: float


@dataclass(frozen=True, slots=True)
class SleeveComparison:
    """One sleeve: ``amount`` the exposure change restored (base currency, signed), the cost
    of trading it physically (``lots_sold``: the lots that sell would realise) and through the
    overlay (which realises no gain now)."""

    sleeve: str
    amount: float
    physical: PhysicalCost
    synthetic: SyntheticCost
    lots_sold: tuple[LotSale, ...] = ()


@dataclass(frozen=True, slots=True)
class Comparison:
    sleeves: tuple[SleeveComparison, ...]
    horizon_days: int
    nav: float
    notes: tuple[str, ...] = field(default=(SECTION_1256_NOTE,))

    @property
    def physical_total(self) -> float:
        return math.fsum(s.physical.total for s in self.sleeves)

    @property
    def synthetic_total(self) -> float:
        return math.fsum(s.synthetic.total for s in self.sleeves)

    def bps(self, amount: float) -> float:
        """``amount`` in basis points of NAV."""
        return amount / self.nav * 1e4 if self.nav > 0 else 0.0


def physical_cost(amount: float, costs: AssetCosts, tax: float = 0.0) -> PhysicalCost:
    """Spread, impact and tax of trading ``|amount|`` of the sleeve's assets in one day."""
    a = abs(amount)
    if a == 0:
        return PhysicalCost(tax=tax)
    b = costs.impact.cost(a, 1.0, 1.0, costs.daily_vol, costs.adv)
    impact = float(b.temporary + b.permanent)
    spread = a * costs.spread_bps * 1e-4 + float(b.spread) + float(b.fees)
    return PhysicalCost(spread, impact, tax)


def futures_cost(leg: FuturesLeg) -> SyntheticCost:
    """Cost of one futures order held to the horizon (see the module docstring)."""
    n = abs(leg.contracts)
    half = leg.spread_ticks * leg.tick_value / 2
    impact = 0.0
    if n and leg.impact is not None and leg.adv and leg.daily_vol:
        b = leg.impact.cost(n, 1.0, leg.notional_per_contract, leg.daily_vol, leg.adv)
        impact = float(b.temporary + b.permanent)
    return SyntheticCost(
        spread=n * half, impact=impact, fees=n * leg.fee_per_contract,
        roll=leg.rolls * n * 2 * (half + leg.fee_per_contract), margin=n * leg.margin_per_contract,
    )


def swap_cost(leg: SwapLeg, horizon_days: int) -> SyntheticCost:
    """Booking cost and financing spread of one swap notional change held to the horizon."""
    s = abs(leg.notional)
    return SyntheticCost(
        spread=s * leg.booking_cost_bps * 1e-4,
        financing=s * leg.financing_spread_bps * 1e-4 * horizon_days / 365,
    )


def synthetic_cost(futures: Sequence[FuturesLeg], swaps: Sequence[SwapLeg], horizon_days: int) -> SyntheticCost:
    total = SyntheticCost()
    for f in futures:
        total = total + futures_cost(f)
    for s in swaps:
        total = total + swap_cost(s, horizon_days)
    return total
