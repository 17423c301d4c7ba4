"""Calendar spreads as one order: the roll of a futures position, both legs at one price.

A calendar spread of one root is the pair ``(near, far)`` of its contracts. Conventions
(the same in the engine, the simulator, the gateway and the IB adapter):

- One spread contract is one contract of each leg. A spread quantity ``q`` (signed int)
  **buys ``q`` far and sells ``q`` near**: ``+q`` rolls a long of ``q`` forward, ``−q`` rolls
  a short. This is IB's combo (``BAG``) with legs ``BUY far`` and ``SELL near``, ratio 1.
- The spread price is in index points, **far minus near**: ``p = p_far − p_near`` (the plan's
  ``F_next − F_held``); it may be negative (a bond future's deferred month trades below the
  front one when carry is positive), so a spread's limit price may be any finite number.
- Every execution of a spread reports both legs, :class:`LegFill` ``(instrument, quantity,
  price)``: ``(near, −q, p_near)`` and ``(far, +q, p_far)`` with ``p_far − p_near = p``. The
  positions of the two contracts therefore move by equal and opposite amounts at every fill;
  a spread is never worked as two independent orders.
- A spread's instrument name is ``"NEAR-FAR"`` (``"ESH6-ESM6"``), :func:`spread_name`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import NamedTuple

__all__ = ["LegFill", "Legs", "leg_fills", "position_change", "spread_name", "split_legs", "validate_legs"]

#: ``(near, far)``: the contract a spread sells and the one it buys (for a positive quantity).
Legs = tuple[str, str]


class LegFill(NamedTuple):
    """One leg of a spread execution: signed ``quantity`` of ``instrument`` at ``price``."""

    instrument: str
    quantity: int
    price: float


def spread_name(near: str, far: str) -> str:
    """The spread's instrument name, ``"NEAR-FAR"``."""
    return f"{near}-{far}"


def validate_legs(legs: Legs) -> Legs:
    """``legs`` as a checked ``(near, far)`` pair; raises ``ValueError`` naming the problem."""
    if not (isinstance(legs, tuple) and len(legs) == 2 and all(isinstance(x, str) and x for x in legs)):
        raise ValueError(f"a calendar spread needs two contracts (near, far), got {legs!r}")
    if legs[0] == legs[1]:
        raise ValueError(f"a calendar spread needs two different contracts, got {legs[0]!r} twice")
    return legs


def split_legs(legs: Legs, quantity: int, price: float, near_price: float, tick: float) -> tuple[LegFill, LegFill]:
    """The two leg fills of ``quantity`` spreads at spread ``price``, the near leg at
    ``near_price`` (rounded to ``tick``) and the far leg at ``near_price + price``: the legs'
    difference is the spread price exactly (to the tick grid)."""
    if not math.isfinite(price) or not math.isfinite(near_price):
        raise ValueError("spread and leg prices must be finite")
    near = _on_tick(near_price, tick)
    far = _on_tick(near + price, tick)
    return LegFill(legs[0], -quantity, near), LegFill(legs[1], quantity, far)


def leg_fills(fills: Iterable) -> dict[str, int]:
    """Signed quantity per contract of a spread parent's fills (``Fill.legs``)."""
    out: dict[str, int] = {}
    for f in fills:
        for leg in f.legs:
            out[leg.instrument] = out.get(leg.instrument, 0) + leg.quantity
    return out


def position_change(parents: Iterable, instrument: str) -> int:
    """Signed change of ``instrument``'s position explained by the executions received:
    an outright parent's ``filled``, and ``−filled`` / ``+filled`` for a spread whose near /
    far leg it is."""
    total = 0
    for p in parents:
        legs = p.legs
        if legs is None:
            if p.instrument == instrument:
                total += p.filled
        elif legs[0] == instrument:
            total -= p.filled
        elif legs[1] == instrument:
            total += p.filled
    return total


def unexplained(parent, parents: Iterable, start: dict[str, int], positions: dict[str, int]) -> int:
    """Signed quantity of ``parent``'s instrument the broker's positions show and no execution
    explains. For a spread: the far leg's surplus (in spread units), and 0 unless the near leg
    shows the opposite change: both legs of a spread fill together or not at all."""
    parents = list(parents)

    def gap(name: str) -> int:
        return positions.get(name, 0) - start.get(name, 0) - position_change(parents, name)

    if parent.legs is None:
        return gap(parent.instrument)
    near, far = gap(parent.legs[0]), gap(parent.legs[1])
    if near * far >= 0:
        return 0
    return far if abs(far) <= abs(near) else -near


def _on_tick(price: float, tick: float) -> float:
    n = math.floor(price / tick + 0.5)
    return round(n * tick, 10) + 0.0
