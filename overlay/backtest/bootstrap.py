"""Resampled histories: the stationary block bootstrap of Politis and Romano (1994).

Politis, D. N. and Romano, J. P. (1994), "The Stationary Bootstrap", *Journal of the
American Statistical Association* 89(428), 1303–1313. A resampled history of ``H`` periods
is built from the ``n`` historical periods (the joint returns of every sleeve and the cash
rate, so cross-correlations survive) as blocks of random length: the first period is drawn
uniformly; each next period is, with probability ``p = 1 / mean block length``, a new
uniform draw, and otherwise the period after the previous one (wrapping from the last
period to the first). Block lengths are geometric with mean ``1 / p``, which keeps the
resampled series stationary.

Path ``i`` draws from its own generator, ``numpy.random.default_rng(SeedSequence(seed).spawn
(paths)[i])``, so a path's history depends only on the seed and its index: never on how
many paths run together, in what order, or on which worker.
"""

from __future__ import annotations

import numpy as np


def path_rngs(seed: int, paths: int, first: int = 0, count: int | None = None) -> list[np.random.Generator]:
    """Generators of paths ``first … first + count − 1`` of ``paths`` under ``seed``."""
    children = np.random.SeedSequence(seed).spawn(paths)
    stop = paths if count is None else first + count
    return [np.random.default_rng(s) for s in children[first:stop]]


def stationary_indices(rngs: list[np.random.Generator], n: int, horizon: int, mean_block: float) -> np.ndarray:
    """(len(rngs), horizon) indices into ``n`` historical periods, one row per generator.

    Each generator draws ``horizon`` uniforms for the block starts and ``horizon`` for the
    block breaks, in that order; the arithmetic that follows is vectorised over paths.
    """
    if n < 1 or horizon < 1:
        raise ValueError("need at least one historical period and a horizon of one period")
    p = min(1.0, 1.0 / mean_block)
    starts = np.empty((len(rngs), horizon), dtype=np.int64)
    breaks = np.empty((len(rngs), horizon), dtype=bool)
    for i, rng in enumerate(rngs):
        starts[i] = rng.integers(0, n, size=horizon)
        breaks[i] = rng.random(horizon) < p
    breaks[:, 0] = True
    t = np.arange(horizon)
    # Index of the period where the current block began, carried forward.
    began = np.maximum.accumulate(np.where(breaks, t, 0), axis=1)
    first = np.take_along_axis(starts, began, axis=1)
    return (first + (t - began)) % n
