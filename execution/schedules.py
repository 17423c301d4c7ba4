"""Execution schedules: pure functions from a parent order to slice times and targets.

Every schedule maker returns ``(times, cumulative)``:

``times``       float64 array of N slice times in seconds from the parent's start,
                non-decreasing, ``0 <= times[i] < horizon``. Slice ``i`` is worked from
                ``times[i]``.
``cumulative``  int64 array of N signed cumulative targets: by the end of slice ``i`` the
                parent should have filled ``cumulative[i]`` contracts. It is monotone (never
                moves against the parent's side) and ``cumulative[-1] == quantity`` exactly.

Rounding. A continuous cumulative fraction ``f_i`` (``0 <= f_i <= 1``, non-decreasing,
``f_{N-1} = 1``) becomes contracts by rounding ``|Q| · f_i`` half up (``floor(x + 1/2)``).
Rounding is monotone, so the integer curve stays monotone, and the increments are a
largest-remainder apportionment of ``|Q|`` over the slices. A parent smaller than the
number of slices therefore gets slices of 0 or 1 contracts spread evenly across the
horizon (a Bresenham line), instead of everything in the first slices.

Percentage of volume is not a fixed curve: :class:`PovRule` is the rule the algorithm
evaluates against the market volume it observes, and :func:`pov_schedule` gives its
evaluation times and the cumulative cap implied by an expected volume profile.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
Schedule = tuple[FloatArray, IntArray]


#: Largest parent order a schedule accepts, contracts (int64 and float64 stay exact far beyond).
MAX_CONTRACTS = 10**9
#: Most slices in one schedule.
MAX_SLICES = 10_000


def _check(quantity: int, horizon_seconds: float, n_slices: int) -> None:
    if not isinstance(quantity, (int, np.integer)) or isinstance(quantity, bool):
        raise TypeError(f"quantity must be an int of contracts, got {quantity!r}")
    if abs(int(quantity)) > MAX_CONTRACTS:
        raise ValueError(f"quantity {quantity} is beyond {MAX_CONTRACTS:,} contracts")
    if not (math.isfinite(horizon_seconds) and horizon_seconds > 0):
        raise ValueError(f"horizon must be positive seconds, got {horizon_seconds!r}")
    if not (isinstance(n_slices, (int, np.integer)) and 1 <= n_slices <= MAX_SLICES):
        raise ValueError(f"number of slices must be an int from 1 to {MAX_SLICES:,}, got {n_slices!r}")


def round_cumulative(quantity: int, fractions: ArrayLike) -> IntArray:
    """Signed integer cumulative targets from a cumulative fraction curve.

    ``round_cumulative(Q, f)[i] = sign(Q) · floor(|Q| · f_i + 1/2)`` with the last value
    forced to exactly ``Q``. ``f`` must be non-decreasing in [0, 1]; the result is then
    monotone in the parent's direction.
    """
    f = np.clip(np.asarray(fractions, dtype=np.float64), 0.0, 1.0)
    if f.ndim != 1 or f.size == 0:
        raise ValueError("fractions must be a non-empty 1-d array")
    f = np.maximum.accumulate(f)  # guard against float noise making it non-monotone
    q = abs(int(quantity))
    cum = np.floor(q * f + 0.5).astype(np.int64)
    cum[-1] = q
    np.minimum(cum, q, out=cum)
    return cum if quantity >= 0 else -cum


def _even_times(horizon_seconds: float, n_slices: int) -> FloatArray:
    return np.arange(n_slices, dtype=np.float64) * (horizon_seconds / n_slices)


def twap(
    quantity: int,
    horizon_seconds: float,
    n_slices: int,
    rng: np.random.Generator | None = None,
    size_jitter: float = 0.0,
    time_jitter: float = 0.0,
) -> Schedule:
    """Time-weighted schedule: equal slices at equal spacing ``dt = horizon / N``.

    Slice ``i`` starts at ``i · dt`` and its cumulative target is ``round(Q · (i+1)/N)``.

    Randomisation (needs ``rng``): ``size_jitter`` in [0, 1) scales each slice's weight by
    ``1 + size_jitter · U(-1, 1)`` before normalising (the total is unchanged);
    ``time_jitter`` in [0, 1] moves each slice start by ``time_jitter · dt · U(-1/2, 1/2)``
    (clipped to the horizon), which keeps the slices in order.
    """
    _check(quantity, horizon_seconds, n_slices)
    if not (0.0 <= size_jitter < 1.0 and 0.0 <= time_jitter <= 1.0):
        raise ValueError("size_jitter must be in [0, 1) and time_jitter in [0, 1]")
    if (size_jitter or time_jitter) and rng is None:
        raise ValueError("randomised TWAP needs a numpy Generator")
    dt = horizon_seconds / n_slices
    times = _even_times(horizon_seconds, n_slices)
    weights = np.ones(n_slices)
    if size_jitter:
        weights = 1.0 + size_jitter * rng.uniform(-1.0, 1.0, n_slices)
    if time_jitter:
        times = times + time_jitter * dt * (rng.uniform(0.0, 1.0, n_slices) - 0.5)
        times = np.clip(np.maximum.accumulate(times), 0.0, np.nextafter(horizon_seconds, 0.0))
    cum_f = np.cumsum(weights) / weights.sum()
    return times, round_cumulative(quantity, cum_f)


def vwap(quantity: int, horizon_seconds: float, n_slices: int, volume_profile: ArrayLike) -> Schedule:
    """Volume-weighted schedule: slice sizes in proportion to the expected volume.

    ``volume_profile`` is the expected market volume in equal buckets spanning the horizon
    (any number of buckets, any units; only proportions matter). Its cumulative curve
    ``C(t)`` is interpolated linearly at the slice ends and the target of slice ``i`` is
    ``round(Q · C((i+1) · dt) / C(horizon))``.
    """
    _check(quantity, horizon_seconds, n_slices)
    profile = np.asarray(volume_profile, dtype=np.float64)
    if profile.ndim != 1 or profile.size == 0 or np.any(profile < 0) or not np.all(np.isfinite(profile)):
        raise ValueError("volume profile must be a non-empty 1-d array of non-negative numbers")
    total = profile.sum()
    if total <= 0:
        raise ValueError("volume profile must have some volume")
    edges = np.linspace(0.0, 1.0, profile.size + 1)
    cum_profile = np.concatenate(([0.0], np.cumsum(profile))) / total
    slice_ends = np.arange(1, n_slices + 1) / n_slices
    cum_f = np.interp(slice_ends, edges, cum_profile)
    return _even_times(horizon_seconds, n_slices), round_cumulative(quantity, cum_f)


def implementation_shortfall(quantity: int, horizon_seconds: float, n_slices: int, kappa: float) -> Schedule:
    """Almgren–Chriss optimal trajectory (implementation-shortfall schedule).

    Holdings after slice ``j`` are ``x_j = X · sinh(κ(T − t_j)) / sinh(κT)`` with
    ``t_j = j · T / N``; the cumulative target after slice ``i`` is ``X − x_{i+1}``.
    ``kappa`` is in 1/second (``pricing.almgren_chriss.solve_kappa`` gives it per day); κ = 0 is exactly TWAP and κ > 0
    front-loads (larger κ trades faster).
    """
    _check(quantity, horizon_seconds, n_slices)
    if not (kappa >= 0 and math.isfinite(kappa)):
        raise ValueError(f"kappa must be a finite non-negative rate, got {kappa!r}")
    s = np.arange(1, n_slices + 1) / n_slices  # t_{i+1} / T
    k_t = kappa * horizon_seconds
    if k_t < 1e-9:
        cum_f = s
    elif k_t > 700:  # sinh overflows: use the exponential form
        cum_f = 1.0 - np.exp(-k_t * s)
        cum_f[-1] = 1.0
    else:
        cum_f = 1.0 - np.sinh(k_t * (1.0 - s)) / math.sinh(k_t)
    return _even_times(horizon_seconds, n_slices), round_cumulative(quantity, cum_f)


@dataclass(frozen=True, slots=True)
class PovRule:
    """Percentage of volume: follow ``rate`` of the market volume traded since the start.

    The cumulative target after observing market volume ``V`` (contracts, since the
    parent's start) is ``sign(Q) · min(|Q|, floor(rate · V))``. A child is sent only when
    the shortfall against that target reaches ``min_child`` (or the rest of the parent
    is smaller), and is at most ``max_child`` (0 = no cap) contracts.
    """

    rate: float
    min_child: int = 1
    max_child: int = 0

    def __post_init__(self) -> None:
        if not (0.0 < self.rate <= 1.0):
            raise ValueError(f"participation rate must be in (0, 1], got {self.rate!r}")
        if self.min_child < 1 or self.max_child < 0 or (self.max_child and self.max_child < self.min_child):
            raise ValueError("need 1 <= min_child <= max_child (or max_child = 0 for no cap)")

    def target(self, quantity: int, market_volume: float) -> int:
        """Signed cumulative target after ``market_volume`` contracts traded in the market."""
        q = abs(quantity)
        t = min(q, int(self.rate * max(market_volume, 0.0) + 1e-9))
        return t if quantity >= 0 else -t

    def child_size(self, quantity: int, target: int, committed: int) -> int:
        """Unsigned child size for a shortfall ``|target − committed|`` (0 = wait).

        ``committed`` is filled plus working. Sizes below ``min_child`` wait unless they
        complete the parent; sizes are capped at ``max_child`` and at the parent's rest.
        """
        rest = abs(quantity - committed)
        need = min(abs(target - committed) if (target - committed) * quantity > 0 else 0, rest)
        if need < self.min_child and need < rest:
            return 0
        if self.max_child:
            need = min(need, self.max_child)
        return need


def pov_schedule(
    quantity: int, horizon_seconds: float, n_slices: int, rule: PovRule, expected_volume: ArrayLike
) -> Schedule:
    """Evaluation times of a POV parent and the cumulative targets it implies if market
    volume follows ``expected_volume`` (contracts per equal bucket over the horizon).

    The algorithm evaluates :meth:`PovRule.target` against realised volume at these times;
    this expected curve is for planning and plots. If the expected volume is too small
    for ``rate`` to complete the parent, the curve ends short of ``quantity`` except for
    its last value, which is the completion at the horizon.
    """
    _check(quantity, horizon_seconds, n_slices)
    profile = np.asarray(expected_volume, dtype=np.float64)
    if profile.ndim != 1 or profile.size == 0 or np.any(profile < 0):
        raise ValueError("expected volume must be a non-empty 1-d array of non-negative numbers")
    edges = np.linspace(0.0, horizon_seconds, profile.size + 1)
    cum_vol = np.concatenate(([0.0], np.cumsum(profile)))
    slice_ends = np.arange(1, n_slices + 1) * (horizon_seconds / n_slices)
    vol_at = np.interp(slice_ends, edges, cum_vol)
    q = abs(int(quantity))
    cum = np.minimum(np.floor(rule.rate * vol_at + 1e-9), q).astype(np.int64)
    cum = np.maximum.accumulate(cum)
    cum[-1] = q
    return _even_times(horizon_seconds, n_slices), (cum if quantity >= 0 else -cum)
