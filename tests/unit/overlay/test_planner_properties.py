"""Invariants of the planner over random portfolios (hypothesis)."""

import datetime as dt
import math

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from plan_configs import build

from overlay.plan.planner import OrderKind, OrderPurpose, plan
from pricing.futures import round_half_away, round_toward_zero

ROOTS = ["ES", "MES", "NQ", "RTY", "FESX", "MME", "ZN", "ZF", "ZB"]
ROLLS = (OrderPurpose.ROLL_CLOSE, OrderPurpose.ROLL_OPEN)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def portfolios(draw, in_band=False):
    n = draw(st.integers(1, 6))
    raw = draw(st.lists(st.floats(0.05, 1.0), min_size=n, max_size=n))
    targets = [r / sum(raw) for r in raw]
    targets[-1] = 1.0 - math.fsum(targets[:-1])
    roots = iter(draw(st.permutations(ROOTS)))
    instruments, sleeves, positions = {}, [], []
    for i, t in enumerate(targets):
        band = draw(st.floats(0.01, 0.10))
        if in_band:
            value = 1e7 * max(t + draw(st.floats(-0.5, 0.5)) * band, 0.0)
        else:
            value = 1e7 * max(t + draw(st.floats(-0.15, 0.15)), 0.0)
        overlay = []
        for _ in range(draw(st.integers(0, 2))):
            root = next(roots, None)
            if root is None:
                break
            key = f"F{root}"
            instruments[key] = {
                "kind": "future",
                "root": root,
                "price": draw(st.floats(50.0, 8000.0)),
                "dv01": draw(st.floats(20.0, 200.0)),
                # the March contracts expire 14 business days after as_of: some roll
                "roll_days": draw(st.integers(0, 20)),
            }
            if draw(st.booleans()):  # the next contract is then priced by carry
                instruments[key].update(rate=draw(st.floats(-0.01, 0.08)), dividend_yield=draw(st.floats(0.0, 0.04)))
            overlay.append(key)
            if not in_band and draw(st.booleans()):
                positions.append({"instrument": key, "quantity": draw(st.integers(-20, 20))})
        if draw(st.booleans()):
            key = f"S{i}"
            instruments[key] = {
                "kind": "swap",
                "currency": draw(st.sampled_from(["USD", "EUR"])),
                "min_notional": draw(st.sampled_from([0.0, 50_000.0, 250_000.0])),
            }
            overlay.append(key)
        sleeve = {
            "name": f"s{i}",
            "target": t,
            "value": value,
            "band": band,
            "beta": draw(st.floats(0.5, 1.5)),
            "overlay": overlay,
        }
        if draw(st.booleans()):
            sleeve["duration"] = draw(st.floats(1.0, 15.0))
        if not in_band:
            sleeve["momentum"] = draw(st.floats(-0.3, 0.3))
            sleeve["vol"] = draw(st.floats(0.03, 0.4))
        sleeves.append(sleeve)
    policy = {"band_kind": "absolute"}
    cash, flows = 0.0, []
    if not in_band:
        policy.update(
            trigger=draw(st.sampled_from(["band", "calendar", "band_or_calendar"])),
            last_rebalance=draw(st.sampled_from([None, "2025-06-30", "2026-01-31"])) or "2025-12-31",
            rebalance_to=draw(st.sampled_from(["target", "band_edge"])),
            equitize_cash=draw(st.booleans()),
            min_cash_buffer=draw(st.floats(0.0, 0.05)),
        )
        policy["last_rebalance"] = dt.date.fromisoformat(policy["last_rebalance"])
        if draw(st.booleans()):
            policy["momentum_filter"] = {"threshold": draw(st.floats(0.0, 0.1)), "hard_band": draw(st.floats(0.02, 0.2))}
        if draw(st.booleans()):
            policy["vol_scaling"] = {"reference_vol": draw(st.floats(0.05, 0.3))}
        cash = draw(st.one_of(st.just(0.0), st.floats(1e-6, 2e6)))  # the domain of money
        flows = [{"amount": draw(st.floats(-1e6, 1e6))} for _ in range(draw(st.integers(0, 2)))]
        assume(sum(f["amount"] for f in flows) > -sum(s["value"] for s in sleeves))
    assume(sum(s["value"] for s in sleeves) > 1e5)
    fx = {"EUR": draw(st.floats(0.8, 1.3))}
    return build(sleeves, instruments, policy=policy, positions=positions, cash_flows=flows, cash=cash, fx=fx)


