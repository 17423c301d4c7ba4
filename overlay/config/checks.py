"""Checks that span tables of a validated config, each naming the key path it is about.

Every function raises :class:`~overlay.errors.InputError` ``(file, key, problem)``.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

from overlay.config.models import FutureInstrument, PortfolioConfig, SwapInstrument, Trigger
from overlay.config.tax_checks import check_tax
from overlay.errors import InputError
from pricing import contracts

#: Targets must sum to one within this tolerance.
TARGET_TOLERANCE = 1e-9


def check_config(cfg: PortfolioConfig, file: str | None) -> None:
    """Run every cross-table check; the first problem found is raised."""
    _check_sleeves(cfg, file)
    _check_vol_scaling(cfg, file)
    _check_dates(cfg, file)
    _check_instruments(cfg, file)
    _check_overlay_lists(cfg, file)
    _check_positions(cfg, file)
    _check_cash_flows(cfg, file)
    _check_market(cfg, file)
    check_tax(cfg, file)


def _check_sleeves(cfg: PortfolioConfig, file: str | None) -> None:
    seen: dict[str, int] = {}
    for i, sleeve in enumerate(cfg.sleeves):
        if sleeve.name in seen:
            raise InputError(file, f"sleeves[{i}].name", f"duplicate sleeve name {sleeve.name!r} (also sleeves[{seen[sleeve.name]}])")
        seen[sleeve.name] = i
    total = math.fsum(s.target for s in cfg.sleeves)
    if abs(total - 1.0) > TARGET_TOLERANCE:
        raise InputError(file, "sleeves", f"targets sum to {total:.10g}, not 1")


def _check_vol_scaling(cfg: PortfolioConfig, file: str | None) -> None:
    scaling = cfg.policy.vol_scaling
    if scaling is None or scaling.shared:
        return
    names = {s.name for s in cfg.sleeves}
    for name in scaling.reference_vol:  # type: ignore[union-attr]
        if name not in names:
            raise InputError(file, f"policy.vol_scaling.reference_vol.{name}", f"no sleeve is named {name!r}")


def _check_dates(cfg: PortfolioConfig, file: str | None) -> None:
    as_of = cfg.portfolio.as_of
    policy = cfg.policy
    if policy.last_rebalance is not None and policy.last_rebalance > as_of:
        raise InputError(
            file, "policy.last_rebalance", f"{policy.last_rebalance} is after portfolio.as_of {as_of}"
        )
    if policy.trigger is not Trigger.BAND and policy.last_rebalance is None:
        raise InputError(file, "policy.last_rebalance", f"required by the {policy.trigger.value!r} trigger")
    for key, inst in cfg.instruments.items():
        if isinstance(inst, FutureInstrument) and inst.expiry is not None and inst.expiry < as_of:
            raise InputError(file, f"instruments.{key}.expiry", f"{inst.expiry} is before portfolio.as_of {as_of}")


def _need_fx(cfg: PortfolioConfig, file: str | None, key: str, currency: str) -> None:
    if currency != cfg.portfolio.currency and currency not in cfg.portfolio.fx:
        raise InputError(file, key, f"no fx rate for {currency} (add portfolio.fx.{currency})")


def _check_instruments(cfg: PortfolioConfig, file: str | None) -> None:
    base = cfg.portfolio.currency
    if base in cfg.portfolio.fx and cfg.portfolio.fx[base] != 1.0:
        raise InputError(file, f"portfolio.fx.{base}", f"the base currency's fx rate must be 1, got {cfg.portfolio.fx[base]:g}")
    for key, inst in cfg.instruments.items():
        if isinstance(inst, FutureInstrument):
            spec = _future_spec(cfg, file, key, inst)
            if inst.spot is not None and inst.rate is None:
                raise InputError(file, f"instruments.{key}.rate", "required with spot for the fair value")
            currency = inst.currency or (spec.currency if spec else base)
            _need_fx(cfg, file, f"instruments.{key}.currency", currency)
            _check_contract(cfg, file, key, inst, spec)
        elif isinstance(inst, SwapInstrument):
            _need_fx(cfg, file, f"instruments.{key}.currency", inst.currency or base)


#: What a future outside the registry must give itself: nothing is invented.
CUSTOM_FUTURE_KEYS = ("multiplier", "tick", "currency", "exchange", "expiry")
CUSTOM_MARKET_KEYS = ("adv", "daily_vol", "spread_ticks")


def _future_spec(cfg: PortfolioConfig, file: str | None, key: str, inst: FutureInstrument) -> contracts.ContractSpec | None:
    """The registry entry of the future's root, or None for a future the config defines in full."""
    if inst.root is not None and inst.root.upper() in contracts.REGISTRY:
        if inst.exchange is not None and inst.exchange.upper() != contracts.get(inst.root).exchange:
            spec = contracts.get(inst.root)
            raise InputError(file, f"instruments.{key}.exchange", f"{spec.root} trades on {spec.exchange}, not {inst.exchange}")
        return contracts.get(inst.root)
    what = f"unknown futures root {inst.root!r}" if inst.root is not None else "a future without a registry root"
    needs = (f"known: {', '.join(sorted(contracts.REGISTRY))}; a future outside the registry gives "
             f"{', '.join(CUSTOM_FUTURE_KEYS)} and [market.{key}] {', '.join(CUSTOM_MARKET_KEYS)}")
    missing = [name for name in CUSTOM_FUTURE_KEYS if getattr(inst, name) is None]
    if inst.root is not None and len(missing) == len(CUSTOM_FUTURE_KEYS):
        raise InputError(file, f"instruments.{key}.root", f"{what} ({needs})")
    if missing:
        raise InputError(file, f"instruments.{key}.{missing[0]}", f"required for {what} ({needs})")
    try:
        contracts.calendar(inst.exchange)  # type: ignore[arg-type]
    except KeyError as exc:
        raise InputError(file, f"instruments.{key}.exchange", str(exc.args[0])) from None
    market = cfg.market.get(key)
    for name in CUSTOM_MARKET_KEYS:
        if market is None or getattr(market, name) is None:
            raise InputError(file, f"market.{key}.{name}", f"required: {what} has no default market")
    return None


