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

    import logging

    log = logging.getLogger("overlay.cost")
    spec = load_cost_spec(args.spec)
    o = spec.order
    log.info("%s: %s %g at %g, multiplier %g %s, horizon %g days, model %s", args.spec, o.side, o.size, o.price,
             o.multiplier, o.currency or "", o.horizon_days, spec.model_name)
    if args.frontier:
        if spec.ac_params is None:
            raise InputError(args.spec, "model.name", "--frontier needs the almgren-chriss model")
        check_plot_path(args.frontier, "--frontier")
    estimate = estimate_cost(spec)
    log.info("expected cost %.2f (%.2f bps of %.2f notional), std %.2f", estimate.expected_cost, estimate.cost_bps,
             estimate.notional, estimate.std)
    if args.frontier:
        plot_frontier(spec, args.frontier)
        log.info("wrote %s", args.frontier)
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
    from overlay.console import print_table, table_console

    order = spec.order
    ccy = order.currency or "currency"
    what = f" {order.instrument}" if order.instrument else ""
    console = table_console()
    console.print(f"[bold]Pre-trade cost: {estimate.model}[/bold]  {order.side} {abs(order.quantity):,.0f}{what} "
                  f"at {order.price:,.6g} (multiplier {order.multiplier:g}, quantity + buy / - sell)")
    rows = [
        ("quantity", f"{order.quantity:+,.0f}", ""),
        (f"arrival notional ({ccy})", f"{estimate.notional:,.2f}", ""),
        ("horizon (days)", f"{order.horizon_days:g}", ""),
        (f"expected cost ({ccy})", f"{estimate.expected_cost:,.2f}", f"{estimate.cost_bps:.2f}"),
        (f"std of cost ({ccy})", f"{estimate.std:,.2f}", f"{estimate.std / estimate.notional * 1e4:.2f}"),
    ]
    for key, value in estimate.extra_bps.items():
        cost = estimate.extra_cost.get(key.replace("_bps", "_cost"))
        rows.append((f"{key.removesuffix('_bps').replace('_', ' ')} ({ccy})", "" if cost is None else f"{cost:,.2f}",
                     f"{value:.2f}"))
    if estimate.schedule is not None:
        s = estimate.schedule
        rows.append(("risk aversion λ", f"{s.risk_aversion:g}", ""))
        rows.append(("kappa (1/day)", f"{s.kappa:.6g}", ""))
        rows.append(("half-life (days)", "inf" if s.half_life == float("inf") else f"{s.half_life:.4g}", ""))
    print_table(console, "Estimate", ("item", "value", "bps"), rows, left=("item",))
    if estimate.schedule is not None:
        s = estimate.schedule
        trades, holdings = estimate.trades, estimate.holdings
        rows = [(str(k + 1), f"{s.times[k + 1]:.4g}", f"{trades[k]:+,.0f}", f"{holdings[k + 1]:+,.0f}")
                for k in range(len(trades))]
        print_table(console, "Schedule (+ buy, - sell)", ("period", "time (days)", "trade", "still to trade"), rows)


def plot_frontier(spec, path: str) -> None:
    """Efficient frontier (expected cost against std) and trajectories for three ``λ``.

    The three risk aversions are a risk-loving one (the ``λ < 0`` whose trajectory is
    ``sin(θ(T − t))/sin(θT)`` with ``θT = π/3``), the straight line ``λ = 0`` and a
    risk-averse one (the spec's ``λ`` when positive, else the ``λ`` that gives ``κT = 3``).
    The dashed curve is the inefficient risk-loving branch: dearer and riskier. Costs are in
    the order's currency (the model's price-unit costs × multiplier); trajectories carry the
    order's sign.
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

    m = spec.order.multiplier  # the model works in price units: × multiplier is currency
    ccy = spec.order.currency or "currency"
    sign = 1 if spec.order.quantity > 0 else -1
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    left.plot(frontier.std * m, frontier.expected_cost * m, "-", color="tab:blue", label="efficient frontier (λ ≥ 0)")
    if params.sigma > 0 and params.periods > 1:
        theta_t = np.linspace(0.0, 0.6 * np.pi, 30)
        loving = ac.efficient_frontier(params, ac.risk_aversion_for_kappa(params, -theta_t / horizon))
        left.plot(loving.std * m, loving.expected_cost * m, "--", color="tab:gray", label="risk-loving branch (λ < 0)")
    for lam in lams:
        s = ac.optimal_schedule(params, lam)
        label = f"λ = {lam:.3g}"
        left.plot([s.std * m], [s.expected_cost * m], "o", label=label)
        right.plot(s.times, sign * np.asarray(s.holdings), "o-", label=label)
    from matplotlib.ticker import StrMethodFormatter

    for axis in (left.xaxis, left.yaxis, right.yaxis):
        axis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    left.set_xlabel(f"standard deviation of cost ({ccy})")
    left.set_ylabel(f"expected cost ({ccy})")
    left.set_title("Efficient frontier")
    left.legend(fontsize=8)
    left.grid(True, alpha=0.3)
    right.grid(True, alpha=0.3)
    right.axhline(0.0, color="0.5", lw=0.6)
    right.set_xlabel("time (days)")
    right.set_ylabel("quantity still to trade (units, + buy)")
    right.set_title("Optimal trajectories")
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
