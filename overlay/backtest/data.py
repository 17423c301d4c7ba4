"""The history a backtest runs over: total-return index levels per sleeve, checked.

A data file (CSV or Parquet) has a ``date`` column and, for every sleeve, a column named
after it holding that sleeve's total-return index level (any base). An optional
``cash_rate`` column holds the annualised short rate as a decimal; the rate on a row is the
one earned over the period that ends on that row's date (the first row's rate is unused).
Without the column the rate is 0.

The frequency is inferred from the median gap between dates: daily (252 periods a year),
weekly (52), monthly (12), quarterly (4) or annual (1). Each period is ``1 / periods a
year`` of a year long for cash accrual, so a monthly ``cash_rate`` of ``12 × r`` earns
exactly ``r`` a month.

Every problem is one :class:`~overlay.errors.InputError` naming the data file, the column
and the row (data rows counted from 1, the header not counted).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from overlay.errors import InputError

#: (name, periods a year, largest median gap in days).
FREQUENCIES = (("daily", 252, 4), ("weekly", 52, 10), ("monthly", 12, 45), ("quarterly", 4, 135), ("annual", 1, 400))


@dataclass(frozen=True)
class History:
    """Index levels and short rates on ``T`` dates.

    ``levels`` (T, S) total-return index levels of ``sleeves`` in order; ``cash_rate`` (T,)
    annualised decimal rates (row ``t`` earned over the period ending on date ``t``).
    """

    source: str
    dates: tuple[dt.date, ...]
    sleeves: tuple[str, ...]
    levels: np.ndarray
    cash_rate: np.ndarray
    frequency: str
    periods_per_year: int

    @property
    def returns(self) -> np.ndarray:
        """(T − 1, S) simple returns per period."""
        return self.levels[1:] / self.levels[:-1] - 1.0

    @property
    def period_years(self) -> float:
        """Length of one period in years, ``1 / periods_per_year``."""
        return 1.0 / self.periods_per_year

    @property
    def years(self) -> float:
        """``(last date − first date) / 365.25``."""
        return (self.dates[-1] - self.dates[0]).days / 365.25

    def window(self, start: dt.date | None, end: dt.date | None, file: str | None) -> History:
        """The dates from ``start`` to ``end`` inclusive (bad bounds are errors of ``file``)."""
        d = np.array(self.dates, dtype="datetime64[D]")
        lo = 0 if start is None else int(np.searchsorted(d, np.datetime64(start), "left"))
        hi = len(d) if end is None else int(np.searchsorted(d, np.datetime64(end), "right"))
        if hi - lo < 2:
            key = "backtest.start" if start is not None else "backtest.end"
            raise InputError(file, key, f"fewer than two data dates between {start or self.dates[0]} and {end or self.dates[-1]}")
        return History(self.source, self.dates[lo:hi], self.sleeves, self.levels[lo:hi], self.cash_rate[lo:hi], self.frequency, self.periods_per_year)


def infer_frequency(dates: Sequence[dt.date]) -> tuple[str, int]:
    """(name, periods a year) from the median gap between consecutive dates."""
    gaps = np.diff(np.array(dates, dtype="datetime64[D]")).astype(int)
    median = float(np.median(gaps))
    for name, per_year, limit in FREQUENCIES:
        if median <= limit:
            return name, per_year
    return "annual", 1


def read_table(path: Path) -> pd.DataFrame:
    """The raw table of a CSV or Parquet file (by extension; CSV otherwise)."""
    file = str(path)
    if not path.is_file():
        raise InputError(file, None, "data file not found")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(path)
        return pd.read_csv(path)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise InputError(file, None, f"cannot read the data file: {str(exc).splitlines()[0]}") from None


def history_from_frame(frame: pd.DataFrame, sleeves: Sequence[str], source: str) -> History:
    """Check ``frame`` (columns ``date``, one per sleeve, optional ``cash_rate``) and build a
    :class:`History`; ``source`` names the file in error messages."""
    if "date" not in frame.columns:
        raise InputError(source, "date", "missing column (the dates of the index levels)")
    for name in sleeves:
        if name not in frame.columns:
            raise InputError(source, name, f"missing column for sleeve {name!r} (its total-return index level)")
    n = len(frame)
    if n < 2:
        raise InputError(source, "date", f"fewer than two dates ({n} rows)")
    dates = _dates(frame["date"], source)
    levels = np.column_stack([_numbers(frame[name], source, name, positive=True) for name in sleeves])
    if "cash_rate" in frame.columns:
        rate = _numbers(frame["cash_rate"], source, "cash_rate", positive=False)
    else:
        rate = np.zeros(n)
    name, per_year = infer_frequency(dates)
    return History(source, tuple(dates), tuple(sleeves), levels, rate, name, per_year)


def load_history(path: str | Path, sleeves: Sequence[str]) -> History:
    """Read and check the data file at ``path`` for ``sleeves``."""
    p = Path(path)
    return history_from_frame(read_table(p), sleeves, str(p))


def _dates(column: pd.Series, source: str) -> list[dt.date]:
    out: list[dt.date] = []
    for i, value in enumerate(column.tolist()):
        day = _date(value)
        if day is None:
            raise InputError(source, f"date, row {i + 1}", f"not a date: {value!r}")
        if out and day <= out[-1]:
            raise InputError(source, f"date, row {i + 1}", f"dates must increase: {day} follows {out[-1]}")
        out.append(day)
    return out


def _date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        ts = pd.Timestamp(value)
        return None if pd.isna(ts) else ts.date()
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def _numbers(column: pd.Series, source: str, name: str, *, positive: bool) -> np.ndarray:
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(source, f"{name}, row {i + 1}", f"not a number: {column.iloc[i]!r}")
    if positive:
        low = values <= 0
        if low.any():
            i = int(np.argmax(low))
            raise InputError(source, f"{name}, row {i + 1}", f"index level must be positive, got {values[i]:g}")
    return values
