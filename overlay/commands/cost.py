"""``overlay cost SPEC [--json] [--frontier FILE.png]``: pre-trade cost and optimal schedule.

A thin shell over :func:`overlay.config.cost.load_cost_spec` and
:func:`overlay.config.cost.estimate_cost`; the plot is :func:`plot_frontier`.
"""

from __future__ import annotations

import argparse
import os
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "cost",
        help="pre-trade cost estimate and optimal schedule for one order",
        description="Pre-trade cost estimate and, for almgren-chriss, the optimal schedule of one order.",
    )
    parser.add_argument("spec", metavar="SPEC", help="TOML file with [order] and [model] tables")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.add_argument(
        "--frontier",
        metavar="FILE.png",
        help="draw the efficient frontier and three trajectories (almgren-chriss only)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from overlay.config.cost import estimate_cost, load_cost_spec
    from overlay.errors import InputError

    spec = load_cost_spec(args.spec)
    if args.frontier:
        if spec.ac_params is None:
            raise InputError(args.spec, "model.name", "--frontier needs the almgren-chriss model")
        check_plot_path(args.frontier, "--frontier")
    estimate = estimate_cost(spec)
    if args.frontier:
        plot_frontier(spec, args.frontier)
    if args.json:
        from overlay.jsonout import dumps

        sys.stdout.write(dumps(estimate.to_json(), args.spec) + "\n")
    else:
        _print_table(spec, estimate)
    return 0


def check_plot_path(path: str, option: str) -> None:
    """Refuse, before any work, a plot path matplotlib cannot write: a directory, a missing
    folder, or a file type it does not know (``out.txt``)."""
    from overlay.errors import InputError

    if os.path.isdir(path):
        raise InputError(path, option, "is a directory; give a file name such as frontier.png")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise InputError(path, option, f"directory {folder} does not exist")
    ext = os.path.splitext(path)[1].lstrip(".").lower()
    if ext not in PLOT_FORMATS:
        raise InputError(path, option, f"unknown image type {ext or '(none)'!r}; use one of {', '.join(PLOT_FORMATS)}")


#: Image types matplotlib's Agg backend writes.
PLOT_FORMATS = ("png", "pdf", "svg", "jpg", "jpeg", "eps", "ps", "tif", "tiff", "webp")


def _print_table(spec, estimate) -> None:
    from overlay.console import table_console
    from rich.table import Table

    order = spec.order
    summary = Table(title=f"Pre-trade cost: {estimate.model}", show_header=False)
    summary.add_column("item")
    summary.add_column("value", justify="right")
    summary.add_row("quantity", f"{order.quantity:,.0f}")
    summary.add_row("arrival notional", f"{order.notional:,.2f}")
    summary.add_row("horizon (days)", f"{order.horizon_days:g}")
    summary.add_row("expected cost", f"{estimate.expected_cost:,.2f}")
    summary.add_row("cost (bps)", f"{estimate.cost_bps:.2f}")
    summary.add_row("std of cost", f"{estimate.std:,.2f}")
    for key, value in estimate.extra_bps.items():
        summary.add_row(key.replace("_bps", " (bps)").replace("_", " "), f"{value:.2f}")
    console = table_console()
    if estimate.schedule is not None:
        s = estimate.schedule
        summary.add_row("risk aversion", f"{s.risk_aversion:g}")
        summary.add_row("kappa (1/day)", f"{s.kappa:.6g}")
        summary.add_row("half-life (days)", "inf" if s.half_life == float("inf") else f"{s.half_life:.4g}")
    console.print(summary)
    if estimate.schedule is not None:
        s = estimate.schedule
        table = Table(title="Schedule")
        for name in ("period", "time (days)", "trade", "holdings after"):
            table.add_column(name, justify="right")
        for k in range(len(s.trades)):
            table.add_row(str(k + 1), f"{s.times[k + 1]:.4g}", f"{s.trades[k]:,.0f}", f"{s.holdings[k + 1]:,.0f}")
        console.print(table)


def plot_frontier(spec, path: str) -> None:
    """Efficient frontier (expected cost against std) and trajectories for three ``λ``.

    The three risk aversions are a risk-loving one (the ``λ < 0`` whose trajectory is
    ``sin(θ(T − t))/sin(θT)`` with ``θT = π/3``), the straight line ``λ = 0`` and a
    risk-averse one (the spec's ``λ`` when positive, else the ``λ`` that gives ``κT = 3``).
    The dashed curve is the inefficient risk-loving branch: dearer and riskier.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from pricing import almgren_chriss as ac

    params = spec.ac_params
    lam_pos = spec.risk_aversion
    if lam_pos <= 0:
        lam_pos = float(ac.risk_aversion_for_kappa(params, 3.0 / params.horizon_days))
    horizon = params.horizon_days
    lams = [0.0, lam_pos]
    if params.sigma > 0 and params.periods > 1:
        lams.insert(0, float(ac.risk_aversion_for_kappa(params, -np.pi / (3.0 * horizon))))
    frontier = ac.efficient_frontier(params, ac.frontier_grid(params))

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    left.plot(frontier.std, frontier.expected_cost, "-", color="tab:blue", label="efficient frontier (λ ≥ 0)")
    if params.sigma > 0 and params.periods > 1:
        theta_t = np.linspace(0.0, 0.6 * np.pi, 30)
        loving = ac.efficient_frontier(params, ac.risk_aversion_for_kappa(params, -theta_t / horizon))
        left.plot(loving.std, loving.expected_cost, "--", color="tab:gray", label="risk-loving branch (λ < 0)")
    for lam in lams:
        s = ac.optimal_schedule(params, lam)
        label = f"λ = {lam:.3g}"
        left.plot([s.std], [s.expected_cost], "o", label=label)
        right.plot(s.times, s.holdings, "o-", label=label)
    left.set_xlabel("std of cost")
    left.set_ylabel("expected cost")
    left.set_title("Efficient frontier")
    left.legend(fontsize=8)
    right.set_xlabel("time (days)")
    right.set_ylabel("holdings")
    right.set_title("Optimal trajectories")
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
