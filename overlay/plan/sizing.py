"""Sizing an exposure change along a sleeve's instrument list, and routing cash flows.

Sizing rule (the spec's): walk the sleeve's ``overlay`` list in order. Every future but the
last rounds its contracts toward zero; the last future rounds to the nearest contract (halves
away from zero); a swap then takes the exact remainder if its notional reaches
``min_notional`` (in the swap's currency). What is left is the residual: reported, never
hidden. So ``Σ order exposures + residual = exposure change``.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


#: Smallest swap booking, swap currency (a cent): below it a remainder is noise.
MIN_SWAP_UNITS = 0.01


class LegKind(enum.Enum):
    FUTURE = "future"
    SWAP = "swap"


@dataclass(frozen=True, slots=True)
class Leg:
    """One instrument of a sleeve's list. ``unit_exposure``: base-currency sleeve exposure of one
    contract (future) or one unit of swap notional (= fx). ``min_units``: a swap's minimum."""

    key: str
    kind: LegKind
    unit_exposure: float
    min_units: float = 0.0


@dataclass(frozen=True, slots=True)
class Fill:
    """A sized leg: ``quantity`` contracts (int) or swap notional (float), ``exposure`` base ccy."""

    key: str
    kind: LegKind
    quantity: int | float
    exposure: float


def size_change(change: float, legs: Sequence[Leg]) -> tuple[list[Fill], float]:
    """Size ``change`` (base currency) along ``legs``; returns (sized legs, residual).

    One portfolio's case of :func:`size_changes`.
    """
    if change == 0.0 or not legs:
        return [], change
    quantities, exposures, residual = size_changes(np.array([change], dtype=float), legs)
    if not np.all(np.isfinite(quantities)):
        raise ValueError(f"cannot size {change!r} along {[leg.key for leg in legs]}")
    fills = [
        Fill(leg.key, leg.kind, int(quantities[0, i]) if leg.kind is LegKind.FUTURE else float(quantities[0, i]), float(exposures[0, i]))
        for i, leg in enumerate(legs)
        if quantities[0, i] != 0.0
    ]
    return fills, float(residual[0])


def route_cash_flow(exposures: np.ndarray, targets: np.ndarray, values: np.ndarray, amount: float) -> np.ndarray:
    """Physical investment per sleeve (base currency) for a net cash flow ``amount``.

    ``targets`` are target exposures after the flow. A contribution fills the most underweight
    sleeves first (largest ``target − exposure``), each up to its target; a withdrawal is taken
    from the most overweight first, each down to its target and never below its physical
    value. Whatever is left after every gap is closed goes pro rata to the targets
    (contribution) or to the remaining physical values (withdrawal). The result sums to
    ``amount``. One portfolio's case of :func:`route_cash_flows`.
    """
    if amount == 0.0 or len(exposures) == 0:
        return np.zeros(len(exposures))
    return route_cash_flows(exposures[None], targets[None], values[None], np.array([amount], dtype=float))[0]


def route_cash_flows(exposures: np.ndarray, targets: np.ndarray, values: np.ndarray, amount: np.ndarray) -> np.ndarray:
    """:func:`route_cash_flow` for many portfolios at once: arrays (P, S) and ``amount`` (P,)."""
    p, n = exposures.shape
    out = np.zeros((p, n))
    if n == 0:
        return out
    amount = np.asarray(amount, dtype=float)
    pos = (amount > 0)[:, None]
    gap = targets - exposures
    room = np.where(pos, np.maximum(gap, 0.0), np.minimum(np.maximum(-gap, 0.0), values))
    order = np.argsort(np.where(pos, -gap, gap), axis=1, kind="stable")
    size = np.abs(amount)
    r = np.take_along_axis(room, order, axis=1)
    before = np.concatenate((np.zeros((p, 1)), np.cumsum(r, axis=1)[:, :-1]), axis=1)
    take = np.clip(size[:, None] - before, 0.0, r)
    np.put_along_axis(out, order, take, axis=1)
    left = size - take.sum(axis=1)
    weights = np.where(pos, targets, values - out)
    total = weights.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(total > 0, weights / np.where(total > 0, total, 1.0), 1.0 / n)
    out += np.where(left > 0, left, 0.0)[:, None] * share
    out = np.where(pos, out, -out)
    return np.where((amount == 0.0)[:, None], 0.0, out)


def size_changes(
    change: np.ndarray, legs: Sequence[Leg], unit_exposures: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`size_change` for many portfolios at once (the same rule, vectorised).

    ``change`` (P,) base currency; ``unit_exposures`` (P, L) per leg, or each leg's own
    ``unit_exposure`` when None. Returns (quantities (P, L): whole contracts for futures,
    notional for a swap; exposures (P, L) base currency; residual (P,)).
    """
    change = np.asarray(change, dtype=float)
    p = change.shape[0]
    units = (
        np.broadcast_to(np.array([leg.unit_exposure for leg in legs], dtype=float), (p, len(legs)))
        if unit_exposures is None
        else np.asarray(unit_exposures, dtype=float)
    )
    quantities = np.zeros((p, len(legs)))
    exposures = np.zeros((p, len(legs)))
    last_future = max((i for i, leg in enumerate(legs) if leg.kind is LegKind.FUTURE), default=-1)
    remaining = change.copy()
    for i, leg in enumerate(legs):
        x = remaining / units[:, i]
        if leg.kind is LegKind.FUTURE:
            q = np.sign(x) * np.floor(np.abs(x) + 0.5) if i == last_future else np.trunc(x)
            quantities[:, i] = q
            exposures[:, i] = q * units[:, i]
            remaining = remaining - exposures[:, i]
        else:
            take = np.abs(x) >= max(leg.min_units, MIN_SWAP_UNITS)
            quantities[:, i] = np.where(take, x, 0.0)
            exposures[:, i] = np.where(take, remaining, 0.0)
            remaining = np.where(take, 0.0, remaining)
    return quantities, exposures, remaining
