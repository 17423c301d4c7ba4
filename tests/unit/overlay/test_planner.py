"""Planner semantics of the portfolio-config spec, one behaviour per test."""

import datetime as dt

import pytest
from plan_configs import balanced, build, future

from overlay.plan.planner import Breach, OrderKind, OrderPurpose, plan, plan_to_dict


def rebalance_orders(p, kind=OrderKind.FUTURE):
    return [o for o in p.orders if o.kind is kind and o.purpose is OrderPurpose.REBALANCE]


def test_target_rebalance_sizes_es_then_mes_and_reports_the_residual():
    p = plan(balanced())
    eq = p.sleeve("equity")
    assert eq.breach is Breach.UPPER and eq.exposure_change == pytest.approx(-720_000)
    orders = {o.instrument: o for o in rebalance_orders(p)}
    # ES rounds toward zero (-2.88 -> -2), MES, the last future, to nearest (-8.8 -> -9).
    assert orders["ES"].quantity == -2 and orders["MES"].quantity == -9
    assert eq.hedged == pytest.approx(-725_000) and eq.residual == pytest.approx(5_000)


def test_treasury_sleeve_is_sized_by_dv01():
    p = plan(balanced())
    per_contract = 71.16 / (6.5 * 1e-4)  # sleeve exposure with the DV01 of one ZN contract
    assert p.instruments["ZN"].exposure_per_contract == pytest.approx(per_contract)
    zn = next(o for o in rebalance_orders(p) if o.instrument == "ZN")
    assert zn.quantity == round(720_000 / per_contract) == 7
    assert zn.notional == pytest.approx(7 * 110.5 * 1000)


def test_band_edge_moves_breaching_sleeves_to_their_nearest_edge():
    p = plan(balanced(rebalance_to="band_edge"))
    assert p.sleeve("equity").exposure_change == pytest.approx(0.65 * 11_300_000 - 7_500_000)
    assert p.sleeve("bonds").exposure_change == pytest.approx(0.35 * 11_300_000 - 3_800_000)


def three_sleeves(**policy):
    return build(
        [
            {"name": "us", "target": 0.5, "value": 5_800_000, "overlay": ["ES"]},
            {"name": "intl", "target": 0.2, "value": 2_000_000, "band": 0.05},
            {"name": "bonds", "target": 0.3, "value": 2_200_000, "overlay": ["ZN"], "duration": 6.5},
        ],
        {"ES": future("ES", 5000.0), "ZN": future("ZN", 110.0, dv01=70.0, expiry=dt.date(2026, 6, 18))},
        policy=policy,
    )


def test_band_edge_lets_in_band_sleeves_absorb_the_balance():
    p = plan(three_sleeves(rebalance_to="band_edge"))
    us, intl, bonds = p.sleeves
    assert us.breach is Breach.UPPER and bonds.breach is Breach.LOWER and intl.breach is None
    assert us.exposure_change == pytest.approx(0.55 * 10_000_000 - 5_800_000)
    assert bonds.exposure_change == pytest.approx(0.25 * 10_000_000 - 2_200_000)
    assert intl.exposure_change == pytest.approx(-(us.exposure_change + bonds.exposure_change))
    assert intl.residual == pytest.approx(intl.exposure_change)  # no instrument: all residual


def test_relative_bands_are_fractions_of_the_target():
    p = plan(
        build(
            [
                {"name": "a", "target": 0.1, "value": 1_250_000, "band": 0.2},
                {"name": "b", "target": 0.9, "value": 8_750_000, "band": 0.2},
            ],
            policy={"band_kind": "relative"},
        )
    )
    a = p.sleeve("a")
    assert (a.lower, a.upper) == pytest.approx((0.08, 0.12))
    assert a.breach is Breach.UPPER and p.rebalance


def test_asymmetric_band():
    p = plan(
        build(
            [
                {"name": "a", "target": 0.6, "value": 6_400_000, "band": {"lower": 0.02, "upper": 0.05}},
                {"name": "b", "target": 0.4, "value": 3_600_000},
            ]
        )
    )
    a = p.sleeve("a")
    assert (a.lower, a.upper) == pytest.approx((0.58, 0.65)) and a.breach is None and not p.rebalance


