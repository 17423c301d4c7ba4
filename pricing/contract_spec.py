"""One futures root: its specification, market defaults and dated contract months (pure).

``multiplier`` is currency per point and ``tick`` is in points, so ``tick × multiplier`` is
the currency value of one tick. Dates come from the root's :class:`~pricing.expiry.ExpiryRule`
on its exchange's business days (:mod:`pricing.calendars`).
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from pricing import calendars
from pricing.expiry import ContractDates, ExpiryRule, Settlement, contract_dates

__all__ = [
    "CODE_MONTHS",
    "MONTH_CODES",
    "QUARTERLY",
    "AssetClass",
    "Contract",
    "ContractSpec",
    "MarketDefaults",
    "round_to_tick",
]

MONTH_CODES = {1: "F", 2: "G", 3: "H", 4: "J", 5: "K", 6: "M", 7: "N", 8: "Q", 9: "U", 10: "V", 11: "X", 12: "Z"}
CODE_MONTHS = {v: k for k, v in MONTH_CODES.items()}
QUARTERLY = (3, 6, 9, 12)


class AssetClass(enum.Enum):
    EQUITY_INDEX = "equity_index"
    RATES = "rates"


@dataclass(frozen=True, slots=True)
class MarketDefaults:
    """A root's default simulated market: ``adv`` contracts per session, ``daily_vol`` the
    fraction of price per √session, ``spread_ticks`` the quoted spread in whole ticks and
    ``fee_per_contract`` an all-in fee (broker plus exchange) in instrument currency."""

    adv: float
    daily_vol: float
    spread_ticks: int
    fee_per_contract: float


@dataclass(frozen=True, slots=True)
class Contract:
    """One dated contract month of a root, with the day positions must have left it.

    ``roll_date``: from this business day on, positions roll into the next contract and new
    exposure goes there (``roll_days`` business days before :attr:`ContractDates.roll_anchor`).
    """

    root: str
    year: int
    month: int
    local_symbol: str
    dates: ContractDates
    roll_date: dt.date

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def last_trade(self) -> dt.date:
        return self.dates.last_trade

    @property
    def first_notice(self) -> dt.date | None:
        return self.dates.first_notice

    @property
    def first_position(self) -> dt.date | None:
        return self.dates.first_position


@dataclass(frozen=True, slots=True)
class ContractSpec:
    """One futures root (see the module docstring); ``roll_days`` is the default number of
    business days before the roll anchor at which positions roll."""

    root: str
    name: str
    exchange: str
    currency: str
    multiplier: float
    tick: float
    expiry_rule: ExpiryRule
    settlement: Settlement
    asset_class: AssetClass
    underlying: str  # the index or rate tracked; roots that share one move together
    roll_days: int
    market: MarketDefaults
    months: tuple[int, ...] = QUARTERLY

    @property
    def underlying_key(self) -> str:
        """What the contract tracks: ES and MES both track the S&P 500."""
        return self.underlying or self.root

    @property
    def tick_value(self) -> float:
        """Currency value of one tick for one contract."""
        return self.tick * self.multiplier

    @property
    def calendar(self) -> calendars.BusinessCalendar:
        return calendars.for_exchange(self.exchange)

    def round_price(self, price: float) -> float:
        """Round a price to the nearest tick."""
        return round_to_tick(price, self.tick)

    def dates(self, year: int, month: int) -> ContractDates:
        """Last trade, first notice, first position and delivery day of ``year``/``month``."""
        if month not in self.months:
            raise ValueError(f"{self.root} has no contract in month {month}")
        return contract_dates(self.expiry_rule, self.settlement, self.calendar, year, month)

    def expiry(self, year: int, month: int) -> dt.date:
        """Last trade date of the contract of ``year``/``month``."""
        return self.dates(year, month).last_trade

    def contract(self, year: int, month: int, roll_days: int | None = None) -> Contract:
        """The dated contract ``year``/``month`` with its roll date (``roll_days`` default: the root's)."""
        n = self.roll_days if roll_days is None else roll_days
        d = self.dates(year, month)
        return Contract(self.root, year, month, self.local_symbol(year, month), d, self.calendar.add(d.roll_anchor, -n))

    def contract_month(self, on: dt.date, roll_days: int | None = None) -> tuple[int, int]:
        """(year, month) of the front contract on ``on``: the first whose roll date is after ``on``."""
        c = self.front(on, roll_days)
        return c.year, c.month

    def front(self, on: dt.date, roll_days: int | None = None) -> Contract:
        """The contract new exposure goes into on ``on`` (see :meth:`contract_month`)."""
        year, month = on.year, on.month
        while month not in self.months:
            year, month = (year, month + 1) if month < 12 else (year + 1, 1)
        for _ in range(len(self.months) + 2):
            c = self.contract(year, month, roll_days)
            if c.roll_date > on:
                return c
            year, month = self.next_contract(year, month)
        raise ValueError(f"roll_days={roll_days} leaves {self.root} no front contract on {on}")

    def next_contract(self, year: int, month: int) -> tuple[int, int]:
        """The contract month after ``year``/``month`` in this root's cycle."""
        later = [m for m in self.months if m > month]
        return (year, later[0]) if later else (year + 1, self.months[0])

    def previous_contract(self, year: int, month: int) -> tuple[int, int]:
        """The contract month before ``year``/``month`` in this root's cycle."""
        earlier = [m for m in self.months if m < month]
        return (year, earlier[-1]) if earlier else (year - 1, self.months[-1])

    def max_roll_days(self, year: int, month: int) -> int:
        """The most ``roll_days`` the contract ``year``/``month`` allows: one less than the
        business days from the previous contract's roll anchor to this one's (its life as the
        front contract); more would put its roll date before the previous contract's anchor."""
        prev = self.dates(*self.previous_contract(year, month)).roll_anchor
        return self.calendar.count(prev, self.dates(year, month).roll_anchor) - 1

    def local_symbol(self, year: int, month: int) -> str:
        """Exchange-style local symbol, e.g. ``ESH6``."""
        return f"{self.root}{MONTH_CODES[month]}{year % 10}"


def round_to_tick(price: float, tick: float) -> float:
    """Nearest multiple of ``tick`` (half away from zero), free of binary noise."""
    steps = price / tick
    n = int(steps + 0.5) if steps >= 0 else -int(-steps + 0.5)
    decimals = max(0, -int(f"{tick:e}".split("e")[1]) + 6)
    return round(n * tick, decimals)
