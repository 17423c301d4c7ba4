"""The ``overlay cost`` spec: one order and one impact model, and the pre-trade estimate.

A spec is a TOML file with two tables (see the CLI reference)::

    [order]
    quantity = -1_000_000   # units to buy (> 0) or sell (< 0), the plan's sign
    price = 50.0            # arrival price, price units
    instrument = "ES"       # a registry root: multiplier and currency from the registry, or
    # multiplier = 50.0     # currency per price unit per unit traded (default 1)
    # currency = "USD"      # the currency costs are reported in (default: none named)
    horizon_days = 5.0      # execution horizon T, trading days
    periods = 5             # N trading intervals (required by almgren-chriss)
    adv = 5_000_000         # average daily volume (not needed by almgren-chriss)
    daily_vol = 0.019       # fraction of price per √day, or
    # sigma = 0.95          # currency per unit per √day

    [model]
    name = "almgren-chriss" # "almgren-chriss" | "square-root" | "athl-2005" | "i-star" | "none"
    eta = 2.5e-6
    gamma = 2.5e-7
    epsilon = 0.0625
    risk_aversion = 1e-6    # almgren-chriss only, 1/currency

:func:`load_cost_spec` validates everything and raises :class:`~overlay.errors.InputError`
(file, key path, problem) for any bad entry; :func:`estimate_cost` is pure and returns a
:class:`CostEstimate` whose :meth:`~CostEstimate.to_json` gives the ``--json`` object.

Units: ``price``, ``sigma``, ``eta``, ``gamma`` and ``epsilon`` are in price units (index
points for a future), as in the paper; every cost the estimate reports is in currency,
``price-unit cost × multiplier`` (3,000 ES at 5,000 is a notional of 3,000 × 5,000 × 50 =
750 million dollars). The models are symmetric in the side: a buy and a sale of the same
size cost the same; ``holdings`` and ``trades`` carry the order's sign (+ buy, − sell).

For the Almgren–Chriss model the estimate is the paper's discrete optimal schedule (with
``η̃ = η − γτ/2``). For the other models it is the model's constant-rate cost, and the
variance is that of the straight-line (TWAP) schedule, ``⅓σ²X²T(1 − 1/N)(1 − 1/(2N))``
(``⅓σ²X²T`` when ``periods`` is not given), ``σ`` in currency per √day.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from overlay.errors import InputError
from overlay.tomlfile import read_toml
from pricing import almgren_chriss as ac
from pricing import contracts
from pricing.impact import ImpactModel
from pricing.impact.models import MODEL_PARAMS, ImpactSpecError, model_from_spec
from pricing.units import BPS

ORDER_KEYS = ("quantity", "price", "horizon_days", "periods", "adv", "daily_vol", "sigma", "instrument", "multiplier",
              "currency")
AC_MODEL = "almgren-chriss"


@dataclass(frozen=True, slots=True)
class OrderSpec:
    """One order. ``quantity`` is signed, + buy and − sell (the plan's convention);
    ``daily_vol`` is a fraction of price; ``periods``/``adv`` may be None; ``multiplier`` is
    currency per price unit per unit traded (50 for ES), ``currency`` its ISO code."""

    quantity: float
    price: float
    horizon_days: float
    daily_vol: float
    periods: int | None = None
    adv: float | None = None
    multiplier: float = 1.0
    currency: str | None = None
    instrument: str | None = None

    @property
    def size(self) -> float:
        """Units to trade, unsigned."""
        return abs(self.quantity)

    @property
    def side(self) -> str:
        return "buy" if self.quantity > 0 else "sell"

    @property
    def sigma(self) -> float:
        """Absolute volatility, price units per unit per √day."""
        return self.daily_vol * self.price

    @property
    def notional(self) -> float:
        """Arrival notional, currency: ``|quantity| × price × multiplier``."""
        return abs(self.quantity) * self.price * self.multiplier


@dataclass(frozen=True, slots=True)
class CostSpec:
    """A validated spec. ``ac_params`` is set for the Almgren–Chriss model only."""

    order: OrderSpec
    model_name: str
    model: ImpactModel
    risk_aversion: float = 0.0
    ac_params: ac.ACParams | None = None
    file: str | None = None


@dataclass(frozen=True, slots=True)
class CostEstimate:
    """The pre-trade estimate; costs and ``notional`` in currency, variance in currency².
    ``schedule`` is the Almgren–Chriss schedule in the paper's units (unsigned, price units);
    :attr:`holdings` and :attr:`trades` are it in the order's sign. ``extra_bps`` holds the
    model's parts in bps and ``extra_cost`` the same parts in currency."""

    model: str
    expected_cost: float
    variance: float
    cost_bps: float
    schedule: ac.Schedule | None = None
    extra_bps: dict[str, float] = field(default_factory=dict)
    notional: float = 0.0
    currency: str | None = None
    sign: int = 1
    extra_cost: dict[str, float] = field(default_factory=dict)

    @property
    def holdings(self) -> list[float] | None:
        """Units still to trade after each period (first = quantity, last = 0), signed."""
        return None if self.schedule is None else [self.sign * float(x) + 0.0 for x in self.schedule.holdings]

    @property
    def trades(self) -> list[float] | None:
        """Units traded in each period, signed (+ buy, − sell)."""
        return None if self.schedule is None else [self.sign * float(n) + 0.0 for n in self.schedule.trades]

    @property
    def std(self) -> float:
        return math.sqrt(self.variance)

    @property
    def schedule_frame(self):
        """The optimal schedule as a DataFrame (period, time_days, trade, holdings); None
        for the models without one."""
        if self.schedule is None:
            return None
        from overlay import frames

        return frames.schedule(self.schedule.times, self.trades, self.holdings)

    def to_json(self) -> dict:
        """The ``overlay cost --json`` object (``half_life`` is null when infinite)."""
        out: dict = {
            "model": self.model,
            "currency": self.currency,
            "notional": self.notional,
            "expected_cost": self.expected_cost,
            "variance": self.variance,
            "std": self.std,
            "cost_bps": self.cost_bps,
        }
        if self.schedule is not None:
            s = self.schedule
            out["kappa"] = s.kappa
            out["half_life"] = s.half_life if math.isfinite(s.half_life) else None
            out["holdings"] = self.holdings
            out["trades"] = self.trades
        out.update(self.extra_bps)
        out.update(self.extra_cost)
        return out


def _number(table: dict, key: str, where: str, file: str | None) -> float:
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InputError(file, f"{where}.{key}", f"must be a finite number, got {value!r}")
    return float(value)


def _positive(table: dict, key: str, where: str, file: str | None) -> float:
    value = _number(table, key, where, file)
    if value <= 0:
        raise InputError(file, f"{where}.{key}", f"must be > 0, got {value:g}")
    return value


def _parse_order(table: object, model_name: str, file: str | None) -> OrderSpec:
    if not isinstance(table, dict):
        raise InputError(file, "order", "must be a table")
    for key in table:
        if key not in ORDER_KEYS:
            raise InputError(file, f"order.{key}", f"unknown key; expected one of {', '.join(ORDER_KEYS)}")
    for key in ("quantity", "price", "horizon_days"):
        if key not in table:
            raise InputError(file, f"order.{key}", "missing")
    quantity = _number(table, "quantity", "order", file)
    if quantity == 0:
        raise InputError(file, "order.quantity", "must be non-zero (> 0 buys, < 0 sells)")
    price = _positive(table, "price", "order", file)
    horizon = _positive(table, "horizon_days", "order", file)
    periods = None
    if "periods" in table:
        value = table["periods"]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InputError(file, "order.periods", f"must be an integer >= 1, got {value!r}")
        periods = value
    elif model_name == AC_MODEL:
        raise InputError(file, "order.periods", "missing; the almgren-chriss schedule needs it")
    adv = None
    if "adv" in table:
        adv = _positive(table, "adv", "order", file)
    elif model_name not in (AC_MODEL, "none"):
        raise InputError(file, "order.adv", f"missing; model {model_name!r} needs the average daily volume")
    if "daily_vol" in table and "sigma" in table:
        raise InputError(file, "order.sigma", "give daily_vol or sigma, not both")
    if "daily_vol" in table:
        daily_vol = _number(table, "daily_vol", "order", file)
    elif "sigma" in table:
        daily_vol = _number(table, "sigma", "order", file) / price
    else:
        raise InputError(file, "order.daily_vol", "missing volatility: give daily_vol (fraction of price) or sigma")
    if daily_vol < 0:
        raise InputError(file, "order.daily_vol" if "daily_vol" in table else "order.sigma", "must be >= 0")
    multiplier, currency, instrument = _contract(table, file)
    return OrderSpec(quantity, price, horizon, daily_vol, periods, adv, multiplier, currency, instrument)


def _contract(table: dict, file: str | None) -> tuple[float, str | None, str | None]:
    """``(multiplier, currency, instrument)`` from ``instrument`` (a registry root) or from
    ``multiplier`` and ``currency`` (default 1 and none)."""
    instrument = table.get("instrument")
    if instrument is not None:
        for key in ("multiplier", "currency"):
            if key in table:
                raise InputError(file, f"order.{key}", "give instrument or multiplier and currency, not both")
        if not isinstance(instrument, str):
            raise InputError(file, "order.instrument", f"must be a futures root such as \"ES\", got {instrument!r}")
        try:
            spec = contracts.get(instrument)
        except KeyError as exc:
            raise InputError(file, "order.instrument", str(exc.args[0])) from None
        return float(spec.multiplier), spec.currency, spec.root
    multiplier = _positive(table, "multiplier", "order", file) if "multiplier" in table else 1.0
    currency = table.get("currency")
    if currency is not None and not (isinstance(currency, str) and len(currency) == 3 and currency.isalpha()):
        raise InputError(file, "order.currency", f"must be a three-letter currency code, got {currency!r}")
    return multiplier, currency.upper() if currency else None, None


def parse_cost_spec(data: dict, file: str | None = None) -> CostSpec:
    """Validate a parsed spec (the TOML document as a dict)."""
    for key in data:
        if key not in ("order", "model"):
            raise InputError(file, key, "unknown table; expected [order] and [model]")
    model_table = data.get("model")
    if model_table is None:
        raise InputError(file, "model", "missing table")
    if not isinstance(model_table, dict):
        raise InputError(file, "model", "must be a table")
    if "order" not in data:
        raise InputError(file, "order", "missing table")
    model_table = dict(model_table)
    name = model_table.get("name", model_table.get("model"))
    if name is None:
        raise InputError(file, "model.name", f"missing; one of {', '.join(MODEL_PARAMS)}")
    if name not in MODEL_PARAMS:
        raise InputError(file, "model.name", f"unknown model {name!r}; one of {', '.join(MODEL_PARAMS)}")
    risk_aversion = 0.0
    if "risk_aversion" in model_table:
        if name != AC_MODEL:
            raise InputError(file, "model.risk_aversion", f"applies only to {AC_MODEL}, not {name!r}")
        risk_aversion = _number(model_table, "risk_aversion", "model", file)
        del model_table["risk_aversion"]
    order = _parse_order(data["order"], name, file)
    try:
        model = model_from_spec(model_table)
    except ImpactSpecError as exc:
        raise InputError(file, f"model.{exc.key}" if exc.key else "model", exc.problem) from None
    params = None
    if name == AC_MODEL:
        params = _ac_params(order, model, risk_aversion, file)
    return CostSpec(order, name, model, risk_aversion, params, file)


def _ac_params(order: OrderSpec, model, risk_aversion: float, file: str | None) -> ac.ACParams:
    assert order.periods is not None
    tau = order.horizon_days / order.periods
    eta_tilde = model.eta - 0.5 * model.gamma * tau
    if eta_tilde <= 0:
        raise InputError(
            file,
            "model.eta",
            f"eta_tilde = eta - gamma*tau/2 = {eta_tilde:.6g} must be > 0 (raise eta or use more periods)",
        )
    params = ac.ACParams(
        order.size, order.horizon_days, order.periods, order.sigma, model.eta, model.gamma, model.epsilon
    )
    lam_min = ac.min_risk_aversion(params)
    if risk_aversion <= lam_min:
        raise InputError(
            file,
            "model.risk_aversion",
            f"{risk_aversion:g} is too risk-loving: no optimal schedule for lambda <= {lam_min:.6g}",
        )
    return params


def load_cost_spec(path: str | Path) -> CostSpec:
    """Read and validate a spec file; every problem is an :class:`InputError`."""
    data = read_toml(path, "spec file")
    return parse_cost_spec(data, str(path))


def straight_line_variance(order: OrderSpec) -> float:
    """Variance of the TWAP schedule, ``⅓σ²X²T(1 − 1/N)(1 − 1/(2N))`` times the
    multiplier squared, currency²."""
    base = (order.sigma * order.multiplier) ** 2 * order.quantity**2 * order.horizon_days / 3.0
    if order.periods is None:
        return base
    n = order.periods
    return base * (1.0 - 1.0 / n) * (1.0 - 0.5 / n)


def estimate_cost(spec: CostSpec) -> CostEstimate:
    """The pre-trade estimate of :class:`CostSpec` (pure). The models work in price units
    on the unsigned size; costs are then scaled to currency by the multiplier."""
    order = spec.order
    m = order.multiplier
    sign = 1 if order.quantity > 0 else -1
    common = {"model": spec.model_name, "notional": order.notional, "currency": order.currency, "sign": sign}
    if spec.ac_params is not None:
        schedule = ac.optimal_schedule(spec.ac_params, spec.risk_aversion)
        return CostEstimate(
            expected_cost=schedule.expected_cost * m,
            variance=schedule.variance * m * m,
            cost_bps=BPS * schedule.expected_cost * m / order.notional,
            schedule=schedule,
            **common,
        )
    adv = order.adv if order.adv is not None else 1.0
    breakdown = spec.model.cost(order.size, order.horizon_days, order.price, order.daily_vol, adv)
    total = float(np.asarray(breakdown.total)) * m
    extra: dict[str, float] = {}
    if spec.model_name == "athl-2005":
        model = spec.model
        extra["permanent_bps"] = BPS * float(model.permanent_fraction(order.size, order.daily_vol, adv))
        extra["temporary_bps"] = BPS * float(
            model.temporary_fraction(order.size, order.horizon_days, order.daily_vol, adv)
        )
    elif spec.model_name == "square-root":
        extra["impact_bps"] = BPS * float(np.asarray(breakdown.temporary)) * m / order.notional
    return CostEstimate(
        expected_cost=total,
        variance=straight_line_variance(order),
        cost_bps=BPS * total / order.notional,
        extra_bps=extra,
        extra_cost={k.replace("_bps", "_cost"): v / BPS * order.notional for k, v in extra.items()},
        **common,
    )
