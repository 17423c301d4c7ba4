"""``overlay plan CONFIG [--json] [--suggest-bands] [--harvest] [--compare [--horizon-days N]]``.

Drift → overlay orders. A thin shell over :func:`overlay.config.load_config`,
:func:`overlay.plan.planner.plan`, :func:`overlay.plan.taxes.add_taxes` (lot sales and taxes when the
config has ``[[lots]]``, loss harvesting, physical against synthetic) and
:func:`overlay.plan.types.plan_to_dict`.
"""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "plan",
        help="measure drift and plan the futures and swap orders that restore the policy",
        description="Measure drift against the policy and plan the futures and swap orders that restore it.",
    )
    p.add_argument("config", metavar="CONFIG", help="portfolio config (TOML)")
    p.add_argument("--json", action="store_true", help="print the plan as one JSON object")
    p.add_argument(
        "--suggest-bands",
        action="store_true",
        help="also propose a band width per sleeve from its volatility and round-trip cost",
    )
    p.add_argument(
        "--harvest",
        action="store_true",
        help="sell taxable lots at a loss beyond [tax] harvest_threshold and keep the exposure with each sleeve's proxy",
    )
    p.add_argument(
        "--compare",
        action="store_true",
        help="price restoring the drift physically (spread, impact, taxes) against the overlay (spread, impact, rolls, financing)",
    )
    p.add_argument(
        "--horizon-days",
        type=int,
        default=91,
        metavar="N",
        help="--compare: days the overlay is held (rolls, swap financing); default 91",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from overlay.config import load_config
    from overlay.jsonout import dumps
    from overlay.plan.suggest import RULE, suggest_bands
    from overlay.plan.planner import plan, plan_to_dict

    from overlay.errors import InputError
    from overlay.plan.taxes import Harvest, add_taxes

    if args.horizon_days <= 0:
        raise InputError(None, "--horizon-days", f"must be a whole number of days > 0, got {args.horizon_days}")
    import logging


    log = logging.getLogger("overlay.plan")
    config = load_config(args.config)
    log.info("%s: %d sleeves, %d instruments, %d positions, as of %s", args.config, len(config.sleeves),
             len(config.instruments), len(config.positions), config.portfolio.as_of)
    result = plan(config)
    result = add_taxes(
        config, result, Harvest.ON if args.harvest else Harvest.OFF, args.horizon_days if args.compare else None
    )
    log.info("NAV %.2f %s, investable base %.2f: %s, %d orders", result.nav, result.currency, result.base,
             "rebalance" if result.rebalance else "no rebalance", len(result.orders))
    for s in result.sleeves:
        log.debug("sleeve %s: weight %.4f target %.4f band %.4f-%.4f breach %s", s.name, s.weight, s.target,
                  s.lower, s.upper, s.breach.value if s.breach else "none")
    for o in result.orders:
        log.debug("order %s %s %s %+g (notional %.2f)", o.kind.value, o.instrument, o.purpose.value, o.quantity, o.notional)
    suggestions = suggest_bands(config) if args.suggest_bands else None
    if args.json:
        payload = plan_to_dict(result, suggestions)
        if suggestions is not None:
            payload["suggested_bands_rule"] = RULE
        sys.stdout.write(dumps(payload, args.config, indent=2) + "\n")
    else:
        from overlay.reports.plan import render_plan

        render_plan(result, sys.stdout, suggestions, RULE)
    return 0
