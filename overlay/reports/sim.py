"""Files of ``overlay simulate --out DIR``: ``fills.csv``, ``report.md`` and PNG plots.

- ``fills.csv``: one row per execution, columns ``time, instrument, side, quantity, price,
  currency, fee, exec_id, order_id, parent_id, arrival_price`` (``time`` is ISO 8601 with the date, milliseconds and the UTC
  offset of ``[execution].timezone``, e.g. ``2026-03-11T09:30:00.002-04:00``; ``quantity``
  is unsigned, ``side`` says the direction; ``fee`` in the instrument's currency;
  ``arrival_price`` the parent's arrival mid, so that ``overlay study --calibrate`` can
  group the fills by parent order and contract).
- ``report.md``: the run, then one row per order with the shortfall split into delay,
  spread, impact, timing and fees (bp, fees included everywhere), VWAP slippage,
  participation, and the costs per order in its currency and in total in the base currency.
- ``price_fills.png``: for each contract, the quoted mid the algorithm saw and its fills
  (price in the contract's quote, session clock time).
- ``schedule.png``: for each contract, cumulative contracts filled against the schedule's
  targets (the target dashed on top), session clock time.

matplotlib (Agg backend) is imported only here, only when files are written.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path


def clock(t: float) -> str:
    """Seconds since midnight as ``HH:MM:SS.mmm``."""
    ms = int(round(t * 1000.0))
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def timestamp(day, zone: str, t: float) -> str:
    """Loop time ``t`` (seconds since the session day's local midnight) as ISO 8601 with the
    date and the UTC offset of ``zone`` on that day, to the millisecond."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    ms = int(round(t * 1000.0))
    local = dt.datetime.combine(day, dt.time()) + dt.timedelta(milliseconds=ms)
    return local.replace(tzinfo=ZoneInfo(zone)).isoformat(timespec="milliseconds")


def write_fills(result, path: Path) -> None:
    rows = sorted(((f, p) for p in result.parents for f in p.fills), key=lambda r: (r[0].time, r[0].order_id, r[0].exec_id))
    currency = {o.instrument: o.tca.currency for o in result.orders if o.tca is not None}
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["time", "instrument", "side", "quantity", "price", "currency", "fee", "exec_id", "order_id", "parent_id",
                    "arrival_price"])
        for f, p in rows:
            w.writerow([timestamp(result.day, result.timezone, f.time), f.instrument, "buy" if f.quantity > 0 else "sell",
                        abs(f.quantity), repr(f.price), currency.get(f.instrument, ""), repr(f.fee), f.exec_id, f.order_id,
                        p.parent_id, repr(p.trail.arrival)])


def _f(x, fmt: str = ".2f") -> str:
    return "n/a" if x is None or (isinstance(x, float) and not math.isfinite(x)) else format(x, fmt)


def write_markdown(result, path: Path) -> None:
    lines = [
        "# Execution simulation",
        "",
        f"- algorithm: **{result.algo}**, seed {result.seed}",
        f"- {result.day.isoformat()}, start {clock(result.start)} ({result.timezone}), horizon {result.horizon_seconds / 60:g} minutes, "
        f"{result.virtual_seconds:,.0f} virtual seconds in {result.wall_seconds:.3f} s",
        f"- {result.child_orders} child orders, {result.fills} fills",
        "",
        "## Orders",
        "",
        "| instrument | side | quantity | filled | status | avg price | arrival | interval VWAP "
        "| shortfall bp | delay bp | spread bp | impact bp | timing bp | fees bp | vs VWAP bp | participation | children |",
        "|---|---|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    costs = ["", "## Costs (each order in its currency; the total in the base currency)", "",
             "| instrument | currency | delay | spread | impact | timing | fees | shortfall |", "|---|---|--:|--:|--:|--:|--:|--:|"]
    for o in result.orders:
        t = o.tca
        if t is not None:
            lines.append(
                f"| {o.instrument} | {t.side} | {t.quantity} | {t.filled} | {t.status.value} | {_f(t.avg_price, '.4f')} "
                f"| {_f(t.arrival_price, '.4f')} | {_f(t.interval_vwap, '.4f')} | {_f(t.shortfall_bps)} | {_f(t.delay_bps)} "
                f"| {_f(t.spread_bps)} | {_f(t.impact_bps)} | {_f(t.timing_bps)} | {_f(t.fees_bps)} "
                f"| {_f(t.vwap_slippage_bps)} | {_f(t.participation, '.4%')} | {t.child_orders} |"
            )
            c = t.costs
            costs.append(f"| {o.instrument} | {t.currency} | {c.delay:,.2f} | {c.spread:,.2f} | {c.impact:,.2f} | {c.timing:,.2f} "
                         f"| {c.fees:,.2f} | {c.total:,.2f} |")
        else:
            b = o.booking
            n = abs(b.notional) or 1.0
            lines.append(
                f"| {o.instrument} (swap, OTC) | {'buy' if b.notional > 0 else 'sell'} | {b.notional:,.2f} | {b.notional:,.2f} "
                f"| booked | n/a | n/a | n/a | {b.cost_bps:.2f} | 0.00 | {b.spread_cost / n * 1e4:.2f} | 0.00 | 0.00 "
                f"| {b.fee / n * 1e4:.2f} | n/a | n/a | 0 |"
            )
            cur = result.plan.instruments[o.key].currency if o.key in result.plan.instruments else result.plan.currency
            costs.append(f"| {o.instrument} | {cur} | 0.00 | {b.spread_cost:,.2f} | 0.00 | 0.00 | {b.fee:,.2f} | {b.cost:,.2f} |")
    tot = result.totals()
    c = tot.costs
    costs.append(f"| **total** | {tot.currency} | {c.delay:,.2f} | {c.spread:,.2f} | {c.impact:,.2f} | {c.timing:,.2f} "
                 f"| {c.fees:,.2f} | {c.total:,.2f} |")
    costs.append(f"| **total, bp of {tot.notional:,.0f} {tot.currency} traded** | | {_f(tot.bps(c.delay))} | {_f(tot.bps(c.spread))} "
                 f"| {_f(tot.bps(c.impact))} | {_f(tot.bps(c.timing))} | {_f(tot.bps(c.fees))} | {_f(tot.bps(c.total))} |")
    if c.opportunity:
        costs.append(f"| **left unfilled: opportunity cost** | {tot.currency} | | | | | | {c.opportunity:,.2f} |")
        costs.append(f"| **paper-portfolio shortfall, bp of {tot.paper_notional:,.0f} {tot.currency} ordered** | | | | | | "
                     f"| {_f(tot.paper_bps(c.paper))} |")
    failed = [p for p in result.parents if p.reason]
    notes = ["", "## Notes", ""] + [f"- {p.instrument}: {p.reason}" for p in failed] if failed else []
    lines += costs + notes + [
        "",
        "Implementation shortfall (Perold 1988) against the decision price, fees included: delay is the "
        "market's move from decision to release, spread half the quoted spread at each child, impact "
        "the fill price beyond the unimpacted mid and half the spread (our own footprint), timing the "
        "market's own move while the order was worked (the simulator's unimpacted path), fees the "
        "commissions; delay + spread + impact + timing + fees = shortfall. Basis points are of the "
        "decision notional filled. What was left unfilled costs its opportunity: the mid's move from the "
        "decision price to the order's end, on the unfilled quantity; with it, the paper-portfolio "
        "shortfall (in bp of the decision notional ordered). Plots: `price_fills.png`, `schedule.png`.",
        "",
    ]
    path.write_text("\n".join(lines))


