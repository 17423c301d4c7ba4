"""Unit conversions between the Almgren–Chriss absolute units and the units traders use.

Almgren & Chriss (2000) work in absolute units:

- ``σ`` (``sigma``) in currency per unit per √day (0.95 $/share/√day at 50 $ = 30 % a year);
- ``η`` (``eta``) in currency per unit per (unit/day): temporary impact ``η·rate``;
- ``γ`` (``gamma``) in currency per unit per unit: permanent impact ``γ·quantity``.

Traders speak of daily volatility as a fraction of price, participation as a fraction of
average daily volume (ADV), and costs in basis points of the arrival notional. Every function
is vectorised (numpy broadcasting).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

TRADING_DAYS_PER_YEAR = 252
BPS = 1e4


def _f(x: ArrayLike) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def annual_to_daily_vol(annual_vol: ArrayLike) -> np.ndarray:
    """Daily volatility ``σ_d = σ_a / √252`` (both fractions of price)."""
    return _f(annual_vol) / np.sqrt(TRADING_DAYS_PER_YEAR)


def daily_to_annual_vol(daily_vol: ArrayLike) -> np.ndarray:
    """Annual volatility ``σ_a = σ_d · √252`` (both fractions of price)."""
    return _f(daily_vol) * np.sqrt(TRADING_DAYS_PER_YEAR)


def sigma_abs(daily_vol: ArrayLike, price: ArrayLike) -> np.ndarray:
    """Absolute volatility ``σ = σ_d · P`` in currency per unit per √day."""
    return _f(daily_vol) * _f(price)


def daily_vol_from_sigma(sigma: ArrayLike, price: ArrayLike) -> np.ndarray:
    """Daily volatility as a fraction of price, ``σ_d = σ / P``."""
    return _f(sigma) / _f(price)


def participation(quantity: ArrayLike, horizon_days: ArrayLike, adv: ArrayLike) -> np.ndarray:
    """Trading rate as a fraction of ADV, ``|Q| / (V·T)`` (0.1 = 10 % of the day's volume)."""
    return np.abs(_f(quantity)) / (_f(adv) * _f(horizon_days))


def pov(quantity: ArrayLike, horizon_days: ArrayLike, adv: ArrayLike) -> np.ndarray:
    """Percentage of volume ``|Q| / (|Q| + V·T)``: the order's share of all volume traded."""
    q = np.abs(_f(quantity))
    return q / (q + _f(adv) * _f(horizon_days))


def cost_to_bps(cost: ArrayLike, quantity: ArrayLike, price: ArrayLike) -> np.ndarray:
    """Cost in basis points of arrival notional, ``1e4 · C / (|Q|·P)``."""
    return BPS * _f(cost) / (np.abs(_f(quantity)) * _f(price))


def bps_to_cost(bps: ArrayLike, quantity: ArrayLike, price: ArrayLike) -> np.ndarray:
    """Cost in currency of ``bps`` basis points of the notional ``|Q|·P``."""
    return _f(bps) / BPS * np.abs(_f(quantity)) * _f(price)


def eta_from_bps(bps_per_participation: ArrayLike, price: ArrayLike, adv: ArrayLike) -> np.ndarray:
    """``η`` such that trading at participation ``p`` (rate/ADV) costs ``k·p`` bps per unit.

    ``η · p · V = k · p · 1e-4 · P``  ⇒  ``η = k · 1e-4 · P / V``.
    """
    return _f(bps_per_participation) / BPS * _f(price) / _f(adv)


def eta_to_bps(eta: ArrayLike, price: ArrayLike, adv: ArrayLike) -> np.ndarray:
    """Inverse of :func:`eta_from_bps`: bps of temporary impact per unit of participation."""
    return _f(eta) * _f(adv) / _f(price) * BPS


def impact_coefficient_from_rule(spread: ArrayLike, adv: ArrayLike, fraction_of_adv: ArrayLike) -> np.ndarray:
    """The Almgren–Chriss rule of thumb: one bid-ask ``spread`` of impact per ``fraction_of_adv``.

    ``coef = spread / (fraction_of_adv · V)``. Almgren & Chriss (2000): ``η`` with one spread
    per 1 % of ADV traded per day, ``γ`` with one spread per 10 % of ADV sold, e.g.
    ``η = 0.125 / (0.01 · 5e6) = 2.5e-6`` and ``γ = 0.125 / (0.1 · 5e6) = 2.5e-7``.
    """
    return _f(spread) / (_f(fraction_of_adv) * _f(adv))
