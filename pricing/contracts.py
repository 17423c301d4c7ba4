"""Registry of exchange-traded futures contracts and their expiry calendars.

Specifications are the exchanges' (see the reference table in the docs): multiplier in
currency per index point, tick in index points, quarterly contract months H M U Z.

Expiry rules (last trade date of a contract month):

- ``THIRD_FRIDAY``: the third Friday of the contract month (CME equity index, EUREX FESX,
  ICE MME).
- ``TREASURY``: the seventh business day before the last business day of the contract month
  (CBOT ZN, ZF, ZB).

Business days here are Monday to Friday; exchange holidays are not modelled, so a date that
falls near a holiday may be one business day off. Give ``expiry`` in the config to override.
"""

from __future__ import annotations

import calendar
import datetime as dt
import enum
from dataclasses import dataclass

MONTH_CODES = {1: "F", 2: "G", 3: "H", 4: "J", 5: "K", 6: "M", 7: "N", 8: "Q", 9: "U", 10: "V", 11: "X", 12: "Z"}
CODE_MONTHS = {v: k for k, v in MONTH_CODES.items()}
QUARTERLY = (3, 6, 9, 12)


class ExpiryRule(enum.Enum):
    THIRD_FRIDAY = "third_friday"
    TREASURY = "treasury"


class AssetClass(enum.Enum):
    EQUITY_INDEX = "equity_index"
    RATES = "rates"


@dataclass(frozen=True, slots=True)
class ContractSpec:
    """One futures root. ``multiplier`` is currency per point, ``tick`` is in points."""

    root: str
    name: str
    exchange: str
    currency: str
    multiplier: float
    tick: float
    expiry_rule: ExpiryRule
    asset_class: AssetClass
    underlying: str = ""  # the index or rate the contract tracks; roots that share one move together
    months: tuple[int, ...] = QUARTERLY

    @property
    def underlying_key(self) -> str:
        """What the contract tracks: ES and MES both track the S&P 500."""
        return self.underlying or self.root

    @property
    def tick_value(self) -> float:
        """Currency value of one tick for one contract."""
        return self.tick * self.multiplier

    def round_price(self, price: float) -> float:
        """Round a price to the nearest tick."""
        return round_to_tick(price, self.tick)

    def expiry(self, year: int, month: int) -> dt.date:
        """Last trade date of the contract of ``year``/``month``."""
        if month not in self.months:
            raise ValueError(f"{self.root} has no contract in month {month}")
        return expiry_date(self.expiry_rule, year, month)

    def contract_month(self, on: dt.date, roll_days: int = 0) -> tuple[int, int]:
        """(year, month) of the front contract on date ``on``.

        The front contract is the first whose last trade date is more than ``roll_days``
        business days after ``on``; with ``roll_days=0`` a contract is front through its last
        trade date.
        """
        year, month = on.year, on.month
        for _ in range(40):
            if month in self.months:
                last = self.expiry(year, month)
                if business_days_between(on, last) > roll_days or (roll_days == 0 and on <= last):
                    return year, month
            month += 1
            if month > 12:
                year, month = year + 1, 1
        raise RuntimeError("no contract month found")  # pragma: no cover

    def next_contract(self, year: int, month: int) -> tuple[int, int]:
        """The contract month after ``year``/``month`` in this root's cycle."""
        months = self.months
        later = [m for m in months if m > month]
        return (year, later[0]) if later else (year + 1, months[0])

    def local_symbol(self, year: int, month: int) -> str:
        """Exchange-style local symbol, e.g. ``ESH6``."""
        return f"{self.root}{MONTH_CODES[month]}{year % 10}"


def round_to_tick(price: float, tick: float) -> float:
    """Nearest multiple of ``tick`` (half away from zero), free of binary noise."""
    steps = price / tick
    n = int(steps + 0.5) if steps >= 0 else -int(-steps + 0.5)
    decimals = max(0, -int(f"{tick:e}".split("e")[1]) + 6)
    return round(n * tick, decimals)


def is_business_day(day: dt.date) -> bool:
    return day.weekday() < 5


