"""Transaction-cost analysis of worked parent orders.

Notation for one parent: side ``s`` (+1 buy, −1 sell), arrival mid ``A`` (when the parent
started), ``M0`` the mid when its first child was priced; for child ``c`` the mid ``m_c``
and far touch ``k_c`` (ask to buy, bid to sell) of the snapshot it was priced from; fills
``(q_f, p_f)`` with ``|q_f|`` contracts; multiplier ``μ`` (currency per point).

Implementation shortfall (currency) is ``Σ_f s·(p_f − A)·|q_f|·μ + fees``, split exactly as

- delay:  ``Σ_f s·(M0 − A)·|q_f|·μ``      the market's move before the first child;
- spread: ``Σ_f s·(k_c − m_c)·|q_f|·μ``   half the quoted spread paid at each child;
- timing: ``Σ_f s·(R(t_f) − R(t0))·|q_f|·μ``  the market's own move while the order was
  worked, when a reference ``R(t)`` (the mid the market would have had without our
  trading, e.g. the simulator's exogenous path) is given; without one it is 0 and the
  move is part of impact;
- impact: ``Σ_f s·[(m_c − M0) + (p_f − k_c)]·|q_f|·μ − timing``  the price moved by our
  trading, plus any price paid through the touch;
- fees:   commissions and exchange fees reported on the executions.

In basis points each part is divided by the arrival notional of the filled quantity,
``A·|filled|·μ``. Interval VWAP is the market VWAP between the parent's start and end,
accumulated from the snapshots the algorithm took (``Σ last·ΔV / Σ ΔV``); slippage
against it is ``s·(avg − VWAP)/VWAP`` in bp (positive = worse than VWAP). Realised
participation is ``|filled| / V`` with ``V`` the market volume the broker reported over the
same interval. Costs are in the instrument's currency.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from execution.orders import ParentOrder, ParentStatus


@dataclass(frozen=True, slots=True)
class CostSplit:
    """Currency costs of one parent (positive = paid)."""

    delay: float
    spread: float
    impact: float
    fees: float
    timing: float = 0.0

    @property
    def total(self) -> float:
        return self.delay + self.spread + self.impact + self.fees + self.timing


@dataclass(frozen=True, slots=True)
class ParentTCA:
    parent_id: int
    instrument: str
    quantity: int
    filled: int
    status: ParentStatus
    avg_price: float
    arrival_price: float
    interval_vwap: float
    shortfall_bps: float
    delay_bps: float
    spread_bps: float
    impact_bps: float
    fees_bps: float
    timing_bps: float
    vwap_slippage_bps: float
    participation: float
    child_orders: int
    costs: CostSplit
    start_time: float
    end_time: float

    @property
    def side(self) -> str:
        return "buy" if self.quantity > 0 else "sell"


def analyse(parent: ParentOrder, reference: Callable[[float], float] | None = None) -> ParentTCA:
    """The transaction-cost analysis of one parent (see the module docstring).

    ``reference(t)``: the unimpacted mid at loop time ``t``, to separate the market's own
    move (timing) from our impact.
    """
    s = parent.side
    trail = parent.trail
    mult = parent.multiplier
    arrival = trail.arrival
    m0 = trail.first_mid if not math.isnan(trail.first_mid) else arrival
    by_id = {c.order_id: c for c in parent.children}
    spread = impact = timing = 0.0
    r0 = None
    if reference is not None and parent.children:
        r0 = reference(min(c.sent_at for c in parent.children))
    for f in parent.fills:
        c = by_id[f.order_id]
        q = abs(f.quantity) * mult
        spread += s * (c.touch - c.mid) * q
        impact += s * ((c.mid - m0) + (f.price - c.touch)) * q
        if r0 is not None:
            timing += s * (reference(f.time) - r0) * q
    filled = abs(parent.filled)
    delay = s * (m0 - arrival) * filled * mult
    costs = CostSplit(delay, spread, impact - timing, parent.fees, timing)
    base = arrival * filled * mult

    def bps(x: float) -> float:
        return x / base * 1e4 if base > 0 else float("nan")

    avg = parent.avg_price
    vwap = trail.interval_vwap
    traded = trail.volume
    return ParentTCA(
        parent.parent_id, parent.instrument, parent.quantity, parent.filled, parent.status, avg, arrival, vwap,
        bps(costs.total), bps(delay), bps(spread), bps(costs.impact), bps(parent.fees), bps(timing),
        s * (avg - vwap) / vwap * 1e4 if filled and vwap > 0 else float("nan"),
        filled / traded if traded > 0 else float("nan"),
        len(parent.children), costs, trail.start_time, trail.end_time,
    )


def _num(x: float, digits: int = 6) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), digits)


def order_json(t: ParentTCA) -> dict:
    """One entry of ``overlay simulate --json``'s ``orders`` list."""
    return {
        "instrument": t.instrument,
        "side": t.side,
        "quantity": t.quantity,
        "filled": t.filled,
        "avg_price": _num(t.avg_price),
        "arrival_price": _num(t.arrival_price),
        "interval_vwap": _num(t.interval_vwap),
        "shortfall_bps": _num(t.shortfall_bps, 4),
        "vwap_slippage_bps": _num(t.vwap_slippage_bps, 4),
        "participation": _num(t.participation),
        "child_orders": t.child_orders,
        "costs": {"spread": _num(t.costs.spread, 2), "impact": _num(t.costs.impact, 2), "fees": _num(t.costs.fees, 2)},
    }
