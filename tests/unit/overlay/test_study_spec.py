"""The study file: defaults, the CLI spec's example, and one-line errors for bad input."""

from __future__ import annotations

import pytest

from overlay.cli import main
from overlay.errors import InputError
from overlay.studies.grid import expand
from overlay.studies.spec import Engine, load_study, study_from_dict

SPEC_EXAMPLE = """
[study]
name = "sqrt-law"
engine = "event"
seeds = 20

[grid]
algo = ["twap", "vwap", "pov"]
participation = [0.01, 0.02, 0.05, 0.1, 0.2]
horizon_minutes = [390]
daily_vol = [0.01, 0.02]

[market]
root = "ES"
adv = 1_500_000
impact = { model = "square-root", y = 0.8 }
"""


def minimal(**overrides):
    data = {
        "study": {"name": "s"},
        "grid": {"participation": [0.01, 0.05]},
        "market": {"impact": {"model": "square-root", "y": 0.8}},
    }
    for key, value in overrides.items():
        table, _, field = key.partition("__")
        data.setdefault(table, {})[field] = value
    return data


def test_the_cli_spec_example_loads_into_thirty_cells(tmp_path):
    path = tmp_path / "study.toml"
    path.write_text(SPEC_EXAMPLE)
    spec = load_study(path)
    assert spec.engine is Engine.EVENT and spec.seeds == 20
    assert len(expand(spec)) == 3 * 5 * 1 * 2
    assert spec.market.adv == 1_500_000 and dict(spec.market.impact) == {"model": "square-root", "y": 0.8}


def test_defaults_come_from_the_registry_and_the_simulator():
    spec = study_from_dict(minimal())
    m = spec.market
    assert (m.root, m.tick, m.multiplier) == ("ES", 0.25, 50.0)  # CME E-mini S&P 500 contract specs
    assert m.adv > 0 and m.spread_ticks == 1 and m.impact_dynamics == "simulator"
    assert spec.engine is Engine.VECTORIZED and spec.seeds == 20
    assert spec.grid["algo"] == ("twap",) and spec.grid["horizon_minutes"] == (390.0,)
    assert spec.grid["daily_vol"] == (m.daily_vol,)
    assert spec.execution.slice_minutes == 1.0


@pytest.mark.parametrize(
    ("data", "key"),
    [
        (minimal(grid__size=[1]), "grid.size"),
        (minimal(grid__participation=[0.01, "big"]), "grid.participation[1]"),
        (minimal(grid__participation=[]), "grid.participation"),
        (minimal(grid__algo=["twap", "sniper"]), "grid.algo[1]"),
        (minimal(study__engine="gpu"), "study.engine"),
        (minimal(study__seeds=0), "study.seeds"),
        (minimal(study__seeds=2.5), "study.seeds"),
        (minimal(market__root="XYZ"), "market.root"),
        (minimal(market__adv=-5), "market.adv"),
        (minimal(market__impact={"model": "square-root", "y": "high"}), "market.impact.y"),
        (minimal(market__impact={"model": "magic"}), "market.impact.model"),
        (minimal(execution__slice_minutes=0), "execution.slice_minutes"),
        (minimal(study__engine="event", market__impact_dynamics="participation"), "market.impact_dynamics"),
        ({"study": {"name": "s"}, "grid": {"algo": ["twap"]}, "market": {"impact": {"model": "none"}}}, "grid.participation"),
        ({"grid": {"participation": [0.1]}}, "study"),
    ],
)
def test_bad_input_names_the_key(data, key):
    with pytest.raises(InputError) as err:
        study_from_dict(data, source="s.toml")
    assert err.value.key == key
    assert str(err.value).startswith(f"s.toml: {key}: ")


def test_a_grid_value_that_only_spoils_one_cell_is_not_an_input_error():
    spec = study_from_dict(minimal(grid__participation=[0.01, 0.0, -1.0], grid__horizon_minutes=[390, 600]))
    assert len(expand(spec)) == 6  # checked when each cell runs


def test_cli_reports_bad_input_in_one_line_with_status_2_and_writes_nothing(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(SPEC_EXAMPLE.replace('engine = "event"', 'engine = "quantum"'))
    out = tmp_path / "out"
    assert main(["study", str(path), "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "study.engine" in lines[0] and str(path) in lines[0]
    assert "Traceback" not in captured.err
    assert not out.exists()


def test_missing_file_and_broken_toml(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        load_study(tmp_path / "nope.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[study\nname=")
    with pytest.raises(InputError, match="invalid TOML"):
        load_study(broken)


def test_workers_and_scheduler_together_are_refused(tmp_path, capsys):
    path = tmp_path / "s.toml"
    path.write_text(SPEC_EXAMPLE)
    assert main(["study", str(path), "--workers", "2", "--scheduler", "tcp://127.0.0.1:1", "--out", str(tmp_path / "o")]) == 2
    assert "--scheduler" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_a_malformed_scheduler_address_is_bad_input_before_anything_connects(tmp_path, capsys):
    path = tmp_path / "s.toml"
    path.write_text(SPEC_EXAMPLE)
    assert main(["study", str(path), "--scheduler", "notanaddress", "--out", str(tmp_path / "o")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "--scheduler: expected an address like tcp://HOST:PORT" in captured.err
    assert not (tmp_path / "o").exists()
