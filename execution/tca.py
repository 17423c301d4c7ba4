"""Transaction-cost analysis of worked parent orders: Perold's implementation shortfall.

Notation for one parent: side ``s`` (+1 buy, −1 sell), multiplier ``μ`` (currency per point);
``D`` the **decision price** (the mid when the order was decided: the plan's market; the
arrival mid when none is given); ``t0`` the **release** (the parent handed to the engine) and
``A`` the mid quoted then (the *arrival price*); for child ``c`` the mid ``m_c`` and far touch
``k_c`` (ask to buy, bid to sell) of the snapshot it was priced from; fills ``(q_f, p_f, t_f)``
with ``|q_f|`` contracts and fee ``φ_f``; ``F = Σ|q_f|`` the filled quantity. ``R(t)`` is an
optional reference mid: the mid the market would have had without our trading (the
simulator's exogenous path). Without it ``R(t0)`` stands for ``A`` and timing is 0.

Implementation shortfall (Perold 1988) of the filled quantity, instrument currency::

    shortfall = Σ_f s·(p_f − D)·|q_f|·μ + Σ_f φ_f
              = delay + spread + impact + timing + fees            (exactly)

- delay:  ``s·(R(t0) − D)·F·μ``     the market's move between decision and release;
- spread: ``Σ_f s·(k_c − m_c)·|q_f|·μ``  half the quoted spread, paid at each child;
- timing: ``Σ_f s·(R(t_f) − R(t0))·|q_f|·μ``  the market's own move while the order was
  worked (0 without a reference: the move is then part of impact);
- impact: ``Σ_f s·(p_f − R(t_f) − (k_c − m_c))·|q_f|·μ``  the price moved by our own
  trading and any price paid through the touch (without a reference, ``R(t_f) = A``);
- fees:   ``Σ_f φ_f``, the commission and exchange fees reported on the executions.

**Fee convention** (the same in TCA, VWAP slippage and the studies): every cost figure is
all-in, fees included. In basis points each part is divided by the decision notional of
the filled quantity, ``D·F·μ`` (for a calendar spread, whose price is a small difference,
the near leg's price stands for ``D`` here: bps of the notional rolled). Interval VWAP is the market VWAP between the parent's
start and end, accumulated from the snapshots the algorithm took (``Σ last·ΔV / Σ ΔV``);
slippage against it is ``1e4·s·(p̄ − VWAP)/VWAP`` with ``p̄ = avg + s·Σφ/(F·μ)`` the average
price with fees (positive = worse than VWAP). Realised participation is ``F / V`` with ``V``
the market volume the broker reported over the same interval.

**Opportunity cost** (Perold 1988: the paper portfolio trades the whole order at ``D``; the
real one leaves ``U = |Q| − F`` contracts undone). With ``E`` the mid when the parent ended
(filled, cancelled or failed: the last mark of its trail)::

    opportunity     = s·(E − D)·U·μ
    paper shortfall = shortfall + opportunity                        (exactly)

``opportunity_bps`` and ``paper_shortfall_bps`` are of the paper notional ``D·|Q|·μ``;
the execution parts above stay in bps of the filled notional. A fully filled order has no
opportunity cost.

Costs are in the instrument's ``currency``; :func:`totals` adds orders up in the base
currency (each cost times the instrument's ``fx``, base currency per unit of it).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from execution.orders import ParentOrder, ParentStatus

PARTS = ("delay", "spread", "impact", "timing", "fees")


@dataclass(frozen=True, slots=True)
class CostSplit:
    """Currency costs of one parent (positive = paid); they add up to :attr:`total`."""

    delay: float
    spread: float
    impact: float
    fees: float
    timing: float = 0.0
    opportunity: float = 0.0  # of the quantity left unfilled (not part of ``total``)

    @property
    def total(self) -> float:
        """The implementation shortfall of the filled quantity, fees included."""
        return self.delay + self.spread + self.impact + self.fees + self.timing

    @property
    def paper(self) -> float:
        """Perold's paper-portfolio shortfall: :attr:`total` plus the opportunity cost."""
        return self.total + self.opportunity


@dataclass(frozen=True, slots=True)
class ParentTCA:
    """The cost analysis of one parent order: prices, the shortfall and its parts in basis
    points of the decision notional filled, and the costs in currency (:class:`CostSplit`)."""

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
    decision_price: float = float("nan")
    currency: str = ""
    fx: float = 1.0
    notional: float = 0.0  # decision notional of the filled quantity, D·F·μ, instrument currency
    end_price: float = float("nan")  # E, the mid when the parent ended
    opportunity_bps: float = float("nan")  # of the paper notional D·|Q|·μ
    paper_shortfall_bps: float = float("nan")  # of the paper notional D·|Q|·μ
    paper_notional: float = 0.0  # D·|Q|·μ, instrument currency

    @property
    def unfilled(self) -> int:
        return abs(self.quantity) - abs(self.filled)

    @property
    def side(self) -> str:
        return "buy" if self.quantity > 0 else "sell"


