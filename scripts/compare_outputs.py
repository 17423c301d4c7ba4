"""Compare the JSON that `overlay` prints for the shipped examples at two git revisions.

A refactoring that moves code must not change what users see. This script checks out each
revision into a temporary work tree, runs the same commands there (plan, cost, simulate with
several algorithms and seeds, a backtest with resampled paths, the shipped studies on both
engines) and compares the bytes of every JSON output::

    python scripts/compare_outputs.py HEAD~1 HEAD

Exit status 0 when every output is byte-identical, 1 otherwise (the differing commands are
listed). Commands that fail at both revisions with the same output count as identical. The
one field that measures the machine rather than the run, ``"wall_seconds"``, is blanked
before the comparison.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

#: Wall-clock timings differ from run to run by nature; everything else must not.
WALL = re.compile(rb'"wall_seconds": *[-0-9.eE+]+')

COMMANDS: list[list[str]] = [
    ["plan", "examples/balanced_60_40.toml", "--json"],
    ["plan", "examples/pension_multi_asset.toml", "--json"],
    ["plan", "examples/pension_multi_asset.toml", "--json", "--suggest-bands"],
    ["plan", "examples/taxable_60_40.toml", "--json", "--compare", "--harvest"],
    ["cost", "examples/cost_almgren_chriss.toml", "--json"],
    ["cost", "examples/cost_square_root.toml", "--json"],
    *[
        ["simulate", "examples/pension_multi_asset.toml", "--json", "--algo", algo, "--seed", str(seed)]
        for algo in ("twap", "vwap", "pov", "is")
        for seed in (1, 7)
    ],
    ["simulate", "examples/balanced_60_40.toml", "--json", "--seed", "3"],
    ["backtest", "examples/backtest_60_40.toml", "--json", "--paths", "40", "--seed", "3"],
    # studies write into a folder of the work tree (a fresh one: no cell is reused)
    *[
        ["study", f"examples/studies/{name}.toml", "--json", "--no-plots", "--out", f"compare-{name}"]
        for name in ("sqrt_law", "algo_comparison", "algo_comparison_vectorized")
    ],
]


def run_all(tree: Path) -> dict[str, bytes]:
    env = dict(os.environ, PYTHONPATH=str(tree))
    out: dict[str, bytes] = {}
    for cmd in COMMANDS:
        proc = subprocess.run(
            [sys.executable, "-m", "overlay", *cmd], cwd=tree, env=env, capture_output=True, timeout=600
        )
        stdout = WALL.sub(rb'"wall_seconds": null', proc.stdout)
        out[" ".join(cmd)] = stdout + b"\nexit=" + str(proc.returncode).encode()
    return out


def checkout(rev: str, where: Path) -> Path:
    subprocess.run(["git", "worktree", "add", "--detach", str(where), rev], check=True, capture_output=True)
    return where


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after")
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        trees = []
        try:
            for i, rev in enumerate((args.before, args.after)):
                trees.append(checkout(rev, Path(tmp) / f"rev{i}"))
            results = [run_all(tree) for tree in trees]
        finally:
            for tree in trees:
                subprocess.run(["git", "worktree", "remove", "--force", str(tree)], capture_output=True)
    differ = [cmd for cmd in results[0] if results[0][cmd] != results[1].get(cmd)]
    for cmd in results[0]:
        print(("DIFFERS  " if cmd in differ else "same     ") + "overlay " + cmd)
    print(f"{len(results[0]) - len(differ)} identical, {len(differ)} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
