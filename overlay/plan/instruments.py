"""Instruments as the planner uses them: registry defaults filled in, fx applied, contracts dated.

A future's **held** contract (where the config's positions are) and **trading** contract (where
new exposure goes) come from :func:`overlay.plan.rolls.future_calendar`: the registry's dates
on the exchange's business days and its roll rule. From the held contract's roll date on the
future is rolling (``roll``): its positions move into the trading contract.

The trading contract is priced at the config's ``next_price`` when given (``priced_at =
MARKET``), else from the held one by cost of carry (:func:`pricing.futures.next_contract_price`)
with the instrument's ``rate`` and ``dividend_yield`` (``priced_at = CARRY``; flat without a
``rate``).
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
from dataclasses import dataclass

from overlay.config.models import FutureInstrument, PortfolioConfig, Sleeve, SwapInstrument
from overlay.plan.rolls import DatedContract, FutureCalendar, future_calendar
from pricing import contracts
from pricing import futures as fut
from pricing.swaps import TrsTerms


@dataclass(frozen=True, slots=True)
class ContractMonth:
    """A dated contract month of a future, with its local symbol where the registry gives one."""

    year: int
    month: int
    local_symbol: str | None

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


class PriceSource(enum.Enum):
    """Where the next contract's price comes from."""

    MARKET = "market"  # the config's next_price
    CARRY = "carry"  # cost of carry from this contract's price


@dataclass(frozen=True)
class ResolvedFuture:
    """A future with every number the planner needs (prices in instrument currency)."""

    key: str
    price: float
    multiplier: float
    currency: str
    fx: float
    config: FutureInstrument
    expiry: dt.date  # last trade date of the held contract
    contract: ContractMonth  # the held contract
    next_contract: ContractMonth | None  # the contract a roll goes into (None when not rolling)
    roll: bool
    next_price: float  # the trading contract's price when rolling (instrument currency)
    dates: FutureCalendar
    priced_at: PriceSource
    tick: float | None

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

    def roll_cost(self, quantity: int) -> fut.RollCost:
        """The cost of rolling ``quantity`` contracts into the next one: the spread
        ``next_price − price`` against its carry fair value (:func:`pricing.futures.roll_cost`)."""
        c = self.config
        held, trading = self.dates.held, self.dates.trading
        fair = fut.calendar_spread_fair_value(self.price, c.rate, c.dividend_yield, held.last_trade, trading.last_trade)
        if self.priced_at is PriceSource.CARRY:
            fair = self.next_price - self.price  # priced at carry: the market spread is the fair one (tick-rounded)
        return fut.roll_cost(quantity, self.price, self.next_price, fair, self.multiplier)

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
    """A swap as the planner uses it: its currency, fx to the base currency and booking terms."""

    key: str
    currency: str
    fx: float
    terms: TrsTerms
    min_notional: float  # swap currency
    rate: float | None


def _month(c: DatedContract) -> ContractMonth:
    return ContractMonth(c.year, c.month, c.local_symbol)


def resolve_future(key: str, c: FutureInstrument, cfg: PortfolioConfig) -> ResolvedFuture:
    spec = contracts.REGISTRY.get(c.root.upper()) if c.root else None
    multiplier = c.multiplier if c.multiplier is not None else spec.multiplier  # type: ignore[union-attr]
    currency = c.currency or (spec.currency if spec else cfg.portfolio.currency)
    tick = c.tick if c.tick is not None else (spec.tick if spec else None)
    cal = future_calendar(c.root if spec else None, c.exchange, cfg.portfolio.as_of, c.expiry, c.contract_month, c.roll_days)
    held, trading = cal.held, cal.trading
    priced_at = PriceSource.MARKET if c.next_price is not None else PriceSource.CARRY
    next_price = c.price
    if cal.roll:
        next_price = c.next_price if c.next_price is not None else fut.next_contract_price(
            c.price, c.rate, c.dividend_yield, held.last_trade, trading.last_trade, tick
        )
    return ResolvedFuture(
        key=key,
        price=c.price,
        multiplier=float(multiplier),
        currency=currency,
        fx=cfg.fx_rate(currency),
        config=c,
        expiry=held.last_trade,
        contract=_month(held),
        next_contract=_month(trading) if cal.roll else None,
        roll=cal.roll,
        next_price=float(next_price),
        dates=cal,
        priced_at=priced_at,
        tick=tick,
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
