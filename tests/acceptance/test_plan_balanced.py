"""`overlay plan examples/balanced_60_40.toml --json`: the issue's golden numbers.

10 million at 60/40; equities then rose 25 % and bonds fell 5 %: NAV 11.3 million, equity
weight 7.5 / 11.3 = 0.66372, above its 65 % band; restoring 60/40 moves -720,000 of equity
exposure into bonds.
"""

import json
from pathlib import Path

import pytest

from overlay.cli import main

EXAMPLE = str(Path(__file__).resolve().parents[2] / "examples" / "balanced_60_40.toml")


def plan_json(capsys, *extra):
    assert main(["plan", EXAMPLE, "--json", *extra]) == 0
    out, _ = capsys.readouterr()
    return json.loads(out)  # exactly one JSON object, nothing else on stdout


def test_golden_numbers(capsys):
    plan = plan_json(capsys)
    assert plan["nav"] == 11_300_000.0
    assert plan["rebalance"] is True
    equity, bonds = plan["sleeves"]
    assert equity["weight"] == pytest.approx(0.66372, abs=5e-6)
    assert equity["breach"] == "upper" and equity["deferred"] is None
    assert equity["exposure_change"] == -720_000.0 and bonds["exposure_change"] == 720_000.0
    assert "global_equity above band: 66.37% > 65.00%" in plan["reasons"]


def test_orders_restore_the_policy_with_es_mes_and_zn(capsys):
    plan = plan_json(capsys)
    orders = {o["instrument"]: o for o in plan["orders"]}
    assert orders["ES"]["quantity"] == -2 and orders["ES"]["notional"] == -500_000.0
    assert orders["MES"]["quantity"] == -9
    assert orders["ZN"]["quantity"] == 7 and orders["ZN"]["contract_month"] == "2026-06"
    for sleeve in plan["sleeves"]:
        assert sleeve["hedged"] + sleeve["residual"] == pytest.approx(sleeve["exposure_change"])


def test_es_fair_value_by_cost_of_carry(capsys):
    es = plan_json(capsys)["instruments"]["ES"]
    # F = 4,980 exp((4.5 % - 1.3 %) 18/365) = 4,987.87; mispricing = 5,000 - F. Basis is
    # spot - futures price (Hull, Options, Futures and Other Derivatives, ch. 2): 4,980 - 5,000.
    # (It used to report price - F as "basis": that is the mispricing.)
    assert es["days_to_expiry"] == 18 and round(es["fair_value"], 2) == 4987.87
    assert es["mispricing"] == pytest.approx(12.13, abs=0.005) and es["basis"] == -20.0
    assert es["notional_per_contract"] == 250_000.0


def test_suggested_bands_are_added_with_their_rule(capsys):
    plan = plan_json(capsys, "--suggest-bands")
    names = [b["sleeve"] for b in plan["suggested_bands"]]
    assert names == ["global_equity", "bonds"]
    assert all(0 < b["half_width"] < 0.05 for b in plan["suggested_bands"])
    assert "cube-root" in plan["suggested_bands_rule"]


def test_tables_by_default(capsys):
    assert main(["plan", EXAMPLE]) == 0
    out, err = capsys.readouterr()
    assert "REBALANCE" in out and "NAV 11,300,000.00 USD" in out and "-720,000" in out and err == ""


def test_rerun_gives_identical_json(capsys):
    assert plan_json(capsys) == plan_json(capsys)
