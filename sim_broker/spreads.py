"""The simulated calendar-spread market of two futures of one root.

CME Globex and Eurex list each calendar spread as an instrument of its own, with its own
book, and derive *implied* prices between the spread book and the legs' books. The
simulator models the spread the same way, as one market with its own book:

- **Price** (points, far minus near, :mod:`execution.spreads`): the exogenous spread mid is
  implied from the legs' exogenous mids on their common grid,
  ``s(t) = m_far(t) − m_near(t)``; our own spread trades move it through the impact scheme of
  :mod:`sim_broker.matching` (decaying temporary displacement, permanent shift), with quoted
  bid/ask ``spread_ticks`` ticks wide around it. Outright trades in a leg do not move the
  spread (and spread trades do not move the legs): a simplification, since implied pricing
  would link the books.
- **Depth and impact**: the spread trades ``adv_share`` of the near leg's volume
  (``V_s = adv_share · V_near`` per session, bucket by bucket), with the same
  participation cap as any book; its impact is the near leg's impact model evaluated at the
  near leg's price ``P_near``, the spread's ADV ``V_s`` and the spread's daily volatility
  ``σ_s = vol_ratio · σ_near`` (fraction of ``P_near``): e.g. square-root
  ``h = Y · σ_s · P_near · √(rate / V_s)`` points. A calendar spread moves far less than its
  legs (their common shocks cancel), hence ``vol_ratio`` well below 1 by default.
- **Fills**: each spread fill at price ``p`` is booked on both legs as an exchange does with
  a spread trade: the near leg at its current quoted mid (rounded to the tick) ``p_near``,
  the far leg at ``p_near + p``; the fee is one leg fee per contract of each leg.

The defaults (``adv_share`` 0.5, ``vol_ratio`` 0.1, one tick wide) are modelling choices for
a roll week, when the calendar spread is the most traded instrument of the root.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, replace

import numpy as np

from execution.spreads import Legs, spread_name, validate_legs
from sim_broker.market import MarketPath
from sim_broker.matching import InstrumentBook
from sim_broker.params import MarketParams

__all__ = ["SpreadMarkets", "SpreadParams", "spread_market"]


@dataclass(frozen=True, slots=True)
class SpreadParams:
    """The spread market's own parameters (see the module docstring)."""

    adv_share: float = 0.5  # the spread's volume as a share of the near leg's
    vol_ratio: float = 0.1  # the spread's daily volatility as a share of the near leg's
    spread_ticks: int = 1  # quoted bid/ask width, ticks

    def __post_init__(self) -> None:
        if not (math.isfinite(self.adv_share) and self.adv_share > 0):
            raise ValueError(f"spread adv_share must be positive, got {self.adv_share!r}")
        if not (math.isfinite(self.vol_ratio) and self.vol_ratio >= 0):
            raise ValueError(f"spread vol_ratio must be >= 0, got {self.vol_ratio!r}")
        if not (isinstance(self.spread_ticks, int) and self.spread_ticks >= 1):
            raise ValueError(f"spread spread_ticks must be an int >= 1, got {self.spread_ticks!r}")


def spread_market(
    name: str, near: MarketParams, near_path: MarketPath, far: MarketParams, far_path: MarketPath, sp: SpreadParams
) -> tuple[MarketParams, MarketPath]:
    """The spread's :class:`MarketParams` and exogenous :class:`MarketPath` (module docstring).

    Raises ``ValueError`` when the legs are not two contracts of one root on one grid."""
    if near.root != far.root:
        raise ValueError(f"{name}: a calendar spread needs two contracts of one root, got {near.root} and {far.root}")
    if near.tick != far.tick or near.multiplier != far.multiplier:
        raise ValueError(f"{name}: the legs differ in tick or multiplier")
    if near_path.start != far_path.start or near_path.step != far_path.step or near_path.n != far_path.n:
        raise ValueError(f"{name}: the legs' sessions are not on one grid")
    mid = np.asarray(far_path.mid) - np.asarray(near_path.mid)
    volume = sp.adv_share * np.asarray(near_path.volume)
    cum = np.empty(volume.size + 1)
    cum[0] = 0.0
    np.cumsum(volume, out=cum[1:])
    path = MarketPath(near_path.start, near_path.step, mid, volume, cum)
    params = replace(
        near,
        instrument=name,
        adv=sp.adv_share * near.adv,
        daily_vol=sp.vol_ratio * near.daily_vol,
        spread_ticks=sp.spread_ticks,
        fee_per_contract=near.fee_per_contract + far.fee_per_contract,
        bars=None,
        session_start=max(near.session_start, far.session_start),
        session_end=min(near.session_end, far.session_end),
    )
    return params, path


class SpreadMarkets:
    """Mixin of :class:`~sim_broker.broker.SimBroker`: its listed calendar spreads (``_legs``,
    name -> (near, far)), each a book of its own among ``_books``."""

    def add_spread(self, near: str, far: str, params: SpreadParams = SpreadParams()) -> str:
        """List the calendar spread ``near``/``far`` (two contracts of one root) as a market of
        its own (:mod:`sim_broker.spreads`); returns its name, ``"NEAR-FAR"`` (listing it again
        does nothing). Raises ``ValueError`` for legs that cannot make a spread."""
        validate_legs((near, far))
        for leg in (near, far):
            if leg not in self._books:
                raise ValueError(f"calendar spread leg {leg!r} is not an instrument of the simulator")
        name = spread_name(near, far)
        if name not in self._legs:
            a, b = self._books[near], self._books[far]
            sp, path = spread_market(name, a.params, a.path, b.params, b.path, params)
            book = self._books[name] = InstrumentBook(sp, path, self.sim)
            if self._bound:  # listed while running: its session ends like the others
                self._loop.call_at(max(self._loop.time(), book.end), self._close_session, book)
            self._waiting[name] = deque()
            self._refill_at[name] = -1.0
            self._legs[name] = (near, far)
        return name

    def legs(self, instrument: str) -> Legs | None:
        """``(near, far)`` of a listed calendar spread, else None."""
        return self._legs.get(instrument)
