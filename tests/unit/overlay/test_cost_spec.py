"""Loading and validating the `overlay cost` spec, and the pre-trade estimate."""

import math

import pytest

from overlay.config.cost import estimate_cost, load_cost_spec, parse_cost_spec
from overlay.errors import InputError

ORDER = {"quantity": 1_000_000, "price": 50.0, "horizon_days": 5.0, "periods": 5, "adv": 5_000_000, "sigma": 0.95}
AC = {"name": "almgren-chriss", "eta": 2.5e-6, "gamma": 2.5e-7, "epsilon": 0.0625, "risk_aversion": 1e-6}


def spec():
    return {"order": dict(ORDER), "model": dict(AC)}


def test_almgren_chriss_spec_gives_the_schedule():
    s = parse_cost_spec(spec())
    assert s.order.daily_vol == pytest.approx(0.95 / 50)
    assert s.order.sigma == pytest.approx(0.95)
    est = estimate_cost(s)
    assert est.schedule is not None
    assert len(est.schedule.holdings) == 6 and len(est.schedule.trades) == 5
    assert est.cost_bps == pytest.approx(est.expected_cost / 50e6 * 1e4)
    out = est.to_json()
    assert set(out) == {"model", "currency", "notional", "expected_cost", "variance", "std", "cost_bps", "kappa", "half_life",
                        "holdings", "trades"}


def test_daily_vol_and_sigma_are_equivalent():
    a = estimate_cost(parse_cost_spec(spec()))
    order = {k: v for k, v in ORDER.items() if k != "sigma"} | {"daily_vol": 0.019}
    b = estimate_cost(parse_cost_spec({"order": order, "model": AC}))
    assert a.expected_cost == pytest.approx(b.expected_cost) and a.variance == pytest.approx(b.variance)


def test_square_root_reports_impact_bps_and_twap_variance():
    order = {"quantity": 100_000, "price": 50.0, "horizon_days": 1.0, "adv": 1_000_000, "daily_vol": 0.02}
    est = estimate_cost(parse_cost_spec({"order": order, "model": {"name": "square-root", "y": 0.7}}))
    # Y σ √(Q/V) = 0.7 · 2 % · √0.1 = 44.27 bps
    assert est.to_json()["impact_bps"] == pytest.approx(0.7 * 0.02 * math.sqrt(0.1) * 1e4)
    assert est.cost_bps == pytest.approx(0.7 * 0.02 * math.sqrt(0.1) * 1e4)
    assert est.variance == pytest.approx((0.02 * 50 * 100_000) ** 2 * 1.0 / 3)
    assert "kappa" not in est.to_json()


def test_istar_and_none_models():
    order = {"quantity": 100_000, "price": 50.0, "horizon_days": 1.0, "adv": 1_000_000, "daily_vol": 0.02, "periods": 10}
    istar = estimate_cost(parse_cost_spec({"order": order, "model": {"name": "i-star"}}))
    assert istar.expected_cost > 0
    assert istar.variance == pytest.approx((0.02 * 50 * 1e5) ** 2 / 3 * 0.9 * 0.95)
    none = estimate_cost(parse_cost_spec({"order": order, "model": {"name": "none"}}))
    assert none.expected_cost == 0.0 and none.cost_bps == 0.0


def test_load_from_file(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[order]\nquantity = -500\nprice = 10.0\nhorizon_days = 0.5\nadv = 1e5\ndaily_vol = 0.01\n[model]\nname = "i-star"\n')
    s = load_cost_spec(path)
    assert s.order.quantity == -500 and s.file == str(path)


BAD = [
    ({"order": {"horizon_days": 0}}, "order.horizon_days", "> 0"),
    ({"order": {"horizon_days": -1.0}}, "order.horizon_days", "> 0"),
    ({"order": {"periods": 0}}, "order.periods", ">= 1"),
    ({"order": {"periods": 2.5}}, "order.periods", "integer"),
    ({"order": {"price": 0}}, "order.price", "> 0"),
    ({"order": {"quantity": 0}}, "order.quantity", "non-zero"),
    ({"order": {"quantity": "lots"}}, "order.quantity", "number"),
    ({"order": {"colour": "red"}}, "order.colour", "unknown key"),
    ({"order": {"daily_vol": 0.02}}, "order.sigma", "not both"),
    ({"model": {"name": "linear"}}, "model.name", "unknown model"),
    ({"model": {"name": "square-root", "eta": 1}}, "model.eta", "unknown parameter"),
    ({"model": {"name": "square-root", "risk_aversion": 1e-6}}, "model.risk_aversion", "applies only"),
    ({"model": {"eta": 1e-7, "gamma": 1e-6}}, "model.eta", "eta_tilde"),
    ({"model": {"risk_aversion": -1e-3}}, "model.risk_aversion", "risk-loving"),
    ({"model": {"name": "athl-2005"}}, "model.shares_outstanding", "required"),
]


@pytest.mark.parametrize(("change", "key", "fragment"), BAD)
def test_bad_specs_name_the_key(change, key, fragment):
    order = {**ORDER, **change.get("order", {})}
    model = change.get("model", {})
    model = {**AC, **model} if "name" not in model else model
    with pytest.raises(InputError) as info:
        parse_cost_spec({"order": order, "model": model}, "spec.toml")
    assert info.value.file == "spec.toml"
    assert info.value.key == key
    assert fragment in info.value.problem
    assert "\n" not in str(info.value)


def test_missing_volatility():
    order = {k: v for k, v in ORDER.items() if k != "sigma"}
    with pytest.raises(InputError, match="missing volatility"):
        parse_cost_spec({"order": order, "model": AC}, "spec.toml")


def test_missing_periods_for_schedule_and_adv_for_others():
    with pytest.raises(InputError, match="order.periods"):
        parse_cost_spec({"order": {k: v for k, v in ORDER.items() if k != "periods"}, "model": AC})
    no_adv = {k: v for k, v in ORDER.items() if k != "adv"}
    with pytest.raises(InputError, match="order.adv"):
        parse_cost_spec({"order": no_adv, "model": {"name": "square-root"}})
    parse_cost_spec({"order": no_adv, "model": AC})  # almgren-chriss needs no volume


def test_tables_missing_or_unknown():
    with pytest.raises(InputError, match="model: missing"):
        parse_cost_spec({"order": ORDER})
    with pytest.raises(InputError, match="order: missing"):
        parse_cost_spec({"model": AC})
    with pytest.raises(InputError, match="unknown table"):
        parse_cost_spec({"order": ORDER, "model": AC, "extra": {}})


def test_file_problems(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        load_cost_spec(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[order\nquantity = 1")
    with pytest.raises(InputError, match="invalid TOML"):
        load_cost_spec(broken)
