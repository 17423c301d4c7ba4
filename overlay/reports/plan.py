"""The plan as readable tables (``overlay plan`` without ``--json``), rendered with rich.

Tables fit the terminal: too wide, they are stacked in column groups that repeat the key
column (:func:`overlay.console.print_table`); no figure is ever cut.
"""

from __future__ import annotations

from typing import TextIO

from overlay.console import print_table, table_console

from overlay.plan.types import BandSuggestion, OrderKind, Plan
from overlay.reports.tax import render_tax


def _pct(x: float | None) -> str:
    return "" if x is None else f"{x:.2%}"


def _money(x: float | None) -> str:
    return "" if x is None else f"{x:,.0f}"


def _sleeves(plan: Plan, console) -> None:
    headers = ("sleeve", "target", "weight", "drift", "band", "breach", "exposure", "change", "of which balance",
               "hedged", "residual", "cash flow")
    rows = []
    for s in plan.sleeves:
        breach = s.breach.value if s.breach else ""
        if s.deferred:
            breach += " (deferred)"
        if s.held:
            breach += " (held)"
        rows.append((
            s.name, _pct(s.target), _pct(s.weight), f"{s.drift:+.2%}", f"{s.lower:.2%}-{s.upper:.2%}", breach,
            _money(s.exposure), _money(s.exposure_change), _money(s.balance) if s.balance_stage else "",
            _money(s.hedged), _money(s.residual), _money(s.physical) if s.physical else "",
        ))
    print_table(console, f"Sleeves (money in {plan.currency})", headers, rows, left=("sleeve", "breach"))


def _orders(plan: Plan, console) -> None:
    headers = ("instrument", "contract", "kind", "purpose", "sleeve", "quantity", f"notional {plan.currency}",
               f"exposure {plan.currency}")
    rows = []
    for o in plan.orders:
        qty = f"{o.quantity:+,d}" if o.kind in (OrderKind.FUTURE, OrderKind.SPREAD) else f"{o.quantity:+,.0f}"
        contract = o.local_symbol or o.contract_month or ""
        if o.kind is OrderKind.SPREAD and len(o.legs) == 2:
            contract = f"{o.legs[0].local_symbol or o.legs[0].contract_month}/{o.legs[1].local_symbol or o.legs[1].contract_month}"
        rows.append((
            o.instrument or "-", contract, o.kind.value, o.purpose.value, o.sleeve,
            qty, _money(o.notional), _money(o.exposure),
        ))
    print_table(console, "Orders (+ buy, - sell)", headers, rows,
                left=("instrument", "contract", "kind", "purpose", "sleeve"))


def _roll_lines(plan: Plan) -> list[str]:
    """One line per roll: the spread, its fair value and the roll cost."""
    out = []
    for o in plan.spreads:
        c = o.roll_cost
        if c is None:
            continue
        source = "next contract priced at carry" if o.priced_at == "carry" else "market spread"
        out.append(
            f"Roll {o.instrument}: {o.quantity:+,d} {o.legs[0].local_symbol or o.legs[0].contract_month} -> "
            f"{o.legs[1].local_symbol or o.legs[1].contract_month} at {c.market_spread:+,.4f} points "
            f"(fair {c.fair_spread:+,.4f}, {source}): cost {c.points:+,.4f} points, "
            f"{o.roll_cost_base or 0.0:+,.2f} {plan.currency}, {c.bps:+.2f} bp"
        )
    return out


def _instruments(plan: Plan, console) -> None:
    headers = ("instrument", "ccy", "price", f"per contract {plan.currency}", "fair value", "basis", "mispricing",
               "expiry", "days", "roll date", "roll", "position", "after")
    rows = []
    for key, r in plan.instruments.items():
        if r.kind is OrderKind.FUTURE:
            rows.append((
                key, r.currency, f"{r.price:,.4f}".rstrip("0").rstrip("."), _money(r.notional_per_contract),
                "" if r.fair_value is None else f"{r.fair_value:,.2f}", "" if r.basis is None else f"{r.basis:+,.2f}",
                "" if r.mispricing is None else f"{r.mispricing:+,.2f}",
                r.expiry.isoformat() if r.expiry else "", "" if r.days_to_expiry is None else str(r.days_to_expiry),
                r.roll_date.isoformat() if r.roll_date else "", f"-> {r.roll_to}" if r.roll else "",
                f"{int(r.position):,d}", f"{int(r.position_after):,d}",
            ))
        else:
            rate = "" if r.financing_rate is None else f"finance {r.financing_rate:.2%}"
            if r.financing_accrual is not None:
                rate += f": {r.financing_accrual:,.0f} over {r.financing_days}d"
            rows.append((key, r.currency, "swap", "", rate, "", "", "", "", "", "", _money(r.position),
                         _money(r.position_after)))
    print_table(console, "Instruments", headers, rows, left=("instrument", "ccy", "expiry", "roll date", "roll"))


def _suggestions(suggestions: tuple[BandSuggestion, ...], rule: str, console) -> None:
    headers = ("sleeve", "vol", "round-trip cost", "suggested half-width", "current lower/upper")
    rows = [
        (b.sleeve, _pct(b.vol), f"{b.round_trip_cost * 1e4:.2f} bp", _pct(b.half_width),
         f"{b.current_lower:.2%} / {b.current_upper:.2%}")
        for b in suggestions
    ]
    print_table(console, "Suggested bands", headers, rows, left=("sleeve",), caption=rule)


def render_plan(
    plan: Plan, out: TextIO, suggestions: tuple[BandSuggestion, ...] | None = None, rule: str = "",
    width: int | None = None,
) -> None:
    """Print the plan as tables to ``out``, ``width`` columns wide (default: the terminal's);
    tables wider than that are stacked, never cut."""
    console = table_console(out, width)
    verdict = "REBALANCE" if plan.rebalance else "no rebalance"
    console.print(
        f"[bold]{verdict}[/bold]  as of {plan.as_of.isoformat()}  NAV {plan.nav:,.2f} {plan.currency}"
        f"  investable base {plan.base:,.2f}"
    )
    for reason in plan.reasons:
        console.print(f"  - {reason}")
    _sleeves(plan, console)
    if plan.orders:
        _orders(plan, console)
        for line in _roll_lines(plan):
            console.print(line)
    else:
        console.print("Orders: none")
    if plan.instruments:
        _instruments(plan, console)
    m = plan.margin
    status = "ok" if m.ok else f"SHORTFALL {m.shortfall:,.2f}"
    missing = f"  (no initial_margin for {', '.join(m.missing)})" if m.missing else ""
    console.print(f"Margin: required {m.required:,.2f}  available {m.available:,.2f}  {status}{missing}")
    if plan.vol_scaling_rule:
        console.print(f"Vol scaling: {plan.vol_scaling_rule}")
    for w in plan.warnings:
        console.print(f"[bold]warning[/bold] ({w.code.value}): {w.message}", markup=True, highlight=False)
    if suggestions is not None:
        _suggestions(suggestions, rule, console)
    render_tax(console, plan.tax, plan.compare, plan.currency)
