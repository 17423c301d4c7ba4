"""Market-order round trip through the TWS-API gateway on loopback.

Starts ``overlay gateway --port 0`` in a separate process (simulated clock paced at
``--speed``; ``--in-process`` runs it in a thread of this process instead), connects
the installed IB client (``ib_async``, else ``ib_insync``) and times ``--orders`` one-lot
market orders of alternating side from ``placeOrder`` to the client seeing the order
``Filled`` with its commission report. The round trip includes the simulator's own
acknowledgement and fill latencies (``SimConfig.ack_latency + fill_latency`` simulated
seconds, i.e. divided by ``speed`` in wall time). The client's own request pacing (45 a
second) is switched off so that it does not dominate. The measurement is repeated with
``--clients`` − 1 other clients active at the same time (each streams ES, NQ and ZN quotes
and places and cancels limit orders back to back), which is ``median_ms_busy``. Prints one
JSON object.

Usage: ``python benchmarks/gateway.py [--orders N] [--clients N] [--speed X] [--seed S] [--in-process]``.
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


async def _busy(ib, host: str, port: int, client_id: int, stop: asyncio.Event) -> int:
    """Another active client: quotes on three futures, and limit orders placed below the
    market and cancelled back to back (order traffic that leaves the market's volume to the
    measured client: the simulator shares each minute's volume among market orders)."""
    client = ib.IB()
    await client.connectAsync(host, port, clientId=client_id, timeout=10)
    done = 0
    try:
        contracts = [ib.ContFuture(root, exch) for root, exch in (("ES", "CME"), ("NQ", "CME"), ("ZN", "CBOT"))]
        await client.qualifyContractsAsync(*contracts)
        for c in contracts:
            client.reqMktData(c)
        es = ib.Future(conId=contracts[0].conId, exchange="CME")
        await client.qualifyContractsAsync(es)
        while not stop.is_set():
            trade = client.placeOrder(es, ib.LimitOrder("BUY", 1, 1000.0))
            while trade.orderStatus.status != "Submitted" and not stop.is_set():
                await asyncio.sleep(0.005)
            client.cancelOrder(trade.order)
            while not trade.isDone() and not stop.is_set():
                await asyncio.sleep(0.005)
            done += 1
    finally:
        client.disconnect()
    return done


async def _measure_busy(ib, host: str, port: int, orders: int, clients: int) -> tuple[list[float], int]:
    stop = asyncio.Event()
    others = [asyncio.create_task(_busy(ib, host, port, 10 + i, stop)) for i in range(clients - 1)]
    await asyncio.sleep(1.0)
    try:
        times = await _measure(ib, host, port, orders)
    finally:
        stop.set()
    background = sum(await asyncio.gather(*others))
    return times, background


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
    parser.add_argument("--clients", type=int, default=10, help="clients active in the busy measurement")
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--in-process", action="store_true", help="run the gateway in a thread of this process")
    args = parser.parse_args()
    ib = _client_library()
    gateway = _thread_gateway if args.in_process else _subprocess_gateway
    with gateway(args.speed, args.seed) as (host, port):
        times = asyncio.run(_measure(ib, host, port, args.orders))
    with gateway(args.speed, args.seed) as (host, port):
        busy, background = asyncio.run(_measure_busy(ib, host, port, args.orders, args.clients))
    sim = SimConfig()
    ms = sorted(t * 1e3 for t in times)
    busy_ms = sorted(t * 1e3 for t in busy)
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
        "clients_busy": args.clients,
        "median_ms_busy": round(statistics.median(busy_ms), 3),
        "p90_ms_busy": round(busy_ms[int(0.9 * (len(busy_ms) - 1))], 3),
        "background_orders": background,
        "python": platform.python_version(),
    }))


if __name__ == "__main__":
    main()
