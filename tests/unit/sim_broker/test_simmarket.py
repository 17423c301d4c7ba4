"""Market paths: the model's anchor and grid, replay of bars, minute bars."""

import numpy as np
import pytest

from sim_broker.params import TableError
from sim_broker.market import load_bars, replay_path, simulate_path
from sim_broker.params import SimConfig
from sim_helpers import es_params


def test_model_path_is_anchored_at_the_price_on_a_one_second_grid():
    # a one-tick ES market quoting 5000.00 has its mid half a tick above: 5000.00 / 5000.25
    path = simulate_path(es_params(), SimConfig(), np.random.default_rng(1))
    assert path.n == 23_400 and path.step == 1.0
    assert path.mid[0] == 5000.125
    assert path.cum_volume[-1] == pytest.approx(path.volume.sum())
    anchored = simulate_path(es_params(), SimConfig(), np.random.default_rng(1), anchor=36_000.0)
    assert anchored.mid_at(36_000.0) == 5000.125
    assert np.allclose(np.diff(anchored.mid), np.diff(path.mid))  # the same path, shifted


def test_block_size_does_not_change_the_path():
    a = simulate_path(es_params(), SimConfig(block_steps=1000), np.random.default_rng(3))
    b = simulate_path(es_params(), SimConfig(block_steps=65_536), np.random.default_rng(3))
    assert np.array_equal(a.mid, b.mid) and np.array_equal(a.volume, b.volume)


def test_session_must_be_whole_grid_steps():
    with pytest.raises(ValueError):
        simulate_path(es_params(session_end=57_600.5), SimConfig(), np.random.default_rng(0))


def test_volume_until_interpolates_and_clamps():
    path = simulate_path(es_params(), SimConfig(), np.random.default_rng(2))
    assert path.volume_until(path.start - 5) == 0.0
    assert path.volume_until(path.start + 10.5) == pytest.approx(path.cum_volume[10] + 0.5 * path.volume[10])
    assert path.volume_until(path.end + 100) == pytest.approx(path.cum_volume[-1])


def test_minute_bars_of_a_model_path():
    path = simulate_path(es_params(), SimConfig(), np.random.default_rng(4))
    bars = path.minute_bars()
    assert bars["close"].size == 390
    assert np.allclose(bars["close"], path.mid[60::60])
    assert np.all(bars["high"] >= np.maximum(bars["open"], bars["close"]))
    assert np.all(bars["low"] <= np.minimum(bars["open"], bars["close"]))
    assert bars["volume"].sum() == pytest.approx(path.cum_volume[-1])


def _write(tmp_path, rows, header="timestamp,open,high,low,close,volume"):
    f = tmp_path / "bars.csv"
    f.write_text(header + "\n" + "\n".join(rows) + "\n")
    return f


def test_load_bars_keeps_the_first_day(tmp_path):
    rows = [
        "2026-03-02 09:30:00,5000,5001,4999,5000.5,100",
        "2026-03-02 09:31:00,5000.5,5002,5000,5001.75,120",
        "2026-03-03 09:30:00,5100,5101,5099,5100,90",
    ]
    bars = load_bars(_write(tmp_path, rows))
    assert bars["start"] == 34_200.0
    assert list(bars["close"]) == [5000.5, 5001.75]
    path = replay_path(bars, 1.0)
    assert path.mid[60] == 5000.5 and path.mid[120] == 5001.75
    assert path.mid[1:61].max() == 5001 and path.mid[1:61].min() == 4999


@pytest.mark.parametrize(
    "rows, header, problem",
    [
        (["2026-03-02 09:30:00,5000,5001,4999,5000"], "timestamp,open,high,low,close", "missing columns"),
        (["2026-03-02 09:30:00,5000,4999,4998,5000,1"], None, "low <= open"),
        (["2026-03-02 09:30:00,5000,5001,4999,5000,-1"], None, "non-negative"),
        (["2026-03-02 09:30:00,5000,5001,4999,5000,1", "2026-03-02 09:32:00,5000,5001,4999,5000,1"], None, "consecutive"),
        (["2026-03-02 09:30:00,abc,5001,4999,5000,1"], None, "bad value"),
    ],
)
def test_bad_bar_files_name_the_key(tmp_path, rows, header, problem):
    f = _write(tmp_path, rows, header or "timestamp,open,high,low,close,volume")
    with pytest.raises(TableError) as err:
        load_bars(f, "market.ES.bars")
    assert err.value.key == "market.ES.bars" and problem in err.value.problem


def test_missing_bar_file(tmp_path):
    with pytest.raises(TableError, match="file not found"):
        load_bars(tmp_path / "nope.csv")


def test_the_anchor_quote_is_the_configured_price_and_the_next_tick_without_a_tie():
    from sim_broker.matching import InstrumentBook

    params = es_params()
    book = InstrumentBook(params, simulate_path(params, SimConfig(), np.random.default_rng(1)), SimConfig())
    bid, ask, _ = book.quote(book.start)
    assert (bid, ask) == (5000.0, 5000.25)
    assert 0.5 * (bid + ask) == book.base_mid(book.start)  # the arrival mid is the model's mid
