"""Almgren & Chriss (2000) optimal execution in discrete time.

Sell ``X`` units (``X < 0`` buys) over ``T`` days in ``N`` intervals of ``τ = T/N`` days,
holding ``x_k`` after the ``k``-th interval (``x_0 = X``, ``x_N = 0``) and trading
``n_k = x_{k-1} − x_k`` in it. With the linear impact of the paper (currency units):

- permanent impact ``g(v) = γ v``: the price drops ``γ n_k`` after each trade;
- temporary impact ``h(n/τ) = ε sgn(n) + (η/τ) n``;
- arithmetic Brownian price, volatility ``σ`` in currency per unit per √day.

The expected cost (implementation shortfall) and its variance of any schedule are::

    E = ½ γ X² + ε Σ|n_k| + (η̃/τ) Σ n_k²,      η̃ = η − γτ/2
    V = σ² τ Σ_{k=1..N} x_k²

Minimising ``E + λV`` gives ``x_j = sinh(κ(T − t_j)) / sinh(κT) · X``, where ``κ`` solves
``(2/τ²)(cosh κτ − 1) = κ̃²`` with ``κ̃² = λσ²/η̃`` (per day²), equivalently
``κ = (2/τ) arsinh(κ̃τ/2)``. The half-life of the trade is ``1/κ`` days; ``λ = 0`` gives
the straight line (TWAP). For ``λ < 0`` (risk-loving) ``κ̃² < 0`` and the solution turns
oscillatory: ``x_j = sin(θ(T − t_j)) / sin(θT) · X`` with ``θ = (2/τ) arcsin(|κ̃|τ/2)``,
back-loaded; it is the minimum only while ``θT < π``, i.e. for ``λ`` above
:func:`min_risk_aversion`. A risk-loving schedule reports ``kappa = −θ``.
"""

from __future__ import annotations

import cmath
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.float64]

#: Below this ``|κ|T`` the closed forms use the straight-line limit (relative error < 1e-10).
_SMALL_KT = 1e-5


@dataclass(frozen=True, slots=True)
class ACParams:
    """One order and its linear impact, in the paper's absolute units.

    ``quantity`` X units (> 0 sell, < 0 buy); ``horizon_days`` T; ``periods`` N;
    ``sigma`` currency per unit per √day; ``eta`` currency per unit per (unit/day);
    ``gamma`` currency per unit per unit; ``epsilon`` currency per unit.
    """

    quantity: float
    horizon_days: float
    periods: int
    sigma: float
    eta: float
    gamma: float = 0.0
    epsilon: float = 0.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.horizon_days) and self.horizon_days > 0):
            raise ValueError(f"horizon_days must be > 0, got {self.horizon_days!r}")
        if isinstance(self.periods, bool) or int(self.periods) != self.periods or self.periods < 1:
            raise ValueError(f"periods must be an integer >= 1, got {self.periods!r}")
        for key in ("sigma", "eta", "gamma", "epsilon"):
            value = getattr(self, key)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{key} must be a finite number >= 0, got {value!r}")
        if not math.isfinite(self.quantity):
            raise ValueError(f"quantity must be finite, got {self.quantity!r}")
        if self.eta_tilde <= 0:
            raise ValueError(
                f"eta_tilde = eta - gamma*tau/2 = {self.eta_tilde:.6g} must be > 0 "
                "(use more periods or a larger eta)"
            )

    @property
    def tau(self) -> float:
        """Interval length ``τ = T/N``, days."""
        return self.horizon_days / self.periods

    @property
    def eta_tilde(self) -> float:
        """Discrete-time temporary coefficient ``η̃ = η − γτ/2``."""
        return self.eta - 0.5 * self.gamma * self.tau

    @property
    def times(self) -> Array:
        """``t_k = kτ`` for ``k = 0..N``, days."""
        return np.arange(self.periods + 1) * self.tau


@dataclass(frozen=True, slots=True)
class Schedule:
    """An optimal schedule: ``holdings`` has N+1 values (X … 0), ``trades`` N values.

    ``kappa`` per day (negative for the risk-loving, oscillatory solution), ``half_life``
    ``1/κ`` days (``inf`` when ``κ <= 0``), ``expected_cost`` currency, ``variance``
    currency², both by summation over the schedule.
    """

    risk_aversion: float
    kappa: float
    half_life: float
    times: Array
    holdings: Array
    trades: Array
    expected_cost: float
    variance: float

    @property
    def std(self) -> float:
        """Standard deviation of the cost, currency."""
        return math.sqrt(self.variance)


