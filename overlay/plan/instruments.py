"""Instruments as the planner uses them: registry defaults filled in, fx applied, expiry and roll.

A future's contract month is its ``expiry``'s month when the config gives one, otherwise the
registry's front contract on ``as_of``. It is in its roll window when the business days from
``as_of`` to the last trade date are at most ``roll_days``; the next contract is the registry's
next month in the cycle (three months later for a future without a registry root).

The next contract is priced from this one by cost of carry
(:func:`pricing.futures.next_contract_price`) with the instrument's ``rate`` and
``dividend_yield``; without a ``rate`` it is priced like this one.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from overlay.config.models import FutureInstrument, PortfolioConfig, Sleeve, SwapInstrument
from pricing import contracts
from pricing import futures as fut
from pricing.swaps import TrsTerms


@dataclass(frozen=True, slots=True)
class ContractMonth:
    year: int
    month: int
    local_symbol: str | None

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True)
class ResolvedFuture:
    """A future with every number the planner needs (prices in instrument currency)."""

    key: str
    price: float
    multiplier: float
    currency: str
    fx: float
    config: FutureInstrument
    expiry: dt.date | None
    contract: ContractMonth | None
    next_contract: ContractMonth | None
    roll: bool
    next_price: float  # the next contract's price, by carry (instrument currency)

    @property
    def trading_price(self) -> float:
        """Price of the contract new orders go to: the next one inside the roll window."""
        return self.next_price if self.roll else self.price

    @functools.cached_property
    def notional_per_contract(self) -> float:
        """Base currency: ``price × multiplier × fx`` (see :func:`pricing.futures.notional_per_contract`)."""
        return self.price * self.multiplier * self.fx

    def exposure_per_contract(self, sleeve: Sleeve, price: float | None = None) -> float:
        """Sleeve exposure of one contract (base currency): by DV01 when the future has a
        ``dv01`` and the sleeve a ``duration``, else ``price × multiplier × fx / β`` (at this
        contract's price unless ``price`` is given)."""
        if self.config.dv01 is not None and sleeve.duration is not None:
            return float(fut.dv01_exposure_per_contract(self.config.dv01, sleeve.duration, self.fx))
        p = self.price if price is None else price
        return float(fut.beta_exposure_per_contract(p, self.multiplier, self.fx, sleeve.beta))

    @property
    def trading_contract(self) -> ContractMonth | None:
        """The contract new orders go to: the next one inside the roll window."""
        return self.next_contract if self.roll else self.contract

    def fair_value(self, as_of: dt.date) -> float | None:
        c = self.config
        if c.spot is None or c.rate is None or self.expiry is None:
            return None
        return float(fut.fair_value(c.spot, c.rate, c.dividend_yield, fut.year_fraction(as_of, self.expiry)))

    @property
    def margin_per_contract(self) -> float | None:
        """Initial margin per contract in base currency."""
        return None if self.config.initial_margin is None else self.config.initial_margin * self.fx


@dataclass(frozen=True, slots=True)
class ResolvedSwap:
    key: str
    currency: str
    fx: float
    terms: TrsTerms
    min_notional: float  # swap currency
    rate: float | None


def _month(spec: contracts.ContractSpec | None, year: int, month: int) -> ContractMonth:
    return ContractMonth(year, month, spec.local_symbol(year, month) if spec else None)


@functools.lru_cache(maxsize=4096)
def _calendar(
    root: str | None, as_of: dt.date, expiry: dt.date | None, roll_days: int
) -> tuple[dt.date | None, ContractMonth | None, ContractMonth | None, bool, dt.date | None]:
    """(expiry, contract, next contract, in roll window, next expiry) for one future; pure, so cached."""
    spec = contracts.get(root) if root else None
    contract = nxt = next_expiry = None
    if expiry is None and spec is not None:
        y, m = spec.contract_month(as_of)
        expiry = spec.expiry(y, m)
    if expiry is not None:
        listed = spec is not None and expiry.month in spec.months
        contract = _month(spec if listed else None, expiry.year, expiry.month)
        if listed:
            nxt = _month(spec, *spec.next_contract(expiry.year, expiry.month))  # type: ignore[union-attr]
            next_expiry = spec.expiry(nxt.year, nxt.month)  # type: ignore[union-attr]
        else:
            y, m0 = divmod(expiry.year * 12 + expiry.month - 1 + 3, 12)
            nxt = ContractMonth(y, m0 + 1, None)
            next_expiry = expiry + dt.timedelta(days=91)  # a quarter later
    roll = expiry is not None and contracts.business_days_between(as_of, expiry) <= roll_days
    return expiry, contract, nxt, roll, next_expiry


def resolve_future(key: str, c: FutureInstrument, cfg: PortfolioConfig) -> ResolvedFuture:
    spec = contracts.get(c.root) if c.root else None
    multiplier = c.multiplier if c.multiplier is not None else spec.multiplier  # type: ignore[union-attr]
    currency = c.currency or (spec.currency if spec else cfg.portfolio.currency)
    expiry, contract, nxt, roll, next_expiry = _calendar(c.root, cfg.portfolio.as_of, c.expiry, c.roll_days)
    next_price = c.price
    if expiry is not None and next_expiry is not None:
        tick = c.tick if c.tick is not None else (spec.tick if spec else None)
        next_price = fut.next_contract_price(c.price, c.rate, c.dividend_yield, expiry, next_expiry, tick)
    return ResolvedFuture(
        key=key,
        price=c.price,
        multiplier=float(multiplier),
        currency=currency,
        fx=cfg.fx_rate(currency),
        config=c,
        expiry=expiry,
        contract=contract,
        next_contract=nxt,
        roll=roll,
        next_price=next_price,
    )


def resolve_swap(key: str, c: SwapInstrument, cfg: PortfolioConfig) -> ResolvedSwap:
    currency = c.currency or cfg.portfolio.currency
    terms = TrsTerms(financing_spread_bps=c.financing_spread_bps, booking_cost_bps=c.booking_cost_bps)
    return ResolvedSwap(key, currency, cfg.fx_rate(currency), terms, c.min_notional, c.rate)


def resolve_instruments(cfg: PortfolioConfig) -> dict[str, ResolvedFuture | ResolvedSwap]:
    """Every configured instrument, resolved, in config order."""
    out: dict[str, ResolvedFuture | ResolvedSwap] = {}
    for key, c in cfg.instruments.items():
        out[key] = resolve_future(key, c, cfg) if isinstance(c, FutureInstrument) else resolve_swap(key, c, cfg)
    return out
