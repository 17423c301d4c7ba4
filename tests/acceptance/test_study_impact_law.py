"""Acceptance: a study recovers the square-root law it simulates, and the two engines agree.

The square-root law (Tóth et al. 2011, Phys. Rev. X 1, 021006): impact ≈ Y·σ·√(Q/V) of
the price, exponent 1/2. The simulator follows it with Y = 0.8; the study must find the
exponent within ±0.05 of 0.5 and the coefficient within 10 % of what ``overlay cost``
predicts for the same orders.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from overlay.cli import main
from overlay.studies.cell import run_cell
from overlay.studies.results import fit_power
from overlay.studies.runners import Extras, make_tasks, run_study
from overlay.studies.spec import load_study, study_from_dict

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "studies"




@pytest.mark.slow
def test_square_root_study_recovers_the_law_overlay_cost_predicts(tmp_path, capsys):
    spec = load_study(EXAMPLES / "sqrt_law.toml")
    run = run_study(spec, tmp_path / "out", extras=Extras.NONE)
    assert run.ok
    fit = run.summary["fit"]
    assert abs(fit["exponent"] - 0.5) <= 0.05
    x, y = [], []
    for p in spec.grid["participation"]:
        for vol in spec.grid["daily_vol"]:
            m = spec.market
            path = tmp_path / "cost.toml"
            path.write_text(
                f"[order]\nquantity = {-p * m.adv}\nprice = {m.price}\nhorizon_days = 1.0\nadv = {m.adv}\n"
                f"daily_vol = {vol}\n[model]\nname = \"square-root\"\ny = {m.impact['y']}\n"
                f"epsilon = {0.5 * m.spread_ticks * m.tick}\n"
            )
            capsys.readouterr()
            assert main(["cost", str(path), "--json"]) == 0
            x.append(p)
            y.append(json.loads(capsys.readouterr().out)["cost_bps"] / 1e4 / vol)
    predicted = fit_power(x, y)
    assert predicted.coefficient == pytest.approx(fit["coefficient"], rel=0.10)
    assert abs(predicted.exponent - 0.5) < 0.05


def agreement_spec(engine: str, seeds: int):
    return study_from_dict(
        {
            "study": {"name": "agree", "engine": engine, "seeds": seeds},
            "grid": {"algo": ["twap"], "participation": [0.02], "horizon_minutes": [60], "daily_vol": [0.002]},
            "market": {
                "root": "ES",
                "adv": 1_500_000,
                "price": 5000.0,
                "fee_per_contract": 0.0,
                # linear impact of Almgren & Chriss (2000); 1 tick of spread
                "impact": {"model": "almgren-chriss", "eta": 2e-5, "gamma": 1e-6},
            },
        }
    )


@pytest.mark.slow
def test_event_and_vectorized_engines_agree_on_twap_under_linear_impact():
    stats = {}
    for engine, seeds in (("event", 60), ("vectorized", 20_000)):
        (task,) = make_tasks(agreement_spec(engine, seeds))
        out = run_cell(task)
        bps = out.columns["shortfall_bps"]
        stats[engine] = (bps.mean(), bps.std(ddof=1) / math.sqrt(bps.size))
        assert np.all(out.columns["filled"] == 30_000)
    (me, se_e), (mv, se_v) = stats["event"], stats["vectorized"]
    assert abs(me - mv) < 2.0 * math.hypot(se_e, se_v), stats
    assert mv > 5.0  # the impact (about 8 bps) is well above the noise of the comparison
