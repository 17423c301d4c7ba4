"""The planner's decision: weights, bands, trigger and exposure changes (pure, vectorised).

Steps 3 to 5 of :mod:`overlay.plan.planner`, over any number of portfolios at once: every array
has the sleeves on its last axis and the portfolios (one, or a backtest's resampled paths)
on the axes before it. :func:`overlay.plan.planner.plan` calls it for one portfolio, the policy
backtest for every path of a history on each date, so the backtest is the planner run over
time, not a second implementation of it.

Trigger (per portfolio): ``band`` fires when a sleeve is outside its band and not deferred;
``calendar`` when the calendar date is due; ``band_or_calendar`` on either;
``band_and_calendar`` (a review on calendar dates that trades only on a breach) on both. A
trigger that fires when every sleeve is deferred does not rebalance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from overlay.plan import bands
from overlay.config.models import BandKind, MomentumFilter, RebalanceTo, Trigger


@dataclass(frozen=True, slots=True)
class Rule:
    """A policy as arrays over sleeves: targets, band half-widths, and its switches."""

    targets: np.ndarray
    lower_width: np.ndarray
    upper_width: np.ndarray
    trigger: Trigger
    rebalance_to: RebalanceTo
    band_kind: BandKind
    momentum_filter: MomentumFilter | None = None
    reference_vol: float | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """What the planner decided, per portfolio (leading axes) and sleeve (last axis).

    ``breach`` +1/−1/0; ``deferred`` by the momentum filter; ``share`` of the gap closed;
    ``band_due``/``rebalance`` per portfolio; ``changes`` exposure changes in base currency
    (zero where ``rebalance`` is false).
    """

    weights: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    breach: np.ndarray
    deferred: np.ndarray
    share: np.ndarray
    band_due: np.ndarray
    rebalance: np.ndarray
    changes: np.ndarray


def decide(
    rule: Rule,
    exposures: np.ndarray,
    base: np.ndarray | float,
    momentum: np.ndarray,
    vols: np.ndarray,
    calendar_due: np.ndarray | bool,
) -> Decision:
    """Decide for portfolios with sleeve ``exposures`` (base currency) on investable ``base``.

    ``momentum`` and ``vols`` have NaN where a sleeve has no signal; ``calendar_due`` says
    whether the calendar date has come (ignored by the ``band`` trigger).
    """
    base = np.asarray(base, dtype=float)
    b = base[..., None]
    with np.errstate(divide="ignore", invalid="ignore"):
        weights = np.where(b > 0, exposures / np.where(b > 0, b, 1.0), 0.0)
    multiplier, share = bands.vol_scale(vols, rule.reference_vol)
    lower, upper = bands.band_edges(rule.targets, rule.lower_width, rule.upper_width, rule.band_kind, multiplier)
    breach = bands.breaches(weights, lower, upper)
    deferred = bands.momentum_deferred(weights, rule.targets, breach, momentum, rule.momentum_filter, rule.band_kind)
    band_due = np.any((breach != 0) & ~deferred, axis=-1)
    calendar = np.asarray(calendar_due, dtype=bool)
    fired = {
        Trigger.BAND: band_due,
        Trigger.CALENDAR: calendar & np.ones_like(band_due),
        Trigger.BAND_OR_CALENDAR: band_due | calendar,
        Trigger.BAND_AND_CALENDAR: band_due & calendar,
    }[rule.trigger]
    rebalance = fired & ~np.all(deferred, axis=-1)
    if rebalance.any():
        changes = exposure_changes(exposures, rule.targets, b, (lower, upper), breach, deferred, share, rule.rebalance_to)
        changes = np.where(rebalance[..., None], changes, 0.0)
    else:
        changes = np.zeros_like(weights)
    return Decision(weights, lower, upper, breach, deferred, share, band_due, rebalance, changes)


def exposure_changes(
    exposures: np.ndarray,
    targets: np.ndarray,
    base: np.ndarray,
    edges: tuple[np.ndarray, np.ndarray],
    breach: np.ndarray,
    deferred: np.ndarray,
    share: np.ndarray,
    mode: RebalanceTo,
) -> np.ndarray:
    """Self-financing exposure changes (base currency): to the target (``target``) or the
    nearest band edge (``band_edge``) times the gap share; deferred sleeves do not move; the
    balance ``(base − Σ exposures) − Σ changes`` goes to the absorbing sleeves in proportion to
    their targets (in-band sleeves under ``band_edge``, every sleeve not deferred otherwise or
    when none is inside its band). ``base`` broadcasts against ``exposures`` (shape ``(..., 1)``).
    """
    lower, upper = edges
    if mode is RebalanceTo.TARGET:
        goal = targets * base
        absorbers = ~deferred
    else:
        goal = np.where(breach > 0, upper * base, np.where(breach < 0, lower * base, exposures))
        absorbers = (breach == 0) & ~deferred
        absorbers = np.where(absorbers.any(axis=-1, keepdims=True), absorbers, ~deferred)
    change = np.where(deferred, 0.0, share * (goal - exposures))
    balance = (base[..., 0] - exposures.sum(axis=-1)) - change.sum(axis=-1)
    w = np.where(absorbers, targets, 0.0)
    total = w.sum(axis=-1, keepdims=True)
    count = absorbers.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(total > 0, w / np.where(total > 0, total, 1.0), absorbers / np.maximum(count, 1))
    return change + balance[..., None] * w
