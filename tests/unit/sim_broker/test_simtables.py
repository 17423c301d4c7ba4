"""Building the simulator from the config's tables, and the errors a user sees."""

import pytest

from sim_broker.params import TableError
from pricing.impact.models import LinearImpact, SquareRootImpact
from sim_broker.params import ROOT_DEFAULTS
from sim_broker.tables import from_tables, market_params

INSTRUMENTS = {
    "ES": {"kind": "future", "root": "ES", "price": 5000.0},
    "ZN": {"kind": "future", "root": "ZN", "price": 110.5},
    "REIT_TRS": {"kind": "swap", "currency": "USD"},
}


def test_registry_defaults_fill_what_the_tables_leave_out():
    broker = from_tables(INSTRUMENTS, {"ES": {"adv": 2_000_000, "impact": {"model": "almgren-chriss", "eta": 1e-6}}}, seed=1)
    assert broker.instruments == ("ES", "ZN")  # the swap is OTC, not simulated
    es, zn = broker.params("ES"), broker.params("ZN")
    assert es.adv == 2_000_000 and es.daily_vol == ROOT_DEFAULTS["ES"].daily_vol
    assert es.tick == 0.25 and es.multiplier == 50.0
    assert isinstance(es.impact, LinearImpact)
    assert zn.tick == 1 / 64 and zn.fee_per_contract == ROOT_DEFAULTS["ZN"].fee_per_contract
    assert isinstance(zn.impact, SquareRootImpact) and zn.impact.y == 0.7
    assert broker.session_open == 34_200.0 and broker.session_close == 57_600.0
    assert from_tables(INSTRUMENTS, seed=1).path("ES").mid[0] == 5000.125  # 5000.00 / 5000.25


def test_start_anchors_the_configured_price_and_sessions_can_be_set():
    broker = from_tables(INSTRUMENTS, {"ZN": {"session_start": "08:20", "session_end": "15:00"}}, seed=2, start="10:00")
    assert broker.path("ES").mid_at(36_000.0) == 5000.125
    assert broker.params("ZN").session_start == 30_000.0 and broker.path("ZN").end == 54_000.0


def test_same_seed_same_paths_and_instruments_are_independent():
    a = from_tables(INSTRUMENTS, seed=5)
    b = from_tables({"ES": INSTRUMENTS["ES"]}, seed=5)
    c = from_tables(INSTRUMENTS, seed=6)
    assert (a.path("ES").mid == b.path("ES").mid).all()
    assert (a.path("ES").mid != c.path("ES").mid).any()


@pytest.mark.parametrize(
    "market, faults, key",
    [
        ({"ES": {"adv": -1}}, None, "market.ES.adv"),
        ({"ES": {"daily_vol": "high"}}, None, "market.ES.daily_vol"),
        ({"ES": {"spread_ticks": 0.5}}, None, "market.ES.spread_ticks"),
        ({"ES": {"advv": 1}}, None, "market.ES.advv"),
        ({"ES": {"impact": {"model": "square-root", "z": 1}}}, None, "market.ES.impact.z"),
        ({"ES": {"impact": {"model": "magic"}}}, None, "market.ES.impact.model"),
        ({"ES": {"session_start": "25:00"}}, None, "market.ES.session_start"),
        ({"ES": {"bars": "missing.csv"}}, None, "market.ES.bars"),
        ({"NQ": {"adv": 1}}, None, "market.NQ"),
        (None, {"reject_rate": 1.5}, "faults"),
        (None, {"reject_rat": 0.1}, "faults.reject_rat"),
    ],
)
def test_bad_tables_raise_input_errors_naming_the_key(tmp_path, market, faults, key):
    with pytest.raises(TableError) as err:
        from_tables(INSTRUMENTS, market, faults, seed=1, source="portfolio.toml", base_dir=tmp_path)
    assert err.value.key == key


def test_unknown_root_needs_tick_and_multiplier():
    with pytest.raises(TableError, match="unknown futures root"):
        market_params("XX", {"root": "XX", "price": 10.0}, None)
    # Outside the registry nothing is invented: the market table must give its figures.
    with pytest.raises(TableError, match="market.XX.adv: required"):
        market_params("XX", {"root": "XX", "price": 10.0, "tick": 0.01, "multiplier": 100}, None)
    market = {"adv": 5_000, "daily_vol": 0.02, "spread_ticks": 2}
    p = market_params("XX", {"root": "XX", "price": 10.0, "tick": 0.01, "multiplier": 100}, market)
    assert p.tick == 0.01 and p.multiplier == 100.0 and p.adv == 5_000 and p.spread_ticks == 2


def test_relative_bar_paths_resolve_against_the_config_directory(tmp_path):
    (tmp_path / "es.csv").write_text(
        "timestamp,open,high,low,close,volume\n"
        + "\n".join(f"2026-03-02 10:{m:02d}:00,5000,5001,4999,5000.5,100" for m in range(30))
        + "\n"
    )
    broker = from_tables({"ES": INSTRUMENTS["ES"]}, {"ES": {"bars": "es.csv"}}, seed=1, base_dir=tmp_path)
    assert broker.params("ES").session_start == 36_000.0 and broker.path("ES").end == 37_800.0


def test_contracts_on_one_underlying_move_together_and_others_do_not():
    """ES and MES track the S&P 500 and two ES months track it too: a trader hedging one with the
    other must see them move in lockstep, while a Treasury future moves on its own."""
    import numpy as np

    from sim_broker.tables import from_tables

    broker = from_tables(
        {
            "ESH6": {"kind": "future", "root": "ES", "price": 5000.0},
            "ESM6": {"kind": "future", "root": "ES", "price": 5050.0},
            "MES": {"kind": "future", "root": "MES", "price": 5000.0},
            "ZN": {"kind": "future", "root": "ZN", "price": 110.0},
        },
        market={"MES": {"daily_vol": 0.012}, "ESH6": {"daily_vol": 0.012}, "ESM6": {"daily_vol": 0.012}},
        seed=7,
    )
    returns = {k: np.diff(broker.path(k).mid) / broker.path(k).mid[0] for k in ("ESH6", "ESM6", "MES", "ZN")}
    assert np.corrcoef(returns["ESH6"], returns["MES"])[0, 1] > 0.999
    assert np.corrcoef(returns["ESH6"], returns["ESM6"])[0, 1] > 0.999
    assert abs(np.corrcoef(returns["ESH6"], returns["ZN"])[0, 1]) < 0.05
    # volumes stay instrument-specific
    assert not np.allclose(broker.path("ESH6").volume, broker.path("MES").volume)
