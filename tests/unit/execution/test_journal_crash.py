"""A writer killed with SIGKILL in the middle of its writes loses nothing it had journaled.

The child process journals children and executions as fast as it can and prints a line after
each commit returns. The test kills it after a random number of lines (a fixed seed), while
it is in the middle of further writes, then reopens the journal: everything announced must be
there, the file must be intact and a new session must be able to continue.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from execution.broker import Execution, OrderRequest
from execution.journal.store import Journal

WRITER = textwrap.dedent(
    """
    import sys
    from execution.broker import Execution, OrderRequest
    from execution.journal.store import Journal

    j = Journal(sys.argv[1])
    if j.run() is None:
        j.start_run("crash", {"orders": []})
        j.add_parent("P", "ES", 10**9, "twap")
    else:
        j.begin_session()
    oid = j.next_order_id()
    while True:
        j.reserve_child("P", OrderRequest(oid, "ES", 2), 0.0)
        print("R", oid, flush=True)
        j.record_event(Execution(oid, 0.0, f"x{oid}", 1, 5000.0))
        print("E", oid, flush=True)
        oid += 1
    """
)


def _run_and_kill(path, lines_before_kill: int) -> tuple[set[int], set[int]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    reserved: set[int] = set()
    executed: set[int] = set()
    try:
        assert proc.stdout is not None
        for _ in range(lines_before_kill):
            line = proc.stdout.readline()
            if not line:
                break
            kind, oid = line.split()
            (reserved if kind == "R" else executed).add(int(oid))
    finally:
        proc.send_signal(signal.SIGKILL)
        rest = proc.communicate()[0]
    for line in rest.splitlines():  # lines written before the kill landed
        kind, oid = line.split()
        (reserved if kind == "R" else executed).add(int(oid))
    return reserved, executed


@pytest.mark.parametrize("trial", range(4))
def test_killed_writer_loses_nothing_journaled(tmp_path, trial):
    rng = np.random.default_rng(20260302 + trial)
    path = tmp_path / "crash.sqlite"
    all_reserved: set[int] = set()
    all_executed: set[int] = set()
    for _ in range(2):  # kill, restart on the same journal, kill again
        reserved, executed = _run_and_kill(path, int(rng.integers(3, 60)))
        all_reserved |= reserved
        all_executed |= executed
        with Journal(path) as j:
            assert j._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            children = {c.order_id: c for c in j.children()}
            assert all_reserved <= set(children)
            exec_orders = [e.order_id for e in j.executions()]
            assert all_executed <= set(exec_orders)
            assert len(exec_orders) == len(set(exec_orders))  # one execution per child, never two
            assert all(c.quantity == 2 for c in children.values())
            assert j.recovery().parents[0].filled == len(exec_orders)
    # a later session continues with fresh ids above everything journaled
    with Journal(path) as j:
        nxt = j.next_order_id()
        assert nxt > max(all_reserved)
        j.reserve_child("P", OrderRequest(nxt, "ES", 1), 0.0)
        assert j.record_event(Execution(nxt, 0.0, f"x{nxt}", 1, 1.0))
