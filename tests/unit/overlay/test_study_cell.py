"""One cell: impossible grid values fail that cell with a reason; both engines share a schedule."""

from __future__ import annotations

import numpy as np
import pytest

from overlay.studies.cell import CellStatus, build_setup, quoted_mid, run_cell
from overlay.studies.runners import make_tasks
from overlay.studies.spec import study_from_dict
from pricing.volume_profile import cumulative_volume_fraction


def tasks(engine="vectorized", seeds=50, **grid):
    return make_tasks(
        study_from_dict(
            {
                "study": {"name": "cells", "engine": engine, "seeds": seeds},
                "grid": {"participation": [0.01], "horizon_minutes": [60], **grid},
                "market": {"impact": {"model": "square-root", "y": 0.8}},
                "execution": {"slice_minutes": 5},
            }
        )
    )


@pytest.mark.parametrize(
    ("grid", "reason"),
    [
        ({"participation": [0.0]}, "participation must lie in (0, 1]"),
        ({"participation": [1.5]}, "participation must lie in (0, 1]"),
        ({"horizon_minutes": [600]}, "horizon_minutes must lie in (0, 390]"),
        ({"horizon_minutes": [62]}, "not a whole number of 5-minute slices"),
        ({"daily_vol": [-0.01]}, "daily_vol must be >= 0"),
        ({"algo": ["pov"], "participation": [0.5], "horizon_minutes": [30]}, "at most 100% is possible"),
        ({"impact": [{"model": "square-root", "y": -1.0}]}, "impact: y"),
        ({"impact": [{"model": "warp"}]}, "impact: model"),
    ],
)
def test_an_impossible_cell_fails_with_its_reason(grid, reason):
    (task,) = tasks(**grid)
    out = run_cell(task)
    assert out.status is CellStatus.FAILED and reason in out.error and out.columns is None


@pytest.mark.parametrize("algo", ["twap", "vwap", "pov", "is"])
def test_both_engines_work_the_execution_engines_own_schedule(algo):
    from execution import algos

    (task,) = tasks(algo=[algo])
    setup = build_setup(task)
    assert setup.parent.kind is algos.AlgoKind(algo) and setup.parent.quantity == setup.order.quantity == 15_000
    if algo == "pov":
        assert setup.order.pov_rate == pytest.approx(setup.parent.pov.rate)
    else:
        assert np.array_equal(setup.order.cumulative, np.asarray(setup.parent.cumulative))
    out = run_cell(task)
    assert out.status is CellStatus.DONE and len(out.columns["shortfall_bps"]) == 50


def test_event_paths_are_real_executions_that_fill_the_order():
    (task,) = tasks(engine="event", seeds=2, algo=["twap"])
    out = run_cell(task)
    assert out.status is CellStatus.DONE
    assert np.all(out.columns["filled"] == 15_000)
    assert np.all(np.isfinite(out.columns["shortfall_bps"]))
    # 1 % of ADV over the first hour, which trades F(60/390) of the day on the U-shaped profile
    first_hour = float(cumulative_volume_fraction(60 / 390, task.market["edge_ratio"])) * task.market["adv"]
    np.testing.assert_allclose(out.columns["participation_realised"], 15_000 / first_hour, rtol=0.05)
    assert np.array_equal(out.columns["shortfall_bps"], run_cell(task).columns["shortfall_bps"])


def test_quoted_mid_follows_the_simulators_quote():
    assert quoted_mid(5000.0, 0.25, 1) == 5000.125  # bid rounds half up to 5000.00, ask 5000.25
    assert quoted_mid(5000.0, 0.25, 2) == 5000.0
