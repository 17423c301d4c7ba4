"""Futures contract reference data: the registry, dated contract months and roll rules (pure).

The registry (:mod:`pricing.registry`) holds each root's specification and default market;
dates follow the exchange rules of :mod:`pricing.expiry` on the exchange business days of
:mod:`pricing.calendars` (``exchange-calendars``).

Roll rule, used by the planner, the simulator, the gateway and the backtester alike: a
contract's **roll date** is ``roll_days`` business days before its first position day
(deliverable contracts) or its last trade date (cash-settled ones). From the roll date on,
positions held in it roll into the next contract and new exposure goes to the next contract;
the **front contract** on a date is the first contract of the cycle whose roll date is after
that date.

Public API for callers that walk through time::

    front_contract(root, as_of, roll_days=None) -> Contract
    roll_schedule(root, start, end, roll_days=None) -> tuple[Contract, ...]
    contract(root, year, month, roll_days=None) -> Contract
"""

from __future__ import annotations

import datetime as dt

from pricing.calendars import BusinessCalendar, for_exchange
from pricing.contract_spec import (
    CODE_MONTHS,
    MONTH_CODES,
    QUARTERLY,
    AssetClass,
    Contract,
    ContractSpec,
    MarketDefaults,
    round_to_tick,
)
from pricing.expiry import HOLIDAY_RULES, ContractDates, ExpiryRule, Settlement
from pricing.registry import REGISTRY

__all__ = [
    "CODE_MONTHS",
    "HOLIDAY_RULES",
    "MONTH_CODES",
    "QUARTERLY",
    "REGISTRY",
    "AssetClass",
    "BusinessCalendar",
    "Contract",
    "ContractDates",
    "ContractSpec",
    "ExpiryRule",
    "MarketDefaults",
    "Settlement",
    "calendar",
    "contract",
    "front_contract",
    "get",
    "parse_contract_month",
    "roll_schedule",
    "round_to_tick",
]


def get(root: str) -> ContractSpec:
    """The registry entry for ``root``; ``KeyError`` names the known roots."""
    try:
        return REGISTRY[root.upper()]
    except KeyError:
        raise KeyError(f"unknown futures root {root!r}; known: {', '.join(sorted(REGISTRY))}") from None


def calendar(exchange: str) -> BusinessCalendar:
    """Business days of ``exchange`` (``KeyError`` names the known exchanges)."""
    return for_exchange(exchange)


def contract(root: str, year: int, month: int, roll_days: int | None = None) -> Contract:
    """The dated contract ``root`` ``year``/``month`` with its roll date."""
    return get(root).contract(year, month, roll_days)


def front_contract(root: str, as_of: dt.date, roll_days: int | None = None) -> Contract:
    """The contract new exposure in ``root`` goes into on ``as_of``: the first of the cycle whose
    roll date is after ``as_of`` (``roll_days`` default: the root's). ``as_of`` need not be a
    business day."""
    return get(root).front(as_of, roll_days)


def roll_schedule(root: str, start: dt.date, end: dt.date, roll_days: int | None = None) -> tuple[Contract, ...]:
    """The contracts that are front on some day of ``[start, end]``, in order.

    Each contract is front from the previous one's ``roll_date`` (or ``start``) up to the day
    before its own ``roll_date``; a holder rolls out of it on its ``roll_date``, which is after
    ``start`` and may be after ``end``.
    """
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    spec = get(root)
    out = [spec.front(start, roll_days)]
    while out[-1].roll_date <= end:
        out.append(spec.contract(*spec.next_contract(out[-1].year, out[-1].month), roll_days))
    return tuple(out)


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
