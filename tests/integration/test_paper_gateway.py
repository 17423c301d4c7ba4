"""``overlay paper`` against our TWS gateway over the simulator (unmodified ib_async client).

The gateway runs in a thread of this process on a loopback port, its simulated clock a few
hundred times faster than real time; the paper run uses the ordinary real-time loop. The
config is the pension example with a horizon of a few seconds.
"""

from __future__ import annotations

import re
import socket
import threading
from collections import Counter
from pathlib import Path

import pytest

from execution.journal.store import Journal
from overlay.config import load_config
from overlay.paper import PaperOptions, PaperStatus, paper
from sim_broker.tws.server import GatewayConfig, GatewayThread

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CLIENT = 5


def short_config(tmp_path: Path, extra: str = "") -> Path:
    text = (ROOT / "examples" / "pension_multi_asset.toml").read_text()
    text = re.sub(r"(?m)^horizon_minutes = .*$", "horizon_minutes = 0.05", text)
    text = re.sub(r"(?m)^slice_minutes = .*$", "slice_minutes = 0.005", text)
    path = tmp_path / "pension_short.toml"
    path.write_text(text + extra)
    return path


def gateway(config: Path, speed: float = 600.0) -> GatewayThread:
    return GatewayThread(GatewayConfig(seed=3, speed=speed, quote_interval=30.0), load_config(config))


def booked(gw: GatewayThread) -> dict[str, tuple[str, int]]:
    out = {}
    for f in list(gw.desk._fills):
        if f.row.client_id == CLIENT:
            out[f.row.exec_id] = (f.listing.row.local_symbol, (1 if f.row.side == "BOT" else -1) * int(f.row.shares))
    return out


def own_executions(gw: GatewayThread) -> set[str]:
    """The orders' own execution ids: a roll's BAG executions, not its legs'."""
    bags = {f.row.exec_id for f in list(gw.desk._fills) if f.listing.combo is not None}
    return set(booked(gw)) - {f"{b}.{k:02d}" for b in bags for k in (1, 2)}


def assert_planned_moves(orders, start: dict[str, int], end: dict[str, int]) -> None:
    """Every contract moved by its orders' quantities (a roll: −q near, +q far)."""
    moves = Counter()
    for o in orders:
        if o.legs:
            moves[o.legs[0]] -= o.quantity
            moves[o.legs[1]] += o.quantity
        else:
            moves[o.contract] += o.quantity
    for contract, q in moves.items():
        assert end[contract] == start[contract] + q, contract


def positions(gw: GatewayThread) -> dict[str, int]:
    return {lst.row.local_symbol: gw.desk.ledger.position(lst.row.con_id) for lst in gw.desk.book.listings()}


def test_a_paper_rebalance_ends_at_start_positions_plus_the_plan(tmp_path):
    config = short_config(tmp_path)
    journal = tmp_path / "run.sqlite"
    with gateway(config) as gw:
        start_at_gateway = positions(gw)
        result = paper(config, PaperOptions(port=gw.port, client_id=CLIENT, journal=journal))
        assert result.status is PaperStatus.COMPLETED, result.message
        assert result.positions_match
        end = positions(gw)
        with Journal(journal) as j:
            plan = j.run().plan
        # the journaled plan's futures orders, netted per contract, are what was traded
        net = Counter()
        for o in plan["orders"]:
            if o["kind"] == "future":
                net[o["local_symbol"]] += o["quantity"]
            elif o["kind"] == "spread":  # a roll: both legs
                for leg in o["legs"]:
                    net[leg["local_symbol"]] += leg["quantity"]
        for contract, qty in net.items():
            assert end[contract] == start_at_gateway[contract] + qty, contract
        # the roll is one calendar-spread parent (each child one BAG order), the rest per contract
        (roll,) = [o for o in plan["orders"] if o["kind"] == "spread"]
        outright = Counter()
        for o in plan["orders"]:
            if o["kind"] == "future":
                outright[o["local_symbol"]] += o["quantity"]
        assert {o.contract: o.filled for o in result.orders} == {"ESH6-ESM6": roll["quantity"],
                                                                 **{k: v for k, v in outright.items() if v}}
        combos = [o for o in gw.desk._orders.values() if o.client_id == CLIENT and o.listing.combo is not None]
        assert combos and sum(o.filled for o in combos) == roll["quantity"]
        # executions: the journal holds each order's own (a BAG's, not its legs'), as the gateway booked them
        bags = {f.row.exec_id for f in list(gw.desk._fills) if f.listing.combo is not None}
        legs = {f"{b}.{k:02d}" for b in bags for k in (1, 2)}
        with Journal(journal) as j:
            assert set(booked(gw)) - legs == {e.exec_id for e in j.executions()}
        # the ES roll: March closed, June holds the roll plus the rebalance
        assert end["ESH6"] == 0
        # a second run on the completed journal sends nothing
        again = paper(config, PaperOptions(port=gw.port, client_id=CLIENT, journal=journal))
        assert again.status is PaperStatus.NOTHING_TO_DO
        assert positions(gw) == end


