"""The domain of every number, date, name and list in a config, checked before anything runs.

Two passes, both on the parsed TOML (as ``tomllib`` returns it), each raising one
:class:`~overlay.errors.InputError` ``(file, key, problem)`` that names the key:

:func:`check_raw` (before the schema)
    every text (keys included) is at most :data:`MAX_TEXT` characters without control
    characters, every list and table has at most :data:`MAX_ITEMS` entries, every date lies
    in ``[1900-01-01, 2200-01-01)``, and every number is finite with ``|x| ≤ 1e15``;

:func:`check_domains` (after the schema)
    each known key against its own domain in :data:`DOMAINS`, with the reason for it.

The reasons in one place: money and prices outside ``1e-6 .. 1e15`` lose their cents (a
float64 carries 15–16 significant digits) or make contract counts overflow; contract counts
are at most :data:`MAX_CONTRACTS` (ten times the open interest of the largest futures
contract); an execution horizon has at most 10,000 slices (a schedule is an array per slice);
dates stop before 2200 (the contract calendars and day counts are defined up to there).
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from overlay.errors import InputError

#: Largest magnitude of any number in a config (money, prices, notionals).
MAX_MAGNITUDE = 1e15
#: Largest futures position or order, contracts.
MAX_CONTRACTS = 10**9
#: Longest text (a name, a key, a path), characters.
MAX_TEXT = 200
#: Most slices in one execution horizon (a schedule is an array entry per slice).
MAX_SLICES = 10_000
#: Most entries in one list or table.
MAX_ITEMS = 10_000
#: Dates are refused outside [FIRST_DATE, END_DATE).
FIRST_DATE = dt.date(1900, 1, 1)
END_DATE = dt.date(2200, 1, 1)

#: Characters no name may hold besides the control characters (category Cc): line and
#: paragraph separators and the bidirectional overrides that reorder what a terminal shows.
_INVISIBLE = set("\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff")


@dataclass(frozen=True, slots=True)
class Domain:
    """``lo ≤ x ≤ hi`` (or ``x == 0`` when ``zero``), with the reason shown to the user."""

    lo: float
    hi: float
    reason: str
    zero: bool = False

    def holds(self, x: float) -> bool:
        return (self.zero and x == 0) or self.lo <= x <= self.hi


_MONEY = Domain(1e-6, 1e15, "money in base currency: 0 or 1e-6 to 1e15 (float64 keeps cents up to 1e15)", zero=True)
_PRICE = Domain(1e-6, 1e15, "a price: 1e-6 to 1e15 (float64 keeps cents up to 1e15)")
_RATE = Domain(-0.2, 1.0, "an annual rate: -20% to 100%")
_VOL = Domain(1e-4, 5.0, "an annualised volatility: 0.01% to 500%")
_RETURN = Domain(-10.0, 10.0, "a trailing return: -1000% to +1000%")
_WEIGHT = Domain(0.0, 1.0, "a fraction of the portfolio: 0 to 1")
_BPS = Domain(-10_000.0, 10_000.0, "basis points: -10,000 to 10,000 (-100% to 100%)")
_SHARE = Domain(0.0, 1.0, "a probability or share: 0 to 1")

#: Key path patterns (``*`` any table key, ``[]`` any list index) and their domains.
DOMAINS: dict[str, Domain] = {
    "portfolio.cash": _MONEY,
    "portfolio.fx.*": Domain(1e-6, 1e6, "base currency per unit of another: 1e-6 to 1e6"),
    "policy.min_cash_buffer": Domain(0.0, 0.5, "a cash buffer of 0 to 50% of NAV"),
    "policy.momentum_filter.threshold": Domain(0.0, 10.0, "a momentum threshold: 0 to 1000%"),
    "policy.momentum_filter.hard_band": Domain(1e-4, 1.0, "a hard band half-width: 0.01 to 100 weight points"),
    "policy.vol_scaling.reference_vol": _VOL,
    "policy.vol_scaling.reference_vol.*": _VOL,
    "sleeves[].target": _WEIGHT,
    "sleeves[].value": _MONEY,
    "sleeves[].band": _WEIGHT,
    "sleeves[].band.lower": _WEIGHT,
    "sleeves[].band.upper": _WEIGHT,
    "sleeves[].beta": Domain(0.01, 20.0, "a beta to the futures' index: 0.01 to 20"),
    "sleeves[].duration": Domain(0.01, 100.0, "a modified duration: 0.01 to 100 years"),
    "sleeves[].momentum": _RETURN,
    "sleeves[].vol": _VOL,
    "instruments.*.price": _PRICE,
    "instruments.*.spot": _PRICE,
    "instruments.*.multiplier": Domain(1e-6, 1e9, "a contract multiplier: 1e-6 to 1e9"),
    "instruments.*.tick": Domain(1e-9, 1e9, "a tick size: 1e-9 to 1e9"),
    "instruments.*.dv01": Domain(1e-6, 1e9, "a DV01 per contract: 1e-6 to 1e9"),
    "instruments.*.initial_margin": _MONEY,
    "instruments.*.rate": _RATE,
    "instruments.*.dividend_yield": _RATE,
    "instruments.*.roll_days": Domain(0, 250, "business days before expiry: 0 to 250 (a year)"),
    "instruments.*.financing_spread_bps": _BPS,
    "instruments.*.min_notional": _MONEY,
    "instruments.*.booking_cost_bps": Domain(0.0, 1_000.0, "a booking cost: 0 to 1,000 bp"),
    "cash_flows[].amount": Domain(-1e15, 1e15, "a cash flow within ±1e15 of the base currency"),
    "market.*.adv": Domain(1.0, 1e12, "an average daily volume: 1 to 1e12 contracts"),
    "market.*.daily_vol": Domain(1e-5, 1.0, "a daily volatility: 0.001% to 100% of the price"),
    "market.*.spread_ticks": Domain(1, 10_000, "a quoted spread: 1 to 10,000 ticks"),
    "market.*.fee_per_contract": Domain(0.0, 1e6, "a fee: 0 to 1e6 per contract"),
    "market.*.impact.*": Domain(-1e12, 1e12, "an impact-model parameter within ±1e12"),
    "execution.horizon_minutes": Domain(0.01, 1440.0, "an execution horizon from 0.6 seconds to a 24-hour day"),
    "execution.slice_minutes": Domain(0.001, 1440.0, "a slice from 60 ms to a day"),
    "execution.participation": Domain(1e-6, 1.0, "a participation rate: 1e-6 to 1"),
    "execution.risk_aversion": Domain(0.0, 1.0, "a risk aversion (1/currency): 0 to 1"),
    "execution.limit_offset_ticks": Domain(0, 10_000, "a limit offset: 0 to 10,000 ticks"),
    "faults.reject_rate": _SHARE,
    "faults.drop_ack_rate": _SHARE,
    "faults.duplicate_fill_rate": _SHARE,
    "faults.late_fill_rate": _SHARE,
    "faults.disconnect_every_minutes": Domain(1.0, 1440.0, "0 (never) or once a minute to once a day", zero=True),
    "faults.disconnect_seconds": Domain(0.0, 3600.0, "a disconnection of at most an hour"),
    "risk.max_child_quantity": Domain(1, MAX_CONTRACTS, "1 to 1e9 contracts"),
    "risk.max_child_notional": _PRICE,
    "risk.max_participation": Domain(1e-6, 1.0, "a participation cap: 1e-6 to 1"),
    "risk.collar_bps": Domain(1e-3, 10_000.0, "a collar of 0.001 to 10,000 bp"),
    "risk.max_gross_exposure": _PRICE,
}

_POSITION_CONTRACTS = Domain(-MAX_CONTRACTS, MAX_CONTRACTS, "a futures position of at most 1e9 contracts")
_POSITION_NOTIONAL = Domain(-1e15, 1e15, "a swap notional within ±1e15")


def _show(key: str) -> str:
    """A key as it can be printed on one line (control characters escaped)."""
    return key.encode("unicode_escape").decode("ascii") if not key.isprintable() else key


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be a name or a key, or None."""
    if len(text) > MAX_TEXT:
        return f"longer than {MAX_TEXT} characters ({len(text)})"
    for ch in text:
        if unicodedata.category(ch) == "Cc" or ch in _INVISIBLE:
            return f"holds the control character U+{ord(ch):04X}; names are printed on one line"
    return None


