"""``overlay paper``'s bad paths: each ends with one line, the right exit status, no
traceback and nothing sent (issue: paper trading that cannot overfill, whatever the
operator does). Fast ones use a loopback listener that only counts connections; the rest
trade against our gateway."""

from __future__ import annotations

import json
import os
import resource
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from test_paper_cli import CONFIG, ROOT, Listener, overlay
from test_paper_gateway import positions, short_config

from execution.journal.lock import JournalLock
from execution.journal.records import Identity
from execution.journal.store import Journal
from overlay.config import load_config
from overlay.paper.model import config_hash
from sim_broker.tws.server import GatewayConfig, GatewayThread


def one_line(proc: subprocess.CompletedProcess) -> str:
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip() and not ln.startswith("WARNING ")]
    assert "Traceback" not in proc.stderr
    assert len(lines) == 1, proc.stderr
    return lines[0]


def journal_with_identity(path: Path, config: Path = CONFIG, client_id: int = 7, port: int = 7497) -> Identity:
    ident = Identity("abcd1234", config_hash(load_config(config)), client_id, "DU1000001", "127.0.0.1", port)
    with Journal(path) as j:
        j.start_run(ident.config_hash, {"orders": []}, {"start_positions": {}, "contracts": {}}, ident)
    return ident


# ---------------------------------------------------------------- refused before connecting


def test_a_second_writer_is_refused_before_it_connects(tmp_path):
    path = tmp_path / "j.sqlite"
    lock = JournalLock(path)
    lock.acquire()  # the first writer
    listener = Listener()
    try:
        proc = overlay(str(CONFIG), "--port", str(listener.port), "--client-id", "8", "--journal", str(path))
    finally:
        listener.close()
        lock.release()
    assert proc.returncode == 2
    line = one_line(proc)
    assert f"in use by pid {os.getpid()}" in line
    assert listener.accepted == 0


def test_a_stale_lock_of_a_dead_process_is_detected_and_reported(tmp_path):
    path = tmp_path / "j.sqlite"
    code = ("import os, sys; from execution.journal.lock import JournalLock; "
            f"JournalLock({str(path)!r}).acquire(); os.kill(os.getpid(), 9)")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=False)
    lock = JournalLock(path)
    lock.acquire()  # the kernel released the dead process's lock
    try:
        assert lock.stale.startswith("stale lock of pid ") and "that process is gone" in lock.stale
    finally:
        lock.release()


@pytest.mark.parametrize("flag, value", [("--client-id", "9"), ("--port", "4002"), ("--host", "localhost")])
def test_a_resume_with_another_identity_is_refused(tmp_path, flag, value):
    path = tmp_path / "j.sqlite"
    listener = Listener()
    try:
        journal_with_identity(path, port=listener.port)
        proc = overlay(str(CONFIG), "--journal", str(path), flag, value)
    finally:
        listener.close()
    assert proc.returncode == 2
    line = one_line(proc)
    assert flag in line and "differs from the journal's" in line
    assert listener.accepted == 0


def test_a_remote_host_needs_allow_remote(tmp_path):
    proc = overlay(str(CONFIG), "--host", "10.1.2.3", "--journal", str(tmp_path / "j.sqlite"))
    assert proc.returncode == 2
    assert "--allow-remote" in one_line(proc)
    assert not (tmp_path / "j.sqlite").exists()


def test_journal_path_problems_are_one_line_and_exit_2(tmp_path):
    listener = Listener()
    folder = tmp_path / "a-folder"
    folder.mkdir()
    text = tmp_path / "notes.sqlite"
    text.write_text("these are not the journal you are looking for\n" * 50)
    try:
        as_folder = overlay(str(CONFIG), "--port", str(listener.port), "--journal", str(folder))
        not_sqlite = overlay(str(CONFIG), "--port", str(listener.port), "--journal", str(text))
    finally:
        listener.close()
    assert as_folder.returncode == 2 and "is a folder" in one_line(as_folder)
    assert not_sqlite.returncode == 2 and "is not an SQLite journal" in one_line(not_sqlite)
    assert listener.accepted == 0


def test_a_read_only_journal_is_refused(tmp_path):
    path = tmp_path / "j.sqlite"
    with Journal(path, lock=False):
        pass
    path.chmod(0o444)
    immutable = os.geteuid() == 0  # root writes read-only files: make it immutable instead
    if immutable and subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("running as root without chattr")
    try:
        proc = overlay(str(CONFIG), "--port", "1", "--journal", str(path))
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], check=False)
    assert proc.returncode == 2 and "read-only" in one_line(proc)


