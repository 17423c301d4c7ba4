"""Bad backtest input, as the spec lists it: one line naming the file (the data file for data
problems, the config for config problems), the column or key and the row; exit 2; nothing
written."""

from __future__ import annotations

import pytest

from overlay.cli import main

GOOD = """date,equity,bonds,cash_rate
2020-01-31,100,100,0.01
2020-02-29,101,100.5,0.01
2020-03-31,99,101,0.01
"""

CONFIG = """
[portfolio]
name = "bad"
as_of = 2020-01-31

[[sleeves]]
name = "equity"
target = 0.6
value = 6_000_000

[[sleeves]]
name = "bonds"
target = 0.4
value = 4_000_000

[backtest]
data = "{data}"
implementations = ["physical"]

[[backtest.policies]]
name = "band"
trigger = "band"
{policy_extra}
"""


def run(tmp_path, capsys, data: str | None = GOOD, policy_extra: str = "", file: str = "returns.csv"):
    if data is not None:
        (tmp_path / file).write_text(data)
    cfg = tmp_path / "bt.toml"
    cfg.write_text(CONFIG.format(data=file, policy_extra=policy_extra))
    out = tmp_path / "out"
    status = main(["backtest", str(cfg), "--json", "--out", str(out)])
    stdout, stderr = capsys.readouterr()
    assert not out.exists(), "nothing may be written on bad input"
    return status, stdout, stderr, str(tmp_path / file), str(cfg)


def assert_one_line(status, stdout, stderr, *parts):
    assert status == 2
    assert stdout == ""
    assert stderr.count("\n") == 1 and "Traceback" not in stderr
    for part in parts:
        assert part in stderr, stderr


def test_good_input_runs(tmp_path, capsys):
    (tmp_path / "returns.csv").write_text(GOOD)
    cfg = tmp_path / "bt.toml"
    cfg.write_text(CONFIG.format(data="returns.csv", policy_extra=""))
    assert main(["backtest", str(cfg), "--json"]) == 0


def test_missing_sleeve_column(tmp_path, capsys):
    status, out, err, data, _ = run(tmp_path, capsys, GOOD.replace("bonds", "bond"))
    assert_one_line(status, out, err, f"{data}: bonds: missing column for sleeve 'bonds'")


def test_dates_that_do_not_increase(tmp_path, capsys):
    bad = GOOD.replace("2020-03-31", "2020-02-15")
    status, out, err, data, _ = run(tmp_path, capsys, bad)
    assert_one_line(status, out, err, f"{data}: date, row 3: dates must increase: 2020-02-15 follows 2020-02-29")


def test_a_non_positive_index_level(tmp_path, capsys):
    bad = GOOD.replace("2020-02-29,101,", "2020-02-29,-5,")
    status, out, err, data, _ = run(tmp_path, capsys, bad)
    assert_one_line(status, out, err, f"{data}: equity, row 2: index level must be positive, got -5")


def test_a_level_that_is_not_a_number(tmp_path, capsys):
    bad = GOOD.replace("2020-03-31,99,", "2020-03-31,n/a,")
    status, out, err, data, _ = run(tmp_path, capsys, bad)
    assert_one_line(status, out, err, f"{data}: equity, row 3: not a number")


def test_a_policy_with_an_unknown_key(tmp_path, capsys):
    status, out, err, _, cfg = run(tmp_path, capsys, policy_extra="bnad = 0.05")
    assert_one_line(status, out, err, f"{cfg}: backtest.policies[0].bnad: unknown key")


def test_fewer_than_two_dates(tmp_path, capsys):
    status, out, err, data, _ = run(tmp_path, capsys, "date,equity,bonds\n2020-01-31,100,100\n")
    assert_one_line(status, out, err, f"{data}: date: fewer than two dates (1 rows)")


def test_a_missing_data_file(tmp_path, capsys):
    status, out, err, data, _ = run(tmp_path, capsys, None)
    assert_one_line(status, out, err, f"{data}: data file not found")


def test_an_unknown_builtin_data_set(tmp_path, capsys):
    status, out, err, _, cfg = run(tmp_path, capsys, GOOD, file="builtin:nope")
    assert_one_line(status, out, err, f"{cfg}: backtest.data: unknown built-in data set 'nope'")


def test_a_window_with_one_date(tmp_path, capsys):
    (tmp_path / "returns.csv").write_text(GOOD)
    cfg = tmp_path / "bt.toml"
    cfg.write_text(CONFIG.format(data="returns.csv", policy_extra="").replace('implementations = ["physical"]', 'implementations = ["physical"]\nstart = 2020-03-31'))
    status = main(["backtest", str(cfg), "--json"])
    out, err = capsys.readouterr()
    assert_one_line(status, out, err, f"{cfg}: backtest.start: fewer than two data dates")


def test_synthetic_takes_a_registry_future_s_market_from_the_registry(tmp_path, capsys):
    """No [market.ES]: the registry's ES market (ADV, volatility, spread, fee) prices the trades."""
    extra = CONFIG.format(data="returns.csv", policy_extra="").replace('implementations = ["physical"]', 'implementations = ["synthetic"]')
    extra = extra.replace('value = 6_000_000', 'value = 6_000_000\noverlay = ["ES"]') + '\n[instruments.ES]\nkind = "future"\nroot = "ES"\nprice = 5000\n'
    (tmp_path / "returns.csv").write_text(GOOD)
    cfg = tmp_path / "bt.toml"
    cfg.write_text(extra)
    assert main(["backtest", str(cfg), "--json"]) == 0


@pytest.mark.parametrize("args, key", [(["--paths", "-1"], "--paths"), (["--workers", "-2"], "--workers"), (["--scheduler", "nowhere"], "--scheduler")])
def test_bad_options(tmp_path, capsys, args, key):
    (tmp_path / "returns.csv").write_text(GOOD)
    cfg = tmp_path / "bt.toml"
    cfg.write_text(CONFIG.format(data="returns.csv", policy_extra=""))
    status = main(["backtest", str(cfg), "--json", *args])
    out, err = capsys.readouterr()
    assert_one_line(status, out, err, key)
