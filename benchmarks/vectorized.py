"""Speed and memory of the vectorized study engine; prints one JSON object.

- ``path_steps_per_second``: paths × slices evaluated per second by the slowest algorithm
  (POV, whose sizes and impact follow each path's volume), median of ``repeat`` runs; the
  figure of every algorithm is under ``algorithms``;
- ``rng_normals_per_second``: numpy's own standard normal draws (PCG64, float64, into a
  preallocated buffer) measured in the same run, median of ``repeat``;
- ``ratio_to_rng``: their ratio for the slowest algorithm, and ``ratios`` for each (the
  engine draws about one normal per path-step, for the volume). Each repeat measures, for
  every algorithm in turn, the draws and then the algorithm right after them, so a ratio
  compares figures taken seconds apart under the same load (this machine's speed drifts by
  10–20 % over minutes); the ratio reported is the median over the repeats. All of these
  run on one thread, like the draws they are compared with;
- ``two_threads``: POV again with ``Overlap.THREAD`` (each tile evaluated by the compiled
  loop on a second thread while the next tile is drawn: two cores busy, against the draws'
  one), measured in the same repeats; its figures are not in ``ratios``;
- ``memory``: peak resident memory of a separate process that runs a 1,000,000-path study
  (one cell) end to end, results.parquet and summary.json included (goal: under 1 GB).

Setup: an E-mini S&P order of 5 % of ADV over the 390-minute session in 1-minute slices,
square-root impact (Y = 0.8, a fifth of it permanent), the simulator's noisy U-shaped volume.

    python benchmarks/vectorized.py [--paths 100000] [--repeat 5] [--memory-paths 1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

# Run as a script, Python puts this folder first on the path, where a sibling benchmark
# module could shadow a project package of the same name: look in the project root instead.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [os.path.dirname(_HERE)] + [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

import numpy as np  # noqa: E402

STUDY = {
    "study": {"name": "bench", "engine": "vectorized", "seeds": 1},
    "grid": {"algo": ["twap"], "participation": [0.05], "horizon_minutes": [390], "daily_vol": [0.012]},
    "market": {"root": "ES", "adv": 1_500_000, "price": 5000.0, "impact": {"model": "square-root", "y": 0.8, "permanent_fraction": 0.2}},
    "execution": {"slice_minutes": 1},
}


def _setup(algo: str, seeds: int):
    from overlay.studies.cell import build_setup
    from overlay.studies.runners import make_tasks
    from overlay.studies.spec import study_from_dict

    data = json.loads(json.dumps(STUDY))
    data["grid"]["algo"] = [algo]
    data["study"]["seeds"] = seeds
    (task,) = make_tasks(study_from_dict(data))
    return task, build_setup(task)


def _engine_rate(algo: str, paths: int, overlap: str = "none") -> float:
    from overlay.studies.grid import BLOCK_PATHS, block_generator
    from overlay.studies.vectorized import Overlap, simulate

    task, setup = _setup(algo, paths)
    steps = paths * setup.order.n_slices
    start = time.perf_counter()
    simulate(
        setup.market, setup.model, setup.order, paths, lambda b: block_generator(task.entropy, b),
        block=BLOCK_PATHS, overlap=Overlap(overlap),
    )
    return steps / (time.perf_counter() - start)


def _rng_rate(draws: int) -> float:
    rng = np.random.Generator(np.random.PCG64(12345))
    buf = np.empty(draws)
    rng.standard_normal(out=buf)  # touch the pages once
    start = time.perf_counter()
    rng.standard_normal(out=buf)
    return draws / (time.perf_counter() - start)


def _memory_child(paths: int, out: str) -> None:
    """Run a ``paths``-path study in this process and print its figures."""
    from overlay.studies.runners import Extras, run_study
    from overlay.studies.spec import study_from_dict

    data = json.loads(json.dumps(STUDY))
    data["grid"]["algo"] = ["pov"]
    data["study"]["seeds"] = paths
    start = time.perf_counter()
    result = run_study(study_from_dict(data), out, extras=Extras.NONE)
    wall = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"paths": paths, "rows": result.summary["rows"], "wall_seconds": round(wall, 2), "peak_rss_mb": round(peak_kb / 1024, 1)}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--memory-paths", type=int, default=1_000_000)
    parser.add_argument("--child", metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _memory_child(args.memory_paths, args.child)
        return 0
    names = ("twap", "vwap", "is", "pov")
    rates: dict[str, list[float]] = {a: [] for a in names}
    ratios: dict[str, list[float]] = {a: [] for a in names}
    rng_rates = []
    threaded: dict[str, list[float]] = {"rates": [], "ratios": []}
    draws = args.paths * 390 // 4
    for _ in range(args.repeat):  # interleaved: the draws, then one algorithm, in turn
        for algo in names:
            rng_rate = _rng_rate(draws)
            rng_rates.append(rng_rate)
            rate = _engine_rate(algo, args.paths)
            rates[algo].append(rate)
            ratios[algo].append(rate / rng_rate)
        rng_rate = _rng_rate(draws)
        rng_rates.append(rng_rate)
        rate = _engine_rate("pov", args.paths, "thread")
        threaded["rates"].append(rate)
        threaded["ratios"].append(rate / rng_rate)
    algorithms = {a: statistics.median(r) for a, r in rates.items()}
    median_ratios = {a: statistics.median(r) for a, r in ratios.items()}
    slowest_algo = min(median_ratios, key=median_ratios.get)
    slowest = algorithms[slowest_algo]
    rng_rate = statistics.median(rng_rates)
    with tempfile.TemporaryDirectory() as tmp:
        child = subprocess.run(
            [sys.executable, os.path.abspath(__file__), "--child", tmp, "--memory-paths", str(args.memory_paths)],
            capture_output=True,
            text=True,
            check=True,
        )
    memory = json.loads(child.stdout.strip().splitlines()[-1])
    memory["goal_mb"] = 1024
    print(
        json.dumps(
            {
                "path_steps_per_second": round(slowest),
                "rng_normals_per_second": round(rng_rate),
                "ratio_to_rng": round(median_ratios[slowest_algo], 3),
                "slowest": slowest_algo,
                "ratios": {k: round(v, 3) for k, v in median_ratios.items()},
                "algorithms": {k: round(v) for k, v in algorithms.items()},
                "two_threads": {
                    "algo": "pov",
                    "overlap": "thread",
                    "threads": 2,
                    "path_steps_per_second": round(statistics.median(threaded["rates"])),
                    "ratio_to_rng": round(statistics.median(threaded["ratios"]), 3),
                },
                "repeat": args.repeat,
                "load": round(os.getloadavg()[0], 2),
                "paths": args.paths,
                "slices": 390,
                "memory": memory,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
