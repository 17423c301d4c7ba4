"""Pre-trade risk checks, run before every child order.

:class:`RiskLimits` is the frozen configuration; :class:`RiskGuard` holds the little state
the checks need (committed positions and their last prices) and answers
:meth:`RiskGuard.check` with a :class:`RiskVerdict`. A child that fails a check is not sent;
the algorithm counts the block and tries again at its next slice (it catches up if the
condition clears). The size limits first shrink a child to what they allow
(:meth:`RiskGuard.clip`), so a child is blocked by them only when not even one contract fits.

Checks (each off when its limit is ``None``):

- ``max_child_quantity``: ``|q| <= limit`` contracts.
- ``max_child_notional``: ``|q| · price · multiplier <= limit`` (instrument currency).
- ``max_participation``: ``|q| <= limit · V_interval`` where ``V_interval`` is the market
  volume (contracts) traded since the parent's previous slice. The first slice of a parent
  and the completion order at its horizon are exempt (no interval volume yet / the
  horizon has been reached).
- ``collar_bps``: no fill worse than ``arrival · (1 ± collar_bps / 10^4)`` (``+`` for a
  buy). The engine enforces it on every child by its limit price (a market order becomes a
  marketable limit at the bound, rounded inward to the tick), catch-up and completion
  included. :meth:`RiskGuard.check` also blocks a child whose far touch is already beyond
  the favourable bound (a buy whose ask is below ``arrival·(1 − c)``): the market has moved
  more than the collar, and the order waits for it to come back rather than chase it. A
  child already working when the market moves that far may still fill better than the
  band (a marketable child queued for the next interval's volume takes the price then);
  that is price improvement, never a price beyond the adverse bound. A child resting on
  the book fills at its own limit.
- ``max_gross_exposure``: ``Σ_i |P_i| · price_i · multiplier_i · fx_i <= limit`` (base
  currency) after the child, where ``P_i`` is instrument ``i``'s position plus the signed
  open quantity of its working children (the worst case if all of them fill).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from execution.orders import ParentOrder


class RiskVerdict(enum.Enum):
    OK = "ok"
    CHILD_QUANTITY = "child quantity above limit"
    CHILD_NOTIONAL = "child notional above limit"
    PARTICIPATION = "participation above limit"
    COLLAR = "price outside the collar around arrival"
    GROSS_EXPOSURE = "gross overlay exposure above limit"
    KILLED = "kill switch engaged"


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """Frozen pre-trade limits; ``None`` switches a check off."""

    max_child_quantity: int | None = None
    max_child_notional: float | None = None
    max_participation: float | None = None
    collar_bps: float | None = None
    max_gross_exposure: float | None = None

    def __post_init__(self) -> None:
        for name in ("max_child_quantity", "max_child_notional", "max_participation", "collar_bps", "max_gross_exposure"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"risk limit {name} must be positive, got {value!r}")


class RiskGuard:
    """Stateful side of the checks: committed positions per instrument and the gross total.

    ``committed[i]`` is the position plus the signed open quantity of working children;
    the engine calls :meth:`commit` when it sends a child and :meth:`release` when open
    quantity goes away without filling (a cancel or a reject). Fills need no call: they
    turn open quantity into position, which leaves ``committed`` unchanged.
    """

    __slots__ = ("limits", "_committed", "_value", "_gross", "killed")

    def __init__(self, limits: RiskLimits, positions: dict[str, int] | None = None) -> None:
        self.limits = limits
        self._committed: dict[str, int] = dict(positions or {})
        self._value: dict[str, float] = {}  # currency value of one contract, last seen
        self._gross = 0.0
        self.killed = False

    @property
    def gross_exposure(self) -> float:
        """``Σ |committed_i| · value_i`` at the last prices seen (base currency)."""
        return self._gross

    def _reprice(self, instrument: str, unit_value: float) -> None:
        old = self._value.get(instrument)
        if old != unit_value:
            pos = abs(self._committed.get(instrument, 0))
            self._gross += pos * (unit_value - (old or 0.0))
            self._value[instrument] = unit_value

    def check(
        self,
        instrument: str,
        quantity: int,
        price: float,
        unit_value: float,
        arrival: float,
        interval_volume: float | None,
    ) -> RiskVerdict:
        """Verdict for a child of signed ``quantity`` at ``price``.

        ``unit_value`` is the base-currency value of one contract at ``price``
        (``price · multiplier · fx``); ``interval_volume`` is ``None`` for exempt slices.
        """
        lim = self.limits
        if self.killed:
            return RiskVerdict.KILLED
        size = quantity if quantity > 0 else -quantity
        if lim.max_child_quantity is not None and size > lim.max_child_quantity:
            return RiskVerdict.CHILD_QUANTITY
        if lim.max_child_notional is not None and size * unit_value > lim.max_child_notional:
            return RiskVerdict.CHILD_NOTIONAL
        if lim.max_participation is not None and interval_volume is not None:
            if size > lim.max_participation * interval_volume:
                return RiskVerdict.PARTICIPATION
        if lim.collar_bps is not None and (arrival - price) * (1 if quantity > 0 else -1) * 1e4 > lim.collar_bps * arrival:
            return RiskVerdict.COLLAR  # beyond the favourable bound (the adverse one is the limit price)
        if lim.max_gross_exposure is not None:
            self._reprice(instrument, unit_value)
            pos = self._committed.get(instrument, 0)
            after = self._gross + (abs(pos + quantity) - abs(pos)) * unit_value
            if after > lim.max_gross_exposure * (1 + 1e-12):
                return RiskVerdict.GROSS_EXPOSURE
        return RiskVerdict.OK

    def clip(self, quantity: int, unit_value: float, interval_volume: float | None) -> int:
        """The largest part of signed ``quantity`` the size limits allow (0 if none).

        Size limits (child quantity, child notional ``|q|·unit_value``, participation
        ``|q| <= limit · interval_volume``) shrink a child instead of blocking it, so that an
        algorithm that wants more than a limit trades the limit and catches up later. The
        collar, gross exposure and the kill switch still block in :meth:`check`.
        """
        lim = self.limits
        size = quantity if quantity > 0 else -quantity
        if lim.max_child_quantity is not None:
            size = min(size, lim.max_child_quantity)
        if lim.max_child_notional is not None and unit_value > 0:
            size = min(size, int(lim.max_child_notional / unit_value * (1 + 1e-12)))
        if lim.max_participation is not None and interval_volume is not None:
            size = min(size, int(lim.max_participation * interval_volume * (1 + 1e-12)))
        return size if quantity > 0 else -size

    def commit(self, instrument: str, quantity: int) -> None:
        """A child of signed ``quantity`` was sent."""
        pos = self._committed.get(instrument, 0)
        value = self._value.get(instrument)
        if value is not None:
            self._gross += (abs(pos + quantity) - abs(pos)) * value
        self._committed[instrument] = pos + quantity

    def release(self, instrument: str, quantity: int) -> None:
        """Signed open ``quantity`` of a child will not fill (cancelled or rejected)."""
        self.commit(instrument, -quantity)


def collar_bound(parent: ParentOrder, collar_bps: float, buy: bool) -> float:
    """The adverse collar bound of ``parent``'s children on one side, rounded inward to the
    tick: ``floor(arrival·(1 + c·1e-4)/tick)·tick`` for a buy, ``ceil(arrival·(1 − c·1e-4)/tick)
    ·tick`` for a sell (c in basis points). No fill may be worse. Kept on the parent for its
    arrival price (the same for all its children)."""
    arrival, tick = parent.trail.arrival, parent.tick
    cached = parent.collar
    if cached is not None and cached[0] == arrival and cached[1] == collar_bps and cached[2] is buy:
        return cached[3]
    if buy:
        bound = round(math.floor(arrival * (1.0 + collar_bps * 1e-4) / tick + 1e-9) * tick, 10)
    else:
        bound = round(math.ceil(arrival * (1.0 - collar_bps * 1e-4) / tick - 1e-9) * tick, 10)
    parent.collar = (arrival, collar_bps, buy, bound)
    return bound