def in_band(**policy):
    return build(
        [{"name": "a", "target": 0.6, "value": 6_200_000, "overlay": ["ES"]}, {"name": "b", "target": 0.4, "value": 3_800_000}],
        {"ES": future("ES", 5000.0)},
        policy=policy,
    )


def test_inside_bands_the_band_trigger_trades_nothing():
    p = plan(in_band())
    assert not p.rebalance and p.orders == () and "every sleeve is inside its band" in p.reasons


@pytest.mark.parametrize(
    "trigger,last,due", [("calendar", "2025-11-28", True), ("calendar", "2026-01-15", False), ("band_or_calendar", "2025-11-30", True)]
)
def test_calendar_trigger(trigger, last, due):
    p = plan(in_band(trigger=trigger, calendar="quarterly", last_rebalance=dt.date.fromisoformat(last)))
    assert p.rebalance is due
    assert any(r.startswith("calendar: quarterly") for r in p.reasons)
    if due:
        assert p.sleeve("a").exposure_change == pytest.approx(-200_000)
        assert [o.quantity for o in rebalance_orders(p)] == [-1]


def test_month_end_calendar_stays_at_month_end():
    # 2025-11-30 + one quarter is February 2026, whose last business day is Friday 2026-02-27
    # (the 28th is a Saturday), so on 2026-03-02 the calendar is due.
    p = plan(in_band(trigger="calendar", last_rebalance=dt.date(2025, 11, 30)))
    assert "calendar: quarterly rebalance due 2026-02-27 (last 2025-11-30)" in p.reasons


def momentum(momentum_value, hard_band=0.10):
    # Bonds fall with their drift too, so both breaches can be deferred.
    return build(
        [
            {"name": "equity", "target": 0.6, "value": 7_500_000, "momentum": momentum_value, "overlay": ["ES"]},
            {"name": "bonds", "target": 0.4, "value": 3_800_000, "momentum": -abs(momentum_value)},
        ],
        {"ES": future("ES", 5000.0)},
        policy={"momentum_filter": {"threshold": 0.05, "hard_band": hard_band}},
    )


def test_momentum_with_the_drift_defers_the_rebalance():
    p = plan(momentum(0.12))
    eq = p.sleeve("equity")
    assert eq.deferred is not None and not p.rebalance and p.orders == ()
    assert any("deferred" in r for r in p.reasons)


def test_momentum_against_the_drift_does_not_defer():
    p = plan(momentum(-0.12))
    assert p.sleeve("equity").deferred is None and p.rebalance


def test_beyond_the_hard_band_momentum_is_ignored():
    p = plan(momentum(0.12, hard_band=0.05))  # 66.4 % is beyond 60 % + 5 %
    assert p.sleeve("equity").deferred is None and p.rebalance


def test_vol_scaling_narrows_bands_and_closes_the_whole_gap_when_vol_is_high():
    cfg = build(
        [
            {"name": "calm", "target": 0.5, "value": 5_000_000, "vol": 0.08, "band": 0.05},
            {"name": "wild", "target": 0.5, "value": 5_000_000, "vol": 0.32, "band": 0.05},
        ],
        policy={"vol_scaling": {"reference_vol": 0.16}},
    )
    p = plan(cfg)
    calm, wild = p.sleeves
    assert (calm.lower, calm.upper) == pytest.approx((0.4, 0.6))  # width x2 at half the reference vol
    assert (wild.lower, wild.upper) == pytest.approx((0.475, 0.525))  # width x0.5 at twice the reference
    assert calm.gap_share == pytest.approx(0.5) and wild.gap_share == 1.0
    assert "clip(1/r, 0.5, 2)" in p.vol_scaling_rule and plan_to_dict(p)["vol_scaling"] == p.vol_scaling_rule


def test_vol_scaling_can_turn_a_drift_into_a_breach():
    sleeves = [
        {"name": "eq", "target": 0.6, "value": 6_400_000, "vol": 0.32, "overlay": ["ES"]},
        {"name": "fi", "target": 0.4, "value": 3_600_000},
    ]
    assert not plan(build(sleeves, {"ES": future("ES", 5000.0)})).rebalance
    # against its own long-run vol of 16 % (vol 32 % now), the equity band halves to 2.5 points
    assert plan(build(sleeves, {"ES": future("ES", 5000.0)}, policy={"vol_scaling": {"reference_vol": {"eq": 0.16}}})).rebalance
    # a sleeve without its own reference is measured against its current vol: unscaled
    assert not plan(build(sleeves, {"ES": future("ES", 5000.0)}, policy={"vol_scaling": {}})).rebalance


