"""examples/notebook.py, the notebook-style tour of the Python API, runs as CI runs it: a
config loaded, planned, simulated and studied, with a DataFrame at each step."""

import runpy
import sys
from pathlib import Path

import pandas as pd

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "notebook.py"


def test_the_notebook_example_runs_and_gets_dataframes_at_each_step(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", [str(EXAMPLE), str(tmp_path)])
    ns = runpy.run_path(str(EXAMPLE), run_name="__main__")
    for name in ("sleeves", "orders", "fills", "parents", "tca", "cells", "rows", "schedule"):
        assert isinstance(ns[name], pd.DataFrame) and len(ns[name]) > 0, name
    assert (tmp_path / "study" / "results.parquet").exists()
    out = capsys.readouterr().out
    assert "notional 750,000,000 USD" in out
    # the fills add up to each parent's fill
    fills, parents = ns["fills"], ns["parents"]
    assert fills.groupby("instrument", observed=True)["quantity"].sum().to_dict() == dict(
        zip(parents["instrument"], parents["filled"]))
