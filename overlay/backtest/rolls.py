"""Roll dates of a backtest's futures, behind one small interface.

:class:`RollSchedule` answers one question: on which dates between two dates is a future
rolled? :func:`roll_schedule` builds the schedule of a configured future from the contract
registry (:mod:`pricing.contracts`): each contract month of the root's cycle expires on its
registry last trade date and is rolled ``roll_days`` business days before it (the
instrument's ``roll_days``, 5 by default). A future without a registry root follows the
quarterly cycle (March, June, September, December) with expiry on the third Friday.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from pricing import contracts

QUARTERLY = (3, 6, 9, 12)


class RollSchedule(Protocol):
    def roll_dates(self, start: dt.date, end: dt.date) -> list[dt.date]:
        """Dates in ``(start, end]`` on which the position moves to the next contract."""
        ...


@dataclass(frozen=True, slots=True)
class RegistryRolls:
    """Rolls ``roll_days`` business days before each last trade date of a root's cycle."""

    root: str | None
    roll_days: int

    def _expiry(self, year: int, month: int) -> dt.date:
        if self.root is not None:
            return contracts.get(self.root).expiry(year, month)
        return contracts.third_friday(year, month)

    def roll_dates(self, start: dt.date, end: dt.date) -> list[dt.date]:
        months = contracts.get(self.root).months if self.root is not None else QUARTERLY
        out: list[dt.date] = []
        for year in range(start.year, end.year + 2):
            for month in months:
                day = contracts.add_business_days(self._expiry(year, month), -self.roll_days)
                if start < day <= end:
                    out.append(day)
        return sorted(out)


def roll_schedule(root: str | None, roll_days: int) -> RollSchedule:
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
