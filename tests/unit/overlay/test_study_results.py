"""Result tables and the fitted impact law (checked against scipy's linear regression)."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats

from overlay.studies.grid import expand
from overlay.studies.results import SCHEMA, cell_stats, cell_table, combine, fit_power, fits
from overlay.studies.spec import study_from_dict


def test_exact_power_law_is_recovered():
    x = np.array([0.01, 0.02, 0.05, 0.1, 0.2])
    fit = fit_power(x, 0.8 * x**0.5)
    assert fit.coefficient == pytest.approx(0.8) and fit.exponent == pytest.approx(0.5)
    assert fit.r2 == pytest.approx(1.0) and fit.exponent_se == pytest.approx(0.0, abs=1e-9)
    assert fit.as_dict()["model"] == "power"


def test_standard_errors_are_those_of_ordinary_least_squares_in_logs():
    rng = np.random.default_rng(1)
    x = np.geomspace(0.005, 0.3, 12)
    y = 0.7 * x**0.55 * np.exp(rng.normal(0, 0.05, x.size))
    fit = fit_power(x, y)
    ref = stats.linregress(np.log(x), np.log(y))
    assert fit.exponent == pytest.approx(ref.slope)
    assert fit.exponent_se == pytest.approx(ref.stderr)
    assert fit.coefficient == pytest.approx(math.exp(ref.intercept))
    assert fit.coefficient_se == pytest.approx(math.exp(ref.intercept) * ref.intercept_stderr)
    assert fit.r2 == pytest.approx(ref.rvalue**2)


def test_points_that_cannot_enter_a_log_fit_are_counted_not_used():
    fit = fit_power([0.01, 0.02, 0.04, 0.08], [0.1, -0.2, 0.2, 0.0])
    assert fit.points == 2 and fit.excluded == 2 and fit.exponent_se is None
    assert fit_power([0.01, 0.01], [0.1, 0.2]) is None


def test_cell_table_and_stats():
    spec = study_from_dict(
        {"study": {"name": "r"}, "grid": {"algo": ["twap", "pov"], "participation": [0.01]}, "market": {"impact": {"model": "none"}}}
    )
    cells = expand(spec)
    cols = {
        "shortfall_bps": np.array([1.0, 2.0, 3.0]),
        "cost": np.array([10.0, 20.0, 30.0]),
        "participation_realised": np.full(3, 0.01),
        "filled": np.full(3, 15.0),
        "spread_bps": np.full(3, 0.25),
        "impact_bps": np.array([0.5, 1.5, 2.5]),
        "timing_bps": np.full(3, 0.25),
        "fees_bps": np.zeros(3),
    }
    table = combine([cell_table(c, 15, cols) for c in cells])
    assert table.schema == SCHEMA and table.num_rows == 6
    frame = table.to_pandas()
    assert list(frame["seed"]) == [0, 1, 2, 0, 1, 2]
    assert list(frame["algo"].astype(str)) == ["twap"] * 3 + ["pov"] * 3
    s = cell_stats(cells[0], cols)
    assert (s.paths, s.mean_bps, s.std_bps) == (3, 2.0, 1.0)
    assert s.se_bps == pytest.approx(1 / math.sqrt(3))
    assert s.impact_mean_bps == pytest.approx(1.5) and s.impact_se_bps == pytest.approx(1 / math.sqrt(3))
    overall, by_algo = fits([s])
    assert overall is None and set(by_algo) == {"twap"}
    assert isinstance(table.column("algo").type, pa.DictionaryType)
