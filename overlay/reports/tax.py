"""The tax part of a plan as readable tables: lots sold, realised gains and tax, wash sales,
and physical against synthetic (``overlay plan`` without ``--json``), rendered with rich."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from overlay.console import print_table

from overlay.tax.compare import Comparison
from overlay.tax.report import TaxReport


def _m(x: float) -> str:
    return f"{x:,.0f}"


def _lots(report: TaxReport, console: Console) -> None:
    headers = ("lot", "purpose", "sleeve", "account", "acquired", "value", "basis", "gain", "term", "note")
    rows = []
    for p in report.lots_sold:
        s = p.sale
        note = "tax-deferred" if not s.taxable else (f"wash sale: {s.disallowed_loss:,.0f} disallowed" if s.wash_sale else "")
        rows.append((s.lot_id, p.purpose, s.sleeve, s.account, s.acquired.isoformat(), _m(s.value), _m(s.basis),
                     f"{s.gain:+,.0f}", s.term.value, note))
    print_table(console, "Lots sold", headers, rows,
                left=("purpose", "sleeve", "account", "lot", "acquired", "term", "note"))


def _summary(report: TaxReport, currency: str, console: Console) -> None:
    x = report.summary
    rows = [
        ("short-term", _m(x.short_term_gain), _m(x.short_term_loss)),
        ("long-term", _m(x.long_term_gain), _m(x.long_term_loss)),
        ("disallowed (wash sales)", "", _m(x.disallowed_loss)),
        ("estimated tax", _m(x.estimated_tax), ""),
    ]
    print_table(console, f"Realised gains and tax ({currency})", ("", "gains", "losses"), rows, left=("",))


def _compare(c: Comparison, currency: str, console: Console) -> None:
    phys_rows, syn_rows = [], []
    for s in c.sleeves:
        p, y = s.physical, s.synthetic
        gain = sum(x.gain for x in s.lots_sold if x.taxable)
        phys_rows.append((s.sleeve, f"{s.amount:+,.0f}", _m(gain), _m(p.spread), _m(p.impact), _m(p.tax), _m(p.total),
                          f"{c.bps(p.total):.2f}"))
        syn_rows.append((s.sleeve, _m(y.spread), _m(y.impact), _m(y.fees), _m(y.roll), _m(y.financing), _m(y.total),
                         f"{c.bps(y.total):.2f}", _m(y.margin)))
    phys_rows.append(("total", "", "", "", "", "", _m(c.physical_total), f"{c.bps(c.physical_total):.2f}"))
    syn_rows.append(("total", "", "", "", "", "", _m(c.synthetic_total), f"{c.bps(c.synthetic_total):.2f}", ""))
    print_table(console, f"Physical rebalance ({currency}; bps of NAV)",
                ("sleeve", "amount", "gain realised", "spread", "impact", "tax", "total", "bps"), phys_rows,
                left=("sleeve",))
    print_table(console, f"Overlay held {c.horizon_days} days ({currency}; bps of NAV)",
                ("sleeve", "spread", "impact", "fees", "roll", "financing", "total", "bps", "margin held"), syn_rows,
                left=("sleeve",))


def render_tax(console: Console, report: TaxReport | None, comparison: Comparison | None, currency: str) -> None:
    """Print the tax tables of a plan (nothing when it has neither lots nor a comparison);
    narrow terminals get stacked tables, never cut figures (:func:`overlay.console.print_table`)."""
    if report is not None:
        if report.lots_sold:
            _lots(report, console)
        else:
            console.print("Lots sold: none")
        _summary(report, currency, console)
        for note in report.notes:
            console.print(f"  - {escape(note)}")
    if comparison is not None:
        _compare(comparison, currency, console)
        for note in comparison.notes:
            console.print(f"  - {escape(note)}")
