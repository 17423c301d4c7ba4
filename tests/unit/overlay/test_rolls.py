"""Contract calendars and rolls in the plan, as a desk meets them.

Dates are the exchanges' (see tests/unit/pricing/test_expiry_calendars.py for the rules):
ZNH6 first position day 2026-02-26 (roll date three business days earlier, 2026-02-23);
ZNM6 first position day 2026-05-28 (roll date 2026-05-22); MMEH6 last trade 2026-03-20 (roll
date eight business days earlier, 2026-03-10); ESH6 likewise.
"""

import datetime as dt
import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plan_configs import BASE, build, future

from overlay.cli import main
from overlay.plan.planner import OrderKind, OrderPurpose, plan, plan_to_dict
from pricing import contracts

D = dt.date
SLEEVES = [
    {"name": "equity", "target": 0.6, "value": 7_500_000, "band": 0.05, "overlay": ["ES"]},
    {"name": "bonds", "target": 0.4, "value": 3_800_000, "duration": 6.5, "overlay": ["ZN"]},
]


def _symbols(p, purpose=None):
    out = []
    for o in p.orders:
        if o.kind is OrderKind.SPREAD:
            out.extend(leg.local_symbol for leg in o.legs)
        elif o.kind is OrderKind.FUTURE and (purpose is None or o.purpose is purpose):
            out.append(o.local_symbol)
    return out


def test_treasury_orders_on_march_2_go_to_june_not_the_delivery_month():
    # The 60/40 example without a ZN expiry used to buy ZNH6 on 2026-03-02, after its first
    # position day: the registry's front contract is ZNM6.
    p = plan(build(SLEEVES, {"ES": future("ES", 5000.0), "ZN": future("ZN", 110.5, dv01=71.16)}))
    assert "ZNM6" in _symbols(p) and "ZNH6" not in _symbols(p)
    assert p.instruments["ZN"].contract_month == "2026-06"


def test_a_held_june_note_rolls_after_its_roll_date():
    cfg = build(
        SLEEVES,
        {"ES": future("ES", 5000.0), "ZN": future("ZN", 110.5, dv01=71.16, contract_month="2026-06", rate=0.04)},
        positions=[{"instrument": "ZN", "quantity": 10}],
        as_of=D(2026, 6, 1),
    )
    p = plan(cfg)
    (spread,) = [o for o in p.orders if o.kind is OrderKind.SPREAD]
    close, open_ = spread.legs
    assert (close.local_symbol, close.quantity, open_.local_symbol, open_.quantity) == ("ZNM6", -10, "ZNU6", 10)
    assert all(o.local_symbol == "ZNU6" for o in p.futures_orders if o.instrument == "ZN" and o.purpose is OrderPurpose.REBALANCE)
    zn = plan_to_dict(p)["instruments"]["ZN"]
    assert zn["last_trade_date"] == "2026-06-18" and zn["first_notice_date"] == "2026-05-29"
    assert zn["roll_date"] == "2026-05-22" and zn["roll"] is True


