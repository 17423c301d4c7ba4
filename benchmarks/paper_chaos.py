"""Operator chaos for ``overlay paper``: the mistakes operators make, against our TWS gateway.

Each trial starts a fresh gateway (in this process, loopback, ``--speed`` times real time)
for the pension example with a horizon of a few seconds, then plays one scenario with
``overlay paper`` child processes on one journal:

The first run passes ``--client-id 7``; resumes pass no identity flag (they take the
journal's).

``kill``            SIGKILL at a random moment, resume.
``kill_reconcile``  SIGKILL, then SIGKILL the resume a moment after it starts (while it
                    reconciles), then resume.
``client_id``       SIGKILL, resume with a different ``--client-id`` (must be refused, exit
                    2), then resume without it.
``second_writer``   a second process on the same journal with another ``--client-id``
                    while the first runs (must be refused, exit 2).
``gateway_restart`` the gateway restarts mid-run (execution ids start again at S1).
``wal_deleted``     SIGKILL, delete ``<journal>-wal``, resume.
``wal_truncated``   SIGKILL, cut ``<journal>-wal`` to a random length, resume.
``main_emptied``    SIGKILL, empty the main journal file, resume.

A last resume follows unless a run already ended. A trial passes when it ends

- **completed**: exit 0, positions = start + plan, the gateway's executions of the run equal
  the journal's (none counted twice), every order the gateway received journaled with its
  quantity and received once; or
- **stopped**: a non-zero exit with one clear line on stderr (no traceback) and no position
  beyond the plan: for each contract, the change since the start lies between what its
  parents' sells and what its buys would make if each were done (a roll and a rebalance in
  the same contract are two parents; with one parent: the plan's sign, at most its size).

Every refusal the scenario expects (exit 2 for a second writer or another client id) is
checked too. Prints one JSON object: per scenario the trials, completed, stopped and failed
counts, wall seconds and the failures.
Usage: ``python benchmarks/paper_chaos.py [--trials 40] [--seed 11] [--speed 600]
[--scenarios kill,wal_deleted]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "benchmarks"))

from crash_recovery import CLIENT_ID, RecordingGateway, leg_executions, planned_moves, short_horizon_config  # noqa: E402

SCENARIOS = ("kill", "kill_reconcile", "client_id", "second_writer", "gateway_restart", "wal_deleted",
             "wal_truncated", "main_emptied")
RUN_TIMEOUT = 180.0


def planned_bounds(parents: dict[str, int], contracts: dict) -> dict[str, tuple[int, int]]:
    """Per contract, the lowest and highest change its parents can make, each parent done in
    any part and never beyond: ``(Σ min(0, q), Σ max(0, q))`` over the parents' moves in it
    (a roll moves both legs)."""
    out: dict[str, tuple[int, int]] = {}
    for key, quantity in parents.items():
        for contract, q in planned_moves({key: quantity}, contracts).items():
            lo, hi = out.get(contract, (0, 0))
            out[contract] = (lo + min(0, q), hi + max(0, q))
    return out


def run_executions(gw: RecordingGateway, prefix: str) -> Counter:
    """The run's executions the gateway booked (orderRef starting ``prefix``), a roll's leg
    executions left out (they are not its own): (exec id, perm id) -> count."""
    fills = gw.fills()
    legs = leg_executions(fills)
    return Counter((f.row.exec_id, f.row.perm_id) for f in fills
                   if f.row.order_ref.startswith(prefix) and f.row.exec_id not in legs)


def command(config: Path, port: int, journal: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "overlay", "paper", str(config), "--port", str(port), "--journal", str(journal),
            "--json", *extra]


class Trial:
    def __init__(self, k: int, scenario: str, config: Path, folder: Path, rng: np.random.Generator, speed: float,
                 code: Path) -> None:
        self.k, self.scenario, self.config, self.rng, self.speed = k, scenario, config, rng, speed
        self.journal = folder / f"trial-{k}.sqlite"
        self.env = {**os.environ, "PYTHONPATH": str(code)}
        self.code = code
        self.steps: list[dict] = []
        self.problems: list[str] = []
        self.plan: tuple[dict, dict] | None = None  # (start positions, parent quantities) as journaled

    # -- processes -------------------------------------------------------------------------
    def spawn(self, gw: RecordingGateway, *extra: str) -> subprocess.Popen:
        return subprocess.Popen(command(self.config, gw.port, self.journal, *extra), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=self.env, cwd=self.code)

    def finish(self, proc: subprocess.Popen, name: str) -> dict:
        try:
            out, err = proc.communicate(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            self.problems.append(f"{name}: still running after {RUN_TIMEOUT:g} s")
        step = {"step": name, "exit": proc.returncode, "stdout": out, "stderr": err.strip()}
        self.steps.append(step)
        self.capture_plan()
        return step

    def run(self, gw: RecordingGateway, name: str, *extra: str) -> dict:
        return self.finish(self.spawn(gw, *extra), name)

    def kill_after(self, gw: RecordingGateway, delay: float, name: str, *extra: str) -> dict:
        proc = self.spawn(gw, *extra)
        time.sleep(delay)
        landed = proc.poll() is None
        if landed:
            proc.kill()
        step = self.finish(proc, name)
        step["killed"] = landed
        return step

    def capture_plan(self) -> None:
        """The run's start positions and parents, read once the journal holds them (before
        any damage the scenario does)."""
        if self.plan is not None or not self.journal.exists():
            return
        try:
            j = read_journal(self.journal)
        except (sqlite3.Error, KeyError, ValueError):
            return
        if j["start"] is not None:
            self.plan = (j["start"], planned_bounds(j["parents"], j["contracts"]))

    # -- scenarios -------------------------------------------------------------------------
    def play(self, gw: RecordingGateway) -> None:
        rng, s = self.rng, self.scenario
        delay = float(rng.uniform(0.6, 3.0))
        own = ("--client-id", str(CLIENT_ID))  # the first run's; resumes omit it (the journal keeps it)
        if s == "second_writer":
            first = self.spawn(gw, *own)
            time.sleep(float(rng.uniform(1.5, 3.0)))
            second = self.run(gw, "second writer", "--client-id", str(CLIENT_ID + 1))
            self.expect_refusal(second, 2, "in use")
            self.finish(first, "first writer")
            return
        if s == "gateway_restart":
            proc = self.spawn(gw, *own)
            time.sleep(delay)
            gw.restart()
            self.finish(proc, "run over a gateway restart")
            return
        self.kill_after(gw, delay, "killed run", *own)
        if s == "kill_reconcile":
            self.kill_after(gw, float(rng.uniform(0.8, 2.5)), "resume killed while it reconciles")
        elif s == "client_id":
            had_run = self.plan is not None  # a journal that holds a run keeps its client id
            refused = self.run(gw, "resume with another client id", "--client-id", str(CLIENT_ID + 2))
            if had_run:
                self.expect_refusal(refused, 2, "--client-id")
        elif s in ("wal_deleted", "wal_truncated", "main_emptied"):
            self.damage(s)

    def damage(self, how: str) -> None:
        wal = Path(f"{self.journal}-wal")
        if how == "wal_deleted" and wal.exists():
            wal.unlink()
        elif how == "wal_truncated" and wal.exists():
            size = wal.stat().st_size
            os.truncate(wal, int(size * float(self.rng.uniform(0.1, 0.9))))
        elif how == "main_emptied" and self.journal.exists():
            os.truncate(self.journal, 0)

    def expect_refusal(self, step: dict, code: int, text: str) -> None:
        if step["exit"] != code or text not in step["stderr"] or len(_lines(step["stderr"])) != 1:
            self.problems.append(f"{step['step']}: expected exit {code} with one line naming {text!r}, "
                                 f"got exit {step['exit']}: {step['stderr'][-300:]}")

    # -- verdict ---------------------------------------------------------------------------
    def verdict(self, gw: RecordingGateway) -> str:
        last = self.steps[-1]
        report = _json(last["stdout"])
        for step in self.steps:
            if "Traceback" in step["stderr"]:
                self.problems.append(f"{step['step']}: traceback: {step['stderr'][-400:]}")
        positions = gw.positions()
        if last["exit"] == 0:
            if report.get("status") not in ("completed", "nothing_to_do"):
                self.problems.append(f"exit 0 with status {report.get('status')}")
            self.check_completed(gw, positions)
            return "completed"
        if not last["stderr"] and not report.get("message"):
            self.problems.append(f"exit {last['exit']} without a message")
        if len(_lines(last["stderr"])) > 1:
            self.problems.append(f"more than one line on stderr: {last['stderr'][-300:]}")
        self.check_within_plan(gw, positions)
        return "stopped"

    def check_completed(self, gw: RecordingGateway, positions: dict[str, int]) -> None:
        j = read_journal(self.journal)
        start, parents, children, prefix = j["start"] or {}, j["parents"], j["children"], j["prefix"]
        journaled = j["executions"]
        for contract, quantity in planned_moves(parents, j["contracts"]).items():
            if positions.get(contract, 0) != start.get(contract, 0) + quantity:
                self.problems.append(f"{contract}: position {positions.get(contract, 0)}, start + plan "
                                     f"{start.get(contract, 0) + quantity}")
        booked = run_executions(gw, prefix)
        if not j["perm_ids"]:  # a journal without perm ids: compare execution ids alone
            booked = Counter({e: n for (e, _), n in booked.items()})
        if booked != journaled:
            self.problems.append(f"executions: gateway {sum(booked.values())}, journal {sum(journaled.values())}")
        received = Counter(ref for _, _, _, _, ref in gw.placed if ref.startswith(prefix))
        if any(n > 1 for n in received.values()):
            self.problems.append(f"order refs received twice: {[r for r, n in received.items() if n > 1][:3]}")
        for _, _, action, qty, ref in gw.placed:
            if ref.startswith(prefix):
                oid = int(ref[len(prefix):])
                if children.get(oid) != (int(qty) if action == "BUY" else -int(qty)):
                    self.problems.append(f"order {oid} was sent without its journal record")

    def check_within_plan(self, gw: RecordingGateway, positions: dict[str, int]) -> None:
        if self.plan is None:
            moved = {k: v - gw.start.get(k, 0) for k, v in positions.items() if v != gw.start.get(k, 0)}
            if moved:
                self.problems.append(f"positions moved without a journaled plan: {moved}")
            return
        start, bounds = self.plan
        for contract, change in ((k, positions.get(k, 0) - start.get(k, 0)) for k in set(positions) | set(bounds)):
            lo, hi = bounds.get(contract, (0, 0))
            if not lo <= change <= hi:
                self.problems.append(f"{contract}: moved {change:+d}, the plan's parents allow {lo:+d} .. {hi:+d}: beyond the plan")


def read_journal(path: Path) -> dict:
    """What the checks need from a journal, read with plain SQL (any schema version)."""
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        row = db.execute("SELECT info FROM run").fetchone() if "run" in tables else None
        start = dict(json.loads(row[0])["start_positions"]) if row else None
        contracts = dict(json.loads(row[0]).get("contracts", {})) if row else {}
        parents = dict(db.execute("SELECT parent_id, quantity FROM parents")) if "parents" in tables else {}
        children = dict(db.execute("SELECT order_id, quantity FROM children")) if "children" in tables else {}
        cols = {r[1] for r in db.execute("PRAGMA table_info(executions)")}
        if "perm_id" in cols:
            executions = Counter(db.execute("SELECT exec_id, perm_id FROM executions").fetchall())
        else:
            executions = Counter(r[0] for r in db.execute("SELECT exec_id FROM executions")) if cols else Counter()
        prefix = "overlay-"
        if "identity" in tables:
            ident = dict(db.execute("SELECT key, value FROM identity"))
            if ident:
                prefix = f"ovl-{ident['config_hash'][:8]}-{ident['run_id']}-"
        return {"start": start, "parents": parents, "contracts": contracts, "children": children, "executions": executions,
                "perm_ids": "perm_id" in cols, "prefix": prefix}
    finally:
        db.close()


def _lines(stderr: str) -> list[str]:
    """stderr without log records (a stale lock taken over is logged as a warning)."""
    return [ln for ln in stderr.splitlines() if ln and not ln.startswith(("WARNING ", "INFO "))]


def _json(text: str) -> dict:
    try:
        return json.loads(text)
    except (json.JSONDecodeError, TypeError):
        return {}


def run_trial(k: int, scenario: str, config: Path, folder: Path, rng: np.random.Generator, speed: float,
              code: Path) -> dict:
    t = Trial(k, scenario, config, folder, rng, speed, code)
    with RecordingGateway(config, speed, seed=k) as gw:
        t.play(gw)
        last = t.steps[-1]
        if last["exit"] != 0 or last.get("killed"):
            t.run(gw, "last resume")
        time.sleep(0.2)  # let the gateway book anything still in flight
        outcome = t.verdict(gw)
    return {"trial": k, "scenario": scenario, "outcome": "failed" if t.problems else outcome,
            "steps": [{k2: (v if k2 != "stdout" else _json(v).get("status")) for k2, v in s.items()} for s in t.steps],
            "problems": t.problems}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=40)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--speed", type=float, default=600.0)
    ap.add_argument("--horizon-minutes", type=float, default=0.02, help="the config's execution horizon")
    ap.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated subset, played in turn")
    ap.add_argument("--code", default=str(ROOT), help="source tree the paper processes run (default: this one)")
    ap.add_argument("--verbose", action="store_true", help="print every trial's steps on stderr")
    args = ap.parse_args(argv)
    scenarios = [s for s in args.scenarios.split(",") if s]
    unknown = set(scenarios) - set(SCENARIOS)
    if unknown:
        ap.error(f"unknown scenarios {sorted(unknown)}")
    rng = np.random.default_rng(args.seed)
    wall = time.perf_counter()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = short_horizon_config(folder, horizon_minutes=args.horizon_minutes)
        for k in range(args.trials):
            scenario = scenarios[k % len(scenarios)]
            results.append(run_trial(k, scenario, config, folder, rng, args.speed, Path(args.code)))
            r = results[-1]
            print(f"trial {k} {scenario}: {r['outcome']} {r['problems'] or ''}", file=sys.stderr, flush=True)
            if args.verbose:
                for step in r["steps"]:
                    print(f"    {step}", file=sys.stderr, flush=True)
    per: dict[str, Counter] = {}
    for r in results:
        per.setdefault(r["scenario"], Counter())[r["outcome"]] += 1
    summary = {
        "trials": args.trials,
        "completed": sum(r["outcome"] == "completed" for r in results),
        "stopped": sum(r["outcome"] == "stopped" for r in results),
        "failed": sum(r["outcome"] == "failed" for r in results),
        "per_scenario": {s: {"trials": sum(c.values()), **{o: c.get(o, 0) for o in ("completed", "stopped", "failed")}}
                         for s, c in per.items()},
        "seed": args.seed,
        "speed": args.speed,
        "wall_seconds": round(time.perf_counter() - wall, 1),
        "failures": [r for r in results if r["outcome"] == "failed"],
    }
    print(json.dumps(summary))
    return 0 if summary["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
