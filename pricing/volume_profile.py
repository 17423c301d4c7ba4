"""The intraday volume profile: a U shape, heavier at the open and the close.

Let ``x ∈ [0, 1]`` be the elapsed fraction of the trading session. The volume *rate* (share of
the day's volume per unit of session fraction) is

    f(x) = (1 + (e − 1) · (2x − 1)²) / (1 + (e − 1) / 3)

where ``e = edge_ratio`` is the ratio of the rate at the open and at the close to the rate at
midday (``e = 1`` is flat; the default 3 is a typical equity-index futures day). ``f``
integrates to 1 over the session; its primitive is

    F(x) = (x + (e − 1) · ((2x − 1)³ + 1) / 6) / (1 + (e − 1) / 3),   F(0) = 0, F(1) = 1.

:func:`volume_profile` returns the exact share of each of ``n_bins`` equal bins,
``F(x_{i+1}) − F(x_i)``, so any bin count is consistent with any other and the shares sum to 1.
The simulator draws its volume from this profile, and a VWAP schedule can follow the same one.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: Open/close volume rate over the midday rate.
DEFAULT_EDGE_RATIO = 3.0


def _check(edge_ratio: float) -> None:
    if not edge_ratio > 0:
        raise ValueError(f"edge_ratio must be positive, got {edge_ratio!r}")


def cumulative_volume_fraction(x: ArrayLike, edge_ratio: float = DEFAULT_EDGE_RATIO) -> NDArray[np.float64]:
    """``F(x)``: share of the session's volume traded by session fraction ``x`` (clipped to [0, 1])."""
    _check(edge_ratio)
    u = np.clip(np.asarray(x, dtype=np.float64), 0.0, 1.0)
    c = edge_ratio - 1.0
    return (u + c * ((2.0 * u - 1.0) ** 3 + 1.0) / 6.0) / (1.0 + c / 3.0)


def volume_rate(x: ArrayLike, edge_ratio: float = DEFAULT_EDGE_RATIO) -> NDArray[np.float64]:
    """``f(x)``: volume rate at session fraction ``x``, in session volumes per session (mean 1)."""
    _check(edge_ratio)
    u = np.asarray(x, dtype=np.float64)
    c = edge_ratio - 1.0
    return (1.0 + c * (2.0 * u - 1.0) ** 2) / (1.0 + c / 3.0)


def volume_profile(n_bins: int, edge_ratio: float = DEFAULT_EDGE_RATIO) -> NDArray[np.float64]:
    """Share of the session's volume in each of ``n_bins`` equal bins (non-negative, sums to 1)."""
    if int(n_bins) != n_bins or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}")
    edges = cumulative_volume_fraction(np.linspace(0.0, 1.0, int(n_bins) + 1), edge_ratio)
    shares = np.diff(edges)
    return shares / shares.sum()
