"""Every number, date, name and list of a config has a domain, checked before anything runs.

The reproductions of a fuzzer's findings on the shipped examples (a position of 1e30
contracts overflowing the schedule maker, an expiry in year 9999, a price of 1e-308, a rate of
1e99, sleeve values of 1e308, slices of 1e-6 minutes allocating gigabytes, an instrument key
with a newline giving a two-line error): each is now one line naming the key, exit 2.
"""

import json
from pathlib import Path

import pytest
import tomli_w
import tomllib

from overlay.cli import main
from overlay.config.bounds import DOMAINS, MAX_CONTRACTS
from overlay.errors import InputError, one_line

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "pension_multi_asset.toml"


def pension():
    return tomllib.loads(EXAMPLE.read_text())


def run(tmp_path, capsys, doc, command="plan"):
    path = tmp_path / "p.toml"
    path.write_text(tomli_w.dumps(doc), encoding="utf-8")
    code = main([command, str(path), "--json"])
    out, err = capsys.readouterr()
    return code, out, err, str(path)


def rejected(tmp_path, capsys, doc, key, problem, command="plan"):
    code, out, err, path = run(tmp_path, capsys, doc, command)
    assert code == 2 and out == "", (code, err)
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"overlay {command}: error: {path}: {key}: "), err
    assert problem in err, err


def _set(doc, path, value):
    node = doc
    for part in path[:-1]:
        node = node[part] if isinstance(part, int) else node.setdefault(part, {})
    node[path[-1]] = value
    return doc


@pytest.mark.parametrize(
    "where, value, key, problem",
    [
        (("positions", 0, "quantity"), 1e300, "positions[0].quantity", "beyond ±1e15"),
        (("positions", 0, "quantity"), 1e30, "positions[0].quantity", "beyond ±1e15"),
        (("positions", 0, "quantity"), 10**15, "positions[0].quantity", "at most 1e9 contracts"),
        (("positions", 0, "quantity"), MAX_CONTRACTS + 1, "positions[0].quantity", "at most 1e9 contracts"),
        (("instruments", "ES", "price"), 1e-308, "instruments.ES.price", "1e-6 to 1e15"),
        (("instruments", "ES", "price"), 1e308, "instruments.ES.price", "beyond ±1e15"),
        (("instruments", "ES", "rate"), 1e99, "instruments.ES.rate", "beyond ±1e15"),
        (("instruments", "ES", "rate"), 0.5e1, "instruments.ES.rate", "an annual rate"),
        (("sleeves", 0, "value"), 1e308, "sleeves[0].value", "beyond ±1e15"),
        (("sleeves", 0, "beta"), 1e-9, "sleeves[0].beta", "0.01 to 20"),
        (("execution", "slice_minutes"), 1e-6, "execution.slice_minutes", "from 60 ms to a day"),
        (("execution", "slice_minutes"), 0.01, "execution.slice_minutes", "into 39,000 slices; at most 10,000"),
        (("execution", "horizon_minutes"), 1e6, "execution.horizon_minutes", "to a 24-hour day"),
        (("faults", "disconnect_every_minutes"), 1e-6, "faults.disconnect_every_minutes", "once a minute"),
        (("market", "ES", "adv"), 1e-3, "market.ES.adv", "1 to 1e12 contracts"),
        (("portfolio", "fx", "EUR"), 1e9, "portfolio.fx.EUR", "1e-6 to 1e6"),
        (("policy", "vol_scaling", "reference_vol", "treasuries"), 50.0, "policy.vol_scaling.reference_vol.treasuries", "500%"),
    ],
)
def test_numbers_outside_their_domain_are_one_line(tmp_path, capsys, where, value, key, problem):
    rejected(tmp_path, capsys, _set(pension(), where, value), key, problem)


def test_far_dates_are_refused_before_the_calendar_sees_them(tmp_path, capsys):
    import datetime as dt

    doc = _set(pension(), ("instruments", "ES", "expiry"), dt.date(9999, 12, 31))
    rejected(tmp_path, capsys, doc, "instruments.ES.expiry", "outside 1900-01-01 .. 2199-12-31")


def test_non_finite_numbers_are_refused(tmp_path, capsys):
    rejected(tmp_path, capsys, _set(pension(), ("sleeves", 1, "vol"), float("-inf")), "sleeves[1].vol", "not a finite number")


def test_a_key_with_a_newline_is_named_on_one_line(tmp_path, capsys):
    doc = pension()
    doc["instruments"]["E\nS"] = doc["instruments"].pop("ES")
    rejected(tmp_path, capsys, doc, "instruments.E\\nS", "control character U+000A")


@pytest.mark.parametrize("name", ["us\x00equity", "us\u202eequity", "x" * 201])
def test_names_are_printable_one_line_text(tmp_path, capsys, name):
    rejected(tmp_path, capsys, _set(pension(), ("sleeves", 0, "name"), name), "sleeves[0].name", "text")


def test_huge_arrays_are_refused_before_validation(tmp_path, capsys):
    doc = pension()
    doc["cash_flows"] = [{"amount": 1.0}] * 10_001
    rejected(tmp_path, capsys, doc, "cash_flows", "at most 10,000")


def test_simulate_checks_the_same_domains_before_anything_runs(tmp_path, capsys):
    rejected(tmp_path, capsys, _set(pension(), ("execution", "slice_minutes"), 1e-6), "execution.slice_minutes", "60 ms", "simulate")


def test_every_domain_has_its_reason():
    for pattern, domain in DOMAINS.items():
        assert domain.lo <= domain.hi and len(domain.reason) > 10, pattern


def test_a_plan_beyond_a_billion_contracts_is_an_error_not_an_order(tmp_path, capsys):
    # every input inside its domain, the combination not: 1e15 of equity in a 1e-6 future
    doc = pension()
    doc["instruments"]["MME"]["price"] = 1e-6
    code, out, err, path = run(tmp_path, capsys, doc)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "instruments.MME: the plan needs" in err and "contracts of MME" in err


def test_input_errors_always_print_on_one_line():
    assert str(InputError("a\nb.toml", "k\r", "p\x1b")) == "a\\nb.toml: k\\r: p\\x1b"
    assert one_line("plain") == "plain"


def test_strict_json_refuses_a_non_finite_number():
    from overlay.jsonout import dumps

    assert json.loads(dumps({"a": [1.0]})) == {"a": [1.0]}
    with pytest.raises(InputError, match=r"the result's a\[1\]\.b is not a finite number"):
        dumps({"a": [1.0, {"b": float("nan")}]}, "x.toml")
