"""Acceptance: ``overlay paper`` under operator chaos never overfills and never lies.

Runs ``benchmarks/paper_chaos.py`` in its short form: 32 trials, four of each scenario
(SIGKILL at random moments and during reconciliation, a resume with another client id, a
second writer, a gateway restart mid-run, a deleted or truncated ``-wal``, an emptied main
file). Every trial must end either completed (positions = start + plan, the gateway's
executions equal to the journal's, every order journaled before it was sent) or stopped
with one clear line, a non-zero exit and no position beyond the plan.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_thirty_two_chaos_trials_each_complete_or_stop_cleanly():
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "paper_chaos.py"), "--trials", "32", "--seed", "11"],
                          capture_output=True, text=True, cwd=ROOT, timeout=880)
    summary = json.loads(proc.stdout)
    assert summary["failures"] == []
    assert summary["failed"] == 0 and summary["completed"] + summary["stopped"] == 32
    assert set(summary["per_scenario"]) == {"kill", "kill_reconcile", "client_id", "second_writer", "gateway_restart",
                                            "wal_deleted", "wal_truncated", "main_emptied"}
    assert summary["completed"] >= 16  # the ordinary mistakes finish the plan, not just stop
    assert proc.returncode == 0
