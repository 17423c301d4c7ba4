"""Roll dates: the registry's last trade dates less ``roll_days`` business days."""

from __future__ import annotations

import datetime as dt

from overlay.backtest.rolls import roll_mask, roll_schedule


def test_es_rolls_five_business_days_before_each_third_friday():
    # ESH0 and ESM0 stop trading on the third Fridays 2020-03-20 and 2020-06-19.
    dates = roll_schedule("ES", 5).roll_dates(dt.date(2020, 1, 1), dt.date(2020, 6, 30))
    assert dates == [dt.date(2020, 3, 13), dt.date(2020, 6, 12)]


def test_a_future_without_a_root_rolls_quarterly_even_in_1926():
    dates = roll_schedule(None, 5).roll_dates(dt.date(1926, 6, 30), dt.date(1927, 6, 30))
    assert [d.month for d in dates] == [9, 12, 3, 6]
    assert all(d.weekday() < 5 for d in dates)


def test_the_mask_marks_the_first_date_on_or_after_a_roll():
    month_ends = [dt.date(2020, m, 28) for m in range(1, 8)]
    mask = roll_mask(roll_schedule("ES", 5), month_ends)
    assert [d.month for d, m in zip(month_ends, mask) if m] == [3, 6]
