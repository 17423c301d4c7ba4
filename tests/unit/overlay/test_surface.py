"""What a new user meets first, as a library and as a command (one test per defect of the
"feel like the tools quants already use" report)."""

import json
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from overlay.cli import COMMANDS, build_parser, main

ROOT = Path(__file__).resolve().parents[3]
PENSION = ROOT / "examples" / "pension_multi_asset.toml"
AC_SPEC = ROOT / "examples" / "cost_almgren_chriss.toml"


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


# ------------------------------------------------------------------ one API, two doors


def test_plan_accepts_the_path_of_a_config_like_simulate_does():
    from overlay.config import load_config
    from overlay.plan import plan

    by_path = plan(str(PENSION))
    assert by_path == plan(PENSION) == plan(load_config(PENSION))
    assert by_path.orders and by_path.rebalance


def test_suggest_bands_and_run_study_accept_paths(tmp_path):
    from overlay.plan import suggest_bands
    from overlay.studies import run_study

    assert len(suggest_bands(PENSION)) == 5
    study = tmp_path / "s.toml"
    study.write_text(
        '[study]\nname = "t"\nengine = "vectorized"\nseeds = 4\n[grid]\nalgo = ["twap"]\n'
        'participation = [0.01]\nhorizon_minutes = [60]\ndaily_vol = [0.01]\n[market]\nroot = "ES"\n'
        'adv = 1_500_000\nprice = 5000.0\nimpact = { model = "square-root", y = 0.8 }\n'
    )
    run = run_study(study)
    assert run.summary["rows"] == 4
    # a study's results are DataFrames too, not only a pyarrow Table
    rows = run.to_frame()
    assert isinstance(rows, pd.DataFrame) and len(rows) == 4 and rows["algo"].dtype == "category"
    assert rows["shortfall_bps"].dtype == "float64" and "basis points" in rows.attrs["units"]["*_bps"]
    cells = run.cells_frame
    assert len(cells) == 1 and cells["mean_bps"].iloc[0] == pytest.approx(rows["shortfall_bps"].mean())


def test_the_documented_calibrate_import_is_the_function_even_after_its_module_is_loaded():
    import overlay.studies.calibration  # noqa: F401 - what the CLI does first
    from overlay.studies import calibrate

    assert callable(calibrate) and calibrate.__name__ == "calibrate"
    assert calibrate is overlay.studies.calibration.calibrate


def test_a_parent_order_notional_counts_the_contract_multiplier():
    """2 ES bought at 4,996.50: 2 × 4,996.50 × 50 = 499,650 dollars, not 9,993."""
    from execution.orders import ChildOrder, ParentOrder

    parent = ParentOrder(1, "ESM6", 2, multiplier=50.0, tick=0.25)
    child = ChildOrder(1, parent, 2, 0.0, 4996.5, 4996.75)
    parent.record_execution(child, 1.0, "e1", 2, 4996.5, 0.0)
    assert parent.notional == pytest.approx(499_650.0)
    assert parent.avg_price == pytest.approx(4996.5)


# ------------------------------------------------------------------ DataFrames


@pytest.fixture(scope="module")
def sim():
    from overlay.simulate import simulate

    return simulate(PENSION, seed=2)


def test_a_plan_gives_its_orders_and_sleeves_as_dataframes(sim):
    orders = sim.plan.orders_frame
    assert isinstance(orders, pd.DataFrame) and len(orders) == len(sim.plan.orders)
    assert orders["notional"].dtype == "float64" and orders["kind"].dtype == "category"
    assert orders.attrs["units"]["notional"].startswith("base currency")
    assert sim.plan.to_frame().equals(orders)
    sleeves = sim.plan.sleeves_frame
    assert list(sleeves.index) == [s.name for s in sim.plan.sleeves]
    assert sleeves["weight"].sum() == pytest.approx(sum(s.weight for s in sim.plan.sleeves))


def test_a_simulation_gives_fills_parents_and_tca_as_dataframes(sim):
    fills = sim.fills_frame
    assert len(fills) == sim.fills  # the count stays; the table is a property beside it
    assert str(fills["time"].dtype) == "datetime64[ns]"
    assert fills["time"].iloc[0].date() == sim.plan.as_of and fills["time"].iloc[0].hour == 9
    assert str(fills["quantity"].dtype) == "Int64"
    parents = sim.parents_frame
    es = parents.set_index("instrument").loc["ESM6"]
    assert es["notional"] == pytest.approx(es["filled"] * es["avg_price"] * 50.0)
    assert fills.groupby("instrument", observed=True)["quantity"].sum().to_dict() == dict(
        zip(parents["instrument"], parents["filled"]))
    tca = sim.to_frame()
    assert list(tca["instrument"]) == [o["instrument"] for o in sim.to_json()["orders"]]
    assert tca["shortfall_bps"].dtype == "float64" and "costs_spread" in tca.columns


