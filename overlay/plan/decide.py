"""The planner's decision: weights, bands, trigger and exposure changes (pure, vectorised).

Steps 3 to 5 of :mod:`overlay.plan.planner`, over any number of portfolios at once: every array
has the sleeves on its last axis and the portfolios (one, or a backtest's resampled paths)
on the axes before it. :func:`overlay.plan.planner.plan` calls it for one portfolio, the policy
backtest for every path of a history on each date, so the backtest is the planner run over
time, not a second implementation of it.

Trigger (per portfolio): ``band`` fires when a sleeve is outside its band, not deferred and
not a held illiquid sleeve;
``calendar`` when the calendar date is due; ``band_or_calendar`` on either;
``band_and_calendar`` (a review on calendar dates that trades only on a breach) on both. A
trigger that fires when every sleeve is deferred (or held) does not rebalance. The balance
of a partial plan goes where :mod:`overlay.plan.balance` says, portfolio by portfolio.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from overlay.plan import bands
from overlay.plan.balance import BalanceAllocation, allocate, allocate_rows
from overlay.config.models import BandKind, MomentumFilter, RebalanceTo, Trigger


#: Trigger codes of :attr:`Rule.trigger`: the planner's triggers, and ``NEVER`` (buy and
#: hold, a portfolio that is never rebalanced; the backtest's baseline).
NEVER = -1
TRIGGER_CODES = {trigger: i for i, trigger in enumerate(Trigger)}


@dataclass(frozen=True, slots=True)
class Rule:
    """Policies as arrays: one per portfolio on the leading axes (or one for all).

    ``targets``, ``lower_width``, ``upper_width`` (..., S); per portfolio (...,):
    ``trigger`` codes (:data:`TRIGGER_CODES` or :data:`NEVER`), ``to_edge`` (rebalance to the
    band edge instead of the target), ``relative`` bands, the momentum filter's
    ``momentum_threshold`` (NaN: no filter) and ``hard_band``; per sleeve (..., S)
    ``reference_vol`` (NaN: unscaled) and ``held`` (an illiquid sleeve the plan holds).
    """

    targets: np.ndarray
    lower_width: np.ndarray
    upper_width: np.ndarray
    trigger: np.ndarray
    to_edge: np.ndarray
    relative: np.ndarray
    momentum_threshold: np.ndarray
    hard_band: np.ndarray
    reference_vol: np.ndarray
    held: np.ndarray

    @classmethod
    def of(
        cls,
        targets: np.ndarray,
        lower_width: np.ndarray,
        upper_width: np.ndarray,
        trigger: Trigger | None,
        rebalance_to: RebalanceTo,
        band_kind: BandKind,
        momentum_filter: MomentumFilter | None = None,
        reference_vol: float | np.ndarray | None = None,
        held: np.ndarray | None = None,
    ) -> Rule:
        """One policy (``trigger=None``: never rebalance); ``reference_vol`` one for every
        sleeve or one per sleeve (:func:`overlay.plan.bands.reference_vols`)."""
        mf = momentum_filter
        n = np.shape(targets)[-1]
        refs = np.full(n, np.nan) if reference_vol is None else np.broadcast_to(np.asarray(reference_vol, dtype=float), (n,)).copy()
        return cls(
            targets=np.asarray(targets, dtype=float),
            lower_width=np.asarray(lower_width, dtype=float),
            upper_width=np.asarray(upper_width, dtype=float),
            trigger=np.array(NEVER if trigger is None else TRIGGER_CODES[trigger]),
            to_edge=np.array(rebalance_to is RebalanceTo.BAND_EDGE),
            relative=np.array(band_kind is BandKind.RELATIVE),
            momentum_threshold=np.array(np.nan if mf is None else mf.threshold),
            hard_band=np.array(np.nan if mf is None else mf.hard_band),
            reference_vol=refs,
            held=np.zeros(n, dtype=bool) if held is None else np.asarray(held, dtype=bool),
        )

    @classmethod
    def stack(cls, rules: list[Rule], repeat: int = 1) -> Rule:
        """Portfolio ``i · repeat + j`` follows ``rules[i]`` (each rule ``repeat`` times)."""
        out = {}
        for name in cls.__slots__:
            parts = [np.broadcast_to(getattr(r, name), (repeat, *getattr(r, name).shape)) for r in rules]
            out[name] = np.concatenate(parts, axis=0)
        return cls(**out)


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
    allocation: BalanceAllocation | None = None  # the balance's placement, for one portfolio


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
    relative = rule.relative[..., None]
    multiplier, share = bands.vol_scale(vols, rule.reference_vol)
    lower, upper = bands.band_edges(rule.targets, rule.lower_width, rule.upper_width, relative, multiplier)
    breach = bands.breaches(weights, lower, upper)
    momentum_rule = (rule.momentum_threshold[..., None], rule.hard_band[..., None])
    deferred = bands.momentum_deferred(weights, rule.targets, breach, momentum, momentum_rule, relative)
    held = rule.held
    band_due = np.any((breach != 0) & ~deferred & ~held, axis=-1)
    calendar = np.asarray(calendar_due, dtype=bool)
    code = rule.trigger
    fired = np.select(
        [
            code == TRIGGER_CODES[Trigger.BAND],
            code == TRIGGER_CODES[Trigger.CALENDAR],
            code == TRIGGER_CODES[Trigger.BAND_OR_CALENDAR],
            code == TRIGGER_CODES[Trigger.BAND_AND_CALENDAR],
        ],
        [band_due, calendar, band_due | calendar, band_due & calendar],
        False,
    )
    rebalance = fired & ~np.all(deferred | held, axis=-1)
    changes = np.zeros_like(weights)
    allocation = None
    if rebalance.ndim == 0:
        if rebalance:
            changes, (allocation,) = exposure_changes(
                exposures[None], rule.targets[None], b[None], (lower[None], upper[None]), breach[None], deferred[None],
                share[None], rule.to_edge[..., None][None], held[None],
            )
            changes = changes[0]
    elif rebalance.any():
        # Only the portfolios that rebalance (rows of a 2-d batch) are worked out.
        flat = rebalance.reshape(-1)
        rows = np.flatnonzero(flat)
        s = exposures.shape[-1]

        def pick(x: np.ndarray, width: int = s) -> np.ndarray:
            return np.broadcast_to(x, (*rebalance.shape, width)).reshape(-1, width)[rows]

        x, t, bb, lo, up, dfr, hd = pick(exposures), pick(rule.targets), pick(b, 1), pick(lower), pick(upper), pick(deferred), pick(held)
        own = own_moves(x, t, bb, (lo, up), pick(breach), dfr, pick(share), pick(rule.to_edge[..., None], 1), hd)
        changes.reshape(len(flat), s)[rows] = own + allocate_rows(x, t, bb[:, 0], (lo, up), own, dfr, hd)
    return Decision(weights, lower, upper, breach, deferred, share, band_due, rebalance, changes, allocation)


def exposure_changes(
    exposures: np.ndarray,
    targets: np.ndarray,
    base: np.ndarray,
    edges: tuple[np.ndarray, np.ndarray],
    breach: np.ndarray,
    deferred: np.ndarray,
    share: np.ndarray,
    to_edge: np.ndarray,
    held: np.ndarray,
) -> tuple[np.ndarray, list[BalanceAllocation]]:
    """Self-financing exposure changes (base currency) for a batch of portfolios (rows):
    each sleeve's own move to the target (``target``) or the nearest band edge (``band_edge``)
    times the gap share — none for deferred and held sleeves — plus its part of the balance
    placed by :func:`overlay.plan.balance.allocate`. ``base`` and ``to_edge`` have shape
    ``(rows, 1)``; returns the changes and each row's allocation."""
    lower, upper = edges
    own = own_moves(exposures, targets, base, edges, breach, deferred, share, to_edge, held)
    out = own.copy()
    allocations = []
    for r in range(exposures.shape[0]):
        alloc = allocate(exposures[r], targets[r], float(base[r, 0]), (lower[r], upper[r]), own[r], deferred[r], held[r])
        out[r] += alloc.taken
        allocations.append(alloc)
    return out, allocations


def own_moves(
    exposures: np.ndarray,
    targets: np.ndarray,
    base: np.ndarray,
    edges: tuple[np.ndarray, np.ndarray],
    breach: np.ndarray,
    deferred: np.ndarray,
    share: np.ndarray,
    to_edge: np.ndarray,
    held: np.ndarray,
) -> np.ndarray:
    """Each sleeve's own move (base currency): ``share · (goal − exposure)``, the goal being
    ``target · base`` or, under ``band_edge``, the edge it breached; zero for deferred and
    held sleeves."""
    lower, upper = edges
    edge_goal = np.where(breach > 0, upper * base, np.where(breach < 0, lower * base, exposures))
    goal = np.where(to_edge, edge_goal, targets * base)
    return np.where(deferred | held, 0.0, share * (goal - exposures))
