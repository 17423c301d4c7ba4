"""The tax part of a plan as readable tables: lots sold, realised gains and tax, wash sales,
and physical against synthetic (``overlay plan`` without ``--json``), rendered with rich."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from overlay.tax.compare import Comparison
from overlay.tax.report import TaxReport


def _m(x: float) -> str:
    return f"{x:,.0f}"


def _lots(report: TaxReport) -> Table:
    t = Table(title="Lots sold", title_justify="left")
    for col in ("purpose", "sleeve", "account", "lot", "acquired", "value", "basis", "gain", "term", "note"):
        t.add_column(col, justify="right" if col in ("value", "basis", "gain") else "left")
    for p in report.lots_sold:
        s = p.sale
        note = "tax-deferred" if not s.taxable else (f"wash sale: {s.disallowed_loss:,.0f} disallowed" if s.wash_sale else "")
        t.add_row(p.purpose, s.sleeve, s.account, s.lot_id, s.acquired.isoformat(), _m(s.value), _m(s.basis),
                  f"{s.gain:+,.0f}", s.term.value, note)
    return t


def _summary(report: TaxReport, currency: str) -> Table:
    x = report.summary
    t = Table(title=f"Realised gains and tax ({currency})", title_justify="left")
    for col in ("", "gains", "losses"):
        t.add_column(col, justify="left" if not col else "right")
    t.add_row("short-term", _m(x.short_term_gain), _m(x.short_term_loss))
    t.add_row("long-term", _m(x.long_term_gain), _m(x.long_term_loss))
    t.add_row("disallowed (wash sales)", "", _m(x.disallowed_loss))
    t.add_row("[bold]estimated tax[/bold]", f"[bold]{_m(x.estimated_tax)}[/bold]", "")
    return t


def _compare(c: Comparison, currency: str) -> tuple[Table, Table]:
    phys = Table(title=f"Physical rebalance ({currency}; bps of NAV)", title_justify="left")
    for col in ("sleeve", "amount", "gain realised", "spread", "impact", "tax", "total", "bps"):
        phys.add_column(col, justify="left" if col == "sleeve" else "right")
    syn = Table(title=f"Overlay held {c.horizon_days} days ({currency}; bps of NAV)", title_justify="left")
    for col in ("sleeve", "spread", "impact", "fees", "roll", "financing", "total", "bps", "margin held"):
        syn.add_column(col, justify="left" if col == "sleeve" else "right")
    for s in c.sleeves:
        p, y = s.physical, s.synthetic
        gain = sum(x.gain for x in s.lots_sold if x.taxable)
        phys.add_row(s.sleeve, f"{s.amount:+,.0f}", _m(gain), _m(p.spread), _m(p.impact), _m(p.tax), _m(p.total),
                     f"{c.bps(p.total):.2f}")
        syn.add_row(s.sleeve, _m(y.spread), _m(y.impact), _m(y.fees), _m(y.roll), _m(y.financing), _m(y.total),
                    f"{c.bps(y.total):.2f}", _m(y.margin))
    phys.add_row("[bold]total[/bold]", "", "", "", "", "", f"[bold]{_m(c.physical_total)}[/bold]",
                 f"{c.bps(c.physical_total):.2f}")
    syn.add_row("[bold]total[/bold]", "", "", "", "", "", f"[bold]{_m(c.synthetic_total)}[/bold]",
                f"{c.bps(c.synthetic_total):.2f}", "")
    return phys, syn


def render_tax(console: Console, report: TaxReport | None, comparison: Comparison | None, currency: str) -> None:
    """Print the tax tables of a plan (nothing when it has neither lots nor a comparison)."""
    if report is not None:
        if report.lots_sold:
            console.print(_lots(report))
        else:
            console.print("Lots sold: none")
        console.print(_summary(report, currency))
        for note in report.notes:
            console.print(f"  - {escape(note)}")
    if comparison is not None:
        for table in _compare(comparison, currency):
            console.print(table)
        for note in comparison.notes:
            console.print(f"  - {escape(note)}")
