"""``overlay paper CONFIG [--host 127.0.0.1] [--port 7497] [--client-id N] [--journal FILE]
[--algo twap|vwap|pov|is] [--dry-run] [--allow-live] [--allow-remote] [--new-run]
[--clock wall|broker] [--progress SECONDS] [--json]``.

Plan, then execute the futures orders at an Interactive Brokers paper account (or our
gateway), journaling every parent, child and fill; started again with the same journal it
reconciles with the broker and finishes the plan without sending any quantity twice. A thin
shell over :func:`overlay.paper.paper`.

Safety: the live ports 7496 (TWS) and 4001 (IB Gateway) are refused before any connection,
even with ``--dry-run``, unless ``--allow-live``, and so is an account that is not a paper
account (``D...``) once connected; a non-loopback ``--host`` needs ``--allow-remote``. One
process owns a journal; a resume trades with the journal's client id, host, port and
account (a flag that differs is refused). ``--dry-run`` never connects: it plans from
the config's positions and prices and prints the orders. Kill switch: SIGINT/SIGTERM or a
file ``<journal>.kill`` cancels every working order and stops (exit 1, resumable).

Exit status: 0 the end positions equal start + plan (or a dry run); 1 anything else (an
order left unfilled, the kill switch, no broker, a damaged journal, status ``mismatch``);
2 bad input (nothing sent).
"""

from __future__ import annotations

import argparse

ALGOS = ("twap", "vwap", "pov", "is")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "paper",
        help="plan, then execute at an IB paper account (or our gateway); resumes from its journal",
        description="Plan, then execute the overlay's futures orders at an Interactive Brokers paper account.",
    )
    p.add_argument("config", metavar="CONFIG", help="portfolio config (TOML)")
    p.add_argument("--host", help="TWS / IB Gateway host (default 127.0.0.1; a resume: the journal's)")
    p.add_argument("--port", type=int, help="API port (default 7497, TWS paper; 4002 Gateway paper; a resume: the journal's)")
    p.add_argument("--client-id", type=int, help="API client id (default 1; a resume: the journal's)")
    p.add_argument("--journal", metavar="FILE", help="SQLite journal (default: <config>.journal.sqlite beside the config)")
    p.add_argument("--algo", choices=ALGOS, help="execution algorithm (default: the config's [execution] algo)")
    p.add_argument("--dry-run", action="store_true", help="plan and print the orders; never connect, send nothing")
    p.add_argument("--allow-live", action="store_true",
                   help="permit the live ports 7496 and 4001 and accounts that are not paper accounts (D...)")
    p.add_argument("--allow-remote", action="store_true", help="permit a --host that is not a loopback address")
    p.add_argument("--new-run", action="store_true",
                   help="plan afresh although the broker shows orders of an earlier run of this config today")
    p.add_argument("--clock", choices=("wall", "broker"), default="wall",
                   help="pace slices on the wall clock (default) or on the broker's clock, read through "
                        "reqCurrentTime: against `overlay gateway --speed 10` a rehearsal runs ten times faster")
    p.add_argument("--progress", type=float, default=30.0, metavar="SECONDS",
                   help="a progress line on stderr every SECONDS (default 30; 0: none)")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import logging

    from overlay.paper import PaperOptions, paper, render
    from overlay.paper.clock import ClockKind

    if getattr(args, "verbose", 0) < 2:
        # The IB client library logs every cancel and error code it sees, with the whole order
        # record; the adapter turns each into our own event and report, so keep its log for -vv.
        for name in ("ib_async", "ib_insync"):
            logging.getLogger(name).setLevel(logging.CRITICAL)

    options = PaperOptions(host=args.host, port=args.port, client_id=args.client_id, journal=args.journal,
                           algo=args.algo, dry_run=args.dry_run, allow_live=args.allow_live,
                           allow_remote=args.allow_remote, new_run=args.new_run, clock=ClockKind(args.clock),
                           progress_seconds=args.progress)
    log = logging.getLogger("overlay.paper")
    log.info("%s: %s at %s:%s, client id %s, journal %s", args.config, "dry run" if args.dry_run else "paper run",
             args.host or "(default)", args.port or "(default)", args.client_id if args.client_id is not None else "(default)",
             args.journal or "(beside the config)")
    result = paper(args.config, options)
    log.info("done: %s", "ok" if result.ok else "not ok")
    if args.json:
        from overlay.jsonout import dumps

        print(dumps(result.to_dict(), args.config, sort_keys=True))
    else:
        print(render(result))
    return 0 if result.ok else 1