@dataclass(frozen=True, slots=True)
class Frontier:
    """Efficient frontier: expected cost and variance for each risk aversion ``λ``."""

    risk_aversions: Array
    expected_cost: Array
    variance: Array

    @property
    def std(self) -> Array:
        return np.sqrt(self.variance)


def min_risk_aversion(params: ACParams) -> float:
    """The most negative ``λ`` with a minimum: ``λ_min = 2η̃(cos(π/N) − 1)/(σ²τ²)``.

    At and below it the discrete cost-plus-risk form stops being positive definite (its
    smallest eigenvalue is ``(η̃/τ)(2 − 2cos(π/N)) + λσ²τ``). Returns ``-inf`` when σ = 0.
    """
    if params.sigma == 0:
        return -math.inf
    tau = params.tau
    return 2.0 * params.eta_tilde * (math.cos(math.pi / params.periods) - 1.0) / (params.sigma**2 * tau**2)


def solve_kappa(params: ACParams, risk_aversion: float) -> float:
    """``κ`` per day from ``(2/τ²)(cosh κτ − 1) = λσ²/η̃``; ``−θ`` in the risk-loving case.

    Raises ``ValueError`` when ``λ <= min_risk_aversion(params)``.
    """
    lam = float(risk_aversion)
    if not math.isfinite(lam):
        raise ValueError(f"risk_aversion must be finite, got {risk_aversion!r}")
    tau = params.tau
    kt2 = lam * params.sigma**2 / params.eta_tilde
    if kt2 == 0:
        return 0.0
    if kt2 > 0:
        return 2.0 / tau * math.asinh(math.sqrt(kt2) * tau / 2.0)
    lam_min = min_risk_aversion(params)
    if lam <= lam_min:
        raise ValueError(
            f"risk_aversion {lam:.6g} is too risk-loving: no optimal schedule exists for "
            f"lambda <= {lam_min:.6g} with {params.periods} periods"
        )
    return -2.0 / tau * math.asin(math.sqrt(-kt2) * tau / 2.0)


def _holdings_fraction(kappa: float, params: ACParams) -> Array:
    """``x_j / X`` for the solution with this ``κ`` (stable for large ``κT``)."""
    t, horizon = params.times, params.horizon_days
    if kappa == 0:
        n = params.periods
        frac = (n - np.arange(n + 1)) / n
    elif kappa > 0:
        # sinh(κ(T−t))/sinh(κT) = e^{−κt} (1 − e^{−2κ(T−t)}) / (1 − e^{−2κT})
        frac = np.exp(-kappa * t) * np.expm1(-2.0 * kappa * (horizon - t)) / math.expm1(-2.0 * kappa * horizon)
    else:
        theta = -kappa
        frac = np.sin(theta * (horizon - t)) / math.sin(theta * horizon)
    frac[0], frac[-1] = 1.0, 0.0
    return frac


def expected_cost_sum(params: ACParams, holdings: ArrayLike) -> float:
    """``E = ½γX² + εΣ|n_k| + (η̃/τ)Σn_k²`` for any schedule of N+1 holdings, currency."""
    x = np.asarray(holdings, dtype=np.float64)
    n = -np.diff(x)
    return float(
        0.5 * params.gamma * params.quantity**2
        + params.epsilon * np.sum(np.abs(n))
        + params.eta_tilde / params.tau * np.dot(n, n)
    )


def variance_sum(params: ACParams, holdings: ArrayLike) -> float:
    """``V = σ²τ Σ_{k=1..N} x_k²`` for any schedule of N+1 holdings, currency²."""
    x = np.asarray(holdings, dtype=np.float64)[1:]
    return float(params.sigma**2 * params.tau * np.dot(x, x))


