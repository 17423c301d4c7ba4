"""Futures pricing and hedge sizing: pure numbers, scalars or numpy arrays.

Units used throughout:

- prices in index points (or bond points) of the instrument's currency;
- ``multiplier`` in instrument currency per point, so ``price × multiplier`` is the notional of
  one contract in instrument currency;
- ``fx`` is the base-currency value of one unit of the instrument's currency;
- rates and yields are annual, continuously compounded, as fractions (0.045 = 4.5 %);
- times are in years; :func:`year_fraction` counts ACT/365;
- DV01 is the currency change for a one basis point (0.0001) parallel move in yield.

Formulas
--------
Cost of carry:      ``F = S · exp((r − q) · T)``
Basis:              ``basis = F_market − F_fair``
Beta hedge:         ``contracts = β · exposure / (F · multiplier · fx)``
DV01 of a position: ``DV01 = exposure · D_mod · 1e-4``
Calendar spread:    ``spread = F_far − F_near``; fair ``F_near · (exp((r − q) · (T_far − T_near)) − 1)``
Roll cost:          ``(spread_market − spread_fair) · multiplier · quantity`` (positive: a cost)
Treasury futures:   ``DV01_fut = DV01_CTD / conversion factor`` (per 100,000 face)
DV01 hedge:         ``contracts = DV01_portfolio / (DV01_fut · fx)``
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from pricing.contracts import round_to_tick

__all__ = [
    "BP",
    "RollCost",
    "basis",
    "calendar_spread_fair_value",
    "beta_exposure_per_contract",
    "beta_hedge_contracts",
    "dv01_exposure_per_contract",
    "dv01_hedge_contracts",
    "dv01_of_exposure",
    "fair_value",
    "next_contract_price",
    "notional_per_contract",
    "roll_cost",
    "round_half_away",
    "round_to_tick",
    "round_toward_zero",
    "treasury_futures_dv01",
    "year_fraction",
]

#: One basis point as a fraction.
BP = 1e-4


def _out(value: np.ndarray) -> float | np.ndarray:
    return float(value) if np.ndim(value) == 0 else value


def year_fraction(start: dt.date, end: dt.date) -> float:
    """ACT/365 year fraction ``(end − start) / 365``; negative when ``end`` is before ``start``."""
    return (end - start).days / 365.0


def fair_value(spot: ArrayLike, rate: ArrayLike, dividend_yield: ArrayLike, years: ArrayLike) -> float | np.ndarray:
    """Cost-of-carry fair value ``F = S · exp((r − q) · T)``.

    ``spot`` in points, ``rate`` and ``dividend_yield`` annual continuously compounded
    fractions, ``years`` the time to expiry in years (ACT/365, see :func:`year_fraction`).
    Returns points.
    """
    s, r, q, t = (np.asarray(x, dtype=float) for x in (spot, rate, dividend_yield, years))
    return _out(s * np.exp((r - q) * t))


def next_contract_price(
    price: float, rate: float | None, dividend_yield: float, expiry: dt.date, next_expiry: dt.date, tick: float | None = None
) -> float:
    """The next contract's price from this one by cost of carry, keeping the basis:
    ``F_next = F · exp((r − q) · (T_next − T))`` with ``T_next − T`` the days between the two
    last trade dates over 365 (ACT/365), rounded to ``tick`` when given. Without a ``rate``
    there is no carry to apply and the next contract is priced like this one.
    """
    if rate is None:
        return float(price)
    raw = float(price) * math.exp((rate - dividend_yield) * year_fraction(expiry, next_expiry))
    return round_to_tick(raw, tick) if tick else raw


def calendar_spread_fair_value(
    near_price: float, rate: float | None, dividend_yield: float, near_expiry: dt.date, far_expiry: dt.date
) -> float:
    """Cost-of-carry fair value of the calendar spread ``F_far − F_near`` in points:
    ``F_near · (exp((r − q) · (T_far − T_near)) − 1)``, ``T`` ACT/365 from the two last trade
    dates. Without a ``rate`` there is no carry and the fair spread is zero."""
    if rate is None:
        return 0.0
    return float(near_price) * math.expm1((rate - dividend_yield) * year_fraction(near_expiry, far_expiry))


@dataclass(frozen=True, slots=True)
class RollCost:
    """What rolling ``quantity`` contracts costs against fair value.

    ``market_spread`` and ``fair_spread`` are ``F_far − F_near`` in points; ``points`` is
    ``market_spread − fair_spread`` (what a long pays per contract over fair; a short earns
    it); ``amount`` ``= points · multiplier · quantity`` in instrument currency (positive: a
    cost to the holder); ``bps`` ``= amount / (|quantity| · F_near · multiplier) · 1e4``.
    """

    market_spread: float
    fair_spread: float
    points: float
    amount: float
    bps: float


def roll_cost(quantity: int, near_price: float, far_price: float, fair_spread: float, multiplier: float) -> RollCost:
    """The :class:`RollCost` of rolling ``quantity`` contracts (signed: + long, − short) from
    ``near_price`` to ``far_price`` (points) against ``fair_spread`` (points)."""
    market = float(far_price) - float(near_price)
    points = market - float(fair_spread)
    amount = points * multiplier * quantity
    notional = abs(quantity) * float(near_price) * multiplier
    return RollCost(market, float(fair_spread), points, amount, amount / notional * 1e4 if notional else 0.0)


def basis(price: ArrayLike, fair: ArrayLike) -> float | np.ndarray:
    """Market price less fair value, in points: positive when the future trades rich."""
    return _out(np.asarray(price, dtype=float) - np.asarray(fair, dtype=float))


def notional_per_contract(price: ArrayLike, multiplier: ArrayLike, fx: ArrayLike = 1.0) -> float | np.ndarray:
    """Notional of one contract in base currency: ``price × multiplier × fx``."""
    return _out(np.asarray(price, dtype=float) * np.asarray(multiplier, dtype=float) * np.asarray(fx, dtype=float))


def beta_exposure_per_contract(
    price: ArrayLike, multiplier: ArrayLike, fx: ArrayLike = 1.0, beta: ArrayLike = 1.0
) -> float | np.ndarray:
    """Sleeve exposure (base currency) one contract stands for: ``price × multiplier × fx / β``.

    A sleeve with beta β to the future's index needs ``β · exposure`` of index notional, so one
    contract hedges ``1/β`` of its notional in sleeve exposure.
    """
    return _out(np.asarray(notional_per_contract(price, multiplier, fx)) / np.asarray(beta, dtype=float))


def beta_hedge_contracts(
    exposure: ArrayLike, beta: ArrayLike, price: ArrayLike, multiplier: ArrayLike, fx: ArrayLike = 1.0
) -> float | np.ndarray:
    """Unrounded contracts for an exposure: ``β · exposure / (price · multiplier · fx)``.

    ``exposure`` in base currency, ``price`` in points of the instrument currency.
    """
    return _out(np.asarray(exposure, dtype=float) / np.asarray(beta_exposure_per_contract(price, multiplier, fx, beta)))


def treasury_futures_dv01(ctd_dv01: ArrayLike, conversion_factor: ArrayLike) -> float | np.ndarray:
    """DV01 of a Treasury future: DV01 of the cheapest-to-deliver per 100,000 face divided by its
    conversion factor (currency per basis point per contract). Divide, never multiply: a
    conversion factor below one (coupon under 6 %) makes the future more rate-sensitive.
    """
    cf = np.asarray(conversion_factor, dtype=float)
    if np.any(cf <= 0):
        raise ValueError("conversion factor must be positive")
    return _out(np.asarray(ctd_dv01, dtype=float) / cf)


def dv01_of_exposure(exposure: ArrayLike, duration: ArrayLike) -> float | np.ndarray:
    """DV01 (currency per bp) of a bond exposure: ``exposure × D_mod × 1e-4``, ``D_mod`` in years."""
    return _out(np.asarray(exposure, dtype=float) * np.asarray(duration, dtype=float) * BP)


def dv01_exposure_per_contract(futures_dv01: ArrayLike, duration: ArrayLike, fx: ArrayLike = 1.0) -> float | np.ndarray:
    """Sleeve exposure (base currency) with the same DV01 as one contract:
    ``DV01_fut × fx / (D_mod × 1e-4)``."""
    return _out(
        np.asarray(futures_dv01, dtype=float) * np.asarray(fx, dtype=float) / (np.asarray(duration, dtype=float) * BP)
    )


def dv01_hedge_contracts(
    exposure: ArrayLike, duration: ArrayLike, futures_dv01: ArrayLike, fx: ArrayLike = 1.0
) -> float | np.ndarray:
    """Unrounded contracts matching the DV01 of ``exposure``: ``exposure·D·1e-4 / (DV01_fut·fx)``."""
    return _out(np.asarray(dv01_of_exposure(exposure, duration)) / (np.asarray(futures_dv01, dtype=float) * np.asarray(fx, dtype=float)))


def round_toward_zero(contracts: float) -> int:
    """Whole contracts, truncated toward zero (never overshoots the exposure)."""
    if not math.isfinite(contracts):
        raise ValueError(f"cannot round {contracts!r} contracts")
    return int(math.trunc(contracts))


def round_half_away(contracts: float) -> int:
    """Nearest whole contract; exact halves go away from zero (2.5 → 3, −2.5 → −3)."""
    if not math.isfinite(contracts):
        raise ValueError(f"cannot round {contracts!r} contracts")
    n = math.floor(abs(contracts) + 0.5)
    return int(n if contracts >= 0 else -n)
