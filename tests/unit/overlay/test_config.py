"""Loading a config: defaults, the simulation tables, and the public API."""

import pytest
from plan_configs import BASE

from overlay.config import Algo, BandKind, ImpactModelName, RebalanceTo, Trigger, load_config
from overlay.errors import InputError


def test_defaults_follow_the_spec(write_config):
    cfg = load_config(write_config(BASE))
    p = cfg.policy
    assert (p.trigger, p.rebalance_to, p.band_kind, p.equitize_cash, p.min_cash_buffer) == (
        Trigger.BAND, RebalanceTo.TARGET, BandKind.ABSOLUTE, False, 0.0,
    )
    assert p.momentum_filter is None and p.vol_scaling is None
    bonds = cfg.sleeves[1]
    assert (bonds.band.lower, bonds.band.upper, bonds.beta) == (0.05, 0.05, 1.0)
    assert cfg.instruments["ES"].roll_days is None  # the registry root's default (8 for ES)
    assert cfg.market == {} and cfg.execution.algo is Algo.TWAP and cfg.faults.drop_ack_rate == 0.0
    assert cfg.source.endswith("portfolio.toml")


def test_simulation_tables(write_config, tmp_path):
    (tmp_path / "es.csv").write_text("time,open,high,low,close,volume\n")
    text = BASE + """
[market.ES]
adv = 1_500_000
daily_vol = 0.012
spread_ticks = 1
fee_per_contract = 1.50
impact = { model = "almgren-chriss", eta = 2.5e-6, gamma = 2.5e-7 }
bars = "es.csv"

[execution]
algo = "pov"
participation = 0.1
limit_offset_ticks = 2
start = "08:30"

[faults]
reject_rate = 0.02
disconnect_every_minutes = 60
disconnect_seconds = 5
"""
    cfg = load_config(write_config(text))
    es = cfg.market["ES"]
    assert es.impact.model == "almgren-chriss" and es.impact.model is ImpactModelName.ALMGREN_CHRISS
    assert es.impact.params == {"eta": 2.5e-6, "gamma": 2.5e-7} and es.impact["eta"] == 2.5e-6
    assert cfg.resolve_path(es.bars) == tmp_path / "es.csv"
    assert es.spread_ticks == 1 and cfg.market.get("ZN") is None
    assert cfg.execution.algo == "pov" and cfg.execution.limit_offset_ticks == 2 and cfg.execution.horizon_minutes == 390
    assert cfg.faults.reject_rate == 0.02 and cfg.faults.disconnect_seconds == 5


def test_load_config_raises_input_error_with_file_key_and_problem(write_config):
    path = write_config(BASE.replace("target = 0.4", "target = 1.4"))
    with pytest.raises(InputError) as info:
        load_config(path)
    assert (info.value.file, info.value.key) == (path, "sleeves[1].target")
    assert "less than or equal to 1" in info.value.problem


def test_config_is_frozen(write_config):
    cfg = load_config(write_config(BASE))
    with pytest.raises(Exception):
        cfg.sleeves[0].target = 0.5