def check_raw(node: Any, file: str | None, path: str = "") -> None:
    """The generic domains of :func:`check_raw`'s module docstring, depth first."""
    if isinstance(node, Mapping):
        if len(node) > MAX_ITEMS:
            raise InputError(file, path or None, f"{len(node):,} entries; at most {MAX_ITEMS:,} (a portfolio file, not a data file)")
        for key, value in node.items():
            key = str(key)
            problem = text_problem(key)
            sub = f"{path}.{_show(key)}" if path else _show(key)
            if problem:
                raise InputError(file, sub, f"the key {problem}")
            check_raw(value, file, sub)
    elif isinstance(node, list):
        if len(node) > MAX_ITEMS:
            raise InputError(file, path or None, f"{len(node):,} entries; at most {MAX_ITEMS:,} (a portfolio file, not a data file)")
        for i, value in enumerate(node):
            check_raw(value, file, f"{path}[{i}]")
    elif isinstance(node, str):
        problem = text_problem(node)
        if problem:
            raise InputError(file, path or None, f"text {problem}")
    elif isinstance(node, bool):
        return
    elif isinstance(node, (int, float)):
        if isinstance(node, float) and not math.isfinite(node):
            raise InputError(file, path or None, f"{node!r} is not a finite number")
        if abs(node) > MAX_MAGNITUDE:
            raise InputError(file, path or None, f"{node:g} is beyond ±1e15: no quantity in a portfolio is that large")
    elif isinstance(node, (dt.date, dt.datetime)):
        day = node.date() if isinstance(node, dt.datetime) else node
        if not FIRST_DATE <= day < END_DATE:
            raise InputError(file, path or None, f"{node.isoformat()} is outside 1900-01-01 .. 2199-12-31 (contract calendars end there)")


