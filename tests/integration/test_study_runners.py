"""Studies end to end: the same results.parquet in-process, on processes and on Dask;
re-runs skip finished cells; a bad cell fails alone with exit status 1."""

from __future__ import annotations

import hashlib
import json

import pyarrow.parquet as pq
import pytest

from overlay.cli import main
from overlay.studies.runners import Extras, run_study
from overlay.studies.spec import load_study

STUDY = """
[study]
name = "runners"
engine = "{engine}"
seeds = {seeds}

[grid]
algo = ["twap", "pov"]
participation = [0.01, 0.05]
horizon_minutes = [30]
daily_vol = [0.012]

[market]
root = "ES"
adv = 1_500_000
impact = {{ model = "square-root", y = 0.8, permanent_fraction = 0.2 }}

[execution]
slice_minutes = 5
"""


def write_study(tmp_path, engine="vectorized", seeds=3000):
    text = STUDY.format(engine=engine, seeds=seeds)
    path = tmp_path / f"{engine}.toml"
    path.write_text(text)
    return path


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def dask_address():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, protocol="tcp://", host="127.0.0.1", dashboard_address=None
    ) as cluster:
        yield cluster.scheduler_address


@pytest.mark.parametrize(("engine", "seeds"), [("vectorized", 3000), ("event", 3)])
def test_in_process_workers_and_dask_write_identical_results(tmp_path, dask_address, engine, seeds):
    spec = load_study(write_study(tmp_path, engine, seeds))
    a = run_study(spec, tmp_path / "a", extras=Extras.NONE)
    b = run_study(spec, tmp_path / "b", workers=2, extras=Extras.NONE)
    c = run_study(spec, tmp_path / "c", scheduler=dask_address, extras=Extras.NONE)
    assert a.ok and b.ok and c.ok
    assert a.table.num_rows == 4 * seeds
    files = [tmp_path / d / "results.parquet" for d in "abc"]
    assert digest(files[0]) == digest(files[1]) == digest(files[2])
    frame = pq.read_table(files[0]).to_pandas()
    assert list(frame["seed"][:seeds]) == list(range(seeds))
    assert frame["filled"].min() > 0


def test_rerun_skips_finished_cells(tmp_path):
    spec = load_study(write_study(tmp_path))
    first = run_study(spec, tmp_path / "out", extras=Extras.NONE)
    before = digest(tmp_path / "out" / "results.parquet")
    again = run_study(spec, tmp_path / "out", extras=Extras.NONE)
    assert first.summary["cells_reused"] == 0 and again.summary["cells_reused"] == 4
    assert digest(tmp_path / "out" / "results.parquet") == before
    victim = sorted((tmp_path / "out" / "cells").glob("*.parquet"))[0]
    victim.unlink()
    third = run_study(spec, tmp_path / "out", extras=Extras.NONE)
    assert third.summary["cells_reused"] == 3
    assert digest(tmp_path / "out" / "results.parquet") == before
    # more seeds is another study: nothing is reused
    more = load_study(write_study(tmp_path, seeds=4000))
    assert run_study(more, tmp_path / "out", extras=Extras.NONE).summary["cells_reused"] == 0


def test_a_bad_cell_fails_alone_and_the_exit_status_is_1(tmp_path, capsys):
    path = write_study(tmp_path)
    path.write_text(path.read_text().replace("participation = [0.01, 0.05]", "participation = [0.01, 0.05, 1.5]"))
    out = tmp_path / "out"
    assert main(["study", str(path), "--out", str(out), "--json"]) == 1
    captured = capsys.readouterr()
    summary = json.loads(captured.out)  # exactly one JSON object on stdout
    assert summary["cells"] == 6 and summary["cells_done"] == 4 and summary["cells_failed"] == 2
    assert {f["cell"].split("|")[0] for f in summary["failed"]} == {"algo=twap", "algo=pov"}
    assert all("participation=1.5" in f["cell"] and "participation" in f["error"] for f in summary["failed"])
    assert "cell failed" in captured.err and "participation=1.5" in captured.err
    assert pq.read_table(out / "results.parquet").num_rows == 4 * 3000
    assert json.loads((out / "summary.json").read_text())["cells_failed"] == 2
    for name in ("cost_vs_participation.png", "cost_distribution.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (out / "frontier.png").exists()  # one horizon: no mean-risk trade-off to draw


def test_summary_fit_and_cli_table(tmp_path, capsys):
    path = write_study(tmp_path)
    assert main(["study", str(path), "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    assert "4/4 cells" in out and "participation^" in out
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    fit = summary["fit"]
    assert fit["model"] == "power" and {"coefficient", "exponent", "r2", "coefficient_se", "exponent_se"} <= set(fit)
    assert set(summary["fit_by_algo"]) == {"twap", "pov"}
    assert summary["rows"] == 4 * 3000 and summary["wall_seconds"] >= 0
