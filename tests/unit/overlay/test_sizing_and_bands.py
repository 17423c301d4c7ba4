"""The sizing walk, cash-flow routing, band arithmetic and suggested bands."""

import datetime as dt

import numpy as np
import pytest

from overlay.plan import bands
from overlay.config import BandKind, Calendar, MomentumFilter
from overlay.plan.suggest import suggested_half_width
from overlay.plan.sizing import Leg, LegKind, route_cash_flow, size_change

ES = Leg("ES", LegKind.FUTURE, 250_000.0)
MES = Leg("MES", LegKind.FUTURE, 25_000.0)
TRS = Leg("TRS", LegKind.SWAP, 1.0, min_units=100_000.0)


def test_every_future_but_the_last_rounds_toward_zero():
    fills, residual = size_change(-720_000.0, [ES, MES])
    assert [(f.key, f.quantity) for f in fills] == [("ES", -2), ("MES", -9)]
    assert residual == pytest.approx(5_000.0)


def test_a_single_future_rounds_to_nearest():
    fills, residual = size_change(-720_000.0, [ES])
    assert [f.quantity for f in fills] == [-3] and residual == pytest.approx(30_000.0)


def test_swap_takes_the_exact_remainder():
    fills, residual = size_change(1_000_000.0, [ES, MES, TRS])
    # ES 4 (1.0m) -> remainder 0; nothing left for MES or the swap.
    assert [(f.key, f.quantity) for f in fills] == [("ES", 4)] and residual == 0.0
    fills, residual = size_change(1_130_000.0, [ES, TRS])
    # ES is the last future: 4.52 -> 5 contracts, 1.25m; remainder -120,000 >= 100,000 -> swap.
    assert [(f.key, f.quantity) for f in fills] == [("ES", 5), ("TRS", pytest.approx(-120_000.0))]
    assert residual == 0.0


def test_swap_below_its_minimum_leaves_a_residual():
    fills, residual = size_change(90_000.0, [TRS])
    assert fills == [] and residual == 90_000.0


def test_no_instruments_means_all_residual():
    assert size_change(5.0, []) == ([], 5.0)


def test_contribution_fills_the_most_underweight_first():
    exposures = np.array([60.0, 30.0, 20.0])
    targets = np.array([55.0, 40.0, 35.0])  # short by -5, 10 and 15
    out = route_cash_flow(exposures, targets, exposures.copy(), 20.0)
    assert out.tolist() == [0.0, 5.0, 15.0]  # sleeve 3 is filled first, then sleeve 2
    out = route_cash_flow(exposures, targets, exposures.copy(), 40.0)
    # Every gap closed (25), the other 15 pro rata to the targets.
    assert out.tolist() == pytest.approx([15 * 55 / 130, 10 + 15 * 40 / 130, 15 + 15 * 35 / 130])


def test_withdrawal_never_sells_more_than_a_sleeve_holds():
    exposures = np.array([80.0, 20.0])
    values = np.array([5.0, 20.0])  # the first sleeve is mostly futures exposure
    out = route_cash_flow(exposures, np.array([50.0, 50.0]), values, -10.0)
    assert out.tolist() == [-5.0, -5.0]


def test_relative_and_absolute_band_edges():
    t = np.array([0.1, 0.6])
    w = np.array([0.2, 0.05])
    lo, hi = bands.band_edges(t, w, w, BandKind.RELATIVE)
    assert lo.tolist() == pytest.approx([0.08, 0.57]) and hi.tolist() == pytest.approx([0.12, 0.63])
    lo, hi = bands.band_edges(t, w, w, BandKind.ABSOLUTE)
    assert lo.tolist() == pytest.approx([0.0, 0.55]) and hi.tolist() == pytest.approx([0.3, 0.65])


def test_band_edges_themselves_are_inside():
    assert bands.breaches(np.array([0.65, 0.55, 0.6500001]), np.full(3, 0.55), np.full(3, 0.65)).tolist() == [0, 0, 1]


def test_momentum_filter_needs_momentum_with_the_drift():
    w = np.array([0.67, 0.67, 0.72, 0.33])
    t = np.array([0.6, 0.6, 0.6, 0.4])
    breach = np.array([1, 1, 1, -1])
    mom = np.array([0.1, np.nan, 0.1, -0.1])
    deferred = bands.momentum_deferred(w, t, breach, mom, MomentumFilter(threshold=0.05, hard_band=0.1), BandKind.ABSOLUTE)
    assert deferred.tolist() == [True, False, False, True]  # no momentum; beyond the hard band


def test_vol_scale_limits():
    mult, share = bands.vol_scale(np.array([0.01, 0.16, 1.0, np.nan]), 0.16)
    assert mult.tolist() == pytest.approx([2.0, 1.0, 0.5, 1.0])
    assert share.tolist() == pytest.approx([0.25, 1.0, 1.0, 1.0])


@pytest.mark.parametrize(
    "last,cal,expected",
    [
        (dt.date(2025, 12, 31), Calendar.QUARTERLY, dt.date(2026, 3, 31)),
        # Triggers fall on the last business day of the period (NYSE days for a USD portfolio):
        # 2026-02-28 is a Saturday, 2026-05-31 a Sunday.
        (dt.date(2026, 1, 31), Calendar.MONTHLY, dt.date(2026, 2, 27)),
        (dt.date(2026, 4, 30), Calendar.MONTHLY, dt.date(2026, 5, 29)),
        (dt.date(2026, 1, 15), Calendar.SEMIANNUAL, dt.date(2026, 7, 31)),
        (dt.date(2024, 2, 29), Calendar.ANNUAL, dt.date(2025, 2, 28)),
    ],
)
def test_next_calendar_date(last, cal, expected):
    assert bands.next_calendar_date(last, cal) == expected


def test_suggested_band_is_the_textbook_cube_root_law_at_the_reference_vol():
    # With sigma = sigma_ref: h = (3 c pi^2 (1 - pi)^2 / (4 gamma))^(1/3)  (Janecek & Shreve 2004).
    c, pi, gamma = 0.001, 0.6, 2.0
    expected = (3 * c * pi**2 * (1 - pi) ** 2 / (4 * gamma)) ** (1 / 3)
    assert suggested_half_width(pi, 0.16, c, 0.16, gamma) == pytest.approx(expected)
    # Cube-root scaling: eight times the cost doubles the band.
    assert suggested_half_width(pi, 0.2, 8 * c, 0.16) == pytest.approx(2 * suggested_half_width(pi, 0.2, c, 0.16))
