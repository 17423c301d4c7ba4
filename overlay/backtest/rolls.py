"""Roll dates of a backtest's futures, behind one small interface.

:class:`RollSchedule` answers one question: on which dates between two dates is a future
rolled? :func:`roll_schedule` builds the schedule of a configured future from the contract
registry (:func:`pricing.contracts.contract`): each contract month of the root's cycle rolls
on its registry roll date (``roll_days`` business days of its exchange before the roll
anchor: the first position day of a deliverable contract, the last trade date of a
cash-settled one; ``roll_days`` default: the root's). Where the registry cannot date a
contract (a future without a registry root, or a year its exchange calendar does not cover,
such as the 1920s of the built-in data) the contract expires on the third Friday of its
month and business days are weekdays.
"""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from pricing import contracts

QUARTERLY = (3, 6, 9, 12)
#: Business days before expiry for a future outside the registry without ``roll_days``.
DEFAULT_ROLL_DAYS = 5


class RollSchedule(Protocol):
    def roll_dates(self, start: dt.date, end: dt.date) -> list[dt.date]:
        """Dates in ``(start, end]`` on which the position moves to the next contract."""
        ...


def third_friday(year: int, month: int) -> dt.date:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(4 - first.weekday()) % 7 + 14)


def weekdays_before(day: dt.date, n: int) -> dt.date:
    """``n`` weekdays before ``day``."""
    while n > 0:
        day -= dt.timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def next_weekday(day: dt.date) -> dt.date:
    """The weekday after ``day`` (the dates of a resampled daily history)."""
    day += dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


@dataclass(frozen=True, slots=True)
class RegistryRolls:
    """Rolls ``roll_days`` business days before each last trade date of a root's cycle."""

    root: str | None
    roll_days: int | None

    def _roll_date(self, year: int, month: int) -> dt.date:
        if self.root is not None:
            try:
                return contracts.contract(self.root, year, month, self.roll_days).roll_date
            except ValueError:  # a year the exchange calendar does not cover
                n = contracts.get(self.root).roll_days if self.roll_days is None else self.roll_days
                return weekdays_before(third_friday(year, month), n)
        return weekdays_before(third_friday(year, month), DEFAULT_ROLL_DAYS if self.roll_days is None else self.roll_days)

    def roll_dates(self, start: dt.date, end: dt.date) -> list[dt.date]:
        months = contracts.get(self.root).months if self.root is not None else QUARTERLY
        out = []
        for year in range(start.year, end.year + 2):
            for month in months:
                day = self._roll_date(year, month)
                if start < day <= end:
                    out.append(day)
        return sorted(out)


def roll_schedule(root: str | None, roll_days: int | None) -> RollSchedule:
    """The roll schedule of a future of registry ``root`` (None: quarterly, third Fridays)."""
    return RegistryRolls(root, roll_days)


def roll_mask(schedule: RollSchedule, dates: Sequence[dt.date]) -> np.ndarray:
    """Boolean per date index ``t ≥ 1``: a roll date falls in ``(dates[t−1], dates[t]]``
    (index 0 is False: the portfolio starts in the front contract)."""
    out = np.zeros(len(dates), dtype=bool)
    rolls = np.array(schedule.roll_dates(dates[0], dates[-1]), dtype="datetime64[D]")
    if len(rolls):
        d = np.array(dates, dtype="datetime64[D]")
        idx = np.searchsorted(d, rolls, side="left")  # first date on or after each roll date
        out[idx[idx < len(dates)]] = True
    return out


def last_weekday(year: int, month: int) -> dt.date:
    """The last weekday of a month (a calendar period's end where no exchange calendar reaches)."""
    day = dt.date(year, month, _calendar.monthrange(year, month)[1])
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return day
