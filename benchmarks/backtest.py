"""Backtest speed and memory on the shipped 60/40 example (built-in US data since 1926).

Goals on a 2-core machine: the 8 policies × 2 implementations over the 1,109 monthly dates
in under 2 s; 10,000 resampled 20-year paths in under 60 s; peak memory under 2 GB.

Prints one JSON object: for the history, the median (and best) of ``--repeat`` runs of the
simulation and metrics (data already loaded) and of the whole ``run_backtest`` call; for
the bootstrap, the median of ``--boot-repeat`` runs of ``--paths`` paths on ``--workers``
processes (in-process with 0), with the CPU seconds they took (this process and its
workers: on a machine shared with other jobs the wall time grows, the CPU time does not);
the peak resident memory of this process and of its worker
processes (MB).

    python benchmarks/backtest.py [--repeat 5] [--paths 10000] [--workers 2] [--boot-repeat 1]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from overlay.backtest.engine import simulate  # noqa: E402
from overlay.backtest.metrics import path_metrics  # noqa: E402
from overlay.backtest.run import history_paths, prepare, run_backtest  # noqa: E402

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "backtest_60_40.toml"


def _cpu() -> float:
    """CPU seconds of this process and its finished worker processes."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _history_once(setup) -> tuple[float, float]:
    started, cpu = time.perf_counter(), _cpu()
    hp = history_paths(setup.history)
    runs = [(p, i) for p in setup.policies for i in setup.implementations]
    for outcome in simulate(setup.book, runs, hp, trace=True):
        path_metrics(outcome, hp.returns, hp.rates, setup.book.targets, setup.history.years, setup.history.period_years)
    return time.perf_counter() - started, _cpu() - cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--paths", type=int, default=10_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--boot-repeat", type=int, default=1)
    args = ap.parse_args()

    setup = prepare(EXAMPLE)
    runs = len(setup.policies) * len(setup.implementations)
    timed = [_history_once(setup) for _ in range(args.repeat)]
    history = [w for w, _ in timed]
    whole = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        run_backtest(EXAMPLE)
        whole.append(time.perf_counter() - started)
    boot, boot_cpu = [], []
    for _ in range(args.boot_repeat):
        started, cpu = time.perf_counter(), _cpu()
        run_backtest(EXAMPLE, paths=args.paths, workers=args.workers)
        boot.append(time.perf_counter() - started)
        boot_cpu.append(_cpu() - cpu)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    print(
        json.dumps(
            {
                "history": {
                    "runs": runs,
                    "dates": len(setup.history.dates),
                    "median_s": round(statistics.median(history), 3),
                    "best_s": round(min(history), 3),
                    "median_cpu_s": round(statistics.median(c for _, c in timed), 3),
                    "run_backtest_median_s": round(statistics.median(whole), 3),
                    "repeat": args.repeat,
                    "goal_s": 2.0,
                },
                "bootstrap": {
                    "runs": runs,
                    "paths": args.paths,
                    "horizon_years": setup.cfg.backtest.horizon_years,
                    "workers": args.workers,
                    "median_s": round(statistics.median(boot), 2) if boot else None,
                    "median_cpu_s": round(statistics.median(boot_cpu), 2) if boot else None,
                    "paths_per_s": round(args.paths / statistics.median(boot), 1) if boot else None,
                    "repeat": args.boot_repeat,
                    "goal_s": 60.0,
                },
                "peak_memory_mb": {"process": round(own, 1), "largest_worker": round(children, 1), "goal": 2048},
            }
        )
    )


if __name__ == "__main__":
    main()
