"""A harvest never changes a sleeve's exposure by more than the proxy's rounding, and its lot
sales are exactly the physical harvest sells (random lots, prices and proxies)."""

import datetime as dt
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from overlay.config import config_from_dict
from overlay.plan.planner import plan
from overlay.plan.taxes import Harvest, add_taxes

AS_OF = dt.date(2026, 3, 2)


@st.composite
def configs(draw):
    es_price = draw(st.floats(1000.0, 8000.0))
    zn_price = draw(st.floats(90.0, 130.0))
    eq_proxy = draw(st.sampled_from(["MES", "ES", "equity_proxy"]))
    lots = []
    totals = {"equity": 0.0, "bonds": 0.0}
    for i in range(draw(st.integers(1, 6))):
        sleeve = draw(st.sampled_from(["equity", "bonds"]))
        value = draw(st.floats(1_000.0, 3_000_000.0))
        ratio = draw(st.floats(0.5, 1.6))  # basis / value: losses above 1
        lots.append({"sleeve": sleeve, "account": draw(st.sampled_from(["taxable", "ira"])), "value": value,
                     "basis": value * ratio, "acquired": AS_OF - dt.timedelta(days=draw(st.integers(0, 3000)))})
        totals[sleeve] += value
    eq, bd = totals["equity"] or 1_000_000.0, totals["bonds"] or 1_000_000.0
    nav = eq + bd
    data = {
        "portfolio": {"name": "p", "as_of": AS_OF},
        "sleeves": [
            {"name": "equity", "target": 0.6, "value": eq, "overlay": ["ES", "MES"], "proxy": eq_proxy},
            {"name": "equity_proxy", "target": 0.0, "value": 0.0},
            {"name": "bonds", "target": 0.4, "value": bd, "duration": 6.5, "overlay": ["ZN"], "proxy": "ZN"},
        ],
        "instruments": {
            "ES": {"kind": "future", "root": "ES", "price": es_price},
            "MES": {"kind": "future", "root": "MES", "price": es_price},
            "ZN": {"kind": "future", "root": "ZN", "price": zn_price, "expiry": dt.date(2026, 6, 18), "dv01": 71.16},
        },
        "accounts": [{"name": "taxable"}, {"name": "ira", "taxable": False}],
        "lots": lots,
        "tax": {"harvest_threshold": draw(st.floats(0.0, 0.3))},
        "cash_flows": [{"amount": -draw(st.floats(0.0, 0.3)) * nav}],
    }
    return config_from_dict(data), nav, es_price


@settings(max_examples=60, deadline=None)
@given(configs())
def test_harvest_keeps_each_sleeve_exposure_up_to_the_proxy_rounding(case):
    cfg, _, es_price = case
    result = add_taxes(cfg, plan(cfg), Harvest.ON)
    harvest = [o for o in result.orders if o.purpose.value == "harvest"]
    sells = {o.sleeve: -o.notional for o in harvest if o.kind.value == "physical" and o.notional < 0}
    unit = {"ES": es_price * 50, "MES": es_price * 5, "ZN": 71.16 / (6.5e-4)}
    for sleeve, sold in sells.items():
        s = next(x for x in cfg.sleeves if x.name == sleeve)
        if s.proxy in unit:
            (fut,) = [o for o in harvest if o.instrument == s.proxy]
            assert abs(fut.exposure - sold) <= unit[s.proxy] / 2 * (1 + 1e-9)
        else:
            (buy,) = [o for o in harvest if o.sleeve == s.proxy]
            assert buy.notional == sold
        # the harvest's lot sales are exactly the physical harvest sell, taxable lots at a
        # loss beyond the threshold, each sold once
        lots = [p.sale for p in result.tax.lots_sold if p.purpose == "harvest" and p.sale.sleeve == sleeve]
        assert math.isclose(math.fsum(x.value for x in lots), sold, rel_tol=1e-12)
        assert len({x.lot_id for x in lots}) == len(lots)
        assert all(x.taxable and x.basis - x.value > cfg.tax.harvest_threshold * x.basis for x in lots)


@settings(max_examples=60, deadline=None)
@given(configs())
def test_lots_sold_equal_each_physical_sell(case):
    cfg, _, _ = case
    result = add_taxes(cfg, plan(cfg), Harvest.OFF)
    for o in result.orders:
        if o.kind.value == "physical" and o.notional < 0:
            lots = [p.sale for p in result.tax.lots_sold if p.purpose == "cash_flow" and p.sale.sleeve == o.sleeve]
            assert math.isclose(math.fsum(x.value for x in lots), -o.notional, rel_tol=1e-12, abs_tol=1e-6)
            assert len({x.lot_id for x in lots}) == len(lots)
    sold = math.fsum(p.sale.value for p in result.tax.lots_sold)
    assert math.isclose(sold, -math.fsum(o.notional for o in result.orders if o.kind.value == "physical" and o.notional < 0),
                        rel_tol=1e-12, abs_tol=1e-6)
