"""`overlay cost SPEC [--json] [--frontier FILE.png]` as the CLI reference specifies."""

import json
import subprocess
import sys

import pytest

from overlay.cli import main

GOOD = """
[order]
quantity = 1_000_000
price = 50.0
horizon_days = 5.0
periods = 5
adv = 5_000_000
daily_vol = 0.019

[model]
name = "almgren-chriss"
eta = 2.5e-6
gamma = 2.5e-7
epsilon = 0.0625
risk_aversion = 1e-6
"""


def write(tmp_path, text, name="spec.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_json_prints_exactly_one_object(tmp_path, capsys):
    path = write(tmp_path, GOOD)
    assert main(["cost", str(path), "--json"]) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert out["model"] == "almgren-chriss"
    assert len(out["holdings"]) == 6 and out["holdings"][0] == 1_000_000 and out["holdings"][-1] == 0
    assert len(out["trades"]) == 5 and sum(out["trades"]) == pytest.approx(1_000_000)
    assert out["half_life"] == pytest.approx(1 / out["kappa"])
    assert captured.err == ""


def test_readable_table_without_json(tmp_path, capsys):
    assert main(["cost", str(write(tmp_path, GOOD))]) == 0
    out = capsys.readouterr().out
    assert "expected cost" in out and "Schedule" in out and "half-life" in out


def test_frontier_png(tmp_path, capsys):
    png = tmp_path / "frontier.png"
    assert main(["cost", str(write(tmp_path, GOOD)), "--frontier", str(png), "--json"]) == 0
    json.loads(capsys.readouterr().out)
    assert png.stat().st_size > 10_000
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_frontier_needs_a_schedule_model(tmp_path, capsys):
    text = GOOD.replace('name = "almgren-chriss"', 'name = "square-root"')
    text = "\n".join(line for line in text.splitlines() if not line.startswith(("eta", "gamma", "epsilon", "risk")))
    png = tmp_path / "f.png"
    assert main(["cost", str(write(tmp_path, text)), "--frontier", str(png)]) == 2
    assert not png.exists()
    assert "--frontier needs the almgren-chriss model" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("old", "new", "fragment"),
    [
        ("horizon_days = 5.0", "horizon_days = 0", "order.horizon_days"),
        ("horizon_days = 5.0", "horizon_days = -2.0", "order.horizon_days"),
        ("periods = 5", "periods = 0", "order.periods"),
        ('name = "almgren-chriss"', 'name = "magic"', "unknown model"),
        ("eta = 2.5e-6", "eta = 1e-7", "eta_tilde"),
        ("daily_vol = 0.019", "", "missing volatility"),
        ("adv = 5_000_000", "adv = 5_000_000\nvenue = 'x'", "order.venue: unknown key"),
    ],
)
def test_bad_specs_exit_2_with_one_line(tmp_path, capsys, old, new, fragment):
    path = write(tmp_path, GOOD.replace(old, new))
    assert main(["cost", str(path), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"overlay cost: error: {path}: ")
    assert fragment in lines[0]


def test_missing_file_exit_2(tmp_path, capsys):
    assert main(["cost", str(tmp_path / "nope.toml")]) == 2
    assert "file not found" in capsys.readouterr().err


def test_console_entry_point_has_no_traceback(tmp_path):
    path = write(tmp_path, GOOD.replace("periods = 5", "periods = 0"))
    proc = subprocess.run(
        [sys.executable, "-m", "overlay", "cost", str(path), "--json"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
