"""Market-impact models implementing :class:`pricing.impact.ImpactModel`.

Notation shared by every model (all arguments broadcast as numpy arrays):

- ``Q``  quantity, units (shares or contracts); the sign is ignored, cost is for ``|Q|``;
- ``T``  horizon, trading days;
- ``P``  arrival price, currency per unit;
- ``σ``  daily volatility as a fraction of price (0.019 = 1.9 % a day);
- ``V``  average daily volume, units per day;
- ``r``  trading rate, units per day (``r = Q/T`` for a constant-rate trade).

Each model returns a :class:`~pricing.impact.CostBreakdown` in currency. ``epsilon`` (currency
per unit: half spread plus fees, a fixed cost per unit traded) is reported under ``spread``
and is never part of ``temporary_impact``.

Permanent-impact bookkeeping: if ``I(q)`` (``permanent_impact``) is the mid-price shift left
after ``q`` units, a constant-rate trade pays ``∫₀^Q I(q) dq``; for ``I(q) ∝ q^α`` that is
``Q·I(Q)/(1+α)``, which is the protocol's ``½·Q·I(Q)`` in the linear case ``α = 1``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike

from pricing.impact.base import Array, CostBreakdown
from pricing.units import TRADING_DAYS_PER_YEAR


class ImpactSpecError(ValueError):
    """A bad impact-model spec; ``key`` names the offending entry (None for the whole table)."""

    def __init__(self, key: str | None, problem: str) -> None:
        self.key = key
        self.problem = problem
        super().__init__(f"{key}: {problem}" if key else problem)


def _f(x: ArrayLike) -> Array:
    return np.asarray(x, dtype=np.float64)


def _check_nonneg(**values: float) -> None:
    for key, value in values.items():
        if not np.isfinite(value) or value < 0:
            raise ImpactSpecError(key, f"must be a finite number >= 0, got {value!r}")


def _check_pos(**values: float) -> None:
    for key, value in values.items():
        if not np.isfinite(value) or value <= 0:
            raise ImpactSpecError(key, f"must be a finite number > 0, got {value!r}")


def _zeros_like(*arrays: Array) -> Array:
    return np.zeros(np.broadcast_shapes(*(a.shape for a in arrays)))


@dataclass(frozen=True, slots=True)
class NullImpact:
    """No cost at all: every part of the breakdown is zero."""

    name: ClassVar[str] = "none"

    def cost(self, quantity, horizon_days, price, daily_vol, adv) -> CostBreakdown:
        z = _zeros_like(_f(quantity), _f(horizon_days), _f(price), _f(daily_vol), _f(adv))
        return CostBreakdown(spread=z, temporary=z, permanent=z, fees=z)

    def temporary_impact(self, rate, price, daily_vol, adv) -> Array:
        return _zeros_like(_f(rate), _f(price), _f(daily_vol), _f(adv))

    def permanent_impact(self, quantity, price, daily_vol, adv) -> Array:
        return _zeros_like(_f(quantity), _f(price), _f(daily_vol), _f(adv))


@dataclass(frozen=True, slots=True)
class LinearImpact:
    """Linear impact of Almgren & Chriss (2000), in the paper's absolute units.

    - ``epsilon``: fixed cost, currency per unit (half spread plus fees), under ``spread``;
    - ``eta``: temporary impact, currency per unit per (unit/day): ``h(r) = η·|r|``;
    - ``gamma``: permanent impact, currency per unit per unit: ``g(Q) = γ·|Q|``.

    Constant-rate cost of ``Q`` over ``T`` days (continuous time)::

        spread = ε|Q|,   temporary = η Q²/T,   permanent = ½ γ Q²

    The continuous formula uses ``η``; the paper's discrete schedule with ``N`` intervals of
    ``τ = T/N`` days replaces it by ``η̃ = η − γτ/2`` (see :mod:`pricing.almgren_chriss`).
    Price, volatility and volume do not enter: the coefficients are absolute.
    """

    eta: float
    gamma: float = 0.0
    epsilon: float = 0.0
    name: ClassVar[str] = "almgren-chriss"

    def __post_init__(self) -> None:
        _check_nonneg(eta=self.eta, gamma=self.gamma, epsilon=self.epsilon)

    def cost(self, quantity, horizon_days, price, daily_vol, adv) -> CostBreakdown:
        q, t = np.abs(_f(quantity)), _f(horizon_days)
        shape = _zeros_like(q, t, _f(price), _f(daily_vol), _f(adv))
        spread = self.epsilon * q + shape
        temporary = self.eta * q * q / t + shape
        permanent = 0.5 * self.gamma * q * q + shape
        return CostBreakdown(spread=spread, temporary=temporary, permanent=permanent, fees=shape)

    def temporary_impact(self, rate, price, daily_vol, adv) -> Array:
        return self.eta * np.abs(_f(rate)) + _zeros_like(_f(price), _f(daily_vol), _f(adv))

    def permanent_impact(self, quantity, price, daily_vol, adv) -> Array:
        return self.gamma * np.abs(_f(quantity)) + _zeros_like(_f(price), _f(daily_vol), _f(adv))


@dataclass(frozen=True, slots=True)
class SquareRootImpact:
    """The square-root law (Tóth et al. 2011): impact ≈ Y σ √(Q/V) of the price.

    ``temporary_impact(r) = Y · σ · P · (r · 1 day / V)^exponent`` (currency per unit), so a
    constant-rate trade of ``Q`` over one day pays ``Y σ P √(Q/V)`` per unit, the classic law.
    Over ``T`` days the per-unit cost is ``Y σ P (Q/(V T))^exponent``: a shorter horizon means
    a faster rate and costs more, a longer one costs less.

    ``permanent_fraction`` ``f`` (default 0) adds a permanent shift
    ``I(q) = f · Y σ P (q/V)^exponent``; a constant-rate trade then pays
    ``Q·I(Q)/(1+exponent)`` of permanent cost. ``epsilon`` is a fixed cost per unit.
    """

    y: float = 1.0
    exponent: float = 0.5
    permanent_fraction: float = 0.0
    epsilon: float = 0.0
    name: ClassVar[str] = "square-root"

    def __post_init__(self) -> None:
        _check_nonneg(y=self.y, permanent_fraction=self.permanent_fraction, epsilon=self.epsilon)
        _check_pos(exponent=self.exponent)

    def cost(self, quantity, horizon_days, price, daily_vol, adv) -> CostBreakdown:
        q, t = np.abs(_f(quantity)), _f(horizon_days)
        p, s, v = _f(price), _f(daily_vol), _f(adv)
        temporary = q * self.temporary_impact(q / t, p, s, v)
        permanent = q * self.permanent_impact(q, p, s, v) / (1.0 + self.exponent)
        spread = self.epsilon * q + np.zeros_like(temporary)
        return CostBreakdown(spread=spread, temporary=temporary, permanent=permanent, fees=np.zeros_like(temporary))

    def temporary_impact(self, rate, price, daily_vol, adv) -> Array:
        return self.y * _f(daily_vol) * _f(price) * (np.abs(_f(rate)) / _f(adv)) ** self.exponent

    def permanent_impact(self, quantity, price, daily_vol, adv) -> Array:
        base = self.y * _f(daily_vol) * _f(price) * (np.abs(_f(quantity)) / _f(adv)) ** self.exponent
        return self.permanent_fraction * base


@dataclass(frozen=True, slots=True)
class ATHL2005Impact:
    """Almgren, Thum, Hauptmann & Li (2005), "Direct estimation of equity market impact".

    As fractions of the pre-trade price (σ daily, ``Θ`` = ``shares_outstanding``)::

        permanent  I = γ σ (Q/V)^α (Θ/V)^δ
        realised   J = I/2 + η σ |Q/(V T)|^β

    with the paper's γ = 0.314, η = 0.142, β = 0.6, δ = 1/4, α = 1. In currency:
    ``permanent_impact(Q) = P·I(Q)``, ``temporary_impact(r) = P η σ (r/V)^β`` and
    ``cost = Q·P·J`` (with ``I/2`` generalised to ``I/(1+α)``). ``epsilon`` is a fixed cost
    per unit reported under ``spread``.
    """

    shares_outstanding: float
    gamma: float = 0.314
    eta: float = 0.142
    beta: float = 0.6
    delta: float = 0.25
    alpha: float = 1.0
    epsilon: float = 0.0
    name: ClassVar[str] = "athl-2005"

    def __post_init__(self) -> None:
        _check_pos(shares_outstanding=self.shares_outstanding, beta=self.beta, alpha=self.alpha)
        _check_nonneg(gamma=self.gamma, eta=self.eta, delta=self.delta, epsilon=self.epsilon)

    def permanent_fraction(self, quantity, daily_vol, adv) -> Array:
        """``I = γ σ (|Q|/V)^α (Θ/V)^δ``, a fraction of price."""
        v = _f(adv)
        return self.gamma * _f(daily_vol) * (np.abs(_f(quantity)) / v) ** self.alpha * (self.shares_outstanding / v) ** self.delta

    def temporary_fraction(self, quantity, horizon_days, daily_vol, adv) -> Array:
        """``η σ |Q/(V T)|^β``, a fraction of price."""
        return self.eta * _f(daily_vol) * (np.abs(_f(quantity)) / (_f(adv) * _f(horizon_days))) ** self.beta

    def cost(self, quantity, horizon_days, price, daily_vol, adv) -> CostBreakdown:
        q, t = np.abs(_f(quantity)), _f(horizon_days)
        p, s, v = _f(price), _f(daily_vol), _f(adv)
        temporary = q * p * self.temporary_fraction(q, t, s, v)
        permanent = q * p * self.permanent_fraction(q, s, v) / (1.0 + self.alpha)
        spread = self.epsilon * q + np.zeros_like(temporary)
        return CostBreakdown(spread=spread, temporary=temporary, permanent=permanent, fees=np.zeros_like(temporary))

    def temporary_impact(self, rate, price, daily_vol, adv) -> Array:
        return _f(price) * self.eta * _f(daily_vol) * (np.abs(_f(rate)) / _f(adv)) ** self.beta

    def permanent_impact(self, quantity, price, daily_vol, adv) -> Array:
        return _f(price) * self.permanent_fraction(quantity, daily_vol, adv)


@dataclass(frozen=True, slots=True)
class IStarImpact:
    """Kissell's I-Star model (Kissell, Glantz & Malamut 2004; Kissell 2013).

    In basis points of the arrival price, with ``σ_a = σ·√252`` the *annual* volatility as a
    decimal (passing daily σ would understate the impact about 7×)::

        I*  = a1 · (Q/V)^a2 · σ_a^a3
        MI  = b1 · I* · POV^a4 + (1 − b1) · I*,     POV = Q / (Q + V·T)

    ``POV`` is the participation rate: the order's share of all volume traded while it
    works. The cost is ``MI · 1e-4 · P · Q``: the first term is temporary, the second
    permanent.

    Protocol functions: ``permanent_impact(Q) = (1 + a2)(1 − b1) I*(Q) · 1e-4 · P`` so that
    ``∫₀^Q permanent_impact`` reproduces the permanent cost exactly;
    ``temporary_impact(r) = b1 · I*(r·1 day) · (r/(r+V))^a4 · 1e-4 · P``, which reproduces the
    temporary cost exactly for a one-day horizon. Over ``T`` days Kissell's ``I*`` uses the
    whole order, so ``cost.temporary = Q · temporary_impact(Q/T) · T^a2``.
    """

    a1: float = 708.0
    a2: float = 0.55
    a3: float = 0.71
    a4: float = 0.50
    b1: float = 0.98
    epsilon: float = 0.0
    name: ClassVar[str] = "i-star"

    def __post_init__(self) -> None:
        _check_nonneg(a1=self.a1, a2=self.a2, a3=self.a3, a4=self.a4, epsilon=self.epsilon)
        if not 0.0 <= self.b1 <= 1.0:
            raise ImpactSpecError("b1", f"must lie in [0, 1], got {self.b1!r}")

    def istar_bps(self, quantity, daily_vol, adv) -> Array:
        """Instantaneous impact ``I* = a1 (|Q|/V)^a2 σ_a^a3`` in basis points."""
        annual = _f(daily_vol) * np.sqrt(TRADING_DAYS_PER_YEAR)
        return self.a1 * (np.abs(_f(quantity)) / _f(adv)) ** self.a2 * annual**self.a3

    def market_impact_bps(self, quantity, horizon_days, daily_vol, adv) -> tuple[Array, Array]:
        """(temporary, permanent) parts of ``MI`` in basis points."""
        q, v = np.abs(_f(quantity)), _f(adv)
        istar = self.istar_bps(q, daily_vol, v)
        pov = q / (q + v * _f(horizon_days))
        return self.b1 * istar * pov**self.a4, (1.0 - self.b1) * istar

    def cost(self, quantity, horizon_days, price, daily_vol, adv) -> CostBreakdown:
        q, p = np.abs(_f(quantity)), _f(price)
        temp_bps, perm_bps = self.market_impact_bps(q, horizon_days, daily_vol, adv)
        notional = q * p * 1e-4
        temporary = temp_bps * notional
        permanent = perm_bps * notional + np.zeros_like(temporary)
        spread = self.epsilon * q + np.zeros_like(temporary)
        return CostBreakdown(spread=spread, temporary=temporary, permanent=permanent, fees=np.zeros_like(temporary))

    def temporary_impact(self, rate, price, daily_vol, adv) -> Array:
        r, v = np.abs(_f(rate)), _f(adv)
        pov = r / (r + v)
        return self.b1 * self.istar_bps(r, daily_vol, v) * pov**self.a4 * 1e-4 * _f(price)

    def permanent_impact(self, quantity, price, daily_vol, adv) -> Array:
        scale = (1.0 + self.a2) * (1.0 - self.b1) * 1e-4
        return scale * self.istar_bps(quantity, daily_vol, adv) * _f(price)


# --------------------------------------------------------------------------- factory

_MODELS: dict[str, type] = {
    "none": NullImpact,
    "almgren-chriss": LinearImpact,
    "square-root": SquareRootImpact,
    "athl-2005": ATHL2005Impact,
    "i-star": IStarImpact,
}

#: Parameters each model name accepts in a spec table (besides ``model``/``preset``).
MODEL_PARAMS: dict[str, tuple[str, ...]] = {
    "none": (),
    "almgren-chriss": ("eta", "gamma", "epsilon"),
    "square-root": ("y", "exponent", "permanent_fraction", "epsilon"),
    "athl-2005": ("shares_outstanding", "gamma", "eta", "beta", "delta", "alpha", "epsilon"),
    "i-star": ("a1", "a2", "a3", "a4", "b1", "epsilon"),
}

_REQUIRED: dict[str, tuple[str, ...]] = {"almgren-chriss": ("eta",), "athl-2005": ("shares_outstanding",)}


@dataclass(frozen=True, slots=True)
class Preset:
    """Published parameters for one model, with their source."""

    model: str
    params: tuple[tuple[str, float], ...]
    source: str

    @property
    def spec(self) -> dict[str, float | str]:
        """The spec table ``{"model": ..., **params}`` accepted by :func:`model_from_spec`."""
        return {"model": self.model, **dict(self.params)}

    def build(self, **overrides: float):
        """The model with these parameters, overridden by ``overrides``."""
        return model_from_spec({**self.spec, **overrides})


presets: dict[str, Preset] = {
    "almgren-chriss-2000-table1": Preset(
        "almgren-chriss",
        (("epsilon", 0.0625), ("eta", 2.5e-6), ("gamma", 2.5e-7)),
        "Almgren & Chriss (2000), Optimal execution of portfolio transactions, J. Risk 3(2), "
        "Table 1 (S0 = 50, ADV 5 million)",
    ),
    "athl-2005": Preset(
        "athl-2005",
        (("gamma", 0.314), ("eta", 0.142), ("beta", 0.6), ("delta", 0.25), ("alpha", 1.0)),
        "Almgren, Thum, Hauptmann & Li (2005), Direct estimation of equity market impact, "
        "Risk 18(7); needs shares_outstanding",
    ),
    "kissell-all-data": Preset(
        "i-star",
        (("a1", 708.0), ("a2", 0.55), ("a3", 0.71), ("a4", 0.50), ("b1", 0.98)),
        "Kissell (2013), The Science of Algorithmic Trading and Portfolio Management, "
        "I-Star 'all data' fit",
    ),
    "square-root-toth-2011": Preset(
        "square-root",
        (("y", 1.0), ("exponent", 0.5)),
        "Tóth et al. (2011), Anomalous price impact and the critical nature of liquidity, "
        "Phys. Rev. X 1, 021006: Y of order one, exponent 1/2",
    ),
    "square-root-sato-kanazawa-2024": Preset(
        "square-root",
        (("y", 1.0), ("exponent", 0.49)),
        "Sato & Kanazawa (2024), Tokyo Stock Exchange account-level study: exponent 0.49",
    ),
}


def model_from_spec(spec: dict):
    """Build an impact model from a spec table such as ``{"model": "square-root", "y": 0.7}``.

    ``model`` (alias ``name``) is one of ``"none"``, ``"almgren-chriss"``, ``"square-root"``,
    ``"athl-2005"``, ``"i-star"``; or ``preset`` names an entry of :data:`presets` whose
    parameters the other keys override. Parameters not given take the model's published
    defaults. Raises :class:`ImpactSpecError` (a ``ValueError``) naming the bad key.
    """
    if not isinstance(spec, dict):
        raise ImpactSpecError(None, f"impact spec must be a table, got {type(spec).__name__}")
    table = dict(spec)
    if "preset" in table:
        key = table.pop("preset")
        if key not in presets:
            raise ImpactSpecError("preset", f"unknown preset {key!r}; known: {', '.join(sorted(presets))}")
        base = presets[key].spec
        if table.get("model", table.get("name", base["model"])) != base["model"]:
            raise ImpactSpecError("model", f"preset {key!r} is a {base['model']!r} model")
        table.pop("name", None)
        table = {**base, **table}
    if "model" in table and "name" in table:
        raise ImpactSpecError("name", "give the model as 'model' or 'name', not both")
    name_key = "model" if "model" in table else "name"
    name = table.pop(name_key, None)
    if name is None:
        raise ImpactSpecError("model", f"missing; one of {', '.join(_MODELS)}")
    if name not in _MODELS:
        raise ImpactSpecError(name_key, f"unknown model {name!r}; one of {', '.join(_MODELS)}")
    allowed = MODEL_PARAMS[name]
    for key, value in table.items():
        if key not in allowed:
            hint = f"; {name} takes {', '.join(allowed)}" if allowed else f"; {name} takes no parameters"
            raise ImpactSpecError(key, f"unknown parameter for model {name!r}{hint}")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ImpactSpecError(key, f"must be a number, got {value!r}")
    for key in _REQUIRED.get(name, ()):
        if key not in table:
            raise ImpactSpecError(key, f"required by model {name!r}")
    return _MODELS[name](**{k: float(v) for k, v in table.items()})
