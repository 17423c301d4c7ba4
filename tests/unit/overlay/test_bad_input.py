"""Every way to get the config wrong: one line naming file, key and problem; exit 2; no plan.

Driven through the command line exactly as a user meets it (``overlay plan CONFIG``).
"""

import pytest

from overlay.cli import main
from plan_configs import BASE


def run_plan(capsys, path, *extra):
    status = main(["plan", path, *extra])
    out, err = capsys.readouterr()
    return status, out, err


def assert_rejected(capsys, path, key, problem, *extra):
    status, out, err = run_plan(capsys, path, *extra)
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    prefix = f"overlay plan: error: {path}: " + (f"{key}: " if key else "")
    assert err.startswith(prefix), err
    assert problem in err, err


def test_missing_file(capsys, tmp_path):
    assert_rejected(capsys, str(tmp_path / "nope.toml"), None, "file not found")


def test_missing_file_with_json_prints_nothing_on_stdout(capsys, tmp_path):
    assert_rejected(capsys, str(tmp_path / "nope.toml"), None, "file not found", "--json")


def test_unreadable_file_a_directory(capsys, tmp_path):
    assert_rejected(capsys, str(tmp_path), None, "is a directory")


def test_unreadable_file_not_text(capsys, tmp_path):
    path = tmp_path / "binary.toml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    assert_rejected(capsys, str(path), None, "not UTF-8 text")


def test_broken_toml_names_the_line(capsys, write_config):
    path = write_config(BASE.replace('name = "Test"', 'name = "Test'))
    assert_rejected(capsys, path, "line 2", "invalid TOML")


@pytest.mark.parametrize(
    "old,new,key",
    [
        ("[policy]\n", '[policy]\ntriger = "band"\n', "policy.triger"),
        ('target = 0.4\n', "target = 0.4\ntargt = 0.4\n", "sleeves[1].targt"),
        ('price = 110.5\n', "price = 110.5\npricee = 1.0\n", "instruments.ZN.pricee"),
        ("[portfolio]\n", "[portfollio]\nx = 1\n[portfolio]\n", "portfollio"),
    ],
)
def test_unknown_keys(capsys, write_config, old, new, key):
    assert_rejected(capsys, write_config(BASE.replace(old, new, 1)), key, "unknown key")


def test_targets_not_summing_to_one(capsys, write_config):
    assert_rejected(capsys, write_config(BASE.replace("target = 0.4", "target = 0.35")), "sleeves", "targets sum to 0.95, not 1")


@pytest.mark.parametrize(
    "old,new,key",
    [
        ("value = 3_800_000", "value = -3_800_000", "sleeves[1].value"),
        ("cash = 0.0", "cash = -5.0", "portfolio.cash"),
        ("price = 110.5", "price = -110.5", "instruments.ZN.price"),
        ("target = 0.6", "target = -0.6", "sleeves[0].target"),
        ("band = 0.05", "band = { lower = -0.01, upper = 0.05 }", "sleeves[0].band.lower"),
    ],
)
def test_negative_numbers(capsys, write_config, old, new, key):
    assert_rejected(capsys, write_config(BASE.replace(old, new, 1)), key, "greater than")


@pytest.mark.parametrize(
    "old,new,key",
    [
        ("value = 3_800_000", "value = nan", "sleeves[1].value"),
        ("price = 5000.0", "price = inf", "instruments.ES.price"),
        ("duration = 6.5", "duration = -inf", "sleeves[1].duration"),
    ],
)
def test_non_finite_numbers(capsys, write_config, old, new, key):
    assert_rejected(capsys, write_config(BASE.replace(old, new, 1)), key, "finite number")


def test_unknown_instrument_in_overlay(capsys, write_config):
    path = write_config(BASE.replace('overlay = ["ZN"]', 'overlay = ["ZN", "ZB"]'))
    assert_rejected(capsys, path, "sleeves[1].overlay[1]", "unknown instrument 'ZB'")


SWAP = '\n[instruments.TRS]\nkind = "swap"\n'


def test_future_after_swap_is_misordered(capsys, write_config):
    path = write_config(BASE.replace('overlay = ["ES", "MES"]', 'overlay = ["ES", "TRS", "MES"]') + SWAP)
    assert_rejected(capsys, path, "sleeves[0].overlay[2]", "futures come first")


def test_two_swaps_in_one_sleeve(capsys, write_config):
    text = BASE.replace('overlay = ["ES", "MES"]', 'overlay = ["ES", "TRS", "TRS2"]') + SWAP + SWAP.replace("TRS", "TRS2")
    assert_rejected(capsys, write_config(text), "sleeves[0].overlay[2]", "at most one swap")


def test_instrument_serving_two_sleeves(capsys, write_config):
    path = write_config(BASE.replace('overlay = ["ZN"]', 'overlay = ["ZN", "MES"]'))
    assert_rejected(capsys, path, "sleeves[1].overlay[1]", "already serves sleeve 'equity'")


def test_future_without_price(capsys, write_config):
    path = write_config(BASE.replace('price = 110.5\n', ""))
    assert_rejected(capsys, path, "instruments.ZN.price", "required key missing")


def test_currency_without_fx_rate(capsys, write_config):
    text = BASE.replace('fx = { EUR = 1.08 }\n', "") + '\n[instruments.FESX]\nkind = "future"\nroot = "FESX"\nprice = 5400.0\n'
    assert_rejected(capsys, write_config(text), "instruments.FESX.currency", "no fx rate for EUR")