def test_a_journal_that_cannot_be_written_at_all_is_refused_before_connecting(tmp_path):
    """A file-size limit of a few bytes (a full disk as far as SQLite can tell)."""
    listener = Listener()

    def tiny_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (512, 512))

    try:
        proc = subprocess.run([sys.executable, "-m", "overlay", "paper", str(CONFIG), "--port", str(listener.port),
                               "--journal", str(tmp_path / "j.sqlite")], capture_output=True, text=True, cwd=ROOT,
                              timeout=60, preexec_fn=tiny_files)
    finally:
        listener.close()
    assert proc.returncode == 2, proc.stderr
    assert "j.sqlite" in one_line(proc)
    assert listener.accepted == 0


def test_a_damaged_journal_stops_with_exit_1_before_connecting(tmp_path):
    path = tmp_path / "j.sqlite"
    listener = Listener()
    try:
        journal_with_identity(path, port=listener.port)
        db = sqlite3.connect(path)
        db.execute("UPDATE events SET detail = '{\"tampered\": 1}'")
        db.commit()
        db.close()
        proc = overlay(str(CONFIG), "--journal", str(path))
    finally:
        listener.close()
    assert proc.returncode == 1
    line = one_line(proc)
    assert "the journal is damaged" in line and "checksum chain" in line
    assert listener.accepted == 0


# ---------------------------------------------------------------- against the gateway



def gateway(config: Path, account: str = "DU1000001") -> GatewayThread:
    return GatewayThread(GatewayConfig(seed=3, speed=600.0, quote_interval=30.0, account=account), load_config(config))


def placed_orders(gw: GatewayThread) -> int:
    return len(gw.desk._orders)


@pytest.mark.slow
def test_a_live_account_is_refused_without_allow_live_whatever_the_port(tmp_path):
    config = short_config(tmp_path)
    with gateway(config, account="U1234567") as gw:
        proc = overlay(str(config), "--port", str(gw.port), "--journal", str(tmp_path / "j.sqlite"))
        assert proc.returncode == 2
        line = one_line(proc)
        assert "U1234567 is not a paper account" in line and "--allow-live" in line
        assert placed_orders(gw) == 0


@pytest.mark.slow
def test_an_empty_journal_over_an_earlier_run_of_the_config_is_refused_unless_new_run(tmp_path):
    config = short_config(tmp_path)
    with gateway(config) as gw:
        first = overlay(str(config), "--port", str(gw.port), "--journal", str(tmp_path / "a.sqlite"))
        assert first.returncode == 0, first.stderr
        sent = placed_orders(gw)
        again = overlay(str(config), "--port", str(gw.port), "--journal", str(tmp_path / "b.sqlite"))
        assert again.returncode == 1
        line = one_line(again)
        assert "the journal is empty but the broker shows" in line and "--new-run" in line
        assert placed_orders(gw) == sent  # nothing planned afresh over the positions it opened
        anew = overlay(str(config), "--port", str(gw.port), "--journal", str(tmp_path / "c.sqlite"), "--new-run",
                       "--json")
        assert json.loads(anew.stdout)["run_id"]  # the operator said so: it plans afresh


@pytest.mark.slow
def test_trades_the_run_did_not_make_end_in_a_mismatch_with_exit_1(tmp_path):
    from ib_async import IB, MarketOrder

    config = short_config(tmp_path)
    journal = tmp_path / "j.sqlite"
    with gateway(config) as gw:
        done = overlay(str(config), "--port", str(gw.port), "--journal", str(journal), "--json")
        assert done.returncode == 0 and json.loads(done.stdout)["status"] == "completed"
        before = positions(gw)
        ib = IB()  # another client trades a contract of the plan
        ib.connect("127.0.0.1", gw.port, clientId=31)
        try:
            [contract] = ib.qualifyContracts(*[c.contract for c in ib.reqPositions() if c.contract.localSymbol == "ZNM6"])
            trade = ib.placeOrder(contract, MarketOrder("BUY", 3))
            while not trade.isDone():
                ib.waitOnUpdate(timeout=1)
        finally:
            ib.disconnect()
        assert positions(gw)["ZNM6"] == before["ZNM6"] + 3
        sent = placed_orders(gw)
        check = overlay(str(config), "--port", str(gw.port), "--journal", str(journal), "--json")
        assert check.returncode == 1
        report = json.loads(check.stdout)
        assert report["status"] == "mismatch"
        assert report["differences"] == {"ZNM6": 3}
        assert "none were compensated" in report["message"]
        assert placed_orders(gw) == sent  # nothing sent to undo the other client's trade


