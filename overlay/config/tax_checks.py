"""Checks of the tax tables that span tables, each naming the key path it is about.

Every function raises :class:`~overlay.errors.InputError` ``(file, key, problem)``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from overlay.config.models import FutureInstrument
from overlay.config.tax import LOT_TOLERANCE
from overlay.errors import InputError
from pricing.impact import ImpactSpecError, model_from_spec

if TYPE_CHECKING:
    from overlay.config.models import PortfolioConfig


def check_tax(cfg: PortfolioConfig, file: str | None) -> None:
    """Accounts, lots, trades, proxies and sleeve costs; the first problem found is raised."""
    accounts = _check_accounts(cfg, file)
    sleeves = {s.name: s for s in cfg.sleeves}
    as_of = cfg.portfolio.as_of
    for table, rows in (("lots", cfg.lots), ("trades", cfg.trades)):
        for i, row in enumerate(rows):
            if row.sleeve not in sleeves:
                raise InputError(file, f"{table}[{i}].sleeve", f"unknown sleeve {row.sleeve!r}")
            if row.account not in accounts:
                raise InputError(file, f"{table}[{i}].account", f"unknown account {row.account!r} (not in [[accounts]])")
            when, key = (row.acquired, "acquired") if table == "lots" else (row.date, "date")
            if when > as_of:
                raise InputError(file, f"{table}[{i}].{key}", f"{when} is after portfolio.as_of {as_of}")
    _check_lot_sums(cfg, file)
    _check_proxies(cfg, file)
    for name, costs in cfg.costs.items():
        if name not in sleeves:
            raise InputError(file, f"costs.{name}", f"unknown sleeve {name!r}")
        try:
            model_from_spec({"model": costs.impact.model.value, **costs.impact.params})
        except ImpactSpecError as exc:
            key = f"costs.{name}.impact" + (f".{exc.key}" if exc.key else "")
            raise InputError(file, key, exc.problem) from None


def _check_accounts(cfg: PortfolioConfig, file: str | None) -> set[str]:
    seen: dict[str, int] = {}
    for i, account in enumerate(cfg.accounts):
        if account.name in seen:
            raise InputError(file, f"accounts[{i}].name", f"duplicate account {account.name!r} (also accounts[{seen[account.name]}])")
        seen[account.name] = i
    return set(seen)


def _check_lot_sums(cfg: PortfolioConfig, file: str | None) -> None:
    """The lots of a sleeve must sum to its value within ``LOT_TOLERANCE`` of it."""
    held: dict[str, list[float]] = {}
    for lot in cfg.lots:
        held.setdefault(lot.sleeve, []).append(lot.value)
    for i, sleeve in enumerate(cfg.sleeves):
        if sleeve.name not in held:
            continue
        total = math.fsum(held[sleeve.name])
        if abs(total - sleeve.value) > LOT_TOLERANCE * sleeve.value + 0.005:
            raise InputError(
                file, "lots",
                f"lots of sleeve {sleeve.name!r} sum to {total:,.2f}, not its value {sleeve.value:,.2f} "
                f"(sleeves[{i}].value, tolerance {LOT_TOLERANCE:.1%})",
            )


def _check_proxies(cfg: PortfolioConfig, file: str | None) -> None:
    names = {s.name for s in cfg.sleeves}
    for i, sleeve in enumerate(cfg.sleeves):
        proxy = sleeve.proxy
        if proxy is None:
            continue
        key = f"sleeves[{i}].proxy"
        if proxy == sleeve.name:
            raise InputError(file, key, "a sleeve cannot be its own proxy")
        if proxy in names:
            continue
        if proxy in sleeve.overlay and isinstance(cfg.instruments.get(proxy), FutureInstrument):
            continue
        raise InputError(file, key, f"unknown proxy {proxy!r}: name another sleeve or a future of this sleeve's overlay list")
