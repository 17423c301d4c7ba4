"""The shipped table of closed weekdays gives exactly the sessions ``exchange-calendars`` builds.

``pricing.calendars`` derives business days from ``pricing.calendar_holidays`` so that no
command builds a calendar with pandas at run time; this keeps the table true to the package
(regenerate it with ``scripts/make_calendar_holidays.py`` after an upgrade).
"""

from __future__ import annotations

import numpy as np
import pytest

from pricing import calendar_holidays, calendars


@pytest.mark.parametrize("name", sorted(set(calendars.EXCHANGE_CALENDARS.values())))
def test_table_sessions_equal_the_package_sessions(name):
    assert name in calendar_holidays.CLOSED
    assert (calendar_holidays.FIRST_YEAR, calendar_holidays.LAST_YEAR) == (calendars.FIRST_YEAR, calendars.LAST_YEAR)
    assert np.array_equal(calendars._build.__wrapped__(name), calendars._from_package(name))


def test_the_table_knows_the_2001_and_2012_nyse_closures():
    closed = set(calendar_holidays.CLOSED["XNYS"])
    assert {"2001-09-11", "2001-09-14", "2012-10-29", "2012-10-30"} <= closed  # 9/11, Hurricane Sandy
    assert "2026-07-03" in closed  # Independence Day observed (a Saturday holiday)
