"""Crash recovery of ``overlay paper``: SIGKILL at random moments, restart on the same journal.

Each trial starts a fresh TWS gateway over the simulator (in this process, on a loopback
port, the simulated clock running ``--speed`` times real time) for the pension example with
a short execution horizon, then runs ``overlay paper`` as a child process and kills it with
SIGKILL after a random delay, once or twice, before letting a last run finish on the same
journal. The kill delays come from ``numpy.random.default_rng(--seed)``.

A trial passes when

- the last run exits 0 with status ``completed`` (or ``nothing_to_do`` when an earlier run
  finished the plan before its kill came: it exited 0 by itself, or the kill landed while it
  was exiting and the journal already records the run completed);
- the account's position in every traded contract is the journaled start position plus
  the parent quantity (the plan), so nothing over- or under-filled;
- the gateway booked exactly the executions the journal holds (same execution ids), each
  once -- no execution counted twice;
- the gateway received every order id once, each one journaled before it was sent with the
  same quantity -- no quantity sent twice.

Prints one JSON object: trials, passed, kills that landed, wall seconds and any failures.
Usage: ``python benchmarks/crash_recovery.py [--trials 20] [--seed 7] [--speed 1000]`` (the gateway's highest speed).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from execution.journal.store import Journal, RunStatus  # noqa: E402
from overlay.config import load_config  # noqa: E402
from sim_broker.tws.server import GatewayConfig, GatewayThread  # noqa: E402

CLIENT_ID = 7


def short_horizon_config(folder: Path, horizon_minutes: float = 0.05, slice_minutes: float = 0.005) -> Path:
    """The pension example with a horizon of a few seconds."""
    text = (ROOT / "examples" / "pension_multi_asset.toml").read_text()
    text = re.sub(r"(?m)^horizon_minutes = .*$", f"horizon_minutes = {horizon_minutes}", text)
    text = re.sub(r"(?m)^slice_minutes = .*$", f"slice_minutes = {slice_minutes}", text)
    path = folder / "pension_short.toml"
    path.write_text(text)
    return path


class RecordingGateway:
    """A gateway thread that records every placeOrder it receives and can be restarted.

    ``placed`` holds ``(client id, order id, action, quantity, orderRef)`` per placeOrder;
    ``start`` the positions when it started; ``restarts`` how often it restarted (the desk,
    and so the ledger and this recording, carry over a restart)."""

    def __init__(self, config_path: Path, speed: float, seed: int) -> None:
        settings = GatewayConfig(seed=seed, speed=speed, quote_interval=30.0)
        self.thread = GatewayThread(settings, load_config(config_path))
        self.placed: list[tuple[int, int, str, float, str]] = []
        self.restarts = 0
        self._lock = threading.Lock()

    def __enter__(self) -> RecordingGateway:
        self.thread.start()
        desk = self.thread.desk
        place = desk._place

        def recording_place(session, request):  # noqa: ANN001
            with self._lock:
                self.placed.append((session.client_id, request.order_id, request.action, request.quantity,
                                    request.order_ref))
            place(session, request)

        desk._place = recording_place
        self.start = self.positions()
        return self

    def __exit__(self, *exc: object) -> None:
        self.thread.stop()

    def restart(self) -> None:
        self.thread = self.thread.restart()
        self.restarts += 1

    @property
    def port(self) -> int:
        return self.thread.port

    def positions(self) -> dict[str, int]:
        desk = self.thread.desk
        return {lst.row.local_symbol: desk.ledger.position(lst.row.con_id) for lst in desk.book.listings()}

    def fills(self) -> list:
        """Every execution the gateway booked, in order."""
        return list(self.thread.desk._fills)

    def executions(self) -> dict[str, tuple[str, int]]:
        """Our client's orders' own executions the gateway booked: exec id -> (contract,
        signed quantity); a roll's BAG execution under its spread ``NEAR-FAR`` (its legs'
        executions are not the order's own: see :func:`own_executions`)."""
        return own_executions(self.fills(), CLIENT_ID)


def leg_executions(fills: list) -> set[str]:
    """Exec ids of the legs of combo (``BAG``) executions: ``<bag exec id>.01`` and ``.02``."""
    bags = {f.row.exec_id for f in fills if f.listing.combo is not None}
    return {f"{b}.{k:02d}" for b in bags for k in (1, 2)}


def own_executions(fills: list, client_id: int | None = None) -> dict[str, tuple[str, int]]:
    """exec id -> (contract, signed quantity) of each order's own executions: an outright's,
    and a combo's ``BAG`` ones (named ``NEAR-FAR``), not the ``BAG``'s leg executions."""
    legs = leg_executions(fills)
    out = {}
    for f in fills:
        row = f.row
        if (client_id is None or row.client_id == client_id) and row.exec_id not in legs:
            sign = 1 if row.side == "BOT" else -1
            combo = f.listing.combo
            name = f.listing.row.local_symbol if combo is None else f"{combo[0].row.local_symbol}-{combo[1].row.local_symbol}"
            out[row.exec_id] = (name, sign * int(round(row.shares)))
    return out


def planned_moves(parents: dict[str, int], contracts: dict) -> dict[str, int]:
    """Per contract, the change the parents plan: a roll (``legs`` in the run's contracts)
    sells its quantity of the near leg and buys it of the far one."""
    moves = Counter()
    for key, quantity in parents.items():
        legs = (contracts.get(key) or {}).get("legs")
        if legs:
            moves[legs[0]] -= quantity
            moves[legs[1]] += quantity
        else:
            moves[key] += quantity
    return dict(moves)