#: (depth, path prefix) of the tables whose keys are the user's names.
_NAMED_TABLES = {
    (1, ("instruments",)), (1, ("market",)), (2, ("portfolio", "fx")),
    (3, ("policy", "vol_scaling", "reference_vol")),
}


def _pattern(path: tuple[Any, ...]) -> str:
    """``("instruments", "ES", "price")`` → ``"instruments.*.price"``."""
    out = ""
    for i, part in enumerate(path):
        named = (i, tuple(path[:i])) in _NAMED_TABLES or (i == 3 and path[0] == "market" and path[2] == "impact")
        if isinstance(part, int):
            out += "[]"
        elif named:
            out += ".*"
        else:
            out += f".{part}" if out else str(part)
    return out


def _key(path: tuple[Any, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{_show(str(part))}" if out else _show(str(part)))
    return out


def _walk(node: Any, path: tuple[Any, ...]):
    if isinstance(node, Mapping):
        for key, value in node.items():
            yield from _walk(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, (*path, i))
    elif isinstance(node, (int, float)) and not isinstance(node, bool):
        yield path, node


def check_domains(data: Mapping[str, Any], file: str | None) -> None:
    """Each number of a schema-valid config against its domain (:data:`DOMAINS`)."""
    for path, value in _walk(data, ()):
        domain = DOMAINS.get(_pattern(path))
        if domain is not None and not domain.holds(value):
            raise InputError(file, _key(path), f"{value:g} is out of range: {domain.reason}")
    execution = data.get("execution")
    if isinstance(execution, Mapping):
        horizon, slice_ = execution.get("horizon_minutes", 390.0), execution.get("slice_minutes", 1.0)
        if horizon / slice_ > MAX_SLICES:
            raise InputError(
                file, "execution.slice_minutes",
                f"{slice_:g} minutes cuts the {horizon:g}-minute horizon into {horizon / slice_:,.0f} slices; "
                f"at most {MAX_SLICES:,} (a schedule holds an array entry per slice)",
            )
    instruments = data.get("instruments") or {}
    for i, pos in enumerate(data.get("positions") or []):
        inst = instruments.get(pos.get("instrument")) if isinstance(pos, Mapping) else None
        qty = pos.get("quantity") if isinstance(pos, Mapping) else None
        if isinstance(inst, Mapping) and isinstance(qty, (int, float)):
            domain = _POSITION_CONTRACTS if inst.get("kind") == "future" else _POSITION_NOTIONAL
            if not domain.holds(qty):
                raise InputError(file, f"positions[{i}].quantity", f"{qty:g} is out of range: {domain.reason}")
