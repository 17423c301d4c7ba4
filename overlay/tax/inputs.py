"""The tax records of a validated config: policy, accounts, lots, recent purchases, costs.

Lots of a sleeve are scaled so that their values sum to the sleeve's value exactly (the
config allows them to differ by the lot tolerance; bases are kept as given). A sleeve without
lots, when other sleeves have some, is one lot with basis = value acquired on ``as_of`` (no
gain), held in the first taxable account; :func:`open_book` says so in its notes.
"""

from __future__ import annotations


from overlay.config.models import PortfolioConfig
from overlay.config.tax import TaxConfig
from overlay.errors import InputError
from overlay.tax.book import LotBook
from overlay.tax.compare import AssetCosts
from overlay.tax.lots import Account, Lot, LotMethod, TaxPolicy
from overlay.tax.wash import Purchase
from pricing.impact import model_from_spec

#: The account of a sleeve's implied lot when the config names no taxable account.
IMPLIED_ACCOUNT = "taxable"


def tax_policy(cfg: PortfolioConfig) -> TaxPolicy:
    t = cfg.tax or TaxConfig()
    return TaxPolicy(t.short_term, t.long_term, t.long_after_days, LotMethod(t.lot_method.value),
                     t.wash_sale_days, t.harvest_threshold)


def accounts(cfg: PortfolioConfig) -> tuple[Account, ...]:
    out = tuple(Account(a.name, a.taxable) for a in cfg.accounts)
    if not any(a.taxable for a in out):
        out += (Account(IMPLIED_ACCOUNT, True),)
    return out


def lots(cfg: PortfolioConfig) -> tuple[tuple[Lot, ...], tuple[str, ...]]:
    """(lots, notes): the config's lots (ids ``lots[i]``) scaled to their sleeve's value, and
    one implied lot for each sleeve that has value and no lots."""
    taxable = {a.name: a.taxable for a in accounts(cfg)}
    first_taxable = next(a.name for a in accounts(cfg) if a.taxable)
    sums: dict[str, float] = {}
    for lot in cfg.lots:
        sums[lot.sleeve] = sums.get(lot.sleeve, 0.0) + lot.value
    values = {s.name: s.value for s in cfg.sleeves}
    out: list[Lot] = []
    for i, lot in enumerate(cfg.lots):
        total = sums[lot.sleeve]
        scale = values[lot.sleeve] / total if total > 0 else 0.0
        out.append(Lot(f"lots[{i}]", lot.sleeve, lot.account, lot.value * scale, lot.basis, lot.acquired, taxable[lot.account]))
    notes: list[str] = []
    for s in cfg.sleeves:
        if s.name not in sums and s.value > 0:
            out.append(Lot(f"{s.name}:implied", s.name, first_taxable, s.value, s.value, cfg.portfolio.as_of, taxable[first_taxable]))
            notes.append(f"{s.name}: no [[lots]]; treated as one lot at basis = value, acquired {cfg.portfolio.as_of} (no gain)")
    return tuple(out), tuple(notes)


def purchases(cfg: PortfolioConfig) -> tuple[Purchase, ...]:
    """The buys of ``[[trades]]`` (value > 0), for the wash-sale look-back."""
    return tuple(Purchase(t.sleeve, t.account, t.date, t.value) for t in cfg.trades if t.value > 0)


def open_book(cfg: PortfolioConfig) -> tuple[LotBook, tuple[str, ...]]:
    """The config's lots, accounts and recent purchases as a :class:`LotBook`, with notes."""
    held, notes = lots(cfg)
    policy = tax_policy(cfg)
    return LotBook.open(held, accounts(cfg), purchases(cfg), policy.wash_sale_days), notes


def asset_costs(cfg: PortfolioConfig, sleeve: str, why: str) -> AssetCosts:
    """``[costs.<sleeve>]`` as :class:`AssetCosts`; a missing table is bad input (``why`` says
    what needs it)."""
    c = cfg.costs.get(sleeve)
    if c is None:
        raise InputError(cfg.source, f"costs.{sleeve}", f"missing: {why}")
    model = model_from_spec({"model": c.impact.model.value, **c.impact.params})
    return AssetCosts(c.spread_bps, model, c.adv, c.daily_vol)


def has_tax_tables(cfg: PortfolioConfig) -> bool:
    """True when the config gives lots (``lots_sold`` and ``tax`` then appear in the plan)."""
    return bool(cfg.lots)


__all__ = ["accounts", "asset_costs", "has_tax_tables", "lots", "open_book", "purchases", "tax_policy"]
