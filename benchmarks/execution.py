"""Throughput of the execution engine: child orders per wall-clock second.

TWAP parents (one-minute slices) worked concurrently by :class:`execution.engine.Engine` in
virtual time against the built-in simulator (:class:`sim_broker.SimBroker`, market orders,
default latencies and participation caps), with realistic pre-trade risk limits on (child
quantity and notional, participation, a collar around arrival, gross exposure), none of
them binding: the run reports ``risk_blocks`` (0) and ``unfilled_parents`` (0).

Scenarios:

- ``lockstep``: 20 parents on 20 instruments, 390 slices, all starting at the open, so
  they share one slice grid (and the engine's coalesced timers);
- ``staggered``: the same, but parent ``k`` starts ``1.37·k`` seconds after the open
  (mod 60), so no two parents share a loop iteration: the engine's cost per child with
  nothing shared;
- ``scaling``: staggered parents on 20 instruments (parent ``k`` on instrument ``k mod
  20``) at 1, 20, 100, 1,000 and 10,000 parents; ``us_per_child`` should stay flat. Each
  instrument's ADV grows with its parents so that the simulator's participation cap does
  not bind. 10,000 parents use ``--big-slices`` slices (39 by default: a 39-minute
  horizon) to keep the run short; the cost per child is what is compared;
- ``floor``: the event loop's own share of a child order, with no order logic: the same
  parents (lockstep and staggered), each child only a wake-up at its slice (a future
  resolved by a timer shared by the parents due at that instant, as the engine's are) and
  the simulator's two timers (the request reaching the exchange, the executions coming
  back, at the default latencies), all on :class:`execution.vtime.VirtualTimeLoop`. What
  the engine and the simulator do per child comes on top of it;
- ``memory``: bytes per simulated instrument (``tracemalloc``) of a broker of
  ``--memory-instruments`` instruments on a one-second grid: retained after the build,
  and the peak during it.

Wall time covers ``Engine.run`` only (building the simulated paths is ``setup_seconds``).
``Engine.run`` applies the garbage-collector policy of simulated runs itself, as ``overlay
simulate`` does (:attr:`execution.host.GcPolicy.SUSPEND`: the heap frozen, no automatic
collection during the run). Every figure is the **median** of ``--repeat`` runs
(default 5); ``runs`` lists each run's figure, and ``load`` the 1-minute load average
before and after, since the machine may be shared. ``cpu_seconds`` (the process's CPU time
over the same span) and ``child_orders_per_cpu_second`` are less sensitive to other
processes than the wall-clock figures.

``build`` says which build of the engine's hot modules ran (``compiled``: ``OVERLAY_COMPILE=1
pip install .``, mypyc; ``pure``) and where the package was imported from: run the script
with a compiled environment's ``python`` to time the compiled build.

Usage: ``python benchmarks/execution.py [--repeat N] [--only lockstep,staggered,scaling,floor,memory]
[--profile SCENARIO]`` prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import sys
import time
import tracemalloc

# This script's name shadows the ``execution`` package when run as a file: drop its folder.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

from execution.algos import AlgoParams, MarketParams, build_parent  # noqa: E402
from execution.engine import Engine  # noqa: E402
from execution.gc_policy import gc_enter  # noqa: E402
from execution.host import EngineConfig, GcPolicy  # noqa: E402
from execution.risk import RiskLimits  # noqa: E402
from execution.vtime import run  # noqa: E402

SLICES = 390
INSTRUMENTS = 20
FREEZE = False
ADV = 1_500_000
PRICE, MULTIPLIER, TICK = 5000.0, 50.0, 0.25
#: Realistic limits for these orders (children of 2-4 contracts of a $250k future), none binding.
LIMITS = RiskLimits(
    max_child_quantity=50,
    max_child_notional=50 * PRICE * MULTIPLIER,
    max_participation=0.25,
    collar_bps=500.0,
    max_gross_exposure=1e12,
)


def _broker(instruments: int, parents_per_instrument: int, seed: int = 7):
    from sim_broker.tables import from_tables

    names = [f"B{k:03d}" for k in range(instruments)]
    table = {name: {"kind": "future", "root": "ES", "price": PRICE} for name in names}
    adv = ADV * max(1, parents_per_instrument)
    market = {name: {"adv": adv, "daily_vol": 0.012} for name in names}
    return names, from_tables(table, market, seed=seed)


def _specs(n: int, names: list[str], slices: int, open_: float, stagger: bool):
    params = AlgoParams(horizon_seconds=slices * 60.0, slice_seconds=60.0)
    market = MarketParams(price=PRICE, multiplier=MULTIPLIER, tick=TICK)
    specs = []
    for k in range(n):
        qty = slices * (2 + k % 3) * (1 if k % 2 else -1)
        spec = build_parent(k + 1, names[k % len(names)], qty, params, market)
        if stagger:
            spec = _replace(spec, start=open_ + round((1.37 * k) % 60.0, 6))
        specs.append(spec)
    return specs


def _replace(spec, **changes):
    from dataclasses import replace

    return replace(spec, **changes)


def measure(n: int, slices: int = SLICES, stagger: bool = True, instruments: int = INSTRUMENTS) -> dict:
    """One run: ``n`` TWAP parents of ``slices`` slices on ``min(n, instruments)`` instruments."""
    t0 = time.perf_counter()
    used = min(n, instruments)
    names, broker = _broker(used, -(-n // used))
    open_ = broker.session_open
    specs = _specs(n, names, slices, open_, stagger)
    setup = time.perf_counter() - t0
    engine = Engine(broker, LIMITS, EngineConfig(gc=GcPolicy.SUSPEND))  # as overlay simulate runs it
    if FREEZE:
        gc.collect()
        gc.freeze()  # the older practice, for comparing with an engine without a GC policy

    async def main():
        t, c = time.perf_counter(), time.process_time()
        parents = await engine.run(specs)
        return parents, time.perf_counter() - t, time.process_time() - c

    parents, wall, cpu = run(main, start=open_)
    if FREEZE:
        gc.unfreeze()
    children = len(engine.children)
    result = {
        "parents": n,
        "slices": slices,
        "child_orders": children,
        "wall_seconds": round(wall, 4),
        "child_orders_per_second": round(children / wall),
        "us_per_child": round(1e6 * wall / children, 2),
        "cpu_seconds": round(cpu, 4),
        "setup_seconds": round(setup, 3),
        "unfilled_parents": sum(p.filled != p.quantity for p in parents),
        "risk_blocks": sum(p.risk_blocks for p in parents),
    }
    del engine, parents, broker, specs
    gc.collect()
    return result


def _fire(due: dict, when: float) -> None:
    for fut in due.pop(when):
        fut.set_result(None)


def _noop() -> None:
    pass


def loop_floor(n: int = 20, slices: int = SLICES, stagger: bool = True) -> dict:
    """The event loop's cost per child of ``n`` parents of ``slices`` slices (see ``floor``)."""
    from sim_broker.params import SimConfig

    sim = SimConfig()  # the simulator's default latencies
    ack, fill = sim.ack_latency, sim.ack_latency + sim.fill_latency
    open_ = 0.0

    async def parent(k: int, due: dict) -> None:
        loop = asyncio.get_running_loop()
        start = open_ + (round((1.37 * k) % 60.0, 6) if stagger else 0.0)
        for i in range(slices):
            t = start + 60.0 * i
            bucket = due.get(t)
            if bucket is None:
                bucket = due[t] = []
                loop.call_at(t, _fire, due, t)
                loop.call_at(t + ack, _noop)  # the requests of the instant reach the exchange
                loop.call_at(t + fill, _noop)  # their executions come back
            fut = loop.create_future()
            bucket.append(fut)
            await fut

    async def main():
        due: dict = {}
        restore = gc_enter(GcPolicy.SUSPEND)  # the collector as Engine.run has it
        t, c = time.perf_counter(), time.process_time()
        try:
            async with asyncio.TaskGroup() as group:
                for k in range(n):
                    group.create_task(parent(k, due))
        finally:
            wall, cpu = time.perf_counter() - t, time.process_time() - c
            restore()
        return wall, cpu

    wall, cpu = run(main, start=open_)
    children = n * slices
    gc.collect()
    return {"parents": n, "slices": slices, "child_orders": children, "wall_seconds": round(wall, 4),
            "child_orders_per_second": round(children / wall), "us_per_child": round(1e6 * wall / children, 2),
            "cpu_seconds": round(cpu, 4)}