@SETTINGS
@given(portfolios())
def test_the_plan_is_self_financing(cfg):
    p = plan(cfg)
    total_change = math.fsum(s.exposure_change for s in p.sleeves)
    if p.rebalance:
        assert total_change == pytest.approx(p.base - math.fsum(s.exposure for s in p.sleeves), abs=1e-6 * p.nav)
    else:
        assert total_change == 0.0
    # Cash flows are invested in full.
    physical = math.fsum(o.notional for o in p.orders_of(OrderKind.PHYSICAL))
    assert physical == pytest.approx(math.fsum(f.amount for f in cfg.cash_flows), abs=1e-6 * p.nav)


@SETTINGS
@given(portfolios())
def test_hedged_plus_residual_is_the_exposure_change(cfg):
    p = plan(cfg)
    for s in p.sleeves:
        assert s.hedged + s.residual == pytest.approx(s.exposure_change, abs=1e-6 * max(1.0, abs(s.exposure_change)))
        orders = [o for o in p.orders if o.sleeve == s.name and o.purpose is OrderPurpose.REBALANCE]
        if s.exposure_change != 0.0:  # a rebalanced sleeve counts its roll's carry as hedge
            orders += [o for o in p.orders if o.sleeve == s.name and o.purpose in ROLLS]
        assert math.fsum(o.exposure for o in orders) == pytest.approx(s.hedged, abs=1e-6 * max(1.0, abs(s.hedged)))


@SETTINGS
@given(portfolios())
def test_rounding_follows_the_spec(cfg):
    p = plan(cfg)
    for sleeve_cfg, s in zip(cfg.sleeves, p.sleeves, strict=True):
        if s.exposure_change == 0.0:
            continue
        by_key = {o.instrument: o for o in p.orders if o.sleeve == s.name and o.purpose is OrderPurpose.REBALANCE}
        futures = [k for k in sleeve_cfg.overlay if cfg.instruments[k].kind == "future"]
        rolls = [o for o in p.orders if o.sleeve == s.name and o.purpose in ROLLS]
        remaining = s.exposure_change - math.fsum(o.exposure for o in rolls)
        for k in sleeve_cfg.overlay:
            inst = cfg.instruments[k]
            order = by_key.get(k)
            if inst.kind == "future":
                report = p.instruments[k]
                unit = report.exposure_per_contract
                if report.roll and not (inst.dv01 is not None and sleeve_cfg.duration is not None):
                    unit *= report.roll_price / report.price  # new orders go to the next contract
                q = order.quantity if order else 0
                assert isinstance(q, int)
                rule = round_half_away if k == futures[-1] else round_toward_zero
                assert q == rule(remaining / unit)
                remaining -= q * unit
            elif order is not None:
                assert abs(order.quantity) >= inst.min_notional  # swap currency
                assert order.exposure == pytest.approx(remaining)
                remaining = 0.0
            else:
                fx = p.instruments[k].fx
                assert abs(remaining / fx) < max(inst.min_notional, 0.01) + 1e-6
        assert s.residual == pytest.approx(remaining, abs=1e-6 * max(1.0, abs(remaining)))


@SETTINGS
@given(portfolios(in_band=True))
def test_inside_the_bands_the_band_trigger_trades_nothing(cfg):
    p = plan(cfg)
    assume(all(s.breach is None for s in p.sleeves))
    assert not p.rebalance
    assert p.orders == ()
    assert all(s.exposure_change == 0.0 for s in p.sleeves)
