"""The tax part of a plan: its record and its JSON (``lots_sold``, ``tax``, ``compare``).

Money is rounded to the cent in JSON only; gains and losses in ``tax`` are positive amounts,
gross of netting (see :mod:`overlay.tax.summary`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from overlay.tax.compare import Comparison, PhysicalCost, SyntheticCost
from overlay.tax.lots import LotSale
from overlay.tax.summary import TaxSummary
from overlay.tax.wash import WashSale


@dataclass(frozen=True, slots=True)
class PlanLotSale:
    """A lot sale of the plan and why the plan sells (``"cash_flow"``, ``"harvest"``, ``"rebalance"``)."""

    purpose: str
    sale: LotSale


@dataclass(frozen=True, slots=True)
class TaxReport:
    """What the plan's physical sells realise: the lots, the summary and notes for the reader."""

    lots_sold: tuple[PlanLotSale, ...]
    summary: TaxSummary
    notes: tuple[str, ...] = ()


def _m(x: float) -> float:
    return round(float(x), 2) + 0.0


def sale_dict(s: LotSale, purpose: str | None = None) -> dict[str, Any]:
    d: dict[str, Any] = {
        "sleeve": s.sleeve, "account": s.account, "lot": s.lot_id, "acquired": s.acquired.isoformat(),
        "value": _m(s.value), "basis": _m(s.basis), "gain": _m(s.gain), "term": s.term.value,
        "taxable": s.taxable, "wash_sale": s.wash_sale, "disallowed_loss": _m(s.disallowed_loss),
    }
    if purpose is not None:
        d["purpose"] = purpose
    return d


def wash_dict(w: WashSale) -> dict[str, Any]:
    r = w.replacement
    return {
        "sleeve": w.sale.sleeve, "lot": w.sale.lot_id, "account": w.sale.account, "date": w.sale.date.isoformat(),
        "loss": _m(max(0.0, -w.sale.gain)), "matched": _m(w.matched), "disallowed": _m(w.disallowed),
        "replacement": {"account": r.account, "date": r.date.isoformat(), "value": _m(r.value), "lot": r.lot_id,
                        "basis_added": _m(w.disallowed)},
    }


def summary_dict(t: TaxSummary, notes: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "short_term_gain": _m(t.short_term_gain), "long_term_gain": _m(t.long_term_gain),
        "short_term_loss": _m(t.short_term_loss), "long_term_loss": _m(t.long_term_loss),
        "disallowed_loss": _m(t.disallowed_loss), "estimated_tax": _m(t.estimated_tax),
        "wash_sales": [wash_dict(w) for w in t.wash_sales], "notes": list(notes),
    }


def _physical(p: PhysicalCost, nav_bps) -> dict[str, Any]:
    return {"spread": _m(p.spread), "impact": _m(p.impact), "tax": _m(p.tax), "total": _m(p.total),
            "total_bps": round(nav_bps(p.total), 4)}


def _synthetic(s: SyntheticCost, nav_bps) -> dict[str, Any]:
    return {"spread": _m(s.spread), "impact": _m(s.impact), "fees": _m(s.fees), "roll": _m(s.roll),
            "financing": _m(s.financing), "total": _m(s.total), "total_bps": round(nav_bps(s.total), 4),
            "margin": _m(s.margin)}


def compare_dict(c: Comparison) -> dict[str, Any]:
    """``compare``: per sleeve the physical and synthetic cost items, totals, bps of NAV."""
    sleeves = []
    for s in c.sleeves:
        physical = _physical(s.physical, c.bps)
        physical["realised_gain"] = _m(sum(x.gain for x in s.lots_sold if x.taxable))
        physical["lots_sold"] = [sale_dict(x) for x in s.lots_sold]
        synthetic = _synthetic(s.synthetic, c.bps)
        synthetic["realised_gain"] = 0.0
        sleeves.append({"sleeve": s.sleeve, "amount": _m(s.amount), "physical": physical, "synthetic": synthetic})
    return {
        "sleeves": sleeves,
        "physical_total": _m(c.physical_total), "synthetic_total": _m(c.synthetic_total),
        "physical_total_bps": round(c.bps(c.physical_total), 4),
        "synthetic_total_bps": round(c.bps(c.synthetic_total), 4),
        "horizon_days": c.horizon_days, "notes": list(c.notes),
    }


def tax_json(report: TaxReport | None, comparison: Comparison | None) -> dict[str, Any]:
    """The keys the tax tables add to ``overlay plan --json`` (none without lots or --compare)."""
    out: dict[str, Any] = {}
    if report is not None:
        out["lots_sold"] = [sale_dict(p.sale, p.purpose) for p in report.lots_sold]
        out["tax"] = summary_dict(report.summary, report.notes)
    if comparison is not None:
        out["compare"] = compare_dict(comparison)
    return out