def median_of(repeat: int, fn, *args, **kwargs) -> dict:
    """``fn`` run ``repeat`` times; the run of median wall time, with every run's rate."""
    runs = [fn(*args, **kwargs) for _ in range(repeat)]
    ordered = sorted(runs, key=lambda r: r["wall_seconds"])
    out = dict(ordered[(len(ordered) - 1) // 2])
    out["wall_seconds"] = round(statistics.median(r["wall_seconds"] for r in runs), 4)
    out["child_orders_per_second"] = round(out["child_orders"] / out["wall_seconds"])
    out["us_per_child"] = round(1e6 * out["wall_seconds"] / out["child_orders"], 2)
    out["runs"] = [r["child_orders_per_second"] for r in runs]
    out["cpu_seconds"] = round(statistics.median(r["cpu_seconds"] for r in runs), 4)
    out["child_orders_per_cpu_second"] = round(out["child_orders"] / out["cpu_seconds"])
    return out


def memory(instruments: int) -> dict:
    """Bytes per instrument of a simulated broker: retained after the build, and peak."""
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    _, broker = _broker(instruments, 1)
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    steps = broker.path(broker.instruments[0]).n
    del broker
    return {
        "instruments": instruments,
        "grid_steps": steps,
        "mb_per_instrument": round((current - base) / instruments / 1e6, 3),
        "peak_mb_per_instrument": round((peak - base) / instruments / 1e6, 3),
    }


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def interpreter() -> dict:
    """The CPython that ran the benchmark. The engine's figures are interpreter-bound, and
    builds differ by 13-18 % on the same machine: one statically linked and compiled with
    profile-guided and link-time optimisation (as distributions ship) against a plain
    source build on a shared ``libpython`` (as pyenv makes by default); see the README."""
    shared = None
    if os.path.exists("/proc/self/maps"):
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            shared = any("libpython" in line for line in maps)
    return {"executable": os.path.realpath(sys.executable), "version": sys.version, "libpython_shared": shared}


def build() -> dict:
    """Which build of the engine's hot modules ran (:mod:`execution.buildinfo`): ``compiled``
    (``OVERLAY_COMPILE=1 pip install .``, mypyc) or ``pure`` (Python), and where from."""
    from execution.buildinfo import describe

    engine_file = sys.modules[Engine.__module__].__file__ or ""
    return {"engine": describe(), "package": os.path.dirname(os.path.dirname(os.path.abspath(engine_file)))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--only", default="lockstep,staggered,scaling,floor,memory")
    ap.add_argument("--parents", default="1,20,100,1000,10000", help="scaling: parent counts")
    ap.add_argument("--big-slices", type=int, default=39, help="slices of the 10,000-parent run")
    ap.add_argument("--memory-instruments", type=int, default=200)
    ap.add_argument("--profile", metavar="SCENARIO", help="cProfile one run (lockstep or staggered) to stderr")
    ap.add_argument("--freeze", action="store_true", help="gc.freeze() before each run (for engines without a GC policy)")
    args = ap.parse_args(argv)
    global FREEZE
    FREEZE = args.freeze
    if args.profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.enable()
        measure(20, stagger=args.profile == "staggered")
        prof.disable()
        pstats.Stats(prof, stream=sys.stderr).sort_stats("tottime").print_stats(30)
    only = set(args.only.split(","))
    out: dict = {"load_before": _load()}
    if "lockstep" in only:
        out["lockstep"] = median_of(args.repeat, measure, 20, stagger=False)
    if "staggered" in only:
        out["staggered"] = median_of(args.repeat, measure, 20, stagger=True)
    if "scaling" in only:
        rows = {}
        for n in (int(x) for x in args.parents.split(",")):
            if n == 20 and "staggered" in out:
                rows[str(n)] = out["staggered"]
                continue
            slices = args.big_slices if n >= 10_000 else SLICES
            rows[str(n)] = median_of(args.repeat, measure, n, slices=slices, stagger=True)
        out["scaling"] = rows
        if "20" in rows and "10000" in rows:
            out["scaling_ratio_10000_to_20"] = round(rows["10000"]["us_per_child"] / rows["20"]["us_per_child"], 2)
    if "floor" in only:
        out["floor"] = {
            "lockstep": median_of(args.repeat, loop_floor, 20, stagger=False),
            "staggered": median_of(args.repeat, loop_floor, 20, stagger=True),
        }
    if "memory" in only:
        out["memory"] = memory(args.memory_instruments)
    out["load_after"] = _load()
    out["repeat"] = args.repeat
    out["freeze"] = FREEZE
    out["python"] = sys.version.split()[0]
    out["interpreter"] = interpreter()
    out["build"] = build()
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
