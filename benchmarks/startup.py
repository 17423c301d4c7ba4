"""Process start to exit of a one-parent ``overlay simulate`` day; prints one JSON object.

The config is the shipped ``examples/balanced_60_40.toml`` scaled to a 1.13 bn portfolio
whose whole rebalance goes through one future (equities overlay ES only, bonds none), so
the run works a single TWAP parent of a few hundred children through the session. Each
run is a fresh interpreter (``python -m overlay simulate CONFIG --json --seed 3``), timed
from before the process starts until it has exited; the figure is the median of
``--repeat`` runs (default 9), with every run listed and the 1-minute load average before
and after, since the machine may be shared; ``median_cpu_seconds`` (the child's user plus
system time) depends less on other processes. ``--importtime`` adds the ten slowest imports
of one run (``python -X importtime``), cumulative microseconds.

Python compiles a module's source when it finds no bytecode for it; with
``PYTHONDONTWRITEBYTECODE`` set and no ``__pycache__`` in the source tree, every run
compiles the package again (``compiles_sources`` says whether the runs above did). An
installed package has its bytecode written at installation, so ``cached_bytecode`` times
the same runs, interleaved with the others, reading every module's bytecode from a cache a
first run wrote (``PYTHONPYCACHEPREFIX``).

The runs use the interpreter that runs this script, and the package that interpreter
imports from the run's working folder (a temporary one): ``package`` says which, a source
tree (an editable install) or an installed copy. Run the script with another environment's
``python`` to time that environment. ``interpreter`` names the interpreter and says whether
it runs on a shared ``libpython``: start-up is interpreter-bound, and on one machine a
statically linked build compiled with profile-guided and link-time optimisation (as Linux
distributions ship CPython) starts this run about a fifth sooner than a plain source build
on a shared ``libpython`` (pyenv's default); the README gives the figures.

The ``overlay`` script sets ``OPENBLAS_NUM_THREADS=1`` (numpy's OpenBLAS starts no
busy-waiting worker threads) and ``PYDANTIC_DISABLE_PLUGINS=__all__``, each only when the
user has not set it (or, for OpenBLAS, ``GOTO_NUM_THREADS`` or ``OMP_NUM_THREADS``);
``environment`` lists those of them the benchmark's own environment sets, which the runs inherit.

    python benchmarks/startup.py [--repeat 9] [--importtime]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: Variables that change what a run does at start (see the docstring).
ENVIRONMENT = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS", "PYDANTIC_DISABLE_PLUGINS")


def one_parent_config(folder: str) -> str:
    """Write the one-parent config into ``folder``; its path."""
    with open(os.path.join(ROOT, "examples", "balanced_60_40.toml"), encoding="utf-8") as f:
        text = f.read()
    text = text.replace('overlay = ["ES", "MES"]', 'overlay = ["ES"]').replace('overlay = ["ZN"]', "overlay = []")
    # the bond sleeve has no overlay: plan its move unhedged, so that the equity sleeve sells ES
    # (held, the default, would leave the equity move undone and nothing to trade)
    text = text.replace('band_kind = "absolute"\n', 'band_kind = "absolute"\nilliquid = "plan"\n', 1)
    text = re.sub(r"(?m)^value = 7_500_000.*$", "value = 750_000_000", text)
    text = re.sub(r"(?m)^value = 3_800_000.*$", "value = 380_000_000", text)
    path = os.path.join(folder, "one_parent.toml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def _timed(cmd: list[str], env: dict[str, str] | None, cwd: str, runs: list[float],
           cpu: list[float]) -> subprocess.CompletedProcess:
    """Run ``cmd`` once; append its wall time to ``runs`` and its CPU time to ``cpu``."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd)
    runs.append(time.perf_counter() - start)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu.append(after.ru_utime - used.ru_utime + after.ru_stime - used.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"the run failed ({done.returncode}): {done.stderr.strip()}")
    return done


#: Run by the timed interpreter: where it imports the package from, and whether it runs on a
#: shared ``libpython`` (Linux; None elsewhere).
_WHERE = (
    "import os, overlay.cli as m; print(m.__file__); maps = '/proc/self/maps'; "
    "print(any('libpython' in l for l in open(maps)) if os.path.exists(maps) else None)"
)


def _package(cwd: str) -> tuple[str, bool | None]:
    """The ``overlay/cli.py`` the runs import (a source tree, or an installed copy) and
    whether the interpreter runs on a shared ``libpython``."""
    done = subprocess.run([sys.executable, "-c", _WHERE], capture_output=True, text=True, cwd=cwd, check=True)
    cli, shared = done.stdout.split()
    return cli, None if shared == "None" else shared == "True"


def _compiles_sources(cli: str) -> bool:
    """Whether a plain run compiles the package's sources (no bytecode beside them, none written)."""
    if not (sys.flags.dont_write_bytecode or os.environ.get("PYTHONDONTWRITEBYTECODE")):
        return False
    return not os.path.exists(importlib.util.cache_from_source(cli))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--importtime", action="store_true")
    args = ap.parse_args(argv)
    load_before = round(os.getloadavg()[0], 2)
    with tempfile.TemporaryDirectory() as tmp:
        config = one_parent_config(tmp)
        cli, shared = _package(tmp)
        cmd = [sys.executable, "-m", "overlay", "simulate", config, "--json", "--seed", "3"]
        cached = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        cached["PYTHONPYCACHEPREFIX"] = os.path.join(tmp, "bytecode")
        subprocess.run(cmd, capture_output=True, env=cached, cwd=tmp, check=True)  # writes the cache
        runs, cpu, cached_runs, cached_cpu = [], [], [], []
        out = None
        for _ in range(args.repeat):
            out = _timed(cmd, None, tmp, runs, cpu)
            _timed(cmd, cached, tmp, cached_runs, cached_cpu)
        result = json.loads(out.stdout)
        if result["child_orders"] == 0:
            raise SystemExit("the one-parent config traded nothing: the benchmark would time a no-op")
        report = {
            "scenario": "overlay simulate, one parent, one session",
            "child_orders": result["child_orders"],
            "orders": len(result["orders"]),
            "median_seconds": round(statistics.median(runs), 4),
            "runs": [round(r, 4) for r in runs],
            "median_cpu_seconds": round(statistics.median(cpu), 4),
            "engine_wall_seconds": result["wall_seconds"],
            "package": os.path.dirname(cli),
            "compiles_sources": _compiles_sources(cli),
            "cached_bytecode": {
                "median_seconds": round(statistics.median(cached_runs), 4),
                "runs": [round(r, 4) for r in cached_runs],
                "median_cpu_seconds": round(statistics.median(cached_cpu), 4),
            },
        }
        if args.importtime:
            trace = subprocess.run([sys.executable, "-X", "importtime", *cmd[1:]], capture_output=True, text=True, cwd=tmp)
            rows = []
            for line in trace.stderr.splitlines():
                parts = line.split("|")
                if len(parts) == 3 and parts[1].strip().isdigit():
                    rows.append((int(parts[1]), parts[2].rstrip()))
            report["slowest_imports_us"] = {name.strip(): us for us, name in sorted(rows, reverse=True)[:10]}
    report["interpreter"] = {"executable": os.path.realpath(sys.executable), "version": sys.version, "libpython_shared": shared}
    report["environment"] = {name: os.environ[name] for name in ENVIRONMENT if name in os.environ}
    report["load_before"] = load_before
    report["load_after"] = round(os.getloadavg()[0], 2)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
