"""``overlay gateway [--host 127.0.0.1] [--port 7497] [--config CONFIG] [--seed N] [--speed X]``.

Serve the simulator over the TWS API so that unmodified ``ib_async``/``ib_insync`` scripts
can trade it. A thin shell over :func:`sim_broker.tws.server.run`. It listens on 127.0.0.1
unless ``--host`` names another address. With ``--config`` the account opens with the
config's overlay positions, the market uses its ``[market.*]`` and ``[faults]`` tables and
the session date is its ``as_of``; without one every registry future is simulated with
default parameters on today's date. ``--speed`` runs the simulated clock faster than real
time (simulated seconds per wall second), at most ``MAX_SPEED`` (1,000).
"""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "gateway",
        help="serve the simulator over the TWS API on loopback",
        description="Serve the simulated market to unmodified Interactive Brokers clients (TWS API).",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1, loopback only)")
    p.add_argument("--port", type=int, default=7497, help="port (default 7497, the TWS paper port; 0 picks a free one)")
    p.add_argument("--config", metavar="CONFIG", help="portfolio config (TOML): positions, markets, faults, date")
    p.add_argument("--seed", type=int, default=0, help="random seed of the simulated market (default 0)")
    p.add_argument("--speed", type=float, default=1.0, help="simulated seconds per wall second (default 1, at most 1000)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import datetime as dt
    import math

    from overlay.errors import InputError
    from sim_broker.tws.server import GatewayConfig
    from sim_broker.tws.server import run as serve

    from sim_broker.tws.server import MAX_SPEED

    if not (math.isfinite(args.speed) and args.speed > 0):
        raise InputError(None, "--speed", f"must be a positive number, got {args.speed!r}")
    if args.speed > MAX_SPEED:
        raise InputError(None, "--speed", f"at most {MAX_SPEED:g} (the fastest the gateway keeps pace with), got {args.speed:g}")
    if not 0 <= args.port <= 65535:
        raise InputError(None, "--port", f"must be in 0..65535, got {args.port}")
    config = None
    if args.config:
        from overlay.config import load_config

        config = load_config(args.config)
    # The CLI is the composition layer: the only place that reads today's date.
    date = None if config is not None else dt.date.today()
    settings = GatewayConfig(seed=args.seed, speed=args.speed, session_date=date)

    import logging

    logging.getLogger("overlay.gateway").info(
        "simulating %s, seed %d, speed %g", args.config or "every registry future", args.seed, args.speed)

    def ready(host: str, port: int) -> None:
        print(f"overlay gateway: listening on {host}:{port} (speed {args.speed:g})", file=sys.stderr, flush=True)

    from sim_broker.params import TableError

    try:
        serve(config, settings, args.host, args.port, ready)
    except TableError as exc:  # the simulator's reading of the config's tables
        raise InputError(exc.file, exc.key, exc.problem) from None
    return 0
