"""``overlay plan CONFIG [--json] [--suggest-bands]``: drift → overlay orders.

A thin shell over :func:`overlay.config.load_config`, :func:`overlay.plan.planner.plan` and
:func:`overlay.plan.planner.plan_to_dict`.
"""

from __future__ import annotations

import argparse
import json
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
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from overlay.config import load_config
    from overlay.plan.suggest import RULE, suggest_bands
    from overlay.plan.planner import plan, plan_to_dict

    config = load_config(args.config)
    result = plan(config)
    suggestions = suggest_bands(config) if args.suggest_bands else None
    if args.json:
        payload = plan_to_dict(result, suggestions)
        if suggestions is not None:
            payload["suggested_bands_rule"] = RULE
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
    else:
        from overlay.reports.plan import render_plan

        render_plan(result, sys.stdout, suggestions, RULE)
    return 0
