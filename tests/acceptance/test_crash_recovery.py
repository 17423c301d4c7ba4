"""Acceptance: ``overlay paper`` killed with SIGKILL at random moments finishes its plan exactly.

Runs ``benchmarks/crash_recovery.py`` (20 trials, kill delays from a fixed seed; each trial
is a fresh gateway, one or two SIGKILLs of the paper process and a last run on the same
journal). Every trial must end with the account at start positions plus the plan, the
gateway's executions equal to the journal's (none counted twice) and every order id
received once, journaled before it was sent.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_twenty_sigkill_trials_each_finish_the_plan_exactly():
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "crash_recovery.py"), "--trials", "20", "--seed", "7"],
                          capture_output=True, text=True, cwd=ROOT, timeout=580)
    summary = json.loads(proc.stdout)
    assert summary["failures"] == []
    assert summary["passed"] == summary["trials"] == 20
    assert summary["kills_landed"] >= 20  # the kills hit live processes, not finished ones
    assert proc.returncode == 0
