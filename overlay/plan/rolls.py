"""Which contract a configured future holds and trades on ``as_of`` (pure; no I/O, no clock).

The roll rule is the registry's (:mod:`pricing.contracts`): a contract's **roll date** is
``roll_days`` business days of its exchange before its first position day (deliverable
contracts) or its last trade date (cash-settled ones).

- The **held** contract is the one the config's positions are in: the month of ``expiry``
  or ``contract_month`` when the config gives one, else the front contract on ``as_of``.
- From the held contract's roll date on (``as_of >= roll_date``) the position rolls, and the
  **trading** contract, where new exposure goes, is the front contract on ``as_of``;
  otherwise new exposure goes to the held contract.

A future outside the registry gives its own ``expiry`` and ``exchange``; it is cash-settled
as far as the planner knows, and its next contract is assumed to expire a quarter (91 days)
later, on the business day on or before.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from pricing import contracts
from pricing.contract_spec import Contract

__all__ = ["CUSTOM_ROLL_DAYS", "DatedContract", "FutureCalendar", "future_calendar"]

#: ``roll_days`` of a future outside the registry that gives none.
CUSTOM_ROLL_DAYS = 5


@dataclass(frozen=True, slots=True)
class DatedContract:
    """One contract month with its dates; ``local_symbol`` None outside the registry."""

    year: int
    month: int
    local_symbol: str | None
    last_trade: dt.date
    first_notice: dt.date | None
    first_position: dt.date | None
    roll_date: dt.date

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @classmethod
    def of(cls, c: Contract) -> DatedContract:
        return cls(c.year, c.month, c.local_symbol, c.last_trade, c.first_notice, c.first_position, c.roll_date)


@dataclass(frozen=True, slots=True)
class FutureCalendar:
    """The held and the trading contract of one future on ``as_of`` (see the module docstring)."""

    held: DatedContract
    trading: DatedContract
    roll: bool  # the held contract is at or past its roll date: its positions roll into ``trading``


@functools.lru_cache(maxsize=4096)
def future_calendar(
    root: str | None,
    exchange: str | None,
    as_of: dt.date,
    expiry: dt.date | None,
    contract_month: str | None,
    roll_days: int | None,
) -> FutureCalendar:
    """The :class:`FutureCalendar` of one configured future; pure, so cached."""
    spec = contracts.REGISTRY.get(root.upper()) if root else None
    if spec is not None:
        if expiry is not None:
            year, month = expiry.year, expiry.month
        elif contract_month is not None:
            year, month = contracts.parse_contract_month(contract_month)
        else:
            year, month = spec.contract_month(as_of, roll_days)
        held = spec.contract(year, month, roll_days)
        roll = as_of >= held.roll_date
        trading = spec.front(as_of, roll_days) if roll else held
        return FutureCalendar(DatedContract.of(held), DatedContract.of(trading), roll)
    if expiry is None or exchange is None:
        raise ValueError("a future outside the registry needs its expiry and exchange")
    cal = contracts.calendar(exchange)
    n = CUSTOM_ROLL_DAYS if roll_days is None else roll_days
    held_c = DatedContract(expiry.year, expiry.month, None, expiry, None, None, cal.add(expiry, -n))
    roll = as_of >= held_c.roll_date
    if not roll:
        return FutureCalendar(held_c, held_c, False)
    nxt = cal.on_or_before(expiry + dt.timedelta(days=91))
    trading = DatedContract(nxt.year, nxt.month, None, nxt, None, None, cal.add(nxt, -n))
    return FutureCalendar(held_c, trading, True)
