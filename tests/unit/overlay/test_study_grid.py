"""Grid expansion and per-cell random streams: results never depend on order or worker."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from overlay.studies.grid import block_generator, cell_entropy, expand, impact_label, path_generator
from overlay.studies.spec import GRID_KEYS, study_from_dict


def spec(**grid):
    return study_from_dict(
        {
            "study": {"name": "g"},
            "grid": {"participation": [0.01, 0.02, 0.05], **grid},
            "market": {"impact": {"model": "square-root", "y": 0.8}},
        }
    )


def test_every_combination_once_last_key_fastest():
    s = spec(algo=["twap", "pov"], daily_vol=[0.01, 0.02])
    cells = expand(s)
    assert len(cells) == 2 * 3 * 2
    assert [c.index for c in cells] == sorted(c.index for c in cells)
    assert len({c.key for c in cells}) == len(cells)
    assert (cells[0].algo, cells[0].participation, cells[0].daily_vol) == ("twap", 0.01, 0.01)
    assert (cells[1].algo, cells[1].participation, cells[1].daily_vol) == ("twap", 0.01, 0.02)
    assert cells[-1].algo == "pov"
    assert len(cells[0].index) == len(GRID_KEYS)


def test_grid_of_impact_models_labels_each_cell():
    s = spec(impact=[{"model": "square-root", "y": 0.5}, {"model": "almgren-chriss", "eta": 1e-6}])
    labels = {c.values()["impact"] for c in expand(s)}
    assert labels == {"square-root(y=0.5)", "almgren-chriss(eta=1e-06)"}
    assert impact_label({"model": "square-root", "y": 0.8, "exponent": 0.5}) == "square-root(exponent=0.5,y=0.8)"


def test_streams_depend_on_study_name_cell_and_seed_only():
    cells = expand(spec())
    a = [cell_entropy("g", c.key) for c in cells]
    assert a == [cell_entropy("g", c.key) for c in reversed(cells)][::-1]
    assert len(set(a)) == len(a)
    assert cell_entropy("other", cells[0].key) != a[0]
    x = path_generator(a[0], 3).standard_normal(5)
    path_generator(a[0], 2).standard_normal(100)  # drawing other streams first changes nothing
    assert np.array_equal(x, path_generator(a[0], 3).standard_normal(5))
    assert not np.array_equal(x, path_generator(a[0], 4).standard_normal(5))
    assert not np.array_equal(x, block_generator(a[0], 3).standard_normal(5))  # engines never share a stream


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(1e-4, 1.0), min_size=1, max_size=6, unique=True))
def test_distinct_grid_values_give_distinct_keys_and_streams(values):
    cells = expand(spec(participation=values))
    assert len({c.key for c in cells}) == len(values)
    assert len({cell_entropy("g", c.key) for c in cells}) == len(values)