def test_pension_example_new_mme_exposure_is_in_june(capsys):
    # The pension example used to buy 831 MMEH6 nine days before its expiry.
    assert main(["plan", "examples/pension_multi_asset.toml", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    mme = [o for o in d["orders"] if o["instrument"] == "MME"]
    assert mme and all(o["local_symbol"] == "MMEM6" for o in mme)
    (spread,) = [o for o in d["orders"] if o["kind"] == "spread"]
    assert [leg["local_symbol"] for leg in spread["legs"]] == ["ESH6", "ESM6"]
    cost = spread["roll_cost"]
    assert {"market_spread", "fair_spread", "points", "amount", "amount_base", "bps", "priced_at"} <= cost.keys()
    assert cost["priced_at"] == "carry" and cost["points"] == pytest.approx(0.0, abs=1e-9)
    for key, inst in d["instruments"].items():
        if inst.get("kind", "future") == "future" and "last_trade_date" in inst:
            assert {"last_trade_date", "first_notice_date", "roll_date"} <= inst.keys()
    assert d["instruments"]["ZN"]["first_notice_date"] == "2026-05-29"
    assert d["instruments"]["ES"]["first_notice_date"] is None


def test_a_market_price_for_the_next_contract_gives_the_roll_cost():
    inst = future("ES", 5000.0, contract_month="2026-03", rate=0.04, dividend_yield=0.015, next_price=5040.0)
    cfg = build(SLEEVES[:1] + [{**SLEEVES[1], "overlay": []}], {"ES": inst},
                positions=[{"instrument": "ES", "quantity": 4}], as_of=D(2026, 3, 12))
    (spread,) = [o for o in plan(cfg).orders if o.kind is OrderKind.SPREAD]
    c = spread.roll_cost
    near, far = contracts.contract("ES", 2026, 3).last_trade, contracts.contract("ES", 2026, 6).last_trade
    fair = 5000.0 * math.expm1(0.025 * (far - near).days / 365)
    assert c.market_spread == pytest.approx(40.0) and c.fair_spread == pytest.approx(fair)
    assert c.amount == pytest.approx((40.0 - fair) * 50 * 4)
    assert spread.price == pytest.approx(40.0)


@pytest.mark.parametrize(
    "edit,key,problem",
    [
        (('root = "MES"', 'root = "XYZ"'), "instruments.MES.root", "unknown futures root 'XYZ'"),
        (("expiry = 2026-06-18", "expiry = 2026-06-19"), "instruments.ZN.expiry", "not a business day of CBOT"),
        (("expiry = 2026-06-18", "expiry = 2026-06-17"), "instruments.ZN.expiry", "ZNM6 last trades 2026-06-18"),
        (("expiry = 2026-06-18", "expiry = 2026-06-18\nroll_days = 70"), "instruments.ZN.roll_days", "beyond the life of ZNM6"),
        (('root = "ES"\n', 'root = "ES"\nroll_days = 200\n'), "instruments.ES.roll_days", "beyond the life"),
    ],
)
def test_bad_contract_input_is_one_line_exit_2(capsys, write_config, edit, key, problem):
    path = write_config(BASE.replace(*edit))
    status = main(["plan", path])
    out, err = capsys.readouterr()
    assert status == 2 and out == "" and err.count("\n") == 1
    assert f"{path}: {key}: " in err and problem in err, err


def test_a_future_outside_the_registry_needs_its_whole_definition(capsys, write_config):
    text = BASE.replace('root = "MES"\nprice = 5000.0\n', 'root = "XSP"\nprice = 5000.0\nmultiplier = 5\n')
    status = main(["plan", write_config(text)])
    err = capsys.readouterr().err
    assert status == 2 and "instruments.MES.tick: required for unknown futures root 'XSP'" in err
    full = text.replace("multiplier = 5\n", 'multiplier = 5\ntick = 0.25\ncurrency = "USD"\nexchange = "CME"\nexpiry = 2026-06-18\n')
    status = main(["plan", write_config(full)])
    assert status == 2 and "market.MES.adv: required" in capsys.readouterr().err
    market = full + "\n[market.MES]\nadv = 5000\ndaily_vol = 0.012\nspread_ticks = 1\n"
    assert main(["plan", write_config(market)]) == 0


def test_monthly_calendar_falls_on_the_last_business_day(capsys, write_config):
    text = BASE.replace('trigger = "band"\nlast_rebalance = 2025-12-31', 'trigger = "calendar"\ncalendar = "monthly"\nlast_rebalance = 2026-01-30')
    text = text.replace("as_of = 2026-03-02", "as_of = 2026-02-27")
    assert main(["plan", write_config(text), "--json"]) == 0
    reasons = json.loads(capsys.readouterr().out)["reasons"]
    # 2026-02-28 is a Saturday: the rebalance is due on Friday 2026-02-27.
    assert any("due 2026-02-27" in r for r in reasons), reasons


ROOTS = sorted(contracts.REGISTRY)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    root=st.sampled_from(ROOTS),
    as_of=st.dates(D(2026, 1, 5), D(2030, 12, 20)),
    held_back=st.integers(0, 1),
    quantity=st.integers(-30, 30),
    value=st.floats(2e6, 9e6),
    roll_days=st.one_of(st.none(), st.integers(0, 10)),
)
def test_a_plan_never_opens_or_holds_a_contract_past_its_roll_date(root, as_of, held_back, quantity, value, roll_days):
    spec = contracts.get(root)
    front = spec.front(as_of, roll_days)
    held = (front.year, front.month)
    if held_back:  # a position left in the previous contract, if that one still trades
        prev = spec.previous_contract(*held)
        if spec.expiry(*prev) >= as_of:
            held = prev
    inst = future(root, 100.0, contract_month=f"{held[0]:04d}-{held[1]:02d}", rate=0.03)
    if roll_days is not None:
        inst["roll_days"] = roll_days
    sleeves = [{"name": "a", "target": 0.5, "value": value, "band": 0.01, "overlay": ["F"]},
               {"name": "b", "target": 0.5, "value": 1e7 - value, "band": 0.01}]
    fx = {"EUR": 1.1, "GBP": 1.3}
    p = plan(build(sleeves, {"F": inst}, positions=[{"instrument": "F", "quantity": quantity}], as_of=as_of, fx=fx))
    after: dict[str, int] = {}
    for o in p.futures_orders:
        after[o.local_symbol] = after.get(o.local_symbol, 0) + int(o.quantity)
        c = spec.contract(*contracts.parse_contract_month(o.contract_month), roll_days)
        if o.purpose is not OrderPurpose.ROLL_CLOSE:
            assert c.roll_date > as_of, (o, c)  # nothing opens inside its roll window
    held_c = spec.contract(*held, roll_days)
    if held_c.roll_date <= as_of:  # past its roll date: the whole position leaves it
        assert quantity + after.get(held_c.local_symbol, 0) == 0
