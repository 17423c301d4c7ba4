"""``overlay study STUDY``: a market-impact cost study (see the CLI spec).

``overlay study --calibrate TABLE`` instead fits an impact law to a table of fills or
parent-order results (``overlay.studies.calibration``) and prints its parameters with
confidence intervals.
"""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "study",
        help="market-impact cost study",
        description="Run a market-impact cost study: every cell of the study's grid × seeds, "
        "on the simulator (engine = event) or in numpy (engine = vectorized). Writes "
        "results.parquet, summary.json and PNG plots into --out.",
    )
    p.add_argument("study", nargs="?", metavar="STUDY", help="study file (TOML)")
    p.add_argument("--out", metavar="DIR", help="output folder (default: ./<study name>-study, or ./<table>-calibration "
                   "with --calibrate: calibration.json and the fit's plot calibration.png); a re-run skips finished cells")
    p.add_argument("--workers", type=int, default=0, metavar="N", help="run cells on N local processes")
    p.add_argument("--scheduler", metavar="ADDRESS", help="run cells on the Dask cluster at ADDRESS (tcp://host:port)")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument("--json", action="store_true", help="print summary.json's object on stdout")
    g = p.add_argument_group("calibration")
    g.add_argument("--calibrate", metavar="TABLE", help="fit an impact law to fills or parent orders (CSV, Parquet, simulate JSON)")
    g.add_argument("--model", default="power", choices=("power", "square-root", "linear"), help="law to fit (default power)")
    g.add_argument("--adv", type=float, help="average daily volume, when the table has no 'adv' column")
    g.add_argument("--daily-vol", type=float, help="daily volatility, when the table has no 'daily_vol' column")
    g.add_argument("--horizon-minutes", type=float, default=390.0, help="order horizon, when the table has none (default 390)")
    g.add_argument("--arrival", type=float, help="arrival price for a fills table without 'arrival_price'")
    p.set_defaults(func=run)


def _calibrate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from overlay.studies.calibration import calibrate, write_calibration

    fitted = calibrate(
        args.calibrate,
        model=args.model,
        adv=args.adv,
        daily_vol=args.daily_vol,
        horizon_minutes=args.horizon_minutes,
        arrival=args.arrival,
    )
    out = Path(args.out or f"{Path(args.calibrate).stem}-calibration")
    write_calibration(fitted, out)
    result = fitted.as_dict()
    if args.json:
        from overlay.jsonout import dumps

        print(dumps(result, args.calibrate))
        return 0
    print(f"{result['model']} law fitted to {result['orders']} parent orders (rmse {result['rmse_bps']:.2f} bps)")
    pct = f"{result['confidence']:.0%}"
    for name, p in result["parameters"].items():
        print(f"  {name:10s} {p['value']:.6g}  ± {p['se']:.3g}  ({pct}: {p['low']:.6g} … {p['high']:.6g})")
    return 0


def _print_cells(stats: list[dict]) -> None:
    """One row per cell: the grid values that vary (the others on one line above) and the
    shortfall across the cell's paths (bps of arrival notional)."""
    from overlay.console import print_table, table_console

    if not stats:
        return

    def num(x, fmt):
        return "-" if x is None else format(x, fmt)

    grid = (("algo", "algo", "s"), ("impact", "impact", "s"), ("participation", "participation", ".4g"),
            ("horizon_minutes", "horizon min", "g"), ("daily_vol", "daily vol", ".4g"))
    varying = [g for g in grid if len({c[g[0]] for c in stats}) > 1] or [grid[0]]
    fixed = [g for g in grid if g not in varying]
    console = table_console()
    if fixed:
        console.print("; ".join(f"{label} {num(stats[0][key], fmt)}" for key, label, fmt in fixed))
    values = (("paths", "paths", "d"), ("mean_bps", "mean bp", ".2f"), ("std_bps", "std bp", ".2f"),
              ("se_bps", "se bp", ".2f"), ("median_bps", "median bp", ".2f"), ("mean_cost", "mean cost", ",.0f"))
    headers = [label for _, label, _ in varying + list(values)]
    rows = [[num(c[key], fmt) for key, _, fmt in varying + list(values)] for c in stats]
    print_table(console, "Cells (implementation shortfall)", headers, rows,
                left=("algo", "impact"), keys=len(varying))


def run(args: argparse.Namespace) -> int:
    from overlay.errors import InputError

    if args.calibrate:
        return _calibrate(args)
    if not args.study:
        raise InputError(None, "STUDY", "give a study file (or --calibrate TABLE)")
    from overlay.studies.runners import Extras, run_study
    from overlay.studies.spec import load_study

    import logging

    log = logging.getLogger("overlay.study")
    spec = load_study(args.study)
    out = args.out or f"{spec.name}-study"
    log.info("%s: study %s, %s engine, %d paths per cell -> %s (%s)", args.study, spec.name, spec.engine.value,
             spec.seeds, out, f"Dask at {args.scheduler}" if args.scheduler
             else f"{args.workers} processes" if args.workers else "in-process")
    result = run_study(
        spec,
        out,
        workers=args.workers,
        scheduler=args.scheduler,
        extras=Extras.PROGRESS if args.no_plots else Extras.PROGRESS | Extras.PLOTS,
    )
    s = result.summary
    log.info("%d/%d cells done (%d reused, %d failed), %d rows in %.1f s", s["cells_done"], s["cells"],
             s.get("cells_reused", 0), s.get("cells_failed", 0), s["rows"], s["wall_seconds"])
    if args.json:
        from overlay.jsonout import dumps

        print(dumps(s, args.study))
    else:
        fit = s["fit"]
        law = f"shortfall/daily_vol = {fit['coefficient']:.4g} × participation^{fit['exponent']:.3f} (r² {fit['r2']:.3f})" if fit else "no impact law (too few cells with positive mean shortfall)"
        print(f"{s['study']}: {s['cells_done']}/{s['cells']} cells, {s['rows']} rows in {s['wall_seconds']:.1f} s -> {out}")
        print(f"  {law}")
        _print_cells(s.get("cell_stats") or [])
    for item in s["failed"]:
        print(f"overlay study: cell failed: {item['cell']}: {item['error']}", file=sys.stderr)
    return 0 if result.ok else 1