def test_equitize_cash_above_the_buffer_with_futures():
    cfg = build(
        [{"name": "eq", "target": 0.6, "value": 5_000_000, "overlay": ["ES"]}, {"name": "fi", "target": 0.4, "value": 4_000_000}],
        {"ES": future("ES", 5000.0, initial_margin=20_000)},
        cash=1_000_000,
        policy={"equitize_cash": True, "min_cash_buffer": 0.02},
    )
    p = plan(cfg)
    assert p.nav == 10_000_000 and p.base == pytest.approx(9_800_000)
    assert p.sleeve("eq").breach is Breach.LOWER  # 5.0m / 9.8m = 51.0 %
    changes = sum(s.exposure_change for s in p.sleeves)
    assert changes == pytest.approx(p.base - 9_000_000)
    assert p.margin.available == pytest.approx(200_000)


def test_without_equitization_all_cash_is_held_back():
    cfg = build(
        [{"name": "eq", "target": 0.6, "value": 5_400_000}, {"name": "fi", "target": 0.4, "value": 3_600_000}],
        cash=1_000_000,
    )
    p = plan(cfg)
    assert p.base == 9_000_000 and p.sleeve("eq").weight == pytest.approx(0.6) and not p.rebalance


def test_contribution_goes_physically_to_the_most_underweight_sleeve_first():
    cfg = build(
        [
            {"name": "eq", "target": 0.6, "value": 7_500_000, "overlay": ["ES"]},
            {"name": "fi", "target": 0.4, "value": 3_800_000},
        ],
        {"ES": future("ES", 5000.0)},
        cash_flows=[{"amount": 200_000}],
    )
    p = plan(cfg)
    physical = p.orders_of(OrderKind.PHYSICAL)
    assert [(o.sleeve, o.quantity, o.purpose) for o in physical] == [("fi", 200_000, OrderPurpose.CASH_FLOW)]
    assert p.nav == 11_500_000 and p.sleeve("fi").physical == 200_000
    # Only the drift that remains is overlaid: equity (65.2 %) back to 60 % of 11.5m.
    assert p.sleeve("eq").exposure_change == pytest.approx(0.6 * 11_500_000 - 7_500_000)


def test_withdrawal_comes_from_the_most_overweight_sleeve():
    cfg = build(
        [{"name": "eq", "target": 0.6, "value": 7_500_000}, {"name": "fi", "target": 0.4, "value": 3_800_000}],
        cash_flows=[{"amount": -300_000}, {"amount": -200_000}],
    )
    p = plan(cfg)
    assert [(o.sleeve, o.quantity) for o in p.orders_of(OrderKind.PHYSICAL)] == [("eq", -500_000)]
    assert p.nav == 10_800_000


def test_swap_takes_the_exact_remainder_above_its_minimum():
    cfg = build(
        [
            {"name": "re", "target": 0.2, "value": 1_500_000, "overlay": ["TRS"]},
            {"name": "rest", "target": 0.8, "value": 8_500_000},
        ],
        {"TRS": {"kind": "swap", "min_notional": 250_000, "rate": 0.043, "financing_spread_bps": 35, "booking_cost_bps": 2}},
        positions=[{"instrument": "TRS", "quantity": 100_000}],
        policy={"trigger": "calendar", "last_rebalance": dt.date(2025, 1, 1)},
    )
    p = plan(cfg)
    (swap,) = p.orders_of(OrderKind.SWAP)
    assert swap.quantity == pytest.approx(0.2 * 10_000_000 - 1_600_000) and p.sleeve("re").residual == 0
    report = p.instruments["TRS"]
    assert report.financing_rate == pytest.approx(0.0465) and report.booking_cost == pytest.approx(400_000 * 2e-4)