def closed_form(params: ACParams, risk_aversion: float) -> tuple[float, float]:
    """(E, V) of the optimal schedule from the paper's closed forms (its equation 20)::

        E = ½γX² + εX + η̃X² tanh(½κτ)(τ sinh 2κT + 2T sinh κτ) / (2τ² sinh² κT)
        V = ½σ²X² (τ sinh κT cosh κ(T−τ) − T sinh κτ) / (sinh² κT sinh κτ)

    ``λ = 0`` gives the straight line: ``E = ½γX² + εX + η̃X²/T`` and
    ``V = ⅓σ²X²T(1 − 1/N)(1 − 1/(2N))``. The risk-loving case substitutes ``κ = iθ``.
    The ``εX`` term assumes every trade has the sign of ``X`` (true for ``λ >= 0``).
    """
    x, horizon, tau = abs(params.quantity), params.horizon_days, params.tau
    n = params.periods
    kappa = solve_kappa(params, risk_aversion)
    base = 0.5 * params.gamma * x * x + params.epsilon * x
    if abs(kappa) * horizon < _SMALL_KT:
        e_imp = params.eta_tilde * x * x / horizon
        var = params.sigma**2 * x * x * horizon * (1 - 1 / n) * (1 - 0.5 / n) / 3.0
        return base + e_imp, var
    k = complex(kappa, 0.0) if kappa > 0 else complex(0.0, -kappa)
    sh_t = cmath.sinh(k * horizon)
    sh_tau = cmath.sinh(k * tau)
    e_imp = (
        params.eta_tilde
        * x
        * x
        * cmath.tanh(0.5 * k * tau)
        * (tau * cmath.sinh(2 * k * horizon) + 2 * horizon * sh_tau)
        / (2 * tau * tau * sh_t * sh_t)
    )
    var = (
        0.5
        * params.sigma**2
        * x
        * x
        * (tau * sh_t * cmath.cosh(k * (horizon - tau)) - horizon * sh_tau)
        / (sh_t * sh_t * sh_tau)
    )
    return base + e_imp.real, var.real


def optimal_schedule(params: ACParams, risk_aversion: float) -> Schedule:
    """The optimal schedule for risk aversion ``λ`` (1/currency), costs by summation."""
    kappa = solve_kappa(params, risk_aversion)
    holdings = params.quantity * _holdings_fraction(kappa, params)
    holdings[0], holdings[-1] = params.quantity, 0.0
    return Schedule(
        risk_aversion=float(risk_aversion),
        kappa=kappa,
        half_life=1.0 / kappa if kappa > 0 else math.inf,
        times=params.times,
        holdings=holdings,
        trades=-np.diff(holdings),
        expected_cost=expected_cost_sum(params, holdings),
        variance=variance_sum(params, holdings),
    )


def optimal_holdings(
    quantity: float,
    periods: int,
    tau_days: float,
    sigma: float,
    eta: float,
    gamma: float = 0.0,
    risk_aversion: float = 0.0,
    epsilon: float = 0.0,
) -> Array:
    """Holdings ``x_0 = quantity, …, x_N = 0`` (N+1 values) of the optimal schedule.

    ``tau_days`` is the interval length (``T = N·τ``); other units as :class:`ACParams`.
    ``x_N`` is exactly 0 and ``x_0`` exactly ``quantity``, so the cumulative target
    ``quantity − x_k`` ends exactly at ``quantity``.
    """
    params = ACParams(quantity, periods * tau_days, periods, sigma, eta, gamma, epsilon)
    return optimal_schedule(params, risk_aversion).holdings


def efficient_frontier(params: ACParams, risk_aversions: ArrayLike) -> Frontier:
    """Expected cost and variance of the optimal schedule for each ``λ`` of the grid."""
    lams = np.asarray(risk_aversions, dtype=np.float64).ravel()
    schedules = [optimal_schedule(params, lam) for lam in lams]
    return Frontier(
        risk_aversions=lams,
        expected_cost=np.array([s.expected_cost for s in schedules]),
        variance=np.array([s.variance for s in schedules]),
    )


def risk_aversion_for_kappa(params: ACParams, kappa: ArrayLike) -> Array:
    """The ``λ`` giving this ``κ`` (per day): ``λ = (2/τ²)(cosh κτ − 1) · η̃/σ²``.

    A negative ``κ = −θ`` means the risk-loving solution: ``λ = −(4/τ²) sin²(θτ/2) · η̃/σ²``.
    """
    k = np.asarray(kappa, dtype=np.float64)
    tau = params.tau
    half = 0.5 * k * tau
    core = np.where(k >= 0, np.sinh(half) ** 2, -np.sin(half) ** 2)
    return 4.0 / tau**2 * core * params.eta_tilde / params.sigma**2


def frontier_grid(params: ACParams, points: int = 40, max_kappa_t: float = 20.0) -> Array:
    """A ``λ`` grid for plotting the frontier: 0 and ``κT`` log-spaced from 0.01 to ``max_kappa_t``."""
    kt = np.geomspace(0.01, max_kappa_t, points - 1)
    return np.concatenate(([0.0], risk_aversion_for_kappa(params, kt / params.horizon_days)))