def _check_contract(cfg: PortfolioConfig, file: str | None, key: str, inst: FutureInstrument,
                    spec: contracts.ContractSpec | None) -> None:
    """The expiry is a business day (and, for a registry root, its contract's last trade date);
    ``roll_days`` fits inside the contract's life as the front contract."""
    path = f"instruments.{key}"
    exchange = spec.exchange if spec else str(inst.exchange).upper()
    cal = contracts.calendar(exchange)
    expiry = inst.expiry
    if expiry is not None:
        try:
            business = cal.is_business_day(expiry)
        except ValueError as exc:
            raise InputError(file, f"{path}.expiry", str(exc)) from None
        if not business:
            raise InputError(file, f"{path}.expiry", f"{expiry} is not a business day of {exchange}")
        if spec is not None:
            if expiry.month not in spec.months:
                months = ", ".join(contracts.MONTH_CODES[m] for m in spec.months)
                raise InputError(file, f"{path}.expiry", f"{spec.root} lists no {expiry:%Y-%m} contract (months {months})")
            last = spec.expiry(expiry.year, expiry.month)
            if last != expiry:
                raise InputError(
                    file, f"{path}.expiry",
                    f"{spec.local_symbol(expiry.year, expiry.month)} last trades {last}, not {expiry} "
                    f"(omit expiry to take it from the registry)",
                )
    held = _contract_month(cfg, file, key, inst, spec)
    if inst.roll_days is None:
        return
    if spec is not None:
        year, month = held if held is not None else spec.contract_month(cfg.portfolio.as_of, 0)
        limit = spec.max_roll_days(year, month)
        name = spec.local_symbol(year, month)
    else:
        assert expiry is not None
        limit = cal.count(expiry - dt.timedelta(days=91), expiry) - 1
        name = key
    if inst.roll_days > limit:
        raise InputError(
            file, f"{path}.roll_days",
            f"{inst.roll_days} business days is beyond the life of {name} as the front contract (at most {limit})",
        )


