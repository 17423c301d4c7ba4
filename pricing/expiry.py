"""Expiry, delivery and roll dates of a futures contract month, by the exchange's rule (pure).

Every date is computed on the business days of the contract's exchange
(:mod:`pricing.calendars`). The rules, each with the exchange text it follows:

``THIRD_FRIDAY`` (cash-settled equity-index futures)
    Last trade date: the third Friday of the contract month. When that day is not a business
    day the contract expires on the business day before it; see :data:`HOLIDAY_RULES` for the
    rule text of each exchange. CME's precedent: in March 2008 Good Friday fell on the third
    Friday (21 March) and the E-mini S&P 500 expired on Thursday 20 March. In June 2026 the
    third Friday is Juneteenth (NYSE closed), so ESM6 last trades on 18 June.
``TREASURY_7BD`` (CBOT ZN, TN, ZB, UB)
    Last trade date: the seventh business day before the last business day of the contract
    month (CBOT Rulebook chapters 19, 19B, 18 and 40, "Termination of Trading").
``LAST_BUSINESS_DAY`` (CBOT ZT, ZF)
    Last trade date: the last business day of the contract month (CBOT Rulebook chapters 21
    and 20).
``EUREX_BOND`` (Eurex FGBS, FGBM, FGBL, FGBX)
    Delivery day: the tenth calendar day of the contract month if it is an exchange day, else
    the next exchange day; last trade date: two exchange days before the delivery day (Eurex
    contract specifications, "Delivery day" and "Last trading day").

Delivery (deliverable contracts only):

- CBOT Treasury futures: the first delivery day is the first business day of the contract
  month; the **first notice day** (first intention day) is the business day before it, and
  the **first position day**, from which a long may be assigned delivery, two business days
  before it (CBOT Rulebook chapter 18 ff., "Delivery Days"; CME's Treasury futures
  delivery process). ZNH6: first position day 2026-02-26, first notice day 2026-02-27.
- Eurex bond futures: clearing members with short positions notify on the last trading day,
  so the first notice day and the first position day are the last trade date.

Roll date: ``N`` business days before the first position day of a deliverable contract, or
before the last trade date of a cash-settled one. From the roll date on, positions are rolled
and new exposure goes into the next contract.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from pricing.calendars import BusinessCalendar

__all__ = ["HOLIDAY_RULES", "ContractDates", "ExpiryRule", "Settlement", "contract_dates", "third_friday"]


class ExpiryRule(enum.Enum):
    THIRD_FRIDAY = "third_friday"
    TREASURY_7BD = "treasury_7bd"
    LAST_BUSINESS_DAY = "last_business_day"
    EUREX_BOND = "eurex_bond"


class Settlement(enum.Enum):
    CASH = "cash"
    TREASURY_DELIVERY = "treasury_delivery"  # CBOT: position, intention (notice), delivery days
    EUREX_DELIVERY = "eurex_delivery"  # Eurex: notification on the last trading day

    @property
    def deliverable(self) -> bool:
        return self is not Settlement.CASH


#: Where an exchange's rule moves a rule date that is not a business day, with the rule cited.
#: (exchange, rule) -> (direction, citation); direction -1: the business day before.
HOLIDAY_RULES: dict[tuple[str, ExpiryRule], tuple[int, str]] = {
    ("CME", ExpiryRule.THIRD_FRIDAY): (
        -1,
        "CME Rulebook ch. 358 (E-mini S&P 500) and sister chapters, Final Settlement Price: "
        "'if the S&P 500 Index is not scheduled to be published on the third Friday, the "
        "first earlier day on which it is scheduled to be published' (March 2008: Good Friday).",
    ),
    ("CBOT", ExpiryRule.THIRD_FRIDAY): (
        -1,
        "CBOT Rulebook ch. 27 (E-mini Dow), Final Settlement Date: the third Friday, or the "
        "first earlier day on which the Dow Jones Industrial Average is published.",
    ),
    ("NYBOT", ExpiryRule.THIRD_FRIDAY): (
        -1,
        "ICE Futures U.S. MSCI index futures, Last Trading Day: the third Friday of the "
        "contract month; if not a business day, the preceding business day.",
    ),
    ("EUREX", ExpiryRule.THIRD_FRIDAY): (
        -1,
        "Eurex contract specifications (FESX, FDAX), Last trading day: the third Friday of "
        "the maturity month if this is an exchange day, otherwise the exchange day before.",
    ),
    ("ICEEU", ExpiryRule.THIRD_FRIDAY): (
        -1,
        "ICE Futures Europe FTSE 100 Index Future, Last Trading Day: the third Friday of the "
        "delivery month; if not a business day, the business day before.",
    ),
    ("EUREX", ExpiryRule.EUREX_BOND): (
        +1,
        "Eurex fixed income futures, Delivery day: the tenth calendar day of the quarterly "
        "month if an exchange day, otherwise the next exchange day.",
    ),
}


@dataclass(frozen=True, slots=True)
class ContractDates:
    """The dates of one contract month. ``first_notice``, ``first_position`` and ``delivery``
    (first delivery day) are None for a cash-settled contract."""

    last_trade: dt.date
    first_notice: dt.date | None
    first_position: dt.date | None
    delivery: dt.date | None

    @property
    def roll_anchor(self) -> dt.date:
        """The day a position must be out of the contract: first position day, else last trade."""
        return self.first_position if self.first_position is not None else self.last_trade


def third_friday(year: int, month: int) -> dt.date:
    first = dt.date(year, month, 1)
    offset = (4 - first.weekday()) % 7  # Friday is weekday 4
    return first + dt.timedelta(days=offset + 14)


def _adjust(cal: BusinessCalendar, rule: ExpiryRule, day: dt.date) -> dt.date:
    if cal.is_business_day(day):
        return day
    direction = HOLIDAY_RULES.get((cal.exchange, rule), (-1, ""))[0]
    return cal.on_or_before(day) if direction < 0 else cal.on_or_after(day)


def contract_dates(rule: ExpiryRule, settlement: Settlement, cal: BusinessCalendar, year: int, month: int) -> ContractDates:
    """Last trade, first notice, first position and first delivery day of ``year``/``month``."""
    delivery: dt.date | None = None
    if rule is ExpiryRule.THIRD_FRIDAY:
        last = _adjust(cal, rule, third_friday(year, month))
    elif rule is ExpiryRule.TREASURY_7BD:
        last = cal.add(cal.last_of_month(year, month), -7)
    elif rule is ExpiryRule.LAST_BUSINESS_DAY:
        last = cal.last_of_month(year, month)
    elif rule is ExpiryRule.EUREX_BOND:
        delivery = _adjust(cal, rule, dt.date(year, month, 10))
        last = cal.add(delivery, -2)
    else:  # pragma: no cover
        raise ValueError(rule)
    if settlement is Settlement.CASH:
        return ContractDates(last, None, None, None)
    if settlement is Settlement.TREASURY_DELIVERY:
        first_delivery = cal.first_of_month(year, month)
        return ContractDates(last, cal.add(first_delivery, -1), cal.add(first_delivery, -2), first_delivery)
    return ContractDates(last, last, last, delivery)