def analyse(
    parent: ParentOrder,
    reference: Callable[[float], float] | None = None,
    decision_price: float | None = None,
    currency: str = "",
    fx: float = 1.0,
    basis_price: float | None = None,
) -> ParentTCA:
    """The transaction-cost analysis of one parent (see the module docstring).

    ``reference(t)``: the unimpacted mid at loop time ``t``, to separate the market's own
    move (delay, timing) from our impact. ``decision_price``: the mid when the order was
    decided (default: the arrival mid, so that delay is 0). ``currency`` and ``fx`` (base
    currency per unit of ``currency``) are carried for :func:`totals`. ``basis_price``: the
    price whose notional the basis points are of (default ``D``); a calendar spread, whose
    price is a small difference of two prices, passes its near leg's, so that its costs are
    in bps of the contracts rolled.
    """
    s = parent.side
    trail = parent.trail
    mult = parent.multiplier
    arrival = trail.arrival
    r0 = arrival if reference is None or math.isnan(trail.start_time) else reference(trail.start_time)
    d = arrival if decision_price is None or not math.isfinite(decision_price) else decision_price
    by_id = {c.order_id: c for c in parent.children}
    spread = impact = timing = 0.0
    for f in parent.fills:
        c = by_id[f.order_id]
        q = abs(f.quantity) * mult
        half = c.touch - c.mid
        ref = r0 if reference is None else reference(f.time)
        spread += s * half * q
        timing += s * (ref - r0) * q
        impact += s * (f.price - ref - half) * q
    filled = abs(parent.filled)
    delay = s * (r0 - d) * filled * mult + 0.0  # no -0.0
    end = trail.marks[-1][1] if trail.marks else arrival
    unfilled = abs(parent.quantity) - filled
    opportunity = s * (end - d) * unfilled * mult + 0.0 if unfilled else 0.0
    costs = CostSplit(delay, spread, impact, parent.fees, timing, opportunity)
    basis = d if basis_price is None or not math.isfinite(basis_price) else basis_price
    base = abs(basis) * filled * mult
    paper = abs(basis) * abs(parent.quantity) * mult

    def bps(x: float) -> float:
        return x / base * 1e4 if base > 0 else float("nan")

    avg = parent.avg_price
    vwap = trail.interval_vwap
    traded = trail.volume
    if filled and vwap > 0:
        all_in = avg + s * parent.fees / (filled * mult)
        # in bps of the VWAP; a spread's of its near leg's price (see ``basis_price``)
        vwap_bps = s * (all_in - vwap) / (vwap if basis_price is None else abs(basis)) * 1e4
    else:
        vwap_bps = float("nan")
    return ParentTCA(
        parent.parent_id, parent.instrument, parent.quantity, parent.filled, parent.status, avg, arrival, vwap,
        bps(costs.total), bps(delay), bps(spread), bps(impact), bps(parent.fees), bps(timing),
        vwap_bps, filled / traded if traded > 0 else float("nan"),
        len(parent.children), costs, trail.start_time, trail.end_time, d, currency, fx, base,
        end, opportunity / paper * 1e4 if paper > 0 else float("nan"),
        costs.paper / paper * 1e4 if paper > 0 else float("nan"), paper,
    )


@dataclass(frozen=True, slots=True)
class Totals:
    """Costs of many orders in the base currency (each converted with its ``fx``)."""

    currency: str
    notional: float  # Σ decision notional filled · fx
    costs: CostSplit
    paper_notional: float = 0.0  # Σ decision notional ordered · fx

    def bps(self, x: float) -> float:
        return x / self.notional * 1e4 if self.notional > 0 else float("nan")

    def paper_bps(self, x: float) -> float:
        return x / self.paper_notional * 1e4 if self.paper_notional > 0 else float("nan")


def totals(items: Iterable[tuple[CostSplit, float, float] | tuple[CostSplit, float, float, float]], currency: str) -> Totals:
    """Add up ``(costs, notional, fx[, paper notional])`` (instrument currency) in the base
    currency; the paper notional defaults to the filled one."""
    acc = dict.fromkeys((*PARTS, "opportunity"), 0.0)
    notional = paper = 0.0
    for item in items:
        costs, n, fx = item[:3]
        notional += n * fx
        paper += (item[3] if len(item) > 3 else n) * fx
        for k in acc:
            acc[k] += getattr(costs, k) * fx
    return Totals(currency, notional, CostSplit(**acc), paper)


def _num(x: float, digits: int = 6) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), digits) + 0.0  # no -0.0


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
        "currency": t.currency,
        "decision_price": _num(t.decision_price),
        "shortfall_bps": _num(t.shortfall_bps, 4),
        "delay_bps": _num(t.delay_bps, 4),
        "spread_bps": _num(t.spread_bps, 4),
        "impact_bps": _num(t.impact_bps, 4),
        "timing_bps": _num(t.timing_bps, 4),
        "fees_bps": _num(t.fees_bps, 4),
        "vwap_slippage_bps": _num(t.vwap_slippage_bps, 4),
        "participation": _num(t.participation),
        "child_orders": t.child_orders,
        "costs": _costs_json(t.costs),
        "unfilled": t.unfilled,
        "end_price": _num(t.end_price),
        "opportunity_bps": _num(t.opportunity_bps, 4),
        "paper_shortfall_bps": _num(t.paper_shortfall_bps, 4),
    }


def _costs_json(c: CostSplit) -> dict:
    return {"shortfall": _num(c.total, 2), **{k: _num(getattr(c, k), 2) for k in PARTS},
            "opportunity": _num(c.opportunity, 2), "paper_shortfall": _num(c.paper, 2)}


def totals_json(t: Totals) -> dict:
    """The ``totals`` object of ``overlay simulate --json`` (base currency)."""
    c = t.costs
    return {
        "currency": t.currency,
        "notional": _num(t.notional, 2),
        **_costs_json(c),
        "shortfall_bps": _num(t.bps(c.total), 4),
        **{f"{k}_bps": _num(t.bps(getattr(c, k)), 4) for k in PARTS},
        "paper_notional": _num(t.paper_notional, 2),
        "opportunity_bps": _num(t.paper_bps(c.opportunity), 4),
        "paper_shortfall_bps": _num(t.paper_bps(c.paper), 4),
    }