def test_swap_currency_without_fx_rate(capsys, write_config):
    text = BASE + SWAP + 'currency = "GBP"\n'
    assert_rejected(capsys, write_config(text), "instruments.TRS.currency", "no fx rate for GBP")


def test_last_rebalance_after_as_of(capsys, write_config):
    path = write_config(BASE.replace("last_rebalance = 2025-12-31", "last_rebalance = 2026-04-30"))
    assert_rejected(capsys, path, "policy.last_rebalance", "is after portfolio.as_of 2026-03-02")


def test_expiry_before_as_of(capsys, write_config):
    path = write_config(BASE.replace("expiry = 2026-06-18", "expiry = 2025-12-19"))
    assert_rejected(capsys, path, "instruments.ZN.expiry", "is before portfolio.as_of")


def test_calendar_trigger_needs_last_rebalance(capsys, write_config):
    text = BASE.replace("last_rebalance = 2025-12-31\n", "").replace('trigger = "band"', 'trigger = "calendar"')
    assert_rejected(capsys, write_config(text), "policy.last_rebalance", "required by the 'calendar' trigger")


def test_duplicate_sleeve_names(capsys, write_config):
    path = write_config(BASE.replace('name = "bonds"', 'name = "equity"'))
    assert_rejected(capsys, path, "sleeves[1].name", "duplicate sleeve name 'equity'")


def test_missing_required_key(capsys, write_config):
    assert_rejected(capsys, write_config(BASE.replace("as_of = 2026-03-02\n", "")), "portfolio.as_of", "required key missing")


def test_bad_enum_value(capsys, write_config):
    path = write_config(BASE.replace('trigger = "band"', 'trigger = "weekly"'))
    assert_rejected(capsys, path, "policy.trigger", "'band', 'calendar', 'band_or_calendar' or 'band_and_calendar'")


def test_unknown_instrument_kind(capsys, write_config):
    path = write_config(BASE.replace('kind = "future"\nroot = "ES"', 'kind = "option"\nroot = "ES"'))
    assert_rejected(capsys, path, "instruments.ES.kind", "unknown kind 'option'")


def test_unknown_registry_root(capsys, write_config):
    path = write_config(BASE.replace('root = "MES"', 'root = "XYZ"'))
    assert_rejected(capsys, path, "instruments.MES.root", "unknown futures root 'XYZ'")


def test_position_in_unknown_instrument(capsys, write_config):
    path = write_config(BASE + '\n[[positions]]\ninstrument = "NQ"\nquantity = 3\n')
    assert_rejected(capsys, path, "positions[0].instrument", "unknown instrument 'NQ'")


def test_fractional_futures_position(capsys, write_config):
    path = write_config(BASE + '\n[[positions]]\ninstrument = "ES"\nquantity = 2.5\n')
    assert_rejected(capsys, path, "positions[0].quantity", "whole number of contracts")


def test_withdrawal_larger_than_the_portfolio(capsys, write_config):
    path = write_config(BASE + "\n[[cash_flows]]\namount = -20_000_000\n")
    assert_rejected(capsys, path, "cash_flows", "exceed the sleeves' physical value")


@pytest.mark.parametrize(
    "table,key,problem",
    [
        ('[market.NQ]\nadv = 10\n', "market.NQ", "unknown instrument 'NQ'"),
        ('[market.ES]\nadv = 0\n', "market.ES.adv", "greater than 0"),
        ('[market.ES]\nimpact = { model = "linear" }\n', "market.ES.impact.model", "'square-root'"),
        ('[market.ES]\nimpact = { model = "square-root", y = "big" }\n', "market.ES.impact", "parameter 'y' must be a finite number"),
        ('[market.ES]\nbars = "missing.csv"\n', "market.ES.bars", "file not found"),
        ('[execution]\nalgo = "vwapp"\n', "execution.algo", "'twap', 'vwap', 'pov' or 'is'"),
        ('[execution]\nhorizon_minutes = 30\nslice_minutes = 60\n', "execution", "longer than horizon_minutes"),
        ('[execution]\nstart = "9h30"\n', "execution.start", "HH:MM"),
        ('[faults]\nreject_rate = 1.5\n', "faults.reject_rate", "less than or equal to 1"),
        ('[faults]\nreconnect = true\n', "faults.reconnect", "unknown key"),
    ],
)
def test_simulation_tables(capsys, write_config, table, key, problem):
    assert_rejected(capsys, write_config(BASE + "\n" + table), key, problem)


def test_band_of_the_wrong_type(capsys, write_config):
    path = write_config(BASE.replace("band = 0.05", 'band = "wide"'))
    assert_rejected(capsys, path, "sleeves[0].band", "expected a number or { lower = ..., upper = ... }")


def test_boolean_where_a_number_belongs(capsys, write_config):
    path = write_config(BASE.replace("value = 3_800_000", "value = true"))
    assert_rejected(capsys, path, "sleeves[1].value", "expected a number or text, got true")


def test_portfolio_without_value(capsys, write_config):
    text = BASE.replace("value = 7_500_000", "value = 0").replace("value = 3_800_000", "value = 0")
    assert_rejected(capsys, write_config(text), "sleeves", "the portfolio has no value")


@pytest.mark.parametrize("speed", ["2000", "0", "nan"])
def test_gateway_refuses_a_speed_it_cannot_keep_pace_with(capsys, speed):
    assert main(["gateway", "--port", "0", "--speed", speed]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--speed" in err and "Traceback" not in err