def test_a_cost_estimate_gives_its_schedule_as_a_dataframe():
    from overlay.config.cost import estimate_cost, load_cost_spec

    frame = estimate_cost(load_cost_spec(AC_SPEC)).schedule_frame
    assert list(frame.columns) == ["period", "time_days", "trade", "holdings"]
    assert frame["trade"].sum() == pytest.approx(-1_000_000)  # a sale, in the plan's sign
    assert frame["holdings"].iloc[-1] == pytest.approx(0.0, abs=1e-6)


# ------------------------------------------------------------------ one line, not a traceback


def test_cost_frontier_to_a_text_file_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["cost", str(AC_SPEC), "--frontier", str(tmp_path / "out.txt")]) == 2
    assert "out.txt" in one_line(capsys.readouterr().err)


def test_cost_frontier_to_a_directory_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["cost", str(AC_SPEC), "--frontier", str(tmp_path)]) == 2
    assert "is a directory" in one_line(capsys.readouterr().err)


def test_simulate_out_in_an_unwritable_place_is_one_line_and_exit_2(capsys):
    assert main(["simulate", str(PENSION), "--out", "/proc/nope"]) == 2
    assert "--out" in one_line(capsys.readouterr().err)


def test_paper_without_the_ib_extra_is_one_line_naming_the_extra_and_exit_2(tmp_path):
    blocker = (
        "import sys, importlib.abc\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name.split('.')[0] in ('ib_async', 'ib_insync'):\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from overlay.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", blocker, "paper", str(PENSION), "--port", "7599", "--journal", str(tmp_path / "j.sqlite")],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert proc.returncode == 2, proc.stderr
    assert "overlay-engine[ib]" in one_line(proc.stderr)


def test_gateway_on_a_port_in_use_is_one_line_and_exit_1(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["gateway", "--port", str(port)]) == 1
    assert "in use" in one_line(capsys.readouterr().err)


def test_paper_when_the_broker_is_away_is_one_line_and_exit_1(tmp_path, capsys):
    with socket.socket() as s:  # a free port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert main(["paper", str(PENSION), "--port", str(port), "--journal", str(tmp_path / "j.sqlite")]) == 1
    assert str(port) in one_line(capsys.readouterr().err)


def test_a_tls_dask_scheduler_without_tls_settings_is_one_line_and_exit_2(tmp_path, capsys):
    study = ROOT / "examples" / "studies" / "sqrt_law.toml"
    assert main(["study", str(study), "--scheduler", "tls://127.0.0.1:8786", "--out", str(tmp_path / "s")]) == 2
    assert "tls://" in one_line(capsys.readouterr().err)


def test_a_missing_optional_package_names_its_extra(monkeypatch, capsys):
    import overlay.commands.plan as plan_command

    def run(args):
        raise ModuleNotFoundError("No module named 'pyarrow'", name="pyarrow")

    monkeypatch.setattr(plan_command, "run", run)
    assert main(["plan", str(PENSION)]) == 2
    assert "overlay-engine[study]" in one_line(capsys.readouterr().err)


# ------------------------------------------------------------------ the command line


def test_version_prints_the_package_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("overlay ")
    assert "(engine: compiled)" in out or "(engine: pure)" in out  # which build runs the engine


def test_shell_completion_script_lists_the_subcommands(capsys):
    with pytest.raises(SystemExit):
        main(["--print-completion", "bash"])
    script = capsys.readouterr().out
    assert "complete" in script
    for name in ("plan", "simulate", "study", "paper"):
        assert name in script


@pytest.mark.parametrize("command", COMMANDS)
def test_every_help_lists_the_exit_statuses(command):
    sub = build_parser()._subparsers._group_actions[0].choices[command]
    text = sub.format_help()
    assert "exit status:" in text and "  0  success" in text and "  2  bad input" in text


@pytest.mark.parametrize("argv", [["-v", "plan", str(PENSION)], ["plan", str(PENSION), "-v"],
                                  ["simulate", str(PENSION), "-v"], ["cost", str(AC_SPEC), "-v"],
                                  ["paper", str(PENSION), "--dry-run", "-v"]])
