"""Taxes in ``overlay plan``: lot sales of the plan's physical sells, --harvest, --compare.

Driven through the command line as a user meets it, on the shipped example and small configs.
"""

import json
import math
from pathlib import Path

import pytest

from overlay.cli import main

EXAMPLE = str(Path(__file__).parents[3] / "examples" / "taxable_60_40.toml")

BASE = """
[portfolio]
name = "Seed"
as_of = 2026-03-02

[[sleeves]]
name = "equity"
target = 0.6
value = 7_500_000
overlay = ["ES"]
{equity_extra}

[[sleeves]]
name = "bonds"
target = 0.4
value = 3_800_000
duration = 6.5
overlay = ["ZN"]

[instruments.ES]
kind = "future"
root = "ES"
price = 5000.0

[instruments.ZN]
kind = "future"
root = "ZN"
expiry = 2026-06-18
price = 110.5
dv01 = 71.16

[[accounts]]
name = "taxable"
[[accounts]]
name = "pension"
taxable = false

[costs.equity]
spread_bps = 2.0
adv = 5_000_000_000
daily_vol = 0.012

[costs.bonds]
spread_bps = 3.0
adv = 2_000_000_000
daily_vol = 0.004
"""

EQUITY_LOT = """
[[lots]]
sleeve = "equity"
account = "taxable"
value = 7_500_000
basis = 4_500_000
acquired = 2019-05-01
"""


def plan_json(capsys, path, *flags):
    status = main(["plan", str(path), "--json", *flags])
    out, err = capsys.readouterr()
    assert status == 0, err
    return json.loads(out)


