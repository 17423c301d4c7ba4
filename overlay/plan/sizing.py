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

from pricing.futures import round_half_away, round_toward_zero

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
    """Size ``change`` (base currency) along ``legs``; returns (sized legs, residual)."""
    fills: list[Fill] = []
    if change == 0.0 or not legs:
        return fills, change
    last_future = max((i for i, leg in enumerate(legs) if leg.kind is LegKind.FUTURE), default=-1)
    remaining = change
    for i, leg in enumerate(legs):
        if leg.kind is LegKind.FUTURE:
            x = remaining / leg.unit_exposure
            q = round_half_away(x) if i == last_future else round_toward_zero(x)
            if q:
                exposure = q * leg.unit_exposure
                fills.append(Fill(leg.key, leg.kind, q, exposure))
                remaining -= exposure
        else:
            units = remaining / leg.unit_exposure
            if abs(units) >= max(leg.min_units, MIN_SWAP_UNITS):
                fills.append(Fill(leg.key, leg.kind, units, remaining))
                remaining = 0.0
    return fills, remaining


def route_cash_flow(exposures: np.ndarray, targets: np.ndarray, values: np.ndarray, amount: float) -> np.ndarray:
    """Physical investment per sleeve (base currency) for a net cash flow ``amount``.

    ``targets`` are target exposures after the flow. A contribution fills the most underweight
    sleeves first (largest ``target − exposure``), each up to its target; a withdrawal is taken
    from the most overweight first, each down to its target and never below its physical
    value. Whatever is left after every gap is closed goes pro rata to the targets
    (contribution) or to the remaining physical values (withdrawal). The result sums to
    ``amount``.
    """
    n = len(exposures)
    out = np.zeros(n)
    if amount == 0.0 or n == 0:
        return out
    gap = targets - exposures
    if amount > 0:
        room = np.maximum(gap, 0.0)
        order = np.argsort(-gap, kind="stable")
        size = amount
    else:
        room = np.minimum(np.maximum(-gap, 0.0), values)
        order = np.argsort(gap, kind="stable")
        size = -amount
    r = room[order]
    before = np.concatenate(([0.0], np.cumsum(r)[:-1]))
    take = np.clip(size - before, 0.0, r)
    out[order] = take
    left = size - take.sum()
    if left > 0:
        weights = targets.copy() if amount > 0 else values - out
        total = weights.sum()
        out += left * (weights / total if total > 0 else np.full(n, 1.0 / n))
    return out if amount > 0 else -out
