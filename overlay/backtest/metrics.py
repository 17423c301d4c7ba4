"""Backtest metrics, per path (vectorised), as ``overlay backtest`` defines them.

With ``r_t`` the portfolio's periodic return (NAV after costs and taxes), ``ppy`` periods a
year and ``years = (last date − first date) / 365.25``:

- ``annual_return = (NAV_T / NAV_0)^(1 / years) − 1`` (geometric);
- ``annual_vol = std(r) · √ppy`` (sample standard deviation);
- ``sharpe = mean(r − c·Δt) · ppy / (std(r − c·Δt) · √ppy)``, excess over the cash rate;
- ``max_drawdown = min_t (NAV_t / max_{s≤t} NAV_s − 1)`` (negative);
- ``tracking_error = std(r − r_ref) · √ppy`` with ``r_ref = Σ target_i · R_i``, the policy
  portfolio rebalanced to target every period at no cost;
- ``turnover`` = one-way value traded / average NAV / years; ``costs_bps_per_year`` and
  ``tax_drag_bps_per_year`` = total / average NAV / years · 10⁴;
- ``terminal_wealth = NAV_T`` (after the taxes realised so far, not a liquidation value).

A statistic that needs more periods than the run has is NaN here and ``null`` in JSON.
"""

from __future__ import annotations

import numpy as np

from overlay.backtest.engine import Outcome

#: Per-path metrics, in the order of the results table.
METRICS = (
    "annual_return",
    "annual_vol",
    "sharpe",
    "max_drawdown",
    "tracking_error",
    "max_abs_drift",
    "rebalances",
    "rolls",
    "turnover",
    "costs",
    "costs_bps_per_year",
    "taxes",
    "tax_drag_bps_per_year",
    "peak_margin",
    "terminal_wealth",
)


def _std(x: np.ndarray) -> np.ndarray:
    if x.shape[1] < 2:
        return np.full(x.shape[0], np.nan)
    return x.std(axis=1, ddof=1)


def path_metrics(
    outcome: Outcome, returns: np.ndarray, rates: np.ndarray, targets: np.ndarray, years: float, period_years: float
) -> dict[str, np.ndarray]:
    """Every metric of :data:`METRICS` for each path of ``outcome``."""
    nav = outcome.nav
    ppy = 1.0 / period_years
    r = nav[:, 1:] / nav[:, :-1] - 1.0
    ratio = nav[:, -1] / nav[:, 0]
    annual = np.where(ratio > 0, np.abs(ratio) ** (1.0 / years) - 1.0, -1.0) if years > 0 else np.full(len(nav), np.nan)
    excess = r - rates * period_years
    vol = _std(r) * np.sqrt(ppy)
    with np.errstate(divide="ignore", invalid="ignore"):
        sharpe = excess.mean(axis=1) * ppy / (_std(excess) * np.sqrt(ppy))
    drawdown = (nav / np.maximum.accumulate(nav, axis=1) - 1.0).min(axis=1)
    reference = returns @ targets
    te = _std(r - reference) * np.sqrt(ppy)
    avg_nav = nav.mean(axis=1)
    per_year = avg_nav * years if years > 0 else np.full(len(nav), np.nan)
    return {
        "annual_return": annual,
        "annual_vol": vol,
        "sharpe": np.where(np.isfinite(sharpe), sharpe, np.nan),
        "max_drawdown": drawdown,
        "tracking_error": te,
        "max_abs_drift": outcome.max_abs_drift,
        "rebalances": outcome.rebalances,
        "rolls": outcome.rolls,
        "turnover": outcome.traded / per_year,
        "costs": outcome.costs,
        "costs_bps_per_year": outcome.costs / per_year * 1e4,
        "taxes": outcome.taxes,
        "tax_drag_bps_per_year": outcome.taxes / per_year * 1e4,
        "peak_margin": outcome.peak_margin,
        "terminal_wealth": nav[:, -1],
    }


def distribution(values: np.ndarray) -> dict[str, float | int]:
    """``count, mean, std, p05, p50, p95`` of terminal wealth over resampled paths."""
    v = np.asarray(values, dtype=float)
    p05, p50, p95 = np.percentile(v, [5, 50, 95])
    return {
        "count": int(len(v)),
        "mean": float(v.mean()),
        "std": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
        "p05": float(p05),
        "p50": float(p50),
        "p95": float(p95),
    }