def test_swap_remainder_below_its_minimum_stays_as_residual():
    cfg = build(
        [{"name": "re", "target": 0.2, "value": 1_700_000, "overlay": ["TRS"]}, {"name": "rest", "target": 0.8, "value": 8_300_000}],
        {"TRS": {"kind": "swap", "min_notional": 500_000}},
        policy={"trigger": "calendar", "last_rebalance": dt.date(2025, 1, 1)},
    )
    p = plan(cfg)
    assert p.orders_of(OrderKind.SWAP) == () and p.sleeve("re").residual == pytest.approx(300_000)


def test_foreign_future_notional_goes_through_fx():
    cfg = build(
        [{"name": "eu", "target": 0.5, "value": 4_000_000, "overlay": ["FESX"]}, {"name": "us", "target": 0.5, "value": 6_000_000}],
        {"FESX": future("FESX", 5000.0)},
        fx={"EUR": 1.08},
    )
    p = plan(cfg)
    assert p.instruments["FESX"].notional_per_contract == pytest.approx(54_000)
    (order,) = rebalance_orders(p)
    assert order.quantity == round(1_000_000 / 54_000) == 19 and order.local_symbol == "FESXH6"


def test_contract_in_its_roll_window_is_rolled_and_new_orders_go_to_the_next_month():
    cfg = build(
        [{"name": "eq", "target": 0.6, "value": 7_000_000, "overlay": ["ES"]}, {"name": "fi", "target": 0.4, "value": 3_800_000}],
        # Held in March (without contract_month a position is taken to be in the front contract).
        {"ES": future("ES", 5000.0, roll_days=5, initial_margin=25_000, contract_month="2026-03")},
        positions=[{"instrument": "ES", "quantity": 2}],
        as_of=dt.date(2026, 3, 16),  # four business days before the 20 March expiry
    )
    p = plan(cfg)
    es = [o for o in p.futures_orders]
    assert [(o.purpose, o.quantity, o.local_symbol) for o in es] == [
        (OrderPurpose.ROLL_CLOSE, -2, "ESH6"),
        (OrderPurpose.ROLL_OPEN, 2, "ESM6"),
        (OrderPurpose.REBALANCE, -4, "ESM6"),  # 7.5m of 10.8m -> 6.48m: -1.02m / 250k = -4.08
    ]
    assert p.instruments["ES"].roll and p.instruments["ES"].roll_to == "2026-06"
    assert p.instruments["ES"].position_after == -2
    assert p.margin.required == pytest.approx(2 * 25_000)


def test_the_next_contract_is_priced_by_carry_and_the_roll_counts_in_the_hedge():
    # Cost of carry (reference facts): S = 5,400, r = 5.25 %, q = 1.40 %, T = 73/365 gives
    # F = 5,441.74. The June contract, 90 days after the March one (ESM6 last trades on
    # 2026-06-18, Juneteenth being a holiday; it was 91 days on a weekday-only calendar), is
    # F·exp((r − q)·90/365).
    import math

    cfg = build(
        [{"name": "eq", "target": 0.6, "value": 7_000_000, "overlay": ["ES"]}, {"name": "fi", "target": 0.4, "value": 3_800_000}],
        {"ES": future("ES", 5441.75, roll_days=5, rate=0.0525, dividend_yield=0.014, contract_month="2026-03")},
        positions=[{"instrument": "ES", "quantity": 20}],
        as_of=dt.date(2026, 3, 16),
    )
    p = plan(cfg)
    june = round(5441.75 * math.exp(0.0385 * 90 / 365) * 4) / 4  # to the 0.25 tick
    assert june == pytest.approx(5400 * math.exp(0.0385 * (73 + 90) / 365), abs=0.25)
    close, open_, *rebalance = p.futures_orders
    assert (close.price, open_.price) == (5441.75, june) and all(o.price == june for o in rebalance)
    assert open_.notional == pytest.approx(20 * june * 50)
    assert p.instruments["ES"].roll_price == june
    eq = p.sleeves[0]
    carry = 20 * (june - 5441.75) * 50
    sized = sum(o.exposure for o in rebalance)
    assert eq.hedged == pytest.approx(carry + sized)
    assert eq.hedged + eq.residual == pytest.approx(eq.exposure_change)
    assert abs(eq.residual) <= june * 50 / 2  # the last future rounds to the nearest contract


