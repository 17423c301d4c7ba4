"""``overlay paper --clock broker`` paces slices on the broker's clock and shows progress.

The gateway runs in a thread of this process on a loopback port at ``--speed 240``; the paper
run is a child process, as a user runs it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from overlay.config import load_config
from sim_broker.tws.server import GatewayConfig, GatewayThread

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def config_with(tmp_path: Path, horizon: float, slices: float) -> Path:
    text = (ROOT / "examples" / "pension_multi_asset.toml").read_text()
    text = re.sub(r"(?m)^horizon_minutes = .*$", f"horizon_minutes = {horizon}", text)
    text = re.sub(r"(?m)^slice_minutes = .*$", f"slice_minutes = {slices}", text)
    text = re.sub(r"(?m)^algo = .*$", 'algo = "twap"', text)
    path = tmp_path / "pension_clock.toml"
    path.write_text(text)
    return path


def paper(config: Path, port: int, journal: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "overlay", "paper", str(config), "--port", str(port), "--journal",
                           str(journal), "--client-id", "9", "--json", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=240)


def test_on_the_broker_clock_a_ten_minute_schedule_against_speed_240_spans_ten_broker_minutes(tmp_path):
    # before: the run paced on the wall clock whatever the gateway's --speed, so a rehearsal
    # of a 390-minute schedule against --speed 10 took 6.5 hours
    config = config_with(tmp_path, horizon=10, slices=1)
    with GatewayThread(GatewayConfig(seed=3, speed=240.0, quote_interval=30.0), load_config(config)) as gw:
        done = paper(config, gw.port, tmp_path / "j.sqlite", "--clock", "broker", "--progress", "2")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["status"] == "completed"
        fills = {}
        for f in list(gw.desk._fills):
            if f.row.order_ref.startswith("ovl-"):
                fills.setdefault(f.listing.row.local_symbol, []).append(gw.desk.calendar.parse(f.row.time, 0.0))
    # ten one-minute slices of the broker's clock: the fills of a liquid contract span nine to
    # ten broker minutes (the same schedule on the wall clock would span ten wall minutes: 2,400
    # broker minutes). The MME order is held back by the market's volume, not by the clock.
    for contract in ("ESM6", "ZNM6"):
        span = max(fills[contract]) - min(fills[contract])
        assert 7 * 60 <= span <= 11 * 60, (contract, span)
    # progress on stderr while it worked, and a last line when it was done
    progress = [line for line in done.stderr.splitlines() if line.startswith("overlay paper:")]
    assert len(progress) >= 2, done.stderr
    assert "parents done" in progress[-1] and "filled" in progress[-1]


def test_progress_zero_prints_none(tmp_path):
    config = config_with(tmp_path, horizon=0.05, slices=0.005)
    with GatewayThread(GatewayConfig(seed=3, speed=600.0, quote_interval=30.0), load_config(config)) as gw:
        done = paper(config, gw.port, tmp_path / "j.sqlite", "--progress", "0")
    assert done.returncode == 0, done.stderr
    assert not [line for line in done.stderr.splitlines() if line.startswith("overlay paper:")]


def test_a_bad_progress_or_clock_is_one_line_and_exit_2(tmp_path):
    config = config_with(tmp_path, horizon=10, slices=1)
    for args, key in ((("--progress", "-1"), "--progress"), (("--clock", "sundial"), "--clock")):
        out = subprocess.run([sys.executable, "-m", "overlay", "paper", str(config), "--dry-run", *args],
                             capture_output=True, text=True, cwd=ROOT, timeout=60)
        assert out.returncode == 2
        assert key in out.stderr and "Traceback" not in out.stderr
