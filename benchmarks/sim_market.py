"""A simulated trading session: market generation plus order flow, in virtual time.

Builds a 6.5-hour session of five futures (ES, NQ, RTY, ZN, FESX) at 1-second resolution
with the square-root impact model, then runs it on the virtual-time loop: every instrument
works a TWAP of one market child every ``--child-seconds`` seconds while a watcher takes a
snapshot of every instrument each minute. A second part measures raw broker throughput:
``--burst`` one-lot orders submitted and consumed to their terminal events.

Prints one JSON object: ``wall_seconds`` (build plus session), ``build_seconds``,
``session_seconds``, ``child_orders``, ``fills``, ``virtual_seconds``,
``broker_orders_per_second`` and ``peak_rss_mb`` (peak resident memory of the process,
interpreter and libraries included).
Usage: ``python benchmarks/sim_market.py [--seed S] [--child-seconds N] [--burst N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import sys
import time

# Run as `python benchmarks/NAME.py`, Python puts this folder first on the path, where
# benchmarks/execution.py would hide the execution package: put the project there instead.
sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

from execution import vtime
from execution.broker import TERMINAL_EVENTS, Execution, OrderRequest
from sim_broker.tables import from_tables

INSTRUMENTS = {
    "ES": {"root": "ES", "price": 5000.0},
    "NQ": {"root": "NQ", "price": 18000.0},
    "RTY": {"root": "RTY", "price": 2100.0},
    "ZN": {"root": "ZN", "price": 110.5},
    "FESX": {"root": "FESX", "price": 4900.0},
}


def build(seed: int):
    return from_tables(INSTRUMENTS, {k: {"impact": {"model": "square-root", "y": 0.7}} for k in INSTRUMENTS}, seed=seed)


def session(broker, child_seconds: float) -> dict[str, int]:
    async def main():
        loop = asyncio.get_running_loop()
        counts = {"child_orders": 0, "fills": 0, "terminal": 0}

        async def consume():
            async for event in broker.events():
                if isinstance(event, Execution):
                    counts["fills"] += 1
                elif isinstance(event, TERMINAL_EVENTS):
                    counts["terminal"] += 1

        async def twap(name: str, first_id: int):
            steps = int((broker.session_close - broker.session_open) // child_seconds)
            for j in range(steps):
                await asyncio.sleep(broker.session_open + j * child_seconds + 0.5 - loop.time())
                broker.submit(OrderRequest(first_id + j, name, 2 if j % 2 else 1))
                counts["child_orders"] += 1

        async def watch():
            while loop.time() < broker.session_close - 60.0:
                await asyncio.sleep(60.0)
                for name in INSTRUMENTS:
                    await broker.snapshot(name)

        consumer = asyncio.create_task(consume())
        async with asyncio.TaskGroup() as tg:
            for i, name in enumerate(INSTRUMENTS):
                tg.create_task(twap(name, 1_000_000 * (i + 1)))
            tg.create_task(watch())
        await asyncio.sleep(broker.session_close - loop.time())
        consumer.cancel()
        return counts

    return vtime.run(main, start=broker.session_open)


def burst(broker, orders: int) -> float:
    """Orders per wall second through the broker alone (submit to terminal event)."""

    async def main():
        done = asyncio.get_running_loop().create_future()
        left = orders

        async def consume():
            nonlocal left
            async for event in broker.events():
                if isinstance(event, TERMINAL_EVENTS):
                    left -= 1
                    if not left:
                        done.set_result(None)

        consumer = asyncio.create_task(consume())
        names = list(INSTRUMENTS)
        for i in range(orders):
            broker.submit(OrderRequest(i, names[i % len(names)], 1 if i % 2 else -1))
            if i % 100 == 99:
                await asyncio.sleep(1.0)
        await done
        consumer.cancel()

    start = time.perf_counter()
    vtime.run(main, start=broker.session_open)
    return orders / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--child-seconds", type=float, default=10.0)
    parser.add_argument("--burst", type=int, default=50_000)
    args = parser.parse_args()

    t0 = time.perf_counter()
    broker = build(args.seed)
    t1 = time.perf_counter()
    counts = session(broker, args.child_seconds)
    t2 = time.perf_counter()
    rate = burst(build(args.seed + 1), args.burst)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "benchmark": "sim_market",
                "instruments": len(INSTRUMENTS),
                "grid_seconds": broker.sim.grid_seconds,
                "virtual_seconds": broker.session_close - broker.session_open,
                "wall_seconds": round(t2 - t0, 4),
                "build_seconds": round(t1 - t0, 4),
                "session_seconds": round(t2 - t1, 4),
                "child_orders": counts["child_orders"],
                "fills": counts["fills"],
                "broker_orders_per_second": round(rate),
                "peak_rss_mb": round(peak_kb / 1024.0, 1),
                "python": sys.version.split()[0],
                "machine": platform.machine(),
            }
        )
    )


if __name__ == "__main__":
    main()