def _clock_axis(ax, result) -> None:
    """Session clock times (HH:MM) on the x axis of the plan's date."""
    import matplotlib.dates as mdates

    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))
    ax.set_xlabel(f"session time, {result.plan.as_of.isoformat()}")
    ax.grid(True, alpha=0.3)


def _when(result, seconds: float):
    """Seconds since midnight as a datetime on the plan's date (for matplotlib)."""
    import datetime as dt

    return dt.datetime.combine(result.plan.as_of, dt.time()) + dt.timedelta(seconds=seconds)


def _quote(result, instrument: str) -> str:
    """The y-axis unit of a contract's prices: its quote in its currency."""
    for o in result.orders:
        if o.instrument == instrument:
            report = result.plan.instruments.get(o.key)
            if report is not None:
                return f"price (quote units, {report.currency} contract)"
    return "price (quote units)"


def write_plots(result, out: Path) -> None:
    """``price_fills.png`` and ``schedule.png``: one panel per contract, clock time on x."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    parents = list(result.parents)
    specs = {s.instrument: s for s in result.specs}
    n = max(1, len(parents))
    fig, axes = plt.subplots(n, 1, figsize=(9, 2.8 * n), squeeze=False)
    for ax, p in zip(axes[:, 0], parents):
        marks = p.trail.marks
        if marks:
            ax.plot([_when(result, t) for t, _ in marks], [m for _, m in marks], lw=0.8, color="0.4",
                    label="quoted mid")
        for side, color in ((1, "tab:green"), (-1, "tab:red")):
            fs = [f for f in p.fills if (f.quantity > 0) == (side > 0)]
            if fs:
                ax.scatter([_when(result, f.time) for f in fs], [f.price for f in fs], s=6, color=color, zorder=3,
                           label="buy fills" if side > 0 else "sell fills")
        ax.set_title(f"{p.instrument}: quoted mid and fills", fontsize=9)
        ax.set_ylabel(_quote(result, p.instrument), fontsize=8)
        _clock_axis(ax, result)
        ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(out / "price_fills.png", dpi=90)
    plt.close(fig)

    fig, axes = plt.subplots(n, 1, figsize=(9, 2.6 * n), squeeze=False)
    for ax, p in zip(axes[:, 0], parents):
        spec = specs[p.instrument]
        times = [_when(result, result.start + t) for t in spec.times] + [_when(result, result.start + spec.horizon)]
        cum, xs, ys = 0, [_when(result, result.start)], [0]
        for f in sorted(p.fills, key=lambda f: f.time):
            cum += abs(f.quantity)
            xs.append(_when(result, f.time))
            ys.append(cum)
        ax.step(xs, ys, where="post", lw=2.2, color="tab:blue", alpha=0.45, label="filled", zorder=2)
        # the target on top, dashed, so it stays visible where the fills track it exactly
        ax.step(times, [abs(c) for c in spec.cumulative] + [abs(spec.quantity)], where="post", lw=1.0,
                color="black", linestyle="--", label="schedule target", zorder=3)
        ax.set_title(f"{p.instrument}: cumulative fills against the schedule", fontsize=9)
        ax.set_ylabel("contracts (cumulative)", fontsize=8)
        _clock_axis(ax, result)
        ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(out / "schedule.png", dpi=90)
    plt.close(fig)


def write_report(result, out: Path) -> None:
    """Write every file of ``--out`` into ``out`` (created if needed)."""
    out.mkdir(parents=True, exist_ok=True)
    write_fills(result, out / "fills.csv")
    write_markdown(result, out / "report.md")
    write_plots(result, out)