def test_verbose_logs_progress_for_every_command(argv):
    proc = subprocess.run([sys.executable, "-m", "overlay", *argv], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "INFO overlay." in proc.stderr


def test_json_stays_one_object_with_verbose(capsys):
    assert main(["-vv", "plan", str(PENSION), "--json"]) == 0
    json.loads(capsys.readouterr().out)


# ------------------------------------------------------------------ overlay cost knows the contract

SQRT_ES = """
[order]
{contract}
quantity = {quantity}
price = 5000.0
horizon_days = 1.0
periods = 390
adv = 1_500_000
daily_vol = 0.012

[model]
name = "square-root"
y = 0.7
epsilon = 0.155
"""


def cost_json(tmp_path, capsys, contract='instrument = "ES"', quantity=-3000):
    spec = tmp_path / "spec.toml"
    spec.write_text(SQRT_ES.format(contract=contract, quantity=quantity))
    assert main(["cost", str(spec), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_cost_of_3000_es_is_750_million_notional_and_about_305_thousand_dollars(tmp_path, capsys):
    out = cost_json(tmp_path, capsys)
    assert out["currency"] == "USD"
    assert out["notional"] == pytest.approx(3000 * 5000.0 * 50)  # 750 million, not 15 million
    # index points × contracts × 50 dollars a point: the 6,099.89 points of the report
    assert out["expected_cost"] == pytest.approx(6099.89 * 50, rel=1e-6)
    assert out["impact_cost"] == pytest.approx(out["impact_bps"] / 1e4 * out["notional"])
    assert out["cost_bps"] == pytest.approx(out["expected_cost"] / out["notional"] * 1e4)


def test_cost_takes_a_multiplier_and_currency_for_a_contract_outside_the_registry(tmp_path, capsys):
    by_root = cost_json(tmp_path, capsys)
    explicit = cost_json(tmp_path, capsys, contract='multiplier = 50.0\ncurrency = "USD"')
    assert explicit == by_root


def test_cost_quantity_is_signed_as_in_plan_plus_buys(tmp_path, capsys):
    sale = cost_json(tmp_path, capsys, quantity=-3000)
    buy = cost_json(tmp_path, capsys, quantity=3000)
    assert buy["expected_cost"] == pytest.approx(sale["expected_cost"])
    ac = tmp_path / "ac.toml"
    ac.write_text(AC_SPEC.read_text())
    assert main(["cost", str(ac), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["holdings"][0] == -1_000_000 and out["holdings"][-1] == 0  # Table 1's sale
    assert all(t <= 0 for t in out["trades"]) and sum(out["trades"]) == pytest.approx(-1_000_000)


def test_cost_table_prints_currency_beside_bps(tmp_path, capsys, monkeypatch):
    spec = tmp_path / "spec.toml"
    spec.write_text(SQRT_ES.format(contract='instrument = "ES"', quantity=-3000))
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["cost", str(spec)]) == 0
    text = capsys.readouterr().out
    assert "750,000,000.00" in text and "304,994.57" in text and "(USD)" in text


@pytest.mark.parametrize("order, key", [('instrument = "ZZZ"', "order.instrument"),
                                        ('instrument = "ES"\nmultiplier = 50.0', "order.multiplier"),
                                        ('currency = "dollars"', "order.currency")])
def test_cost_contract_mistakes_are_one_line(tmp_path, capsys, order, key):
    spec = tmp_path / "spec.toml"
    spec.write_text(SQRT_ES.format(contract=order, quantity=-3000))
    assert main(["cost", str(spec)]) == 2
    assert key in one_line(capsys.readouterr().err)


# ------------------------------------------------------------------ plots for a report


@pytest.fixture
def figures(monkeypatch):
    """Every matplotlib figure saved during the test, by file name."""
    from matplotlib.figure import Figure

    saved = {}
    original = Figure.savefig

    def savefig(self, fname, *args, **kwargs):
        saved[Path(fname).name] = self
        return original(self, fname, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", savefig)
    return saved


def test_simulate_plots_have_units_on_both_axes_clock_time_and_a_visible_schedule(tmp_path, figures, capsys):
    assert main(["simulate", str(PENSION), "--out", str(tmp_path)]) == 0
    for name in ("price_fills.png", "schedule.png"):
        for ax in figures[name].axes:
            assert ax.get_ylabel() and "(" in ax.get_ylabel()  # a unit
            assert ax.get_xlabel().startswith("session time")
            assert ax.xaxis.get_major_formatter().fmt == "%H:%M"  # clock time, not minutes from start
            assert ax.get_legend() is not None
    for ax in figures["schedule.png"].axes:
        target = [line for line in ax.get_lines() if line.get_label() == "schedule target"][0]
        filled = [line for line in ax.get_lines() if line.get_label() == "filled"][0]
        assert target.get_zorder() > filled.get_zorder() and target.get_linestyle() == "--"


def test_cost_frontier_axes_are_in_the_order_currency(tmp_path, figures, capsys):
    spec = tmp_path / "es.toml"
    spec.write_text(AC_SPEC.read_text().replace("[order]\n", '[order]\ninstrument = "ES"\n'))
    assert main(["cost", str(spec), "--frontier", str(tmp_path / "frontier.png")]) == 0
    left = figures["frontier.png"].axes[0]
    assert "(USD)" in left.get_xlabel() and "(USD)" in left.get_ylabel()


def test_study_frontier_is_per_size_family_and_absent_for_a_single_horizon(tmp_path, figures):
    from overlay.studies import run_study
    from overlay.studies.runners import Extras

    text = (
        '[study]\nname = "f"\nengine = "vectorized"\nseeds = 200\n[grid]\nalgo = ["twap", "pov"]\n'
        'participation = [0.01, 0.05]\nhorizon_minutes = {horizons}\ndaily_vol = [0.01]\n[market]\nroot = "ES"\n'
        'adv = 1_500_000\nprice = 5000.0\nimpact = {{ model = "square-root", y = 0.8 }}\n'
    )
    one = tmp_path / "one.toml"
    one.write_text(text.format(horizons="[60]"))
    run_study(one, tmp_path / "one", extras=Extras.PLOTS)
    assert not (tmp_path / "one" / "frontier.png").exists()
    two = tmp_path / "two.toml"
    two.write_text(text.format(horizons="[60, 390]"))
    run_study(two, tmp_path / "two", extras=Extras.PLOTS)
    panels = [ax for ax in figures["frontier.png"].axes if ax.get_visible()]
    assert len(panels) == 2  # one per order size, never joined across sizes
    for ax in panels:
        assert "bps" in ax.get_xlabel() and "bps" in ax.get_ylabel()
        lines = ax.get_lines()
        assert sorted(line.get_label() for line in lines) == ["pov", "twap"]
        assert all(len(line.get_xdata()) == 2 for line in lines)  # the two horizons of one size


# ------------------------------------------------------------------ pyarrow only for studies

BLOCK_PYARROW = (
    "import sys, importlib.abc\n"
    "class Block(importlib.abc.MetaPathFinder):\n"
    "    def find_spec(self, name, path, target=None):\n"
    "        if name.split('.')[0] == 'pyarrow':\n"
    "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
    "sys.meta_path.insert(0, Block())\n"
    "from overlay.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def test_the_base_install_plans_simulates_and_costs_without_pyarrow(tmp_path):
    for argv in (["plan", str(PENSION), "--json"], ["simulate", str(PENSION), "--json", "--out", str(tmp_path / "s")],
                 ["cost", str(AC_SPEC), "--json"]):
        proc = subprocess.run([sys.executable, "-c", BLOCK_PYARROW, *argv], capture_output=True, text=True,
                              timeout=180, cwd=ROOT)
        assert proc.returncode == 0, proc.stderr
        json.loads(proc.stdout)


def test_study_without_pyarrow_names_the_study_extra(tmp_path):
    proc = subprocess.run([sys.executable, "-c", BLOCK_PYARROW, "study", str(ROOT / "examples" / "studies" / "sqrt_law.toml"),
                           "--out", str(tmp_path / "s")], capture_output=True, text=True, timeout=180, cwd=ROOT)
    assert proc.returncode == 2
    assert "overlay-engine[study]" in one_line(proc.stderr)


def test_backtest_runs_without_pyarrow_and_its_out_names_the_data_extra(tmp_path):
    config = str(ROOT / "examples" / "backtest_60_40.toml")
    proc = subprocess.run([sys.executable, "-c", BLOCK_PYARROW, "backtest", config, "--paths", "0", "--json"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    json.loads(proc.stdout)
    proc = subprocess.run([sys.executable, "-c", BLOCK_PYARROW, "backtest", config, "--paths", "0", "--out",
                           str(tmp_path / "b")], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 2
    assert "overlay-engine[data]" in one_line(proc.stderr)