def add_business_days(day: dt.date, n: int) -> dt.date:
    """Move ``n`` business days forward (n > 0) or back (n < 0)."""
    step = 1 if n >= 0 else -1
    remaining = abs(n)
    while remaining:
        day += dt.timedelta(days=step)
        if is_business_day(day):
            remaining -= 1
    return day


def business_days_between(start: dt.date, end: dt.date) -> int:
    """Business days in (start, end]; negative when end is before start."""
    if end < start:
        return -business_days_between(end, start)
    days = 0
    d = start
    while d < end:
        d += dt.timedelta(days=1)
        if is_business_day(d):
            days += 1
    return days


def third_friday(year: int, month: int) -> dt.date:
    first = dt.date(year, month, 1)
    offset = (4 - first.weekday()) % 7  # Friday is weekday 4
    return first + dt.timedelta(days=offset + 14)


def last_business_day(year: int, month: int) -> dt.date:
    day = dt.date(year, month, calendar.monthrange(year, month)[1])
    while not is_business_day(day):
        day -= dt.timedelta(days=1)
    return day


def expiry_date(rule: ExpiryRule, year: int, month: int) -> dt.date:
    if rule is ExpiryRule.THIRD_FRIDAY:
        return third_friday(year, month)
    if rule is ExpiryRule.TREASURY:
        return add_business_days(last_business_day(year, month), -7)
    raise ValueError(rule)  # pragma: no cover


def parse_contract_month(text: str) -> tuple[int, int]:
    """Parse ``"2026-03"``, ``"202603"`` or a month code with year, ``"H6"``/``"H26"``."""
    t = text.strip().upper()
    if len(t) == 7 and t[4] == "-":
        return int(t[:4]), int(t[5:])
    if len(t) == 6 and t.isdigit():
        return int(t[:4]), int(t[4:])
    if len(t) in (2, 3) and t[0] in CODE_MONTHS and t[1:].isdigit():
        yy = int(t[1:])
        year = 2020 + yy if len(t) == 2 else 2000 + yy
        return year, CODE_MONTHS[t[0]]
    raise ValueError(f"not a contract month: {text!r} (use YYYY-MM)")


_EQ, _RT = AssetClass.EQUITY_INDEX, AssetClass.RATES
_TF, _TY = ExpiryRule.THIRD_FRIDAY, ExpiryRule.TREASURY

#: The contracts of the reference table, by root.
REGISTRY: dict[str, ContractSpec] = {
    s.root: s
    for s in (
        ContractSpec("ES", "E-mini S&P 500", "CME", "USD", 50.0, 0.25, _TF, _EQ, "S&P 500"),
        ContractSpec("MES", "Micro E-mini S&P 500", "CME", "USD", 5.0, 0.25, _TF, _EQ, "S&P 500"),
        ContractSpec("NQ", "E-mini Nasdaq-100", "CME", "USD", 20.0, 0.25, _TF, _EQ, "Nasdaq-100"),
        ContractSpec("RTY", "E-mini Russell 2000", "CME", "USD", 50.0, 0.10, _TF, _EQ, "Russell 2000"),
        ContractSpec("ZN", "10-Year T-Note", "CBOT", "USD", 1000.0, 1 / 64, _TY, _RT, "US 10Y note"),
        ContractSpec("ZF", "5-Year T-Note", "CBOT", "USD", 1000.0, 1 / 128, _TY, _RT, "US 5Y note"),
        ContractSpec("ZB", "U.S. Treasury Bond", "CBOT", "USD", 1000.0, 1 / 32, _TY, _RT, "US long bond"),
        ContractSpec("FESX", "EURO STOXX 50", "EUREX", "EUR", 10.0, 1.0, _TF, _EQ, "EURO STOXX 50"),
        ContractSpec("MME", "MSCI Emerging Markets", "NYBOT", "USD", 50.0, 0.10, _TF, _EQ, "MSCI Emerging Markets"),
    )
}


def get(root: str) -> ContractSpec:
    """The registry entry for ``root``; ``KeyError`` names the known roots."""
    try:
        return REGISTRY[root.upper()]
    except KeyError:
        raise KeyError(f"unknown futures root {root!r}; known: {', '.join(sorted(REGISTRY))}") from None
