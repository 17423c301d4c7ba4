"""Total-return swaps: financing accrual and the cost of booking a notional change.

A total-return swap (TRS) gives the receiver of the total-return leg the return of a reference
index on a notional, against paying a floating rate plus a spread on the same notional. Signs
follow the overlay: a positive notional is long the index (receives total return, pays
financing), a negative notional is short (pays total return, receives financing).

Units: notionals in the swap currency; rates as annual fractions, simple (money-market)
interest; spreads in basis points (1 bp = 0.0001); periods in calendar days.

Formulas
--------
Financing leg:     ``A = N · (r_float + s / 10,000) · days / basis``   (``basis`` 360 or 365)
Total-return leg:  ``TR = N · (I_end / I_start − 1)``  (index levels with reinvested income)
Net to the long:   ``TR − A``
Booking cost:      ``C = |ΔN| · c_bps / 10,000 + fee`` (``fee`` once per booking, 0 for ΔN = 0)

Swaps are OTC: a notional change is one booking at a dealer, priced here as a proportional
cost in basis points of the notional traded (the dealer's half bid–ask on the reference) plus a
fixed ticket fee, not a sliced order.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["TrsTerms", "booking_cost", "financing_accrual", "financing_accrual_between", "net_payment", "total_return_leg"]


@dataclass(frozen=True, slots=True)
class TrsTerms:
    """Economic terms of a total-return swap.

    ``financing_spread_bps``: spread paid over the floating rate, bp a year.
    ``day_count_basis``: days in the year of the financing convention (360 for USD/EUR
    money-market rates such as SOFR and €STR, 365 for GBP SONIA).
    ``booking_cost_bps``: dealer charge on the notional changed, bp of |ΔN|.
    ``ticket_fee``: fixed charge per booking, swap currency.
    """

    financing_spread_bps: float = 0.0
    day_count_basis: float = 360.0
    booking_cost_bps: float = 2.0
    ticket_fee: float = 0.0

    def __post_init__(self) -> None:
        if self.day_count_basis not in (360.0, 365.0):
            raise ValueError("day_count_basis must be 360 or 365")
        if self.booking_cost_bps < 0 or self.ticket_fee < 0:
            raise ValueError("booking costs cannot be negative")


def _out(value: np.ndarray) -> float | np.ndarray:
    return float(value) if np.ndim(value) == 0 else value


def financing_accrual(notional: ArrayLike, floating_rate: ArrayLike, days: ArrayLike, terms: TrsTerms) -> float | np.ndarray:
    """Financing paid by the long over ``days`` calendar days, swap currency:
    ``N · (r_float + spread_bps·1e-4) · days / basis``. Negative for a short (it receives).
    """
    n, r, d = (np.asarray(x, dtype=float) for x in (notional, floating_rate, days))
    return _out(n * (r + terms.financing_spread_bps * 1e-4) * d / terms.day_count_basis)


def financing_accrual_between(
    notional: float, floating_rate: float, start: dt.date, end: dt.date, terms: TrsTerms
) -> float:
    """:func:`financing_accrual` over the calendar days from ``start`` to ``end``."""
    if end < start:
        raise ValueError("the accrual period ends before it starts")
    return float(financing_accrual(notional, floating_rate, (end - start).days, terms))


def total_return_leg(notional: ArrayLike, start_level: ArrayLike, end_level: ArrayLike) -> float | np.ndarray:
    """Total return received by the long: ``N · (I_end / I_start − 1)``, swap currency."""
    n, a, b = (np.asarray(x, dtype=float) for x in (notional, start_level, end_level))
    return _out(n * (b / a - 1.0))


def net_payment(
    notional: float, start_level: float, end_level: float, floating_rate: float, days: float, terms: TrsTerms
) -> float:
    """Net amount to the long for one period: total return less financing, swap currency."""
    return float(total_return_leg(notional, start_level, end_level)) - float(
        financing_accrual(notional, floating_rate, days, terms)
    )


def booking_cost(notional_change: ArrayLike, terms: TrsTerms) -> float | np.ndarray:
    """Cost of booking a notional change ΔN: ``|ΔN| · c_bps · 1e-4 + fee`` (zero when ΔN = 0)."""
    dn = np.abs(np.asarray(notional_change, dtype=float))
    return _out(np.where(dn > 0, dn * terms.booking_cost_bps * 1e-4 + terms.ticket_fee, 0.0))
