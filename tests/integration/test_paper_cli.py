"""``overlay paper`` safety: live ports refused before any connection, dry runs send nothing."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from execution.journal.store import Journal

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "examples" / "pension_multi_asset.toml"


def overlay(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "overlay", "paper", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=60)


class Listener:
    """A loopback server that only counts the connections it is offered."""

    def __init__(self, port: int = 0) -> None:
        self.sock = socket.create_server(("127.0.0.1", port))
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wake the accepting thread so the port is freed
        except OSError:
            pass
        self.sock.close()


@pytest.mark.parametrize("port", [7496, 4001])
@pytest.mark.parametrize("dry", [False, True])
def test_live_ports_are_refused_before_any_connection(tmp_path, port, dry):
    # Reference facts, Interactive Brokers: TWS live 7496, IB Gateway live 4001.
    try:
        listener = Listener(port)
    except OSError:
        pytest.skip(f"port {port} is busy on this machine")
    try:
        args = [str(CONFIG), "--port", str(port), "--journal", str(tmp_path / "j.sqlite")] + (["--dry-run"] if dry else [])
        proc = overlay(*args)
    finally:
        listener.close()
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [
        f"overlay paper: error: --port: {port} is the {'TWS' if port == 7496 else 'IB Gateway'} live port; "
        "refusing a live account without --allow-live"]
    assert listener.accepted == 0
    assert not (tmp_path / "j.sqlite").exists()


def test_dry_run_plans_prints_and_never_connects(tmp_path):
    listener = Listener()
    try:
        proc = overlay(str(CONFIG), "--port", str(listener.port), "--journal", str(tmp_path / "j.sqlite"),
                       "--dry-run", "--json")
        live = overlay(str(CONFIG), "--port", "7496", "--allow-live", "--dry-run", "--journal",
                       str(tmp_path / "j.sqlite"))
    finally:
        listener.close()
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)  # exactly one JSON object
    assert report["status"] == "dry_run"
    orders = {o["contract"]: o["quantity"] for o in report["orders"]}
    # the pension plan (overlay plan): roll 250 ESH6 into ESM6 as one calendar-spread order
    # (dearer by carry, which counts as hedge), sell 432 ESM6 and 3 MESM6, buy 30 FESXM6, 530
    # MMEM6 (new exposure goes to June, past the March roll dates) and 158 ZNM6. (It was 663
    # ESM6, 8 MESM6, 831 MMEM6 and 554 ZNM6 while the deferred Europe gap was spread pro rata
    # to targets; it now goes to US equity up to its band edge, the rest to Europe.)
    assert orders == {"ESH6-ESM6": 250, "ESM6": -432, "MESM6": -3, "FESXM6": 30, "MMEM6": 530, "ZNM6": 158}
    assert {o["contract"]: o["legs"] for o in report["orders"] if o["legs"]} == {"ESH6-ESM6": ["ESH6", "ESM6"]}
    assert all(o["filled"] == 0 for o in report["orders"])
    assert {o["kind"] for o in report["not_sent"]} == {"swap", "physical"}
    assert live.returncode == 0 and "dry_run" in live.stdout
    assert listener.accepted == 0
    assert not (tmp_path / "j.sqlite").exists()


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    missing = overlay(str(tmp_path / "nope.toml"), "--dry-run")
    assert missing.returncode == 2 and len(missing.stderr.strip().splitlines()) == 1
    bad_id = overlay(str(CONFIG), "--client-id", "-3", "--dry-run")
    assert bad_id.returncode == 2 and "--client-id" in bad_id.stderr
    no_dir = overlay(str(CONFIG), "--journal", str(tmp_path / "no" / "such" / "j.sqlite"), "--dry-run")
    assert no_dir.returncode == 2 and "folder does not exist" in no_dir.stderr


def test_a_journal_of_another_config_is_refused_before_connecting(tmp_path):
    path = tmp_path / "other.sqlite"
    with Journal(path) as j:
        j.start_run("not-this-config", {"orders": []})
    listener = Listener()
    try:
        proc = overlay(str(CONFIG), "--port", str(listener.port), "--journal", str(path))
    finally:
        listener.close()
    assert proc.returncode == 2
    assert "holds a run of a different config" in proc.stderr
    assert listener.accepted == 0


def test_dry_run_with_a_journal_reports_what_is_left(tmp_path):
    path = tmp_path / "left.sqlite"
    with Journal(path) as j:
        j.start_run("h", {"orders": []}, {"start_positions": {"ESH6": 250}})
        j.add_parent("ESH6", "ESH6", -250, "twap")
    proc = overlay(str(CONFIG), "--journal", str(path), "--dry-run", "--json")
    assert proc.returncode == 0
    report = json.loads(proc.stdout)
    assert report["resumed"] is True
    assert report["orders"][0]["contract"] == "ESH6" and report["orders"][0]["filled"] == 0


@pytest.mark.slow
def test_no_broker_is_a_failed_job(tmp_path):
    listener = Listener()
    port = listener.port
    listener.close()  # nothing listens there now
    proc = overlay(str(CONFIG), "--port", str(port), "--journal", str(tmp_path / "j.sqlite"))
    assert proc.returncode == 1
    assert "cannot connect" in proc.stderr


def test_a_dry_run_says_no_journal_was_written_and_creates_none(tmp_path):
    # before: a dry run printed "journal: run.sqlite" but created none
    journal = tmp_path / "run.sqlite"
    proc = overlay(str(CONFIG), "--journal", str(journal), "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert f"journal: none yet; a real run would write {journal}" in proc.stdout
    assert not journal.exists() and not list(tmp_path.iterdir())


def test_the_swap_the_plan_books_prints_as_money_not_a_raw_float(tmp_path):
    # before: "not sent (swap): REIT_TRS 19,135,735.29411765"
    proc = overlay(str(CONFIG), "--journal", str(tmp_path / "j.sqlite"), "--dry-run")
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.startswith("not sent")]
    assert lines
    for line in lines:
        assert re.search(r"notional [+-][\d,]+\.\d\d USD$", line), line
