"""``overlay backtest CONFIG``: rebalancing policies over history and resampled histories.

A thin shell over :func:`overlay.backtest.run_backtest` (the documented Python function) and
:mod:`overlay.reports.backtest` (tables and files).
"""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "backtest",
        help="rebalancing policies over history and resampled histories, physical against synthetic",
        description="Backtest the config's [backtest] policies over its data (and, with --paths, over "
        "resampled histories): drift, turnover, costs, rolls, taxes and terminal wealth, for the "
        "physical and the synthetic implementation.",
    )
    p.add_argument("config", metavar="CONFIG", help="portfolio config (TOML) with a [backtest] table")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.add_argument("--out", metavar="DIR", help="write results.parquet, history.parquet, summary.json and PNG plots here")
    p.add_argument("--paths", type=int, metavar="N", help="resampled histories (overrides backtest.paths)")
    p.add_argument("--seed", type=int, metavar="S", help="bootstrap seed (overrides backtest.seed)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--workers", type=int, default=0, metavar="N", help="run the resampled paths on N local processes")
    g.add_argument("--scheduler", metavar="ADDRESS", help="run the resampled paths on the Dask cluster at ADDRESS (tcp://host:port)")
    p.add_argument("--no-plots", action="store_true", help="with --out, skip the PNG plots")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from overlay.backtest import run_backtest
    from overlay.reports.backtest import render, write_files

    with _progress() as advance:
        result = run_backtest(
            args.config, paths=args.paths, seed=args.seed, workers=args.workers, scheduler=args.scheduler, progress=advance
        )
    if args.out:
        write_files(result.summary, result.results, result.history, Path(args.out), plots=not args.no_plots)
    if args.json:
        from overlay.jsonout import dumps

        sys.stdout.write(dumps(result.summary, args.config) + "\n")
    else:
        render(result.summary, sys.stdout)
    return 0


class _progress:
    """A rich progress bar on stderr for the resampled paths (drawn once paths start)."""

    def __enter__(self):
        self._bar = None
        self._task = None
        return self.advance

    def advance(self, done: int, total: int) -> None:
        if self._bar is None:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            console = Console(stderr=True)
            self._bar = Progress(TextColumn("paths"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console)
            self._bar.__enter__()
            self._task = self._bar.add_task("paths", total=total)
        self._bar.update(self._task, completed=done)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
