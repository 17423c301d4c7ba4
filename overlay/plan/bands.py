"""Tolerance bands, triggers, the momentum filter and volatility scaling (pure, vectorised).

All weights are fractions of the investable base; arrays run over sleeves in config order.

Bands
    absolute: ``[t − l, t + u]`` (weight points); relative: ``[t·(1 − l), t·(1 + u)]``.
    Lower edges are floored at 0 and upper edges capped at 1.

Volatility scaling (with ``policy.vol_scaling``), with ``r = vol / reference_vol`` per sleeve:
each sleeve against its own long-run volatility (``reference_vol`` by sleeve name; a sleeve
missing from the table is measured against its own ``vol``, ``r = 1``, and so is a sleeve
without ``vol``):
    band half-widths × ``clip(1 / r, 0.5, 2)`` — bands narrow when volatility rises and widen
    when it falls, at most halving or doubling;
    share of the gap closed ``= clip(r, 0.25, 1)`` — the whole gap at or above the reference
    volatility, only part of it in calm markets (never less than a quarter).
    Rebalancing therefore speeds up when volatility spikes: breaches come sooner and are
    closed in full.

Momentum filter (with ``policy.momentum_filter``): a sleeve above its band with momentum
above ``threshold``, or below its band with momentum below ``−threshold``, is deferred unless
its weight is beyond the hard band (``hard_band`` applied like the band, without vol scaling).
"""

from __future__ import annotations

import calendar as _calendar
import datetime as dt

import numpy as np

from overlay.config.models import BandKind, Calendar, MomentumFilter
from pricing import calendars
from pricing.calendars import BusinessCalendar

#: Limits of the vol-scaling band multiplier and the gap share.
BAND_MULTIPLIER_LIMITS = (0.5, 2.0)
GAP_SHARE_LIMITS = (0.25, 1.0)

#: Weight comparisons tolerate this much floating-point noise.
WEIGHT_EPS = 1e-12


def vol_scaling_rule(references: dict[str, float] | float) -> str:
    """The vol-scaling rule in words, as the plan prints it (``references``: the shared
    reference volatility, or each sleeve's)."""
    lo, hi = BAND_MULTIPLIER_LIMITS
    g = GAP_SHARE_LIMITS[0]
    if isinstance(references, dict):
        refs = ", ".join(f"{k} {v:.2%}" for k, v in references.items()) or "none given"
        head = f"r = vol / reference_vol of each sleeve ({refs}; a sleeve's own vol where none is given)"
    else:
        head = f"r = vol / {references:.2%}"
    return (
        f"{head}; band half-widths x clip(1/r, {lo:g}, {hi:g}); "
        f"share of the gap closed = clip(r, {g:g}, 1): bands narrow and the whole gap is closed "
        f"when volatility is above the reference"
    )


def reference_vols(sleeves, scaling) -> np.ndarray | None:
    """Each sleeve's reference volatility (NaN: unscaled) under ``scaling`` (a
    :class:`~overlay.config.models.VolScaling`, or None: no vol scaling)."""
    if scaling is None:
        return None
    refs = [scaling.reference_for(s.name, s.vol) for s in sleeves]
    return np.array([np.nan if r is None else r for r in refs], dtype=float)


def vol_scale(vols: np.ndarray, reference_vol: float | np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """(band multiplier, gap share) per sleeve; ``vols`` has NaN where a sleeve gives no vol,
    ``reference_vol`` (each sleeve's, or one shared) NaN where a sleeve has none (``r = 1``).

    ``reference_vol`` may be an array broadcasting against ``vols`` (one per portfolio, with
    NaN for a portfolio without vol scaling)."""
    vols = np.asarray(vols, dtype=float)
    if reference_vol is None:
        return np.ones_like(vols), np.ones_like(vols)
    ref = np.asarray(reference_vol, dtype=float)
    if np.isnan(ref).all():
        return np.ones_like(vols), np.ones_like(vols)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(np.isnan(vols) | np.isnan(ref), 1.0, vols / ref)
    mult = np.clip(1.0 / r, *BAND_MULTIPLIER_LIMITS)
    share = np.clip(r, *GAP_SHARE_LIMITS)
    return mult, share


def band_edges(
    targets: np.ndarray,
    lower_width: np.ndarray,
    upper_width: np.ndarray,
    kind: BandKind | np.ndarray,
    multiplier: np.ndarray | float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """(lower, upper) band edges in weight for half-widths ``lower_width``/``upper_width``.

    ``kind`` is a :class:`BandKind`, or a boolean array (True = relative) broadcasting against
    the widths, one per portfolio."""
    lw = lower_width * multiplier
    uw = upper_width * multiplier
    if isinstance(kind, BandKind):
        if kind is BandKind.RELATIVE:
            lower, upper = targets * (1.0 - lw), targets * (1.0 + uw)
        else:
            lower, upper = targets - lw, targets + uw
    else:
        lower = np.where(kind, targets * (1.0 - lw), targets - lw)
        upper = np.where(kind, targets * (1.0 + uw), targets + uw)
    return np.maximum(lower, 0.0), np.minimum(upper, 1.0)


def breaches(weights: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """+1 above the band, −1 below it, 0 inside (edges count as inside)."""
    return np.where(weights > upper + WEIGHT_EPS, 1, np.where(weights < lower - WEIGHT_EPS, -1, 0))


def momentum_deferred(
    weights: np.ndarray,
    targets: np.ndarray,
    breach: np.ndarray,
    momentum: np.ndarray,
    rule: MomentumFilter | tuple[np.ndarray, np.ndarray] | None,
    kind: BandKind | np.ndarray,
) -> np.ndarray:
    """Boolean per sleeve: breach deferred by the momentum filter (NaN momentum never defers).

    ``rule`` is a :class:`MomentumFilter`, or ``(threshold, hard_band)`` arrays broadcasting
    against ``weights`` (one per portfolio; a NaN threshold means no filter)."""
    if rule is None:
        return np.zeros(np.shape(weights), dtype=bool)
    if isinstance(rule, MomentumFilter):
        threshold, hard_band = np.float64(rule.threshold), np.float64(rule.hard_band)
    else:
        threshold, hard_band = (np.asarray(x, dtype=float) for x in rule)
        if np.isnan(threshold).all():
            return np.zeros(np.shape(weights), dtype=bool)
    hard = np.broadcast_to(np.nan_to_num(hard_band), np.shape(weights))
    hard_lower, hard_upper = band_edges(targets, hard, hard, kind)
    mom = np.nan_to_num(momentum, nan=0.0)
    known = ~np.isnan(momentum) & ~np.isnan(threshold)
    up = (breach > 0) & known & (mom > threshold) & (weights <= hard_upper + WEIGHT_EPS)
    down = (breach < 0) & known & (mom < -threshold) & (weights >= hard_lower - WEIGHT_EPS)
    return up | down


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus ``months`` calendar months; a month-end date stays a month-end date."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    last = _calendar.monthrange(year, month)[1]
    if day.day == _calendar.monthrange(day.year, day.month)[1]:
        return dt.date(year, month, last)
    return dt.date(year, month, min(day.day, last))


def next_calendar_date(last_rebalance: dt.date, cal: Calendar, days: BusinessCalendar | None = None) -> dt.date:
    """The next scheduled rebalance after ``last_rebalance``: the last business day of the
    month ``cal.months`` after it (the end of the next period), on ``days`` (default: the
    business days of the portfolio's currency, :func:`pricing.calendars.for_currency`)."""
    due = add_months(last_rebalance, cal.months)
    days = days or calendars.for_currency("USD")
    return days.last_of_month(due.year, due.month)
