"""The 5-billion pension example: every feature of the planner in one plan."""

import json
import math
from pathlib import Path

import pytest

from overlay.cli import main
from overlay.config import load_config
from overlay.plan.planner import OrderKind, OrderPurpose, plan

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pension_multi_asset.toml"
ADV = {"ES": 1_500_000, "MES": 1_000_000, "FESX": 1_000_000, "MME": 20_000, "ZN": 1_500_000}


@pytest.fixture(scope="module")
def config():
    return load_config(EXAMPLE)


@pytest.fixture(scope="module")
def result(config):
    return plan(config)


def test_valuation(result):
    assert result.nav == 5_060_000_000  # 4,875m of sleeves + 125m cash + 60m contribution
    assert result.base == pytest.approx(5_060_000_000 * (1 - 0.015))
    assert result.rebalance


def test_contribution_is_invested_physically_in_the_most_underweight_sleeve(result):
    (flow,) = result.orders_of(OrderKind.PHYSICAL)
    assert (flow.sleeve, flow.notional, flow.purpose) == ("europe_equity", 60_000_000, OrderPurpose.CASH_FLOW)


def test_momentum_defers_europe_but_not_us_equity_beyond_its_hard_band(result):
    europe = result.sleeve("europe_equity")
    assert europe.deferred is not None
    # Europe makes no move of its own; it takes only the sliver of the balance no other sleeve
    # can take without ending outside its band (it used to take none, and Treasuries, in band
    # and under target, were pushed through it to 30.8 %).
    assert europe.exposure_change == europe.balance == pytest.approx(1_700_894.74, abs=0.01)
    assert europe.balance_stage == "deferral_yields"
    us = result.sleeve("us_equity")
    assert us.weight > 0.40 and us.deferred is None and us.exposure_change < 0


def test_es_is_rolled_as_one_spread_and_new_orders_go_to_june(result):
    (spread,) = result.spreads
    assert (spread.instrument, spread.quantity, spread.local_symbol) == ("ES", 250, "ESH6")
    # June by carry over the 90 days from 2026-03-20 to 2026-06-18: the spread is its fair value.
    assert spread.price == pytest.approx(44.25) and spread.roll_cost.amount == 0.0 and spread.priced_at == "carry"
    # New EM exposure goes to June: MMEH6 is past its 2026-03-10 roll date. (831 contracts while
    # the deferred Europe gap was spread pro rata to targets; EM now closes exactly its own gap.)
    (mme,) = [o for o in result.futures_orders if o.instrument == "MME"]
    assert (mme.quantity, mme.local_symbol) == (530, "MMEM6")


def test_the_deferred_gap_goes_to_us_equity_up_to_its_band_edge(result):
    """Europe's deferred gap (+127.6m) was spread pro rata to targets: Treasuries bought 54.8m
    (352 % of their own gap) and ended at 30.8 %, US equity at 36.1 %. Now US equity, the
    sleeve furthest from target in the balance's direction, sells less, down to its band edge
    (37.53 %), and every in-band sleeve ends exactly at its target."""
    base = result.base
    after = {s.name: (s.exposure + s.exposure_change) / base for s in result.sleeves}
    us = result.sleeve("us_equity")
    assert after["us_equity"] == pytest.approx(us.upper, abs=1e-12)
    assert us.balance == pytest.approx(125_914_105.26, abs=0.01) and us.balance_stage == "trade_less"
    for name in ("em_equity", "treasuries", "real_estate"):
        assert after[name] == pytest.approx(result.sleeve(name).target, abs=1e-12)
    assert result.sleeve("treasuries").exposure_change == pytest.approx(0.30 * base - 1_479_650_000)
    assert result.balance.amount == pytest.approx(127_842_333.33, abs=0.01)
    assert [s for s, _, _ in result.balance.sources] == ["europe_equity", "real_estate"]


def test_es_is_rolled_and_new_es_orders_go_to_june(result):
    es = [o for o in result.futures_orders if o.instrument == "ES"]
    assert [(o.purpose, o.quantity, o.local_symbol) for o in es[:2]] == [
        (OrderPurpose.ROLL_CLOSE, -250, "ESH6"),
        (OrderPurpose.ROLL_OPEN, 250, "ESM6"),
    ]
    assert es[2].purpose is OrderPurpose.REBALANCE and es[2].local_symbol == "ESM6"
    assert result.instruments["ES"].roll and not result.instruments["FESX"].roll


def test_treasuries_sized_by_dv01_and_real_estate_by_swap(result):
    zn = result.instruments["ZN"]
    assert zn.exposure_per_contract == pytest.approx(71.16 / (7.2e-4))
    (swap,) = result.orders_of(OrderKind.SWAP)
    assert swap.instrument == "REIT_TRS" and swap.quantity >= 2_500_000
    assert result.sleeve("real_estate").residual == 0


def test_swap_financing_accrues_in_dollars_to_the_next_review(result):
    r = result.instruments["REIT_TRS"]
    # 28.41m after the plan x (4.3 % SOFR + 35 bp) x 111 days (to the June review, the last
    # business day of June) / 360
    assert r.financing_days == 111
    assert r.financing_accrual == pytest.approx(28_410_000 * 0.0465 * 111 / 360)


def test_european_future_notional_in_dollars(result):
    # The example's FESX price is the front (June) contract's since FESX rolls on 2026-03-10,
    # eight business days before its March expiry (it was 5450 for March before issue 12).
    assert result.instruments["FESX"].notional_per_contract == pytest.approx(5430 * 10 * 1.08)
    assert result.instruments["FESX"].fair_value is not None


def test_futures_orders_fit_a_day_at_modest_participation(result):
    for o in result.futures_orders:
        assert 1 <= abs(o.quantity) and abs(o.quantity) / ADV[o.instrument] < 0.06, o


def test_margin_is_covered_by_the_buffer(result):
    assert result.margin.ok and result.margin.required > 0 and result.margin.missing == ()


def test_self_financing(result):
    total = math.fsum(s.exposure_change for s in result.sleeves)
    assert total == pytest.approx(result.base - math.fsum(s.exposure for s in result.sleeves))


def test_simulation_tables_are_loaded(config):
    assert config.execution.algo == "twap" and config.execution.horizon_minutes == 390
    assert config.market["MME"].adv == 20_000 and config.market["ES"].impact.model == "square-root"
    assert config.market["ES"].impact.params == {"y": 0.7}
    assert config.faults.reject_rate == 0.0


def test_json_and_tables(capsys):
    assert main(["plan", str(EXAMPLE), "--json", "--suggest-bands"]) == 0
    out, _ = capsys.readouterr()
    d = json.loads(out)
    assert d["nav"] == 5_060_000_000.0 and len(d["suggested_bands"]) == 5
    assert "us_equity 16.00%" in d["vol_scaling"] and "treasuries 6.00%" in d["vol_scaling"]
    assert [w["code"] for w in d["warnings"]] == ["deferral_yields"]
    assert main(["plan", str(EXAMPLE)]) == 0
    out, _ = capsys.readouterr()
    assert "Vol scaling:" in out and "ESM6" in out and "deferred" in out and "warning (deferral_yields)" in out
