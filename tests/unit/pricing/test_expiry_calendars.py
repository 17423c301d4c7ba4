"""Expiry, delivery and roll dates against each exchange's published rule, on holiday calendars.

Sources: CME Rulebook ch. 358 (E-mini S&P 500 final settlement: the third Friday, or the first
earlier day the index is published); CBOT Rulebook ch. 19 (10-Year T-Note: last trade the
seventh business day before the last business day of the month; first position day two
business days before the first business day of the delivery month) and ch. 20 (5-Year: last
business day of the month); Eurex contract specifications (FESX third Friday; Euro-Bund
delivery on the tenth calendar day, last trade two exchange days before).
"""

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pricing import calendars, contracts
from pricing.contracts import REGISTRY

D = dt.date


def test_juneteenth_moves_the_june_2026_equity_index_expiry_to_thursday():
    # 2026-06-19 (third Friday) is Juneteenth: NYSE closed, the S&P 500 is not published.
    for root in ("ES", "MES", "NQ", "MNQ", "RTY", "YM"):
        assert contracts.contract(root, 2026, 6).last_trade == D(2026, 6, 18), root
    assert contracts.contract("ES", 2026, 9).last_trade == D(2026, 9, 18)


def test_march_2008_good_friday_precedent():
    # CME: ESH8 expired on Thursday 2008-03-20 because Good Friday was the third Friday.
    assert contracts.contract("ES", 2008, 3).last_trade == D(2008, 3, 20)


def test_treasury_note_dates_znh6():
    c = contracts.contract("ZN", 2026, 3)
    assert c.first_position == D(2026, 2, 26)
    assert c.first_notice == D(2026, 2, 27)
    assert c.dates.delivery == D(2026, 3, 2)
    assert c.last_trade == D(2026, 3, 20)


def test_znm6_last_trade_skips_juneteenth():
    # Last business day Tue 30 June; seven business days earlier, skipping Juneteenth, is Thu 18.
    assert contracts.contract("ZN", 2026, 6).last_trade == D(2026, 6, 18)


def test_five_year_note_last_trades_on_the_last_business_day():
    assert contracts.contract("ZF", 2026, 6).last_trade == D(2026, 6, 30)
    assert contracts.contract("ZT", 2026, 6).last_trade == D(2026, 6, 30)


def test_eurex_dates():
    assert contracts.contract("FESX", 2026, 6).last_trade == D(2026, 6, 19)  # Eurex open on Juneteenth
    bund = contracts.contract("FGBL", 2026, 6)
    assert bund.dates.delivery == D(2026, 6, 10)
    assert bund.last_trade == D(2026, 6, 8)
    # March 2026: the 10th is a Tuesday; last trade Friday the 6th.
    assert contracts.contract("FGBL", 2026, 3).last_trade == D(2026, 3, 6)


def test_roll_dates():
    # Cash settled: eight business days before the last trade date (ESM6: 2026-06-08).
    assert contracts.contract("ES", 2026, 6).roll_date == D(2026, 6, 8)
    # Deliverable: three business days before first position day (ZNH6: 2026-02-23).
    assert contracts.contract("ZN", 2026, 3).roll_date == D(2026, 2, 23)
    assert contracts.contract("ZN", 2026, 3, roll_days=0).roll_date == D(2026, 2, 26)


def test_front_contract_and_roll_schedule_for_the_backtester():
    assert contracts.front_contract("ZN", D(2026, 3, 2)).local_symbol == "ZNM6"
    assert contracts.front_contract("MME", D(2026, 3, 11)).local_symbol == "MMEM6"
    sched = contracts.roll_schedule("ES", D(2026, 1, 1), D(2026, 12, 31))
    assert [c.local_symbol for c in sched] == ["ESH6", "ESM6", "ESU6", "ESZ6", "ESH7"]
    assert [c.roll_date for c in sched[:4]] == [D(2026, 3, 10), D(2026, 6, 8), D(2026, 9, 8), D(2026, 12, 8)]


def test_calendars():
    cme = calendars.for_exchange("CME")
    assert not cme.is_business_day(D(2026, 6, 19))
    assert cme.add(D(2026, 6, 20), -1) == D(2026, 6, 18)
    assert cme.count(D(2026, 6, 17), D(2026, 6, 22)) == 2
    assert cme.last_of_month(2026, 5) == D(2026, 5, 29)
    with pytest.raises(KeyError, match="known: CBOT"):
        calendars.for_exchange("XXX")
    with pytest.raises(ValueError, match="outside"):
        cme.is_business_day(D(1980, 1, 2))


@settings(max_examples=200, deadline=None)
@given(root=st.sampled_from(sorted(REGISTRY)), year=st.integers(2026, 2035), q=st.integers(0, 3))
def test_every_rule_date_is_a_business_day_of_its_exchange(root, year, q):
    spec = REGISTRY[root]
    month = spec.months[q]
    cal = spec.calendar
    c = spec.contract(year, month)
    for day in (c.last_trade, c.first_notice, c.first_position, c.roll_date):
        assert day is None or cal.is_business_day(day)
    assert c.roll_date < c.dates.roll_anchor <= c.last_trade
    if c.first_position is not None:
        assert c.first_position <= c.first_notice <= c.last_trade


@settings(max_examples=200, deadline=None)
@given(root=st.sampled_from(sorted(REGISTRY)), day=st.dates(D(2026, 1, 1), D(2035, 12, 31)))
def test_the_front_contract_is_never_inside_its_roll_window(root, day):
    c = contracts.front_contract(root, day)
    assert c.roll_date > day
    spec = REGISTRY[root]
    prev = spec.contract(*spec.previous_contract(c.year, c.month))
    assert prev.roll_date <= day