def paper_command(config: Path, port: int, journal: Path) -> list[str]:
    return [sys.executable, "-m", "overlay", "paper", str(config), "--port", str(port), "--client-id", str(CLIENT_ID),
            "--journal", str(journal), "--json"]


def run_trial(k: int, config: Path, folder: Path, rng: np.random.Generator, speed: float) -> dict:
    journal = folder / f"trial-{k}.sqlite"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    kills = []
    with RecordingGateway(config, speed, seed=k) as gw:
        for delay in rng.uniform(0.2, 4.0, size=int(rng.integers(1, 3))):
            proc = subprocess.Popen(paper_command(config, gw.port, journal), stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, env=env, cwd=ROOT)
            time.sleep(float(delay))
            landed = proc.poll() is None
            if landed:
                proc.kill()  # SIGKILL
            proc.wait()
            # a run that finished before its kill came is a run that completed the plan
            kills.append({"after": round(float(delay), 3), "landed": landed, "exit": None if landed else proc.returncode})
        # a run killed while it was exiting may already have completed the plan in the journal
        completed_before = False
        if journal.exists():  # read only: the harness neither takes the journal's lock nor writes to it
            with Journal.open_readonly(journal) as j:
                run = j.run()
                completed_before = run is not None and run.status is RunStatus.COMPLETED
        if completed_before:
            kills.append({"after": None, "landed": False, "exit": 0, "journal": "completed"})
        try:
            proc = subprocess.run(paper_command(config, gw.port, journal), capture_output=True, text=True, env=env,
                                  cwd=ROOT, timeout=180)
        except subprocess.TimeoutExpired as exc:  # a hung last run is a failed trial, not a broken report
            proc = subprocess.CompletedProcess(exc.cmd, -9, _text(exc.stdout), _text(exc.stderr) + " [timed out after 180 s]")
        time.sleep(0.2)  # let the gateway book anything still in flight
        return check_trial(k, proc, journal, gw, kills)


def _text(out: bytes | str | None) -> str:
    return out.decode(errors="replace") if isinstance(out, bytes) else (out or "")


def check_trial(k: int, proc: subprocess.CompletedProcess, journal: Path, gw: RecordingGateway, kills: list) -> dict:
    problems = []
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        report = {}
        problems.append(f"no JSON report (exit {proc.returncode}): {proc.stderr.strip()[-300:]}")
    finished_early = any(not k["landed"] and k["exit"] == 0 for k in kills)
    expected = {"completed", "nothing_to_do"} if finished_early else {"completed"}
    if proc.returncode != 0 or report.get("status") not in expected:
        problems.append(f"last run: exit {proc.returncode}, status {report.get('status')}, {report.get('message')}")
    with Journal.open_readonly(journal) as j:
        run = j.run()
        children = {c.order_id: c for c in j.children()}
        executions = {e.exec_id: e for e in j.executions()}
        parents = {p.parent_id: p.quantity for p in j.recovery().parents}
        start = run.info["start_positions"] if run else {}
        contracts = run.info.get("contracts", {}) if run else {}
    positions = gw.positions()
    for contract, quantity in planned_moves(parents, contracts).items():
        want = start.get(contract, 0) + quantity
        if positions.get(contract, 0) != want:
            problems.append(f"{contract}: position {positions.get(contract, 0)}, start + plan {want}")
    booked = gw.executions()
    if set(booked) != set(executions):
        problems.append(f"executions: gateway {len(booked)}, journal {len(executions)}, "
                        f"missing from journal {sorted(set(booked) - set(executions))[:5]}")
    filled = Counter()
    for contract, qty in booked.values():
        filled[contract] += qty
    for contract, quantity in parents.items():
        if filled[contract] != quantity:
            problems.append(f"{contract}: executed {filled[contract]} of {quantity}")
    ids = Counter(oid for cid, oid, _, _, _ in gw.placed if cid == CLIENT_ID)
    twice = [oid for oid, n in ids.items() if n > 1]
    if twice:
        problems.append(f"order ids received twice: {twice}")
    for cid, oid, action, qty, _ in gw.placed:
        child = children.get(oid)
        signed = int(qty) if action == "BUY" else -int(qty)
        if cid == CLIENT_ID and (child is None or child.quantity != signed):
            problems.append(f"order {oid} ({action} {qty:g}) was sent without its journal record")
    return {"trial": k, "ok": not problems, "kills": kills, "children": len(children), "executions": len(executions),
            "sessions": run.sessions if run else 0, "problems": problems}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--speed", type=float, default=1000.0)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    wall = time.perf_counter()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = short_horizon_config(folder)
        for k in range(args.trials):
            results.append(run_trial(k, config, folder, rng, args.speed))
            print(f"trial {k}: {'ok' if results[-1]['ok'] else results[-1]['problems']}", file=sys.stderr, flush=True)
    summary = {
        "trials": args.trials,
        "passed": sum(r["ok"] for r in results),
        "kills_landed": sum(k["landed"] for r in results for k in r["kills"]),
        "seed": args.seed,
        "speed": args.speed,
        "wall_seconds": round(time.perf_counter() - wall, 1),
        "failures": [r for r in results if not r["ok"]],
    }
    print(json.dumps(summary))
    return 0 if summary["passed"] == args.trials else 1


if __name__ == "__main__":
    sys.exit(main())
