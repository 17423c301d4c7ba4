"""Cost evaluations per second for each impact model over a vectorised batch of orders.

Prints one JSON object: for each model the best-of-``repeats`` wall time of one
``model.cost(...)`` call over ``orders`` random orders and the resulting rate.
Usage: ``python benchmarks/impact.py [--orders N] [--repeats R] [--seed S]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

# Run as `python benchmarks/NAME.py`, Python puts this folder first on the path, where
# benchmarks/execution.py would hide the execution package: put the project there instead.
sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

import numpy as np

from pricing.impact import model_from_spec

SPECS = {
    "none": {"model": "none"},
    "almgren-chriss": {"preset": "almgren-chriss-2000-table1"},
    "square-root": {"model": "square-root", "y": 0.7},
    "athl-2005": {"preset": "athl-2005", "shares_outstanding": 1e9},
    "i-star": {"preset": "kissell-all-data"},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    n = args.orders
    quantity = rng.uniform(-1e6, 1e6, n)
    horizon = rng.uniform(0.05, 5.0, n)
    price = rng.uniform(5.0, 500.0, n)
    daily_vol = rng.uniform(0.005, 0.05, n)
    adv = rng.uniform(1e5, 5e7, n)

    results = {}
    for name, spec in SPECS.items():
        model = model_from_spec(spec)
        best = float("inf")
        for _ in range(args.repeats):
            start = time.perf_counter()
            total = model.cost(quantity, horizon, price, daily_vol, adv).total
            best = min(best, time.perf_counter() - start)
        assert np.shape(total) == (n,)
        results[name] = {"seconds": best, "evaluations_per_second": n / best}
    print(
        json.dumps(
            {
                "benchmark": "impact-cost",
                "orders": n,
                "repeats": args.repeats,
                "numpy": np.__version__,
                "python": platform.python_version(),
                "models": results,
            }
        )
    )


if __name__ == "__main__":
    main()
