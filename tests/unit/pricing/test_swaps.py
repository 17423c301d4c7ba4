"""Total-return swap financing and booking cost."""

import datetime as dt

import pytest

from pricing.swaps import TrsTerms, booking_cost, financing_accrual, financing_accrual_between, net_payment, total_return_leg


def test_financing_accrues_floating_plus_spread_act_360():
    # 100m at SOFR 4.30 % + 35 bp for a 91-day quarter: 100m x 4.65 % x 91/360 = 1,175,416.67.
    terms = TrsTerms(financing_spread_bps=35)
    assert financing_accrual(100_000_000, 0.043, 91, terms) == pytest.approx(1_175_416.67, abs=0.01)


def test_financing_between_dates_counts_calendar_days():
    terms = TrsTerms(financing_spread_bps=35)
    a = financing_accrual_between(100_000_000, 0.043, dt.date(2026, 1, 1), dt.date(2026, 4, 2), terms)
    assert a == pytest.approx(financing_accrual(100_000_000, 0.043, 91, terms))


def test_short_notional_receives_financing():
    assert financing_accrual(-10_000_000, 0.04, 30, TrsTerms()) < 0


def test_act_365_basis():
    assert financing_accrual(1_000_000, 0.05, 365, TrsTerms(day_count_basis=365)) == pytest.approx(50_000.0)


def test_net_payment_is_total_return_less_financing():
    terms = TrsTerms(financing_spread_bps=50)
    tr = total_return_leg(10_000_000, 100.0, 103.0)
    assert tr == pytest.approx(300_000.0)
    assert net_payment(10_000_000, 100.0, 103.0, 0.04, 90, terms) == pytest.approx(300_000.0 - 10_000_000 * 0.045 * 90 / 360)


def test_booking_cost_is_proportional_plus_ticket_and_zero_without_change():
    terms = TrsTerms(booking_cost_bps=2.0, ticket_fee=500.0)
    assert booking_cost(25_000_000, terms) == pytest.approx(25_000_000 * 2e-4 + 500)
    assert booking_cost(-25_000_000, terms) == booking_cost(25_000_000, terms)
    assert booking_cost(0.0, terms) == 0.0


def test_terms_validate():
    with pytest.raises(ValueError):
        TrsTerms(day_count_basis=252)
    with pytest.raises(ValueError):
        TrsTerms(booking_cost_bps=-1)
