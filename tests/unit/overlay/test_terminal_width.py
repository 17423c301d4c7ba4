"""`plan`, `simulate` and `study` at 80 and 100 columns: every number of the wide rendering
is still there, whole, and no line is wider than the terminal (issue: "6,00…")."""

import io
import re
from collections import Counter
from pathlib import Path

import pytest

from overlay.console import column_groups, print_table, table_console

ROOT = Path(__file__).resolve().parents[3]
PENSION = ROOT / "examples" / "pension_multi_asset.toml"
NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?%?")


PART = re.compile(r"\(\d+/\d+\)$", re.M)  # the "(2/3)" of a stacked table's title


def numbers(text: str) -> Counter:
    return Counter(NUMBER.findall(PART.sub("", text)))


def check(render, width: int) -> str:
    wide = render(160)
    narrow = render(width)
    assert "…" not in narrow
    assert max(len(line) for line in narrow.splitlines()) <= width
    missing = numbers(wide) - numbers(narrow)
    assert not missing, f"numbers cut or lost at {width} columns: {sorted(missing)[:10]}"
    return narrow


@pytest.fixture(scope="module")
def sim():
    from overlay.simulate import simulate

    return simulate(PENSION, seed=1)


@pytest.mark.parametrize("width", [80, 100])
def test_plan_at_80_and_100_columns_keeps_every_number(width):
    from overlay.plan import plan, suggest_bands
    from overlay.plan.suggest import RULE
    from overlay.reports.plan import render_plan

    p = plan(PENSION)
    bands = suggest_bands(PENSION)

    def render(w):
        buf = io.StringIO()
        render_plan(p, buf, bands, RULE, width=w)
        return buf.getvalue()

    text = check(render, width)
    # the figures a reader looks for: every order's notional and every sleeve's exposure
    for o in p.orders:
        assert f"{o.notional:,.0f}" in text
    for s in p.sleeves:
        assert f"{s.exposure:,.0f}" in text


@pytest.mark.parametrize("width", [80, 100])
def test_simulate_at_80_and_100_columns_keeps_every_number(sim, width, monkeypatch, capsys):
    from overlay.commands.simulate import _print_tables

    def render(w):
        monkeypatch.setenv("COLUMNS", str(w))
        _print_tables(sim)
        return capsys.readouterr().out

    text = check(render, width)
    for order in sim.to_json()["orders"]:
        if order.get("avg_price") is not None:
            assert f"{order['avg_price']:,.4f}" in text


@pytest.mark.parametrize("width", [80, 100])
def test_study_cells_at_80_and_100_columns_keep_every_number(width, monkeypatch, capsys):
    from overlay.commands.study import _print_cells

    stats = [
        {"algo": a, "impact": "square-root(permanent_fraction=0.25,y=0.8)", "participation": p, "horizon_minutes": h,
         "daily_vol": 0.012, "paths": 20, "mean_bps": 12345.678 * p, "std_bps": 27.71, "se_bps": 6.2,
         "median_bps": -22.06, "mean_cost": 124_685_156.0 * p}
        for a in ("twap", "vwap", "pov", "is") for p in (0.01, 0.05) for h in (60, 390)
    ]

    def render(w):
        monkeypatch.setenv("COLUMNS", str(w))
        _print_cells(stats)
        return capsys.readouterr().out

    text = check(render, width)
    assert "6,234,258" in text and "617.28" in text


def test_a_table_too_wide_for_the_terminal_is_stacked_with_its_key_column_repeated():
    headers = ["instrument"] + [f"column {i}" for i in range(12)]
    rows = [["ESM6"] + [f"{1_234_567.891 * (i + 1):,.2f}" for i in range(12)]]
    groups = column_groups(headers, rows, 80)
    assert len(groups) > 1 and all(g[0] == 0 for g in groups)
    assert sorted({i for g in groups for i in g}) == list(range(13))
    buf = io.StringIO()
    print_table(table_console(buf, 80), "wide", headers, rows)
    text = buf.getvalue()
    assert text.count("ESM6") == len(groups)
    for cell in rows[0][1:]:
        assert cell in text


@pytest.mark.parametrize("width", [80, 100])
def test_plan_with_taxes_and_the_comparison_keeps_every_number(width, monkeypatch, capsys):
    from overlay.cli import main

    def render(w):
        monkeypatch.setenv("COLUMNS", str(w))
        assert main(["plan", str(ROOT / "examples" / "taxable_60_40.toml"), "--compare", "--harvest"]) == 0
        return capsys.readouterr().out

    text = check(render, width)
    assert "global_equity" in text  # text cells are not cut either


@pytest.fixture(scope="module")
def backtest_summary():
    from overlay.backtest.run import run_backtest

    return run_backtest(ROOT / "examples" / "backtest_60_40.toml", paths=0).summary


@pytest.mark.parametrize("width", [80, 100])
def test_backtest_at_80_and_100_columns_keeps_every_number(backtest_summary, width):
    from overlay.reports.backtest import render

    def render_at(w):
        buf = io.StringIO()
        render(backtest_summary, buf, width=w)
        return buf.getvalue()

    text = check(render_at, width)
    for r in backtest_summary["results"]:
        assert f"{r['terminal_wealth']:,.0f}" in text