def test_without_a_rate_the_next_contract_is_priced_like_this_one():
    cfg = build(
        [{"name": "eq", "target": 0.6, "value": 7_000_000, "overlay": ["ES"]}, {"name": "fi", "target": 0.4, "value": 3_800_000}],
        {"ES": future("ES", 5000.0, roll_days=5, contract_month="2026-03")},
        positions=[{"instrument": "ES", "quantity": 2}],
        as_of=dt.date(2026, 3, 16),
    )
    assert {o.price for o in plan(cfg).futures_orders} == {5000.0}


def test_existing_positions_count_in_the_exposure():
    cfg = build(
        [{"name": "eq", "target": 0.6, "value": 6_500_000, "overlay": ["ES"]}, {"name": "fi", "target": 0.4, "value": 3_500_000}],
        {"ES": future("ES", 5000.0)},
        positions=[{"instrument": "ES", "quantity": -2}],
    )
    p = plan(cfg)
    assert p.sleeve("eq").exposure == pytest.approx(6_000_000) and p.sleeve("eq").weight == pytest.approx(0.6)


def test_margin_shortfall_is_flagged_and_missing_margins_listed():
    p = plan(balanced())
    assert p.margin.required == pytest.approx(2 * 25_000 + 9 * 2_500 + 7 * 2_200)
    assert not p.margin.ok and p.margin.shortfall == p.margin.required
    assert any(r.startswith("margin shortfall") for r in p.reasons)
    cfg = build(
        [{"name": "eq", "target": 0.6, "value": 7_500_000, "overlay": ["ES"]}, {"name": "fi", "target": 0.4, "value": 3_800_000}],
        {"ES": future("ES", 5000.0)},
    )
    assert plan(cfg).margin.missing == ("ES",)


def test_fair_value_and_basis_are_reported():
    cfg = build(
        [{"name": "eq", "target": 1.0, "value": 1_000_000, "overlay": ["ES"]}],
        # ESM6 last trades 2026-06-18, 73 days after 2026-04-06 (an off-cycle May expiry is refused now).
        {"ES": future("ES", 5450.0, spot=5400.0, rate=0.0525, dividend_yield=0.014)},
        as_of=dt.date(2026, 4, 6),
    )
    r = plan(cfg).instruments["ES"]
    assert r.days_to_expiry == 73
    assert round(r.fair_value, 2) == 5441.74
    # Hull: basis = spot − futures price; the price's distance from fair value is mispricing
    assert r.basis == pytest.approx(5400.0 - 5450.0) and r.mispricing == pytest.approx(5450.0 - r.fair_value)


def test_json_has_the_spec_keys():
    d = plan_to_dict(plan(balanced()))
    assert {"as_of", "currency", "nav", "rebalance", "reasons", "sleeves", "orders", "instruments", "margin"} <= d.keys()
    assert {"name", "target", "weight", "drift", "lower", "upper", "breach", "deferred", "exposure_change", "hedged", "residual"} <= d["sleeves"][0].keys()
    assert {"instrument", "kind", "sleeve", "quantity", "notional"} <= d["orders"][0].keys()
    assert {"price", "notional_per_contract", "fair_value", "basis", "days_to_expiry", "roll"} <= d["instruments"]["ES"].keys()
    assert {"required", "available", "ok"} <= d["margin"].keys()
    assert isinstance(d["orders"][0]["quantity"], int) and d["orders"][0]["kind"] == "future"


@pytest.mark.parametrize(
    "last, due, fires",
    [
        ("2025-11-28", True, True),  # a breach on a review date: trade
        ("2026-01-15", False, False),  # a breach between reviews: wait for the review
    ],
)
def test_band_and_calendar_trades_a_breach_only_on_a_review(last, due, fires):
    p = plan(balanced(trigger="band_and_calendar", calendar="quarterly", last_rebalance=dt.date.fromisoformat(last)))
    assert p.sleeve("equity").breach is Breach.UPPER
    assert p.rebalance is fires
    assert any(r.startswith(f"calendar: quarterly rebalance {'due' if due else 'next'}") for r in p.reasons)
    if not fires:
        assert "no rebalance: a breach waits for the next calendar review" in p.reasons


def test_band_and_calendar_review_without_a_breach_does_not_trade():
    p = plan(in_band(trigger="band_and_calendar", calendar="quarterly", last_rebalance=dt.date(2025, 11, 28)))
    assert not p.rebalance
    assert "every sleeve is inside its band" in p.reasons
