"""The config's ``[market.<instrument>]`` table: session hours and whole-tick spreads."""

import pytest

from overlay.cli import main
from overlay.simulate import simulate
from tests.integration.simconfigs import one_future


def _with_market_lines(path, *lines):
    text = path.read_text().replace("[market.ES]\n", "[market.ES]\n" + "".join(f"{l}\n" for l in lines))
    path.write_text(text)
    return path


def test_an_instruments_session_hours_bound_its_execution(tmp_path):
    path = _with_market_lines(one_future_path(tmp_path), 'session_start = "08:30"', 'session_end = "11:30"')
    result = simulate(path, algo="twap", seed=2)
    (parent,) = result.parents
    assert parent.filled == parent.quantity
    close = 11.5 * 3600
    assert max(c.sent_at for c in parent.children) < close
    assert result.horizon_seconds <= 2 * 3600  # from the 09:30 start to one slice before 11:30


@pytest.mark.parametrize(
    "lines,key,problem",
    [
        (['session_start = "9:30"'], "market.ES.session_start", "expected a session time HH:MM"),
        (['session_start = "12:00"', 'session_end = "11:00"'], "market.ES", "must come after session_start"),
        (["spread_ticks = 1.5"], "market.ES.spread_ticks", "valid integer"),
        (["spread_ticks = 0"], "market.ES.spread_ticks", "greater than or equal to 1"),
    ],
)
def test_bad_market_tables_are_refused_before_anything_runs(tmp_path, capsys, lines, key, problem):
    path = one_future_path(tmp_path)
    text = path.read_text().replace("spread_ticks = 1\n", "")
    path.write_text(text)
    _with_market_lines(path, *lines)
    assert main(["simulate", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"{key}: " in captured.err and problem in captured.err


def one_future_path(tmp_path):
    from pathlib import Path

    return Path(one_future(tmp_path, contracts=200))
