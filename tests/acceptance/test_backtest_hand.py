"""The hand-computed two-sleeve backtest (the issue's acceptance case).

A 10,000,000 portfolio at 60/40 on the first date. In month 1 equities gain 25 % and bonds
lose 5 %; nothing moves after that (index levels flat, cash rate 0):

- buy and hold: equities 6,000,000 × 1.25 = 7,500,000, bonds 4,000,000 × 0.95 = 3,800,000,
  NAV 11,300,000, weights 7.5 / 11.3 = 66.37 % and 3.8 / 11.3 = 33.63 %, no rebalance;
- a 5-point band (55–65 % for equities) fires in month 1: the target 60 % of 11,300,000 is
  6,780,000, so 7,500,000 − 6,780,000 = 720,000 of equities are sold and 720,000 of bonds
  bought (bonds 3,800,000 → 4,520,000 = 40 %); then nothing moves and nothing trades again;
- with a 10 bp half spread the rebalance costs 0.001 × (720,000 + 720,000) = 1,440;
- taxed at 37 % short-term with one lot per sleeve bought on the first date (equity basis
  6,000,000 on value 7,500,000): the 720,000 sold carry a gain of 720,000 × (1 − 6 / 7.5)
  = 144,000, a month old, so short-term: tax 0.37 × 144,000 = 53,280, paid that month; the
  synthetic run sells futures instead and realises nothing that month.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest

from overlay.backtest import run_backtest
from overlay.cli import main
from overlay.config import config_from_dict
from overlay.plan.planner import plan

DATA = """date,equity,bonds
2020-01-31,100,100
2020-02-29,125,95
2020-03-31,125,95
2020-04-30,125,95
2020-05-29,125,95
"""

CONFIG = """
[portfolio]
name = "hand"
as_of = 2020-01-31

[[sleeves]]
name = "equity"
target = 0.6
value = 6_000_000
band = 0.05
overlay = ["ES", "EQ_TRS"]

[[sleeves]]
name = "bonds"
target = 0.4
value = 4_000_000
band = 0.05
overlay = ["BOND_TRS"]

[instruments.ES]
kind = "future"
root = "ES"
price = 5000
initial_margin = 25_000

[instruments.EQ_TRS]
kind = "swap"
financing_spread_bps = 0
booking_cost_bps = 0
min_notional = 0

[instruments.BOND_TRS]
kind = "swap"
financing_spread_bps = 0
booking_cost_bps = 0
min_notional = 0

[market.ES]
adv = 1_500_000
daily_vol = 0.012
fee_per_contract = 0
impact = { model = "none" }

[backtest]
data = "hand.csv"
implementations = ["physical", "synthetic"]

[[backtest.policies]]
name = "buy and hold"
trigger = "never"

