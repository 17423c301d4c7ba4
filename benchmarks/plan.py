"""Time to plan a 200-sleeve, 400-instrument portfolio (goal: under 50 ms).

Prints one JSON object: the median and best of repeated ``plan(config)`` calls, and the time
to validate the same portfolio from plain data (``config_from_dict``), in milliseconds.

    python benchmarks/plan.py [--sleeves 200] [--repeat 30] [--seed 7]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from overlay.config import config_from_dict  # noqa: E402
from overlay.plan.planner import plan  # noqa: E402

ROOTS = ("ES", "MES", "NQ", "RTY", "FESX", "MME", "ZN", "ZF", "ZB")


def portfolio(sleeves: int, rng: np.random.Generator) -> dict:
    """A drifted portfolio: every sleeve has one future and one swap (2 instruments a sleeve)."""
    raw = rng.uniform(0.2, 1.0, sleeves)
    targets = raw / raw.sum()
    targets[-1] = 1.0 - targets[:-1].sum()
    values = 1e9 * np.maximum(targets * (1 + rng.normal(0, 0.3, sleeves)), 0.0)
    instruments, sleeve_list, positions = {}, [], []
    for i in range(sleeves):
        root = ROOTS[i % len(ROOTS)]
        fut, swap = f"F{i}", f"S{i}"
        instruments[fut] = {"kind": "future", "root": root, "price": float(rng.uniform(100, 6000)), "initial_margin": 5000.0}
        if root.startswith("Z"):
            instruments[fut]["dv01"] = float(rng.uniform(40, 150))
        instruments[swap] = {"kind": "swap", "min_notional": 250_000.0, "rate": 0.043}
        positions.append({"instrument": fut, "quantity": int(rng.integers(-50, 50))})
        sleeve = {
            "name": f"sleeve_{i}",
            "target": float(targets[i]),
            "value": float(values[i]),
            "band": 0.002,
            "beta": float(rng.uniform(0.8, 1.2)),
            "momentum": float(rng.normal(0, 0.1)),
            "vol": float(rng.uniform(0.05, 0.3)),
            "overlay": [fut, swap],
        }
        if root.startswith("Z"):
            sleeve["duration"] = float(rng.uniform(2, 15))
        sleeve_list.append(sleeve)
    return {
        "portfolio": {"name": "benchmark", "as_of": dt.date(2026, 3, 11), "cash": 2e7, "fx": {"EUR": 1.08}},
        "policy": {
            "equitize_cash": True,
            "min_cash_buffer": 0.01,
            "momentum_filter": {"threshold": 0.02, "hard_band": 0.01},
            "vol_scaling": {"reference_vol": 0.16},
        },
        "sleeves": sleeve_list,
        "instruments": instruments,
        "positions": positions,
        "cash_flows": [{"amount": 5e7}],
    }


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1e3)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sleeves", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    data = portfolio(args.sleeves, np.random.default_rng(args.seed))
    cfg = config_from_dict(data)
    result = plan(cfg)  # warm-up
    plan_ms = timed(lambda: plan(cfg), args.repeat)
    load_ms = timed(lambda: config_from_dict(data), max(3, args.repeat // 3))
    print(
        json.dumps(
            {
                "benchmark": "plan",
                "sleeves": len(cfg.sleeves),
                "instruments": len(cfg.instruments),
                "orders": len(result.orders),
                "repeat": args.repeat,
                "plan_ms_median": round(statistics.median(plan_ms), 3),
                "plan_ms_best": round(min(plan_ms), 3),
                "validate_ms_median": round(statistics.median(load_ms), 3),
                "goal_ms": 50.0,
                "meets_goal": statistics.median(plan_ms) < 50.0,
            }
        )
    )


if __name__ == "__main__":
    main()