def _contract_month(cfg: PortfolioConfig, file: str | None, key: str, inst: FutureInstrument,
                    spec: contracts.ContractSpec | None) -> tuple[int, int] | None:
    """The held contract month the config names (``expiry`` or ``contract_month``), checked."""
    path = f"instruments.{key}.contract_month"
    if inst.contract_month is None:
        return (inst.expiry.year, inst.expiry.month) if inst.expiry is not None else None
    if spec is None:
        raise InputError(file, path, "only a registry root is dated from its contract month; give expiry")
    try:
        year, month = contracts.parse_contract_month(inst.contract_month)
    except ValueError as exc:
        raise InputError(file, path, str(exc)) from None
    if month not in spec.months:
        raise InputError(file, path, f"{spec.root} lists no {year:04d}-{month:02d} contract")
    if inst.expiry is not None and (inst.expiry.year, inst.expiry.month) != (year, month):
        raise InputError(file, path, f"{inst.contract_month} disagrees with expiry {inst.expiry}")
    try:
        last = spec.expiry(year, month)
    except ValueError as exc:
        raise InputError(file, path, str(exc)) from None
    if last < cfg.portfolio.as_of:
        raise InputError(file, path, f"{spec.local_symbol(year, month)} last traded {last}, before portfolio.as_of {cfg.portfolio.as_of}")
    return year, month


def _check_overlay_lists(cfg: PortfolioConfig, file: str | None) -> None:
    owner: dict[str, str] = {}
    for i, sleeve in enumerate(cfg.sleeves):
        swap_at: int | None = None
        for j, key in enumerate(sleeve.overlay):
            path = f"sleeves[{i}].overlay[{j}]"
            inst = cfg.instruments.get(key)
            if inst is None:
                raise InputError(file, path, f"unknown instrument {key!r} (not in [instruments])")
            if key in owner:
                raise InputError(file, path, f"instrument {key!r} already serves sleeve {owner[key]!r}")
            owner[key] = sleeve.name
            if isinstance(inst, SwapInstrument):
                if swap_at is not None:
                    raise InputError(file, path, f"at most one swap per sleeve (already {sleeve.overlay[swap_at]!r})")
                swap_at = j
            elif swap_at is not None:
                raise InputError(file, path, f"future {key!r} after the swap {sleeve.overlay[swap_at]!r}: futures come first")


def _check_positions(cfg: PortfolioConfig, file: str | None) -> None:
    served = {key for s in cfg.sleeves for key in s.overlay}
    seen: dict[str, int] = {}
    for i, pos in enumerate(cfg.positions):
        path = f"positions[{i}]"
        inst = cfg.instruments.get(pos.instrument)
        if inst is None:
            raise InputError(file, f"{path}.instrument", f"unknown instrument {pos.instrument!r}")
        if pos.instrument not in served:
            raise InputError(file, f"{path}.instrument", f"{pos.instrument!r} is in no sleeve's overlay list")
        if pos.instrument in seen:
            raise InputError(file, f"{path}.instrument", f"second position in {pos.instrument!r} (also positions[{seen[pos.instrument]}])")
        seen[pos.instrument] = i
        if isinstance(inst, FutureInstrument) and pos.quantity != int(pos.quantity):
            raise InputError(file, f"{path}.quantity", f"a futures position is a whole number of contracts, got {pos.quantity:g}")


def _check_cash_flows(cfg: PortfolioConfig, file: str | None) -> None:
    total = math.fsum(f.amount for f in cfg.cash_flows)
    physical = math.fsum(s.value for s in cfg.sleeves)
    if total < 0 and -total > physical:
        raise InputError(
            file, "cash_flows", f"withdrawals of {-total:,.2f} exceed the sleeves' physical value {physical:,.2f}"
        )
    if physical + cfg.portfolio.cash + total <= 0:
        raise InputError(file, "sleeves", "the portfolio has no value: sleeve values, cash and cash flows sum to zero")


def _check_market(cfg: PortfolioConfig, file: str | None) -> None:
    base_dir = Path(file).parent if file else Path(".")
    for key, market in cfg.market.items():
        if key not in cfg.instruments:
            raise InputError(file, f"market.{key}", f"unknown instrument {key!r} (not in [instruments])")
        if market.bars is not None:
            path = Path(market.bars)
            if not path.is_absolute():
                path = base_dir / path
            if not path.is_file():
                raise InputError(file, f"market.{key}.bars", f"file not found: {market.bars}")
