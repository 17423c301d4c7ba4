"""Throughput of the execution engine: child orders per wall-clock second.

A trading day (390 one-minute TWAP slices) of N parent orders, each on its own futures
instrument, worked concurrently by :class:`execution.engine.Engine` in virtual time.

- ``sim``: against the built-in simulator (:class:`sim_broker.SimBroker`, market orders,
  default latencies and participation caps). The headline figure: 20 parents.
- ``engine_only``: against an instant in-process broker that acknowledges and fills every
  child at the touch in the same loop iteration, to isolate the engine's own cost.
- ``scaling``: the same measurement for 1, 20 and 100 parents; child orders per second
  must not fall as parents are added.

Wall time covers ``Engine.run`` only (building the simulated market paths is reported as
``setup_seconds``). As ``overlay simulate`` does, the objects that exist before the run
(imported modules, the simulated paths) are moved out of the garbage collector's way with
``gc.freeze()``; ``--no-freeze`` measures without it (with many parents the collector's
full passes over the import heap then cost up to a third of the time). Each figure is the best of ``--repeat`` runs (default 3), the usual
way to filter out noise from other processes on a shared machine.

Usage: ``python benchmarks/execution.py [--repeat N] [--profile]`` prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
import time
from collections import deque

# This script's name shadows the ``execution`` package when run as a file: drop its folder.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

from execution.algos import AlgoParams, MarketParams, build_parent  # noqa: E402
from execution.broker import Execution, MarketSnapshot, OrderAccepted, OrderFilled, OrderRequest  # noqa: E402
from execution.engine import Engine  # noqa: E402
from execution.vtime import run  # noqa: E402

SLICES = 390
FREEZE = True
PARAMS = AlgoParams(horizon_seconds=SLICES * 60.0, slice_seconds=60.0)


class InstantBroker:
    """Acknowledges and fills every order at once at the touch (bid 100, ask 100.25)."""

    def __init__(self, instruments: list[str]) -> None:
        self._queue: deque = deque()
        self._waiter: asyncio.Future | None = None
        self._instruments = instruments
        self._seq = 0

    def submit(self, order: OrderRequest) -> None:
        now = asyncio.get_running_loop().time()
        self._seq += 1
        price = 100.25 if order.quantity > 0 else 100.0
        q = self._queue
        q.append(OrderAccepted(order.order_id, now))
        q.append(Execution(order.order_id, now, str(self._seq), order.quantity, price, 0.0))
        q.append(OrderFilled(order.order_id, now, order.quantity))
        w = self._waiter
        if w is not None and not w.done():
            w.set_result(None)

    def cancel(self, order_id: int) -> None:  # nothing ever rests
        pass

    async def events(self):
        loop = asyncio.get_running_loop()
        q = self._queue
        while True:
            while q:
                yield q.popleft()
            self._waiter = loop.create_future()
            await self._waiter

    async def positions(self) -> dict[str, int]:
        return {}

    async def snapshot(self, instrument: str) -> MarketSnapshot:
        now = asyncio.get_running_loop().time()
        return MarketSnapshot(instrument, now, 100.0, 100.25, 100.0, 1000.0 * now)


def _specs(n: int, prices: dict[str, float], multipliers: dict[str, float], ticks: dict[str, float]):
    specs = []
    for k, name in enumerate(prices):
        market = MarketParams(price=prices[name], multiplier=multipliers[name], tick=ticks[name])
        qty = SLICES * (2 + k % 3) * (1 if k % 2 else -1)
        specs.append(build_parent(k + 1, name, qty, PARAMS, market))
    return specs[:n]


def _measure(n: int, broker_kind: str) -> dict:
    names = [f"B{k:03d}" for k in range(n)]
    t0 = time.perf_counter()
    if broker_kind == "sim":
        from sim_broker.tables import from_tables

        instruments = {name: {"kind": "future", "root": "ES", "price": 5000.0} for name in names}
        market = {name: {"adv": 1_500_000, "daily_vol": 0.012} for name in names}
        broker = from_tables(instruments, market, seed=7)
        start = broker.session_open
        specs = _specs(n, {k: 5000.0 for k in names}, {k: 50.0 for k in names}, {k: 0.25 for k in names})
    else:
        broker = InstantBroker(names)
        start = 0.0
        specs = _specs(n, {k: 100.0 for k in names}, {k: 1.0 for k in names}, {k: 0.25 for k in names})
    setup = time.perf_counter() - t0
    engine = Engine(broker)
    if FREEZE:
        gc.collect()
        gc.freeze()  # what `overlay simulate` does once its market is built

    async def main():
        t = time.perf_counter()
        parents = await engine.run(specs)
        return parents, time.perf_counter() - t

    parents, wall = run(main, start=start)
    if FREEZE:
        gc.unfreeze()
    children = len(engine.children)
    unfilled = sum(p.filled != p.quantity for p in parents)
    return {
        "parents": n,
        "child_orders": children,
        "wall_seconds": round(wall, 4),
        "child_orders_per_second": round(children / wall),
        "setup_seconds": round(setup, 4),
        "unfilled_parents": unfilled,
    }


def _best(n: int, kind: str, repeat: int) -> dict:
    runs = [_measure(n, kind) for _ in range(repeat)]
    return min(runs, key=lambda r: r["wall_seconds"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--profile", action="store_true", help="cProfile the 20-parent simulator run to stderr")
    ap.add_argument("--no-freeze", action="store_true", help="leave the garbage collector as it is")
    args = ap.parse_args(argv)
    global FREEZE
    FREEZE = not args.no_freeze
    if args.profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.enable()
        _measure(20, "sim")
        prof.disable()
        pstats.Stats(prof, stream=sys.stderr).sort_stats("tottime").print_stats(25)
    headline = _best(20, "sim", args.repeat)
    engine_only = _best(20, "instant", args.repeat)
    scaling = {
        "sim": {str(n): _best(n, "sim", args.repeat) if n != 20 else headline for n in (1, 20, 100)},
        "engine_only": {str(n): _best(n, "instant", args.repeat) if n != 20 else engine_only for n in (1, 20, 100)},
    }
    out = {
        "scenario": f"20 parents x {SLICES} one-minute TWAP slices, virtual time, simulator broker",
        "child_orders": headline["child_orders"],
        "wall_seconds": headline["wall_seconds"],
        "child_orders_per_second": headline["child_orders_per_second"],
        "engine_only": engine_only,
        "scaling": {
            kind: {n: {k: r[k] for k in ("child_orders", "wall_seconds", "child_orders_per_second")} for n, r in rows.items()}
            for kind, rows in scaling.items()
        },
        "repeat": args.repeat,
        "gc_freeze": FREEZE,
        "python": sys.version.split()[0],
    }
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
