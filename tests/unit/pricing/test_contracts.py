"""Contract registry against the exchanges' published specifications (CME, CBOT, EUREX, ICE)."""

import datetime as dt

import pytest

from pricing import contracts
from pricing.contracts import REGISTRY, round_to_tick


@pytest.mark.parametrize(
    "root,multiplier,tick,tick_value,currency,exchange",
    [
        ("ES", 50, 0.25, 12.50, "USD", "CME"),
        ("MES", 5, 0.25, 1.25, "USD", "CME"),
        ("NQ", 20, 0.25, 5.00, "USD", "CME"),
        ("RTY", 50, 0.10, 5.00, "USD", "CME"),
        ("ZN", 1000, 0.015625, 15.625, "USD", "CBOT"),
        ("ZF", 1000, 0.0078125, 7.8125, "USD", "CBOT"),
        ("ZB", 1000, 0.03125, 31.25, "USD", "CBOT"),
        ("FESX", 10, 1.0, 10.0, "EUR", "EUREX"),
        ("MME", 50, 0.10, 5.00, "USD", "NYBOT"),
        # CME Rulebook ch. 359A (MNQ), CBOT ch. 27 (YM), ch. 21 (ZT), 19B (TN), 40 (UB).
        ("MNQ", 2, 0.25, 0.50, "USD", "CME"),
        ("YM", 5, 1.0, 5.00, "USD", "CBOT"),
        ("ZT", 2000, 1 / 256, 7.8125, "USD", "CBOT"),
        ("TN", 1000, 0.015625, 15.625, "USD", "CBOT"),
        ("UB", 1000, 0.03125, 31.25, "USD", "CBOT"),
        # Eurex contract specifications: FDAX 25 EUR x 0.5; bond futures 100,000 EUR face.
        ("FDAX", 25, 0.5, 12.50, "EUR", "EUREX"),
        ("FGBS", 1000, 0.005, 5.0, "EUR", "EUREX"),
        ("FGBM", 1000, 0.01, 10.0, "EUR", "EUREX"),
        ("FGBL", 1000, 0.01, 10.0, "EUR", "EUREX"),
        ("FGBX", 1000, 0.02, 20.0, "EUR", "EUREX"),
        # ICE Futures Europe FTSE 100 Index Future: 10 GBP per point, tick 0.5.
        ("Z", 10, 0.5, 5.0, "GBP", "ICEEU"),
    ],
)
def test_specifications_match_the_exchanges(root, multiplier, tick, tick_value, currency, exchange):
    spec = REGISTRY[root]
    assert (spec.multiplier, spec.tick, spec.currency, spec.exchange) == (multiplier, tick, currency, exchange)
    assert spec.tick_value == pytest.approx(tick_value)


def test_equity_index_futures_expire_on_the_third_friday():
    es = contracts.get("ES")
    assert es.expiry(2026, 3) == dt.date(2026, 3, 20)
    assert es.expiry(2026, 9) == dt.date(2026, 9, 18)
    assert es.expiry(2026, 12) == dt.date(2026, 12, 18)


def test_front_contract_follows_the_roll_date():
    # ESH6 last trades Fri 2026-03-20; eight business days earlier is Tue 2026-03-10.
    es = contracts.get("ES")
    assert es.contract_month(dt.date(2026, 3, 2)) == (2026, 3)
    assert es.contract_month(dt.date(2026, 3, 9)) == (2026, 3)
    assert es.contract_month(dt.date(2026, 3, 10)) == (2026, 6)
    assert es.contract_month(dt.date(2026, 3, 2), roll_days=1) == (2026, 3)
    assert es.next_contract(2026, 12) == (2027, 3)
    assert es.local_symbol(2026, 3) == "ESH6"


def test_unknown_root_names_the_known_ones():
    with pytest.raises(KeyError, match="known: ES"):
        contracts.get("XX")


@pytest.mark.parametrize(
    "price,tick,expected",
    [(5000.13, 0.25, 5000.25), (5000.12, 0.25, 5000.0), (110.0078, 1 / 64, 110.0), (110.01, 1 / 64, 110.015625), (4999.5, 1.0, 5000.0)],
)
def test_tick_rounding(price, tick, expected):
    assert round_to_tick(price, tick) == expected
