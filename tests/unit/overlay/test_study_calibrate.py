"""Calibrating an impact law to parent orders and fills, with confidence intervals."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from overlay.cli import main
from overlay.errors import InputError
from overlay.studies.calibration import CalibrationModel, FixedCost, calibrate
from pricing.impact import model_from_spec


def parents(n=400, y=0.8, exponent=0.5, fixed_bps=0.5, noise_bps=2.0, seed=0):
    rng = np.random.default_rng(seed)
    participation = rng.uniform(0.005, 0.2, n)
    daily_vol = rng.choice([0.01, 0.02], n)
    shortfall = fixed_bps + 1e4 * y * daily_vol * participation**exponent + rng.normal(0, noise_bps, n)
    return pd.DataFrame({"participation": participation, "daily_vol": daily_vol, "shortfall_bps": shortfall})


def test_power_law_95_percent_intervals_cover_the_truth_about_95_percent_of_the_time():
    truth = {"y": 0.8, "exponent": 0.5, "fixed_bps": 0.5}
    hits = dict.fromkeys(truth, 0)
    for seed in range(40):
        cal = calibrate(parents(seed=seed))
        for name, value in truth.items():
            hits[name] += cal.parameters[name].low < value < cal.parameters[name].high
    assert all(h >= 34 for h in hits.values()), hits  # P(<= 33 of 40 | p = 0.95) < 1 %
    p = cal.parameters
    assert 0 < p["exponent"].se < 0.05 and cal.orders == 400 and cal.confidence == 0.95
    assert p["y"].high - p["y"].value == pytest.approx(p["y"].value - p["y"].low)


def test_more_orders_give_tighter_intervals():
    narrow = calibrate(parents(n=4000), model="square-root").parameters["y"]
    wide = calibrate(parents(n=200), model="square-root").parameters["y"]
    assert narrow.high - narrow.low < 0.5 * (wide.high - wide.low)


def test_the_fitted_square_root_law_is_an_impact_model():
    cal = calibrate(parents(fixed_bps=0.0), model=CalibrationModel.SQUARE_ROOT, fixed=FixedCost.ZERO)
    model = model_from_spec(cal.spec())
    assert model.y == pytest.approx(0.8, rel=0.02) and "fixed_bps" not in cal.parameters


def test_linear_law_gives_an_almgren_chriss_eta():
    rng = np.random.default_rng(2)
    x = rng.uniform(0.01, 0.2, 300)
    frame = pd.DataFrame({"participation": x, "daily_vol": 0.01, "shortfall_bps": 30.0 * x + rng.normal(0, 0.2, x.size)})
    cal = calibrate(frame, model="linear", fixed=FixedCost.ZERO)
    assert cal.parameters["k"].value * 1e4 == pytest.approx(30.0, rel=0.02)
    spec = cal.spec(price=50.0, adv=5e6)
    assert spec["model"] == "almgren-chriss" and spec["eta"] == pytest.approx(30e-4 * 50.0 / 5e6, rel=0.02)
    assert cal.spec() is None


def _fills(n_parents=60, instruments=("ESH6",), seed=3):
    """A fills.csv like the simulator's (parent_id and arrival_price per row)."""
    rng = np.random.default_rng(seed)
    rows, exec_id = [], 0
    for parent in range(n_parents):
        instrument = instruments[parent % len(instruments)]
        arrival = 5000.0 if instrument.startswith("ES") else 110.5
        q = int(rng.integers(5_000, 300_000))
        cost_bps = 0.8 * 0.01 * np.sqrt(q / 1.5e6) * 1e4 + rng.normal(0, 0.5)
        price = arrival * (1 + cost_bps / 1e4)
        for part in np.array_split(np.arange(q), 4):
            exec_id += 1
            rows.append(("2026-03-11T09:30:00.002-04:00", instrument, "buy", len(part), price, "USD", 1.5, f"E{exec_id}",
                         exec_id, parent + 1, arrival))
    return pd.DataFrame(rows, columns=["time", "instrument", "side", "quantity", "price", "currency", "fee", "exec_id",
                                       "order_id", "parent_id", "arrival_price"])


def test_fills_are_grouped_into_parent_orders(tmp_path):
    """The shortfall of each parent (by parent order and contract) comes from its fills."""
    path = tmp_path / "fills.csv"
    _fills().to_csv(path, index=False)
    cal = calibrate(path, model="square-root", adv=1.5e6, daily_vol=0.01, fixed=FixedCost.ZERO)
    assert cal.orders == 60 and cal.parameters["y"].value == pytest.approx(0.8, rel=0.03)


def test_five_contracts_against_one_arrival_price_are_refused_in_one_line(tmp_path, capsys):
    # before: five contracts were fitted against one arrival price: Y = -2.05e6, exit 0
    fills = _fills(instruments=("ESH6", "ESM6", "ZNM6", "MESM6", "MMEH6")).drop(columns="arrival_price")
    path = tmp_path / "fills.csv"
    fills.to_csv(path, index=False)
    code = main(["study", "--calibrate", str(path), "--arrival", "5000", "--adv", "1.5e6", "--daily-vol", "0.01"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "arrival" in err and "5 contracts" in err


def test_a_degenerate_input_is_refused_not_fitted(tmp_path, capsys):
    # before: a degenerate input returned +-1e17 with exit 0; every order has the same size
    frame = pd.DataFrame({"participation": [0.01] * 12, "daily_vol": [0.01] * 12,
                          "shortfall_bps": np.linspace(4.0, 6.0, 12)})
    path = tmp_path / "same.csv"
    frame.to_csv(path, index=False)
    code = main(["study", "--calibrate", str(path), "--out", str(tmp_path / "cal")])
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1 and "cannot fit" in err
    assert not (tmp_path / "cal" / "calibration.json").exists()


def test_calibration_writes_the_fit_and_its_plot(tmp_path, capsys):
    path = tmp_path / "fills.csv"
    _fills().to_csv(path, index=False)
    out = tmp_path / "cal"
    assert main(["study", "--calibrate", str(path), "--model", "square-root", "--adv", "1.5e6", "--daily-vol", "0.01",
                 "--out", str(out), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert json.loads((out / "calibration.json").read_text()) == printed
    assert (out / "calibration.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_simulate_json_report_and_the_cli(tmp_path, capsys):
    frame = parents(n=50, noise_bps=0.5)
    report = {"orders": [{"quantity": float(p * 1.5e6), "shortfall_bps": s, "instrument": "ES"} for p, s in zip(frame["participation"], frame["shortfall_bps"])]}
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report))
    assert main(["study", "--calibrate", str(path), "--adv", "1.5e6", "--daily-vol", "0.015", "--json",
                 "--out", str(tmp_path / "cal")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["model"] == "power" and out["orders"] == 50 and set(out["parameters"]) == {"fixed_bps", "y", "exponent"}


def test_missing_inputs_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="daily_vol"):
        calibrate(parents().drop(columns="daily_vol"))
    with pytest.raises(InputError, match="file not found"):
        calibrate(tmp_path / "none.csv")
    with pytest.raises(InputError, match="at least 3"):
        calibrate(parents(n=2))