def write(tmp_path, text, name="p.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_example_compare_physical_realises_the_gain_on_720000_of_equities_and_the_overlay_none(capsys):
    """The seed case: 10 million 60/40, equities +25 % (7.5 million), bonds −5 % (3.8
    million); NAV 11.3 million, equity target 6.78 million: 720,000 to sell. HIFO ties the two
    equity lots (basis 80 % of value) and takes the older (2023-03-01, long-term): basis
    576,000, gain 144,000, tax 144,000 × 20 % = 28,800. The overlay sells futures: no gain."""
    out = plan_json(capsys, EXAMPLE, "--compare")
    equity = next(s for s in out["compare"]["sleeves"] if s["sleeve"] == "global_equity")
    assert equity["amount"] == -720_000.0
    lots = equity["physical"]["lots_sold"]
    assert math.fsum(lot["value"] for lot in lots) == pytest.approx(720_000.0)
    assert [(lot["acquired"], lot["basis"], lot["gain"], lot["term"]) for lot in lots] == [
        ("2023-03-01", 576_000.0, 144_000.0, "long")
    ]
    assert equity["physical"]["realised_gain"] == 144_000.0
    assert equity["physical"]["tax"] == 28_800.0
    assert equity["synthetic"]["realised_gain"] == 0.0
    assert out["compare"]["physical_total"] > out["compare"]["synthetic_total"]
    assert any("Section 1256" in n and "60% long-term, 40% short-term" in n for n in out["compare"]["notes"])
    # the plan itself sells nothing physically: no lots sold, no tax
    assert out["lots_sold"] == [] and out["tax"]["estimated_tax"] == 0.0


def test_spec_figures_one_long_term_lot(capsys, tmp_path):
    """One equity lot, value 7.5 million, basis 4.5 million (60 % of value), bought 2019:
    selling 720,000 realises 720,000 − 432,000 = 288,000 long-term, tax 57,600 (the figures
    of the tax spec's example)."""
    out = plan_json(capsys, write(tmp_path, BASE.format(equity_extra="") + EQUITY_LOT), "--compare")
    equity = out["compare"]["sleeves"][0]
    (lot,) = equity["physical"]["lots_sold"]
    assert (lot["value"], lot["basis"], lot["gain"]) == (720_000.0, 432_000.0, 288_000.0)
    assert equity["physical"]["tax"] == 57_600.0
    # bonds had no lots: one implied lot at basis = value, and the plan says so
    assert any("bonds: no [[lots]]" in n for n in out["tax"]["notes"])
    # physical costs: spread 720,000 × 2 bp = 144; square-root impact 0.7 × 0.012 × 720,000
    # × sqrt(720,000 / 5e9) = 72.58
    assert equity["physical"]["spread"] == 144.0
    assert equity["physical"]["impact"] == pytest.approx(0.7 * 0.012 * 720_000 * math.sqrt(720_000 / 5e9), abs=0.01)
    # synthetic: 3 ES (round(720,000 / 250,000)), half a 12.50 tick each = 18.75; fees
    # 0.85 each; one roll (March contract, window opens before the 91-day horizon)
    syn = equity["synthetic"]
    assert syn["spread"] == 18.75
    assert syn["fees"] == pytest.approx(2.55)
    assert syn["roll"] == pytest.approx(3 * 2 * (6.25 + 0.85))


def test_withdrawal_sells_tax_deferred_lots_first(capsys, tmp_path):
    """A 500,000 withdrawal comes from the most overweight sleeve, equity, physically. The
    pension's 300,000 lot goes first (no tax), then 200,000 of the taxable lot (value
    7,200,000, basis 4,500,000): basis 200,000 × 4.5 / 7.2 = 125,000, long-term gain 75,000,
    tax 75,000 × 20 % = 15,000."""
    lots = EQUITY_LOT.replace("7_500_000", "7_200_000") + """
[[lots]]
sleeve = "equity"
account = "pension"
value = 300_000
basis = 100_000
acquired = 2020-01-02

[[cash_flows]]
amount = -500_000
"""
    out = plan_json(capsys, write(tmp_path, BASE.format(equity_extra="") + lots))
    sold = out["lots_sold"]
    assert [(s["account"], s["value"], s["taxable"], s["purpose"]) for s in sold] == [
        ("pension", 300_000.0, False, "cash_flow"),
        ("taxable", 200_000.0, True, "cash_flow"),
    ]
    assert sold[1]["basis"] == 125_000.0 and sold[1]["gain"] == 75_000.0
    assert out["tax"]["long_term_gain"] == 75_000.0
    assert out["tax"]["estimated_tax"] == 15_000.0


def test_example_harvest_keeps_the_exposure_and_reports_the_wash_sale(capsys):
    """--harvest sells the taxable bond lot (value 2,000,000, basis 2,150,000: a 7 % loss)
    and buys 18 ZN (2,000,000 / 109,476.92 per contract = 18.27 → 18). The pension bought
    100,000 of bonds 20 days earlier: disallowed = 150,000 × 100,000 / 2,000,000 = 7,500."""
    out = plan_json(capsys, EXAMPLE, "--harvest")
    harvest = [o for o in out["orders"] if o["purpose"] == "harvest"]
    assert [(o["kind"], o["instrument"], o["quantity"]) for o in harvest] == [
        ("physical", None, -2_000_000.0),
        ("future", "ZN", 18),
    ]
    per_contract = 71.16 / (6.5 * 1e-4)
    assert abs(harvest[0]["exposure"] + harvest[1]["exposure"]) <= per_contract / 2
    (lot,) = [s for s in out["lots_sold"] if s["purpose"] == "harvest"]
    assert lot["gain"] == -150_000.0 and lot["wash_sale"] is True and lot["disallowed_loss"] == 7_500.0
    tax = out["tax"]
    assert tax["disallowed_loss"] == 7_500.0 and tax["short_term_loss"] == 142_500.0
    (wash,) = tax["wash_sales"]
    assert wash["replacement"] == {"account": "pension", "date": "2026-02-10", "value": 100_000.0, "lot": None,
                                   "basis_added": 7_500.0}
    assert any(r.startswith("wash sale: 7,500.00 of the loss on bonds") for r in out["reasons"])
    assert out["instruments"]["ZN"]["position_after"] == 7 + 18


def test_harvest_through_a_proxy_sleeve_is_exact(capsys, tmp_path):
    """A proxy that is a sleeve buys the same value: 'equity' lot at a 20 % loss (value
    400,000, basis 500,000) is sold and 400,000 of 'equity_proxy' bought."""
    text = BASE.format(equity_extra='proxy = "equity_proxy"').replace(
        '[[sleeves]]\nname = "bonds"\ntarget = 0.4',
        '[[sleeves]]\nname = "equity_proxy"\ntarget = 0.0\nvalue = 0.0\n\n[[sleeves]]\nname = "bonds"\ntarget = 0.4',
    ) + EQUITY_LOT.replace("7_500_000", "7_100_000") + """
[[lots]]
sleeve = "equity"
account = "taxable"
value = 400_000
basis = 500_000
acquired = 2025-11-03
"""
    out = plan_json(capsys, write(tmp_path, text), "--harvest")
    harvest = [(o["sleeve"], o["notional"]) for o in out["orders"] if o["purpose"] == "harvest"]
    assert harvest == [("equity", -400_000.0), ("equity_proxy", 400_000.0)]
    assert out["tax"]["short_term_loss"] == 100_000.0 and out["tax"]["disallowed_loss"] == 0.0


def test_harvest_without_a_proxy_is_refused_in_the_plan_not_done(capsys, tmp_path):
    text = BASE.format(equity_extra="") + EQUITY_LOT.replace("4_500_000", "9_000_000")
    out = plan_json(capsys, write(tmp_path, text), "--harvest")
    assert not [o for o in out["orders"] if o["purpose"] == "harvest"]
    assert any("no proxy; not harvested" in r for r in out["reasons"])


def test_plan_without_tax_tables_is_unchanged(capsys):
    example = str(Path(EXAMPLE).with_name("balanced_60_40.toml"))
    out = plan_json(capsys, example)
    assert "lots_sold" not in out and "tax" not in out and "compare" not in out
