"""Acceptance: the shipped vectorized algorithm comparison shows the cost–risk trade-off.

Almgren & Chriss (2000, "Optimal execution of portfolio transactions", J. Risk 3(2), §3–4):
trading the same order more slowly lowers its expected impact cost and raises the variance
of its cost (the efficient frontier); a risk-averse implementation-shortfall schedule
front-loads the order, so its cost varies less than a uniform (TWAP) one over the same
horizon. A POV parent trades its target share of the market's volume.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from overlay.studies.runners import Extras, run_study
from overlay.studies.spec import load_study

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "studies" / "algo_comparison_vectorized.toml"


@pytest.fixture(scope="module")
def cells(tmp_path_factory):
    spec = load_study(EXAMPLE)
    run = run_study(spec, tmp_path_factory.mktemp("algos") / "out", extras=Extras.NONE)
    assert run.ok
    summary = run.summary
    assert summary["cells_done"] == 16 and summary["cells_failed"] == 0
    return {(c["algo"], c["participation"], c["horizon_minutes"]): c for c in summary["cell_stats"]}


@pytest.mark.parametrize("algo", ["twap", "vwap", "pov", "is"])
@pytest.mark.parametrize("participation", [0.01, 0.05])
def test_a_slower_order_costs_less_impact_and_varies_more(cells, algo, participation):
    fast, slow = cells[(algo, participation, 60.0)], cells[(algo, participation, 390.0)]
    assert fast["paths"] == slow["paths"] == 2000
    assert slow["impact_mean_bps"] < fast["impact_mean_bps"]
    assert slow["std_bps"] > fast["std_bps"]


@pytest.mark.parametrize("participation", [0.01, 0.05])
def test_risk_averse_shortfall_varies_less_than_twap(cells, participation):
    twap, is_ = cells[("twap", participation, 390.0)], cells[("is", participation, 390.0)]
    assert is_["std_bps"] < twap["std_bps"]
    assert is_["impact_mean_bps"] > twap["impact_mean_bps"]  # it pays for trading earlier


@pytest.mark.parametrize("participation", [0.01, 0.05])
def test_pov_trades_its_share_of_the_day(cells, participation):
    day = cells[("pov", participation, 390.0)]
    assert day["participation_realised"] == pytest.approx(participation, rel=0.05)