FAULTS = """
[faults]
drop_ack_rate = 0.2
duplicate_fill_rate = 0.3
late_fill_rate = 0.3
reject_rate = 0.05
disconnect_every_minutes = 20
disconnect_seconds = 60
"""


def test_gateway_faults_never_overfill_and_end_with_a_clear_report(tmp_path):
    config = short_config(tmp_path, FAULTS)
    journal = tmp_path / "faults.sqlite"
    with gateway(config) as gw:
        start = positions(gw)
        result = paper(config, PaperOptions(port=gw.port, client_id=CLIENT, journal=journal, ack_timeout=1.0,
                                            finish_timeout=30.0))
        assert result.status in (PaperStatus.COMPLETED, PaperStatus.STOPPED)
        if result.status is PaperStatus.STOPPED:
            assert "filled" in result.message  # says which contract is short by how much
        end = positions(gw)
        execs = booked(gw)
        bags = {f.row.exec_id for f in list(gw.desk._fills) if f.listing.combo is not None}
        legs = {f"{b}.{k:02d}" for b in bags for k in (1, 2)}
        with Journal(journal) as j:
            assert set(execs) - legs == {e.exec_id for e in j.executions()}  # duplicates counted once
        moved, filled = Counter(), Counter()
        for x, (contract, q) in execs.items():
            if x not in bags:
                moved[contract] += q  # outright and leg executions: what positions show
            if x not in bags and x not in legs:
                filled[contract] += q
        for contract, q in moved.items():
            assert end[contract] == start[contract] + q, contract
        # the roll: both legs moved by the BAG's quantity, equal and opposite, whatever the faults
        rolled = sum(execs[b][1] for b in bags)
        assert sum(execs[f"{b}.01"][1] for b in bags) == -rolled == -sum(execs[f"{b}.02"][1] for b in bags)
        for o in result.orders:
            done = rolled if o.legs else filled[o.contract]
            assert abs(done) <= abs(o.quantity) and done * o.quantity >= 0, o


class _CuttableProxy:
    """A loopback TCP proxy whose connections the test can cut (a dropped socket)."""

    def __init__(self, target_port: int) -> None:
        self.target = target_port
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.conns: list[socket.socket] = []
        self.accepted = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            self.conns += [client, upstream]
            self.accepted += 1
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self) -> None:
        for s in self.conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.conns.clear()

    def close(self) -> None:
        self.server.close()
        self.cut()


def test_a_dropped_connection_mid_run_reconnects_and_completes(tmp_path):
    config = short_config(tmp_path)
    journal = tmp_path / "cut.sqlite"
    with gateway(config) as gw:
        start = positions(gw)
        proxy = _CuttableProxy(gw.port)
        timer = threading.Timer(2.5, proxy.cut)
        timer.start()
        try:
            result = paper(config, PaperOptions(port=proxy.port, client_id=CLIENT, journal=journal, ack_timeout=1.0))
        finally:
            timer.cancel()
            proxy.close()
        assert proxy.accepted >= 2  # the adapter came back on its own
        assert result.status is PaperStatus.COMPLETED, result.message
        end = positions(gw)
        assert_planned_moves(result.orders, start, end)
        with Journal(journal) as j:
            assert own_executions(gw) == {e.exec_id for e in j.executions()}
            kinds = [e[1] for e in j.events()]
        assert "connection" in kinds  # the journal recorded the outage


def test_the_kill_switch_halts_the_run_and_a_restart_finishes_it(tmp_path):
    config = short_config(tmp_path)
    journal = tmp_path / "kill.sqlite"
    kill = tmp_path / "kill.sqlite.kill"
    kill.touch()
    with gateway(config) as gw:
        start = positions(gw)
        halted = paper(config, PaperOptions(port=gw.port, client_id=CLIENT, journal=journal))
        assert halted.status is PaperStatus.HALTED
        assert halted.message.startswith("kill switch: kill file")
        # a kill file already there at the start: not one child goes out (before: 2 children, 5 lots)
        assert not gw.desk._orders
        assert positions(gw) == start
        kill.unlink()
        done = paper(config, PaperOptions(port=gw.port, client_id=CLIENT, journal=journal))
        assert done.status is PaperStatus.COMPLETED and done.resumed
        end = positions(gw)
        assert_planned_moves(done.orders, start, end)