[[backtest.policies]]
name = "5-point band"
trigger = "band"
band = 0.05
"""

COSTS = """
[backtest.costs.equity]
spread_bps = 10
[backtest.costs.bonds]
spread_bps = 10
"""

TAX = """
[backtest.tax]
short_term = 0.37
long_term = 0.20
"""


@pytest.fixture
def write(tmp_path):
    (tmp_path / "hand.csv").write_text(DATA)

    def _write(*extra: str) -> str:
        path = tmp_path / "hand.toml"
        path.write_text(CONFIG + "".join(extra))
        return str(path)

    return _write


def _row(result, policy, impl):
    r = result.results
    row = r[(r.policy == policy) & (r.implementation == impl) & (r["sample"] == "history")]
    assert len(row) == 1
    return row.iloc[0]


def _last(result, policy, impl):
    h = result.history
    return h[(h.policy == policy) & (h.implementation == impl)].iloc[-1]


def test_buy_and_hold_ends_at_11_3_million_at_66_37_33_63(write):
    result = run_backtest(write())
    for impl in ("physical", "synthetic"):
        row = _row(result, "buy and hold", impl)
        assert row.terminal_wealth == pytest.approx(11_300_000.0, abs=1e-6)
        assert row.rebalances == 0
        assert row.turnover == 0.0
        last = _last(result, "buy and hold", impl)
        assert round(last.weight_equity * 100, 2) == 66.37
        assert round(last.weight_bonds * 100, 2) == 33.63


def test_band_rebalances_once_trading_720_000_each_way_and_ends_at_60_40(write):
    result = run_backtest(write())
    row = _row(result, "5-point band", "physical")
    assert row.rebalances == 1
    h = result.history
    band = h[(h.policy == "5-point band") & (h.implementation == "physical")]
    assert band.traded.tolist() == pytest.approx([0.0, 720_000.0, 0.0, 0.0, 0.0], abs=1e-6)
    assert band.rebalanced.tolist() == [False, True, False, False, False]
    last = band.iloc[-1]
    assert last.weight_equity == pytest.approx(0.60, abs=1e-12)
    assert last.weight_bonds == pytest.approx(0.40, abs=1e-12)
    assert last.nav == pytest.approx(11_300_000.0, abs=1e-6)


def test_synthetic_band_restores_60_40_with_the_overlay(write):
    # ES moved with equities: 5000 × 1.25 × 50 = 312,500 of exposure a contract, so the
    # 720,000 sale is 2 contracts (toward zero, 625,000) and the equity swap takes 95,000.
    # Futures pay half a tick a contract: 2 × 0.125 × 50 = 12.50 on the sale, and the same
    # again at the March roll (five business days before 2020-03-20), both from cash.
    result = run_backtest(write())
    row = _row(result, "5-point band", "synthetic")
    assert row.rebalances == 1
    assert row.rolls == 1
    assert row.costs == pytest.approx(25.0, abs=1e-9)
    assert row.taxes == 0.0
    last = _last(result, "5-point band", "synthetic")
    assert last.weight_equity == pytest.approx(6_780_000 / (11_300_000 - 25.0), abs=1e-12)
    assert last.weight_bonds == pytest.approx(4_520_000 / (11_300_000 - 25.0), abs=1e-12)


def test_ten_bp_half_spread_costs_1_440(write):
    result = run_backtest(write(COSTS))
    row = _row(result, "5-point band", "physical")
    assert row.costs == pytest.approx(1_440.0, abs=1e-6)
    assert row.terminal_wealth == pytest.approx(11_300_000.0 - 1_440.0, abs=1e-6)


def test_taxed_physical_pays_53_280_on_the_144_000_gain_and_synthetic_none(write):
    result = run_backtest(write(TAX))
    phys = result.history[(result.history.policy == "5-point band") & (result.history.implementation == "physical")]
    synth = result.history[(result.history.policy == "5-point band") & (result.history.implementation == "synthetic")]
    assert phys.taxes.tolist() == pytest.approx([0.0, 53_280.0, 0.0, 0.0, 0.0], abs=1e-6)
    assert synth.taxes.iloc[1] == 0.0
    assert _row(result, "5-point band", "physical").taxes == pytest.approx(53_280.0, abs=1e-6)
    assert _row(result, "5-point band", "synthetic").taxes == 0.0
    # Paid from cash when realised: the NAV drops by the tax that month.
    assert phys.nav.iloc[1] == pytest.approx(11_300_000.0 - 53_280.0, abs=1e-6)


def test_the_backtest_decides_as_the_planner_does_on_that_date(write):
    """On the first month-end the backtest's state, handed to ``overlay plan``, gives the same
    decision and the same exposure changes: the backtest is the planner run over time."""
    cfg = config_from_dict(
        {
            "portfolio": {"name": "hand", "as_of": dt.date(2020, 2, 29)},
            # the backtest trades these sleeves without overlay instruments; the planner holds
            # such sleeves unless told to plan them
            "policy": {"illiquid": "plan"},
            "sleeves": [
                {"name": "equity", "target": 0.6, "value": 7_500_000, "band": 0.05},
                {"name": "bonds", "target": 0.4, "value": 3_800_000, "band": 0.05},
            ],
        }
    )
    p = plan(cfg)
    assert p.rebalance
    changes = [s.exposure_change for s in p.sleeves]
    assert changes == pytest.approx([-720_000.0, 720_000.0], abs=1e-6)
    result = run_backtest(write())
    h = result.history
    band = h[(h.policy == "5-point band") & (h.implementation == "physical")]
    assert band.traded.iloc[1] == pytest.approx(sum(abs(c) for c in changes) / 2)


def test_cli_json_is_strict_and_files_are_written(write, tmp_path, capsys):
    out = tmp_path / "out"
    status = main(["backtest", write(COSTS, TAX), "--json", "--out", str(out), "--no-plots"])
    stdout, _ = capsys.readouterr()
    assert status == 0
    summary = json.loads(stdout, parse_constant=lambda c: pytest.fail(f"non-strict JSON constant {c}"))
    assert summary["data"] == {"source": "hand.csv", "start": "2020-01-31", "end": "2020-05-29", "periods": 4, "frequency": "monthly"}
    assert {(r["policy"], r["implementation"]) for r in summary["results"]} == {
        ("buy and hold", "physical"), ("buy and hold", "synthetic"), ("5-point band", "physical"), ("5-point band", "synthetic"),
    }
    assert json.loads((out / "summary.json").read_text())["results"] == summary["results"]
    import pandas as pd

    assert len(pd.read_parquet(out / "results.parquet")) == 4
    assert len(pd.read_parquet(out / "history.parquet")) == 4 * 5
    assert np.isfinite(pd.read_parquet(out / "history.parquet")["nav"]).all()


def test_hybrid_overlays_at_once_and_moves_physical_with_cash(write, tmp_path):
    """Hybrid: the overlay trades in month 1 as the synthetic run does (no 144,000 gain
    realised); afterwards the cash it cost (futures half spreads 12.50 in February, the roll
    12.50 in March) is raised from the most overweight physical sleeve on the next date, so
    cash returns to zero less that date's tax on the tiny gain sold."""
    path = write(TAX).replace("hand.toml", "hand.toml")
    text = (tmp_path / "hand.toml").read_text().replace('implementations = ["physical", "synthetic"]', 'implementations = ["hybrid"]')
    (tmp_path / "hand.toml").write_text(text)
    result = run_backtest(path)
    row = _row(result, "5-point band", "hybrid")
    assert row.rebalances == 1
    assert 0.0 < row.taxes < 5.0  # on 12.50 + 12.50 of equities sold, 20 % of it gain, at 37 %
    h = result.history
    band = h[(h.policy == "5-point band") & (h.implementation == "hybrid")]
    assert abs(band.cash.iloc[-1]) < 5.0
    assert band.nav.iloc[-1] == pytest.approx(11_300_000 - 25.0 - row.taxes, abs=1e-6)
