"""The compiled build gives exactly what the pure Python build gives.

``OVERLAY_COMPILE=1 pip install .`` compiles the engine's hot modules with mypyc
(:data:`execution.buildinfo.HOT_MODULES`), and ``OVERLAY_PURE=1`` makes that same install
run their Python sources. Where the compiled build is installed (the CI installs it in an
environment of its own and runs the engine's and the simulator's tests there too), every
``overlay simulate`` below runs twice, compiled and pure, and the two JSON documents must be
identical but for the wall-clock time: the same children, fills, prices, fees and totals,
for every algorithm, with a calendar-spread roll, and under injected broker faults
(rejects, lost acknowledgements, duplicate and late executions, disconnects).

Elsewhere only the first test runs: with ``OVERLAY_EXPECT_BUILD`` set (the CI sets it to
``compiled`` in that environment), the build the engine runs must be that one, so a failed
compilation cannot pass for a compiled run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from execution.buildinfo import describe
from tests.integration.simconfigs import one_future

PENSION = "examples/pension_multi_asset.toml"
FAULTS = """reject_rate = 0.05
drop_ack_rate = 0.05
duplicate_fill_rate = 0.05
late_fill_rate = 0.05
disconnect_every_minutes = 40
disconnect_seconds = 30
"""

compiled_only = pytest.mark.skipif(describe() != "compiled", reason="the compiled build is not installed here")


def test_the_engine_runs_the_build_that_was_asked_for():
    expected = os.environ.get("OVERLAY_EXPECT_BUILD")
    if not expected:
        pytest.skip("OVERLAY_EXPECT_BUILD is not set")
    assert describe() == expected


def _run(args: list[str], *, pure: bool) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "OVERLAY_PURE"}
    if pure:
        env["OVERLAY_PURE"] = "1"
    return subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, timeout=240)


def _simulate(config: str, algo: str, seed: int, *, pure: bool) -> dict:
    proc = _run(["-m", "overlay", "simulate", config, "--json", "--algo", algo, "--seed", str(seed)], pure=pure)
    assert proc.returncode in (0, 1), proc.stderr
    doc = json.loads(proc.stdout)
    doc.pop("wall_seconds")
    return doc


@compiled_only
def test_overlay_pure_runs_the_python_sources_of_a_compiled_install():
    probe = "import execution.engine, sim_broker.broker; from execution.buildinfo import describe; print(describe())"
    assert _run(["-c", probe], pure=False).stdout.strip() == "compiled"
    assert _run(["-c", probe], pure=True).stdout.strip() == "pure"


@compiled_only
@pytest.mark.parametrize("algo", ["twap", "vwap", "pov", "is"])
def test_compiled_and_pure_simulate_the_pension_plan_identically(algo):
    compiled = _simulate(PENSION, algo, 5, pure=False)
    pure = _simulate(PENSION, algo, 5, pure=True)
    assert compiled["child_orders"] > 0 and compiled["fills"]
    assert compiled == pure


@compiled_only
@pytest.mark.parametrize("algo", ["twap", "pov"])
def test_compiled_and_pure_agree_under_broker_faults(tmp_path, algo):
    config = str(one_future(tmp_path, contracts=600, faults=FAULTS))
    compiled = _simulate(config, algo, 3, pure=False)
    pure = _simulate(config, algo, 3, pure=True)
    assert compiled["child_orders"] > 0
    assert compiled == pure