@pytest.mark.slow
def test_a_full_disk_mid_run_stops_with_exit_1_and_no_order_without_its_record(tmp_path):
    config = short_config(tmp_path)
    journal = tmp_path / "j.sqlite"

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 1024, 256 * 1024))

    with gateway(config) as gw:
        proc = subprocess.run([sys.executable, "-m", "overlay", "paper", str(config), "--port", str(gw.port),
                               "--journal", str(journal)], capture_output=True, text=True, cwd=ROOT, timeout=120,
                              preexec_fn=small_files)
        assert proc.returncode == 1, proc.stderr
        line = one_line(proc)
        assert "j.sqlite" in line and "the run stopped" in line
        sent = [o for o in gw.desk._orders.values() if o.order_ref.startswith("ovl-")]
    assert sent  # the limit was hit mid-run, after some orders
    with Journal.open_readonly(journal) as j:
        children = {c.order_id: c.quantity for c in j.children()}
    for o in sent:
        assert children.get(o.order_id) == o.side * o.terms.total  # journaled before it was sent


# ---------------------------------------------------------------- overlay journal


def journal_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "overlay", "journal", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)


@pytest.mark.slow
def test_overlay_journal_round_trips_the_executions_the_gateway_booked(tmp_path):
    import pyarrow.parquet as pq

    config = short_config(tmp_path)
    journal = tmp_path / "j.sqlite"
    with gateway(config) as gw:
        done = overlay(str(config), "--port", str(gw.port), "--journal", str(journal), "--json")
        assert done.returncode == 0, done.stderr
        fills = [f for f in gw.desk._fills if f.row.order_ref.startswith("ovl-")]
        # a roll's BAG executions are its own (named by the spread, the legs' commissions as
        # their fee); its legs' executions are not
        bags = {f.row.exec_id: f for f in fills if f.listing.combo is not None}
        leg_fees = {}
        for f in fills:
            base = f.row.exec_id.rsplit(".", 1)[0]
            if f.listing.combo is None and base in bags:
                leg_fees[base] = leg_fees.get(base, 0.0) + f.fee

        def name(f):
            c = f.listing.combo
            return f.listing.row.local_symbol if c is None else f"{c[0].row.local_symbol}-{c[1].row.local_symbol}"

        booked = sorted((f.row.exec_id, f.row.perm_id, f.row.order_id, name(f),
                         (1 if f.row.side == "BOT" else -1) * int(f.row.shares), f.row.price,
                         round(leg_fees.get(f.row.exec_id, f.fee), 6))
                        for f in fills if f.listing.combo is not None or f.row.exec_id.rsplit(".", 1)[0] not in bags)
        assert bags and all(b in {x[0] for x in booked} for b in bags)
    out = journal_cli(str(journal), "--json", "--export", str(tmp_path / "out"), "--backup", str(tmp_path / "copy.sqlite"))
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["integrity"] == "ok"
    assert report["identity"]["account"] == "DU1000001" and report["identity"]["client_id"] == 1
    assert set(report["executions"][0]) == {"exec_id", "perm_id", "order_id", "local_symbol", "quantity", "price",
                                            "fee", "time"}
    table = pq.read_table(tmp_path / "out" / "executions.parquet").to_pylist()
    exported = sorted((r["exec_id"], r["perm_id"], r["order_id"], r["local_symbol"], r["quantity"], r["price"],
                       round(r["fee"], 6)) for r in table)
    assert booked and exported == booked
    assert len(pq.read_table(tmp_path / "out" / "orders.parquet")) == len(report["orders"])
    copy = journal_cli(str(tmp_path / "copy.sqlite"), "--json")
    assert copy.returncode == 0
    assert {k: v for k, v in json.loads(copy.stdout).items() if k != "journal"} == \
        {k: v for k, v in report.items() if k != "journal"}


def test_overlay_journal_bad_input_is_one_line(tmp_path):
    missing = journal_cli(str(tmp_path / "nope.sqlite"))
    assert missing.returncode == 2 and "no such journal" in one_line(missing)
    text = tmp_path / "t.sqlite"
    text.write_text("hello\n" * 100)
    assert journal_cli(str(text)).returncode == 2
    path = tmp_path / "j.sqlite"
    journal_with_identity(path)
    (tmp_path / "exists.sqlite").write_text("")
    taken = journal_cli(str(path), "--backup", str(tmp_path / "exists.sqlite"))
    assert taken.returncode == 2 and "does not overwrite" in one_line(taken)


def test_overlay_journal_reports_a_damaged_journal_with_exit_1(tmp_path):
    path = tmp_path / "j.sqlite"
    journal_with_identity(path)
    db = sqlite3.connect(path)
    db.execute("UPDATE events SET time = 99")
    db.commit()
    db.close()
    proc = journal_cli(str(path), "--json")
    assert proc.returncode == 1
    assert "checksum chain" in json.loads(proc.stdout)["integrity"]
