"""``overlay simulate CONFIG [--algo twap|vwap|pov|is] [--seed N] [--out DIR] [--json]``.

A thin shell over :func:`overlay.simulate.simulate`. Exit status 1 when a futures order was
left unfilled.
"""

from __future__ import annotations

import argparse
import sys

ALGOS = ("twap", "vwap", "pov", "is")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "simulate",
        help="plan, then execute every order on the simulator in virtual time; TCA report",
        description="Plan the portfolio, work every futures order on the simulated market in virtual "
        "time with the chosen algorithm, book swaps OTC, and report transaction costs.",
    )
    parser.add_argument("config", metavar="CONFIG", help="portfolio config (TOML)")
    parser.add_argument("--algo", choices=ALGOS, help="execution algorithm (overrides [execution].algo)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the simulated market and faults (default 0)")
    parser.add_argument("--out", metavar="DIR", help="also write fills.csv, report.md and PNG plots into DIR")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from overlay.errors import JobFailed
    from overlay.simulate import simulate

    import logging

    log = logging.getLogger("overlay.simulate")
    log.info("%s: planning and simulating (algo %s, seed %d)", args.config, args.algo or "from config", args.seed)
    result = simulate(args.config, algo=args.algo, seed=args.seed, out_dir=args.out)
    log.info("%d parents, %d child orders, %d fills, %.0f virtual s in %.3f s", len(result.parents),
             result.child_orders, result.fills, result.virtual_seconds, result.wall_seconds)
    for p in result.parents:
        log.info("%s: %+d filled of %+d, status %s%s", p.instrument, p.filled, p.quantity, p.status.value,
                 f" ({p.reason})" if p.reason else "")
        for f in p.fills:
            log.debug("fill %s %+d @ %g at %.3f s (%s)", f.instrument, f.quantity, f.price, f.time, f.exec_id)
    if args.out:
        log.info("wrote fills.csv, report.md and plots into %s", args.out)
    if args.json:
        from overlay.jsonout import dumps

        sys.stdout.write(dumps(result.to_json(), args.config) + "\n")
    else:
        _print_tables(result)
    if result.unfilled:
        raise JobFailed("unfilled: " + "; ".join(result.failures))
    return 0


def _print_tables(result) -> None:
    from overlay.console import print_table, table_console

    data = result.to_json()
    console = table_console()
    console.print(
        f"[bold]{data['algo']}[/bold], seed {data['seed']}: {data['child_orders']} child orders, "
        f"{data['fills']} fills, {data['virtual_seconds']:,.0f} virtual s in {data['wall_seconds']:.3f} s"
    )
    headers = ("instrument", "side", "quantity", "filled", "avg price", "arrival", "shortfall bp", "vs VWAP bp",
               "participation", "children", "spread", "impact", "fees")

    def num(x, fmt):
        return "-" if x is None else format(x, fmt)

    rows = []
    for o in data["orders"]:
        c = o.get("costs") or {}
        rows.append((
            o["instrument"], o["side"], num(o.get("quantity"), ",.0f"), num(o.get("filled"), ",.0f"),
            num(o.get("avg_price"), ",.4f"), num(o.get("arrival_price"), ",.4f"), num(o.get("shortfall_bps"), ".2f"),
            num(o.get("vwap_slippage_bps"), ".2f"), num(o.get("participation"), ".3%"), str(o.get("child_orders", "")),
            num(c.get("spread"), ",.2f"), num(c.get("impact"), ",.2f"), num(c.get("fees"), ",.2f"),
        ))
    if not rows:
        console.print("The plan has no order to execute: nothing was sent (see `overlay plan` for why).")
        return
    print_table(console, "Executed orders", headers, rows, left=("instrument", "side"),
                caption="prices in price units; spread, impact, fees in instrument currency")
    t = data.get("totals")
    if t and t.get("shortfall_bps") is not None:
        parts = ", ".join(f"{k} {t[k]:,.2f} ({t[k + '_bps']:.2f} bp)" for k in ("delay", "spread", "impact", "timing", "fees")
                          if t.get(k) is not None and t.get(k + "_bps") is not None)
        console.print(f"Total in {t.get('currency', 'base currency')}: shortfall {t['shortfall']:,.2f} "
                      f"({t['shortfall_bps']:.2f} bp of {t['notional']:,.2f} traded): {parts}")
    if t:
        unfilled = [o for o in data.get("orders", []) if o.get("unfilled")]
        if unfilled and t.get("opportunity") is not None and t.get("paper_shortfall_bps") is not None:
            console.print(f"Left unfilled ({len(unfilled)} orders): opportunity cost {t['opportunity']:,.2f} "
                          f"({t['opportunity_bps']:.2f} bp of {t['paper_notional']:,.2f} ordered); "
                          f"paper-portfolio shortfall {t['paper_shortfall']:,.2f} ({t['paper_shortfall_bps']:.2f} bp)")
