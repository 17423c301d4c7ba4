"""Pure IB mapping tables and client-side pacing."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from execution.broker import OrderRequest, OrderType, TimeInForce
from execution.ib.mapping import (
    ErrorKind,
    StatusKind,
    classify_error,
    classify_status,
    execution_sign,
    front_month_pick,
    live_port_name,
    order_fields,
    order_id_from_ref,
    order_ref,
)
from execution.ib.pacing import PacingLimits, TokenBucket


def test_live_ports_are_the_ib_defaults():
    # Reference facts, Interactive Brokers: TWS paper 7497, live 7496; Gateway paper 4002, live 4001.
    assert live_port_name(7496) == "TWS live"
    assert live_port_name(4001) == "IB Gateway live"
    assert live_port_name(7497) is None
    assert live_port_name(4002) is None


def test_sell_limit_order_fields():
    f = order_fields(OrderRequest(42, "ES", -3, OrderType.LIMIT, 5000.25, TimeInForce.IOC))
    assert (f.orderId, f.action, f.totalQuantity, f.orderType, f.lmtPrice, f.tif) == (
        42, "SELL", 3.0, "LMT", 5000.25, "IOC")
    assert f.orderRef == "overlay-42"
    assert f.as_kwargs()["lmtPrice"] == 5000.25


def test_buy_market_order_fields_carry_no_limit():
    f = order_fields(OrderRequest(7, "ZN", 12), ref_prefix="x-")
    assert (f.action, f.totalQuantity, f.orderType, f.tif, f.orderRef) == ("BUY", 12.0, "MKT", "DAY", "x-7")
    assert "lmtPrice" not in f.as_kwargs()


def test_order_ref_round_trip():
    assert order_id_from_ref("overlay-", order_ref("overlay-", 901)) == 901
    assert order_id_from_ref("overlay-", "someone-else-3") is None
    assert order_id_from_ref("overlay-", "overlay-abc") is None
    assert order_id_from_ref("overlay-", "") is None


def test_execution_sides():
    assert execution_sign("BOT") == 1 and execution_sign("SLD") == -1
    with pytest.raises(ValueError):
        execution_sign("??")


@pytest.mark.parametrize(
    "code, kind",
    [
        # Reference facts, IB wire protocol: 200 unknown contract, 201 rejected, 202 cancelled, 326 client id in use.
        (200, ErrorKind.UNKNOWN_CONTRACT),
        (201, ErrorKind.REJECTED),
        (202, ErrorKind.CANCELLED),
        (326, ErrorKind.CLIENT_ID_IN_USE),
        (1100, ErrorKind.CONNECTION_LOST),
        (1101, ErrorKind.CONNECTION_RESTORED_DATA_LOST),
        (1102, ErrorKind.CONNECTION_RESTORED),
        (10147, ErrorKind.CANCEL_REJECTED),
        (161, ErrorKind.CANCEL_REJECTED),
        (100, ErrorKind.PACING),
        (2104, ErrorKind.INFO),
    ],
)
def test_error_codes(code, kind):
    assert classify_error(code, about_an_order=True) is kind


def test_unlisted_error_ends_an_order_but_is_a_notice_otherwise():
    assert classify_error(9999, about_an_order=True) is ErrorKind.REJECTED
    assert classify_error(9999, about_an_order=False) is ErrorKind.INFO


def test_statuses():
    assert classify_status("Submitted") is StatusKind.WORKING
    assert classify_status("PreSubmitted") is StatusKind.WORKING
    assert classify_status("ApiCancelled") is StatusKind.CANCELLED
    assert classify_status("Filled") is StatusKind.FILLED
    assert classify_status("Inactive") is StatusKind.INACTIVE
    assert classify_status("PendingSubmit") is StatusKind.PENDING
    assert classify_status("whatever") is StatusKind.OTHER


def test_front_month_is_the_earliest_live_expiry():
    expiries = ["20260918", "20260320", "20260619"]
    assert front_month_pick(expiries) == 1
    assert front_month_pick(expiries, after="20260321") == 2
    assert front_month_pick(["202606", "20260320"]) == 1
    assert front_month_pick([], after="") is None
    assert front_month_pick(["20250101"], after="20260101") is None


def test_pacing_limits_must_be_sane():
    with pytest.raises(ValueError):
        PacingLimits(rate=0.0)
    with pytest.raises(ValueError):
        PacingLimits(burst=0)
    assert PacingLimits().max_per_second < 50  # IB's limit: fewer than 50 messages a second


def test_a_burst_is_spread_at_the_sustained_rate():
    bucket = TokenBucket(PacingLimits(rate=40.0, burst=5))
    delays = [bucket.reserve(0.0) for _ in range(25)]
    assert delays[:5] == [0.0] * 5
    assert np.allclose(np.diff(delays[4:]), 1 / 40)
    # after a quiet spell the burst is available again
    assert bucket.reserve(10.0) == 0.0


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0.0, 0.2), min_size=1, max_size=300), st.integers(1, 10), st.floats(1.0, 45.0))
def test_no_one_second_window_exceeds_burst_plus_rate(gaps, burst, rate):
    """Whatever the request pattern, sends in any 1 s window <= burst + rate (< 50 by default)."""
    limits = PacingLimits(rate=rate, burst=burst)
    bucket = TokenBucket(limits)
    now, sends = 0.0, []
    for gap in gaps:
        now += gap
        delay = bucket.reserve(now)
        assert delay >= 0.0
        sends.append(now + delay)
    sends = np.sort(np.array(sends))
    # the densest 1 s window starts at some send time
    counts = np.searchsorted(sends, sends + 1.0 - 1e-9, side="right") - np.arange(sends.size)
    assert counts.max() <= limits.max_per_second + 1e-9
