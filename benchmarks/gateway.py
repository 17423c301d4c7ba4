"""Market-order round trip through the TWS-API gateway on loopback.

Starts ``overlay gateway --port 0`` in a separate process (simulated clock paced at
``--speed``; ``--in-process`` runs it in a thread of this process instead), connects
the installed IB client (``ib_async``, else ``ib_insync``) and times ``--orders`` one-lot
market orders of alternating side from ``placeOrder`` to the client seeing the order
``Filled`` with its commission report. The round trip includes the simulator's own
acknowledgement and fill latencies (``SimConfig.ack_latency + fill_latency`` simulated
seconds, i.e. divided by ``speed`` in wall time). The client's own request pacing (45 a
second) is switched off so that it does not dominate. Prints one JSON object.

Usage: ``python benchmarks/gateway.py [--orders N] [--speed X] [--seed S] [--in-process]``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager

# Run as `python benchmarks/NAME.py`, Python puts this folder first on the path, where
# benchmarks/execution.py would hide the execution package: put the project there instead.
sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

from sim_broker.tws.server import GatewayConfig, GatewayThread
from sim_broker.params import SimConfig


def _client_library():
    for name in ("ib_async", "ib_insync"):
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError:
            continue
    raise SystemExit("needs ib_async or ib_insync")


async def _measure(ib, host: str, port: int, orders: int) -> list[float]:
    client = ib.IB()
    client.client.MaxRequests = 0  # the client paces itself to 45 requests/s; measure the gateway, not that
    await client.connectAsync(host, port, clientId=1, timeout=10)
    try:
        contract = ib.ContFuture("ES", "CME")
        await client.qualifyContractsAsync(contract)
        es = ib.Future(conId=contract.conId, exchange="CME")
        await client.qualifyContractsAsync(es)
        times = []
        for i in range(orders):
            t0 = time.perf_counter()
            trade = client.placeOrder(es, ib.MarketOrder("BUY" if i % 2 == 0 else "SELL", 1))
            done = asyncio.Event()

            def check(*_: object) -> None:
                if trade.isDone() and trade.fills and trade.fills[-1].commissionReport.execId:
                    done.set()

            trade.statusEvent += check
            trade.commissionReportEvent += check
            check()
            await asyncio.wait_for(done.wait(), 10)
            times.append(time.perf_counter() - t0)
        return times
    finally:
        client.disconnect()


@contextmanager
def _subprocess_gateway(speed: float, seed: int):
    cmd = [sys.executable, "-m", "overlay", "gateway", "--port", "0", "--speed", str(speed), "--seed", str(seed)]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()
        m = re.search(r"listening on ([^:]+):(\d+)", line)
        if not m:
            raise SystemExit(f"gateway did not start: {line!r}")
        yield m.group(1), int(m.group(2))
    finally:
        proc.terminate()
        proc.wait(10)


@contextmanager
def _thread_gateway(speed: float, seed: int):
    settings = GatewayConfig(seed=seed, speed=speed, session_date=dt.date(2026, 3, 2))
    with GatewayThread(settings) as gw:
        yield gw.host, gw.port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--in-process", action="store_true", help="run the gateway in a thread of this process")
    args = parser.parse_args()
    ib = _client_library()
    gateway = _thread_gateway if args.in_process else _subprocess_gateway
    with gateway(args.speed, args.seed) as (host, port):
        times = asyncio.run(_measure(ib, host, port, args.orders))
    sim = SimConfig()
    ms = sorted(t * 1e3 for t in times)
    print(json.dumps({
        "benchmark": "gateway_market_order_round_trip",
        "client": ib.__name__,
        "orders": args.orders,
        "speed": args.speed,
        "gateway": "thread" if args.in_process else "process",
        "simulated_latency_ms": (sim.ack_latency + sim.fill_latency) * 1e3,
        "median_ms": round(statistics.median(ms), 3),
        "p90_ms": round(ms[int(0.9 * (len(ms) - 1))], 3),
        "min_ms": round(ms[0], 3),
        "python": platform.python_version(),
    }))


if __name__ == "__main__":
    main()
