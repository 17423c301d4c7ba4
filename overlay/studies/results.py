"""Result tables, per-cell statistics, the fitted impact law and ``summary.json``.

``results.parquet`` has one row per cell × seed, sorted by the cell's position in the grid
and then by seed, with the columns of :data:`COLUMNS`:

- the grid values ``algo``, ``impact``, ``participation`` (order size / ADV),
  ``horizon_minutes``, ``daily_vol``, and ``cell`` (the canonical cell key);
- ``seed`` (path number within the cell) and ``quantity`` (contracts);
- ``shortfall_bps``: Perold's implementation shortfall of the buy against the start mid,
  fees included, in bp of the notional filled; its parts ``spread_bps`` (half the spread),
  ``impact_bps`` (our own impact, the market's own move removed: the simulator knows the
  unimpacted path), ``timing_bps`` (the market's own move while working) and ``fees_bps``,
  which add up to it (see :mod:`execution.tca`); ``cost``: the shortfall in currency;
  ``participation_realised``: the order's share of the market volume traded over its
  horizon; ``filled``: contracts filled.

The impact law is fitted to the cells' mean **impact** (``impact_bps``): the market's own
move has mean zero but dominates the variance of the shortfall, and removing it (a control
variate with coefficient one, exact because the simulator knows its unimpacted path) leaves
the cost of our trading nearly deterministic. With ``y = mean(impact_bps) / 1e4 / daily_vol``
and ``x = participation``, ordinary least squares of ``ln y = ln c + e · ln x`` gives
``y = c · x^e``; ``r2`` is that regression's R² (in logs), the standard errors are the
classical OLS ones (``coefficient_se`` by the delta method, ``c · se(ln c)``). Cells whose
mean impact is not positive, or whose volatility is zero, cannot enter the fit; they are
counted in ``excluded``. ``fit_shortfall`` is the same fit on the total shortfall
(spread, fees and the market's move included), for comparison.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from overlay.studies.grid import Cell

COLUMNS = (
    "algo",
    "impact",
    "participation",
    "horizon_minutes",
    "daily_vol",
    "cell",
    "seed",
    "quantity",
    "shortfall_bps",
    "cost",
    "participation_realised",
    "filled",
    "spread_bps",
    "impact_bps",
    "timing_bps",
    "fees_bps",
)

#: Per-path result columns (all float64), in file order.
VALUES = COLUMNS[8:]

#: Text columns are dictionary-encoded: one value per cell, however many paths.
TEXT = pa.dictionary(pa.int32(), pa.string())

SCHEMA = pa.schema(
    [
        ("algo", TEXT),
        ("impact", TEXT),
        ("participation", pa.float64()),
        ("horizon_minutes", pa.float64()),
        ("daily_vol", pa.float64()),
        ("cell", TEXT),
        ("seed", pa.int64()),
        ("quantity", pa.int64()),
        ("shortfall_bps", pa.float64()),
        ("cost", pa.float64()),
        ("participation_realised", pa.float64()),
        ("filled", pa.float64()),
        ("spread_bps", pa.float64()),
        ("impact_bps", pa.float64()),
        ("timing_bps", pa.float64()),
        ("fees_bps", pa.float64()),
    ]
)


def cell_table(cell: Cell, quantity: int, columns: Mapping[str, np.ndarray]) -> pa.Table:
    """The rows of one finished cell (one per seed) as an Arrow table of :data:`SCHEMA`."""
    n = len(columns["shortfall_bps"])
    values = cell.values()

    def repeat(value: Any, typ: pa.DataType) -> pa.Array:
        if pa.types.is_dictionary(typ):
            return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int32)), pa.array([value], pa.string()))
        return pa.array(np.full(n, value), type=typ)

    arrays = {
        **{k: repeat(values[k], SCHEMA.field(k).type) for k in ("algo", "impact", "participation", "horizon_minutes", "daily_vol")},
        "cell": repeat(cell.key, TEXT),
        "seed": pa.array(np.arange(n, dtype=np.int64)),
        "quantity": repeat(quantity, pa.int64()),
        **{k: pa.array(np.asarray(columns[k], dtype=np.float64)) for k in VALUES},
    }
    return pa.Table.from_pydict(arrays, schema=SCHEMA)


def combine(tables: Iterable[pa.Table]) -> pa.Table:
    """Concatenate cell tables (already in grid order) into one table (one chunk per cell)."""
    tables = list(tables)
    if not tables:
        return SCHEMA.empty_table()
    return pa.concat_tables(tables)


@dataclass(frozen=True, slots=True)
class CellStats:
    """Sample statistics of one cell's paths (bps of arrival notional unless named)."""

    cell: str
    algo: str
    impact: str
    participation: float
    horizon_minutes: float
    daily_vol: float
    paths: int
    mean_bps: float
    std_bps: float
    se_bps: float
    mean_cost: float
    std_cost: float
    participation_realised: float
    q05_bps: float
    q25_bps: float
    median_bps: float
    q75_bps: float
    q95_bps: float
    impact_mean_bps: float = math.nan  # the market's own move removed
    impact_se_bps: float = math.nan
    spread_mean_bps: float = math.nan
    timing_mean_bps: float = math.nan
    fees_mean_bps: float = math.nan


def cell_stats(cell: Cell, columns: Mapping[str, np.ndarray]) -> CellStats:
    """Statistics of one cell's per-path columns (``ddof = 1``; a single path has std 0).

    A path that filled nothing has no shortfall (NaN) and is left out of the statistics.
    """
    bps = np.asarray(columns["shortfall_bps"], dtype=np.float64)
    cost = np.asarray(columns["cost"], dtype=np.float64)
    ok = np.isfinite(bps)
    parts = {k: np.asarray(columns.get(k, np.full(bps.size, np.nan)), dtype=np.float64)[ok]
             for k in ("impact_bps", "spread_bps", "timing_bps", "fees_bps")}
    if not ok.all():
        bps, cost = bps[ok], cost[ok]
    n = bps.size
    if n == 0:
        bps = cost = np.full(1, np.nan)
    std = float(bps.std(ddof=1)) if n > 1 else 0.0
    q = np.quantile(bps, [0.05, 0.25, 0.5, 0.75, 0.95])
    return CellStats(
        cell=cell.key,
        algo=cell.algo,
        impact=cell.values()["impact"],
        participation=cell.participation,
        horizon_minutes=cell.horizon_minutes,
        daily_vol=cell.daily_vol,
        paths=n,
        mean_bps=float(bps.mean()),
        std_bps=std,
        se_bps=std / math.sqrt(n) if n else math.nan,
        mean_cost=float(cost.mean()),
        std_cost=float(cost.std(ddof=1)) if n > 1 else 0.0,
        participation_realised=float(np.nanmean(columns["participation_realised"])),
        q05_bps=float(q[0]),
        q25_bps=float(q[1]),
        median_bps=float(q[2]),
        q75_bps=float(q[3]),
        q95_bps=float(q[4]),
        impact_mean_bps=_mean(parts["impact_bps"]),
        impact_se_bps=float(parts["impact_bps"].std(ddof=1) / math.sqrt(n)) if n > 1 else 0.0 if n else math.nan,
        spread_mean_bps=_mean(parts["spread_bps"]),
        timing_mean_bps=_mean(parts["timing_bps"]),
        fees_mean_bps=_mean(parts["fees_bps"]),
    )


def _mean(x: np.ndarray) -> float:
    return float(x.mean()) if x.size else math.nan


@dataclass(frozen=True, slots=True)
class PowerFit:
    """``y = coefficient · x^exponent`` fitted by least squares in logs (see the module doc)."""

    coefficient: float
    exponent: float
    r2: float
    coefficient_se: float | None
    exponent_se: float | None
    points: int
    excluded: int
    model: str = "power"

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        return {"model": out.pop("model"), **out}


def fit_power(x: Sequence[float], y: Sequence[float]) -> PowerFit | None:
    """Fit ``y = c · x^e`` to the points with ``x, y > 0``; None with fewer than two distinct x."""
    xa, ya = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    ok = (xa > 0) & (ya > 0) & np.isfinite(xa) & np.isfinite(ya)
    lx, ly = np.log(xa[ok]), np.log(ya[ok])
    n = lx.size
    if n < 2 or np.ptp(lx) == 0:
        return None
    design = np.column_stack((np.ones(n), lx))
    beta, *_ = np.linalg.lstsq(design, ly, rcond=None)
    resid = ly - design @ beta
    ss_res = float(resid @ resid)
    ss_tot = float(((ly - ly.mean()) ** 2).sum())
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else 1.0
    coefficient = math.exp(beta[0])
    c_se = e_se = None
    if n > 2:
        s2 = ss_res / (n - 2)
        cov = s2 * np.linalg.inv(design.T @ design)
        e_se = math.sqrt(cov[1, 1])
        c_se = coefficient * math.sqrt(cov[0, 0])
    return PowerFit(coefficient, float(beta[1]), r2, c_se, e_se, n, int(xa.size - n))


def fit_cells(stats: Sequence[CellStats], on: str = "impact") -> PowerFit | None:
    """The power law ``mean impact / daily_vol = c · participation^e`` over ``stats``
    (``on="shortfall"``: the mean total shortfall instead)."""
    x = [s.participation for s in stats]
    y = [
        ((s.impact_mean_bps if on == "impact" else s.mean_bps) / 1e4 / s.daily_vol) if s.daily_vol > 0 else math.nan
        for s in stats
    ]
    return fit_power(x, y)


def fits(stats: Sequence[CellStats]) -> tuple[PowerFit | None, dict[str, PowerFit | None]]:
    """The overall fit and one fit per algorithm (in first-seen order), on the impact."""
    algos = list(dict.fromkeys(s.algo for s in stats))
    return fit_cells(stats), {a: fit_cells([s for s in stats if s.algo == a]) for a in algos}


def summary(
    *,
    study: str,
    engine: str,
    cells: int,
    rows: int,
    wall_seconds: float,
    stats: Sequence[CellStats],
    failed: Sequence[tuple[str, str]],
    reused: int,
) -> dict[str, Any]:
    """The ``summary.json`` object (and the ``--json`` output of ``overlay study``)."""
    overall, by_algo = fits(stats)
    return {
        "study": study,
        "engine": engine,
        "cells": cells,
        "cells_done": len(stats),
        "cells_reused": reused,
        "cells_failed": len(failed),
        "rows": rows,
        "wall_seconds": round(wall_seconds, 3),
        "fit": overall.as_dict() if overall else None,
        "fit_on": "impact_bps",
        "fit_shortfall": _as_dict(fit_cells(stats, on="shortfall")),
        "fit_by_algo": {a: (f.as_dict() if f else None) for a, f in by_algo.items()},
        "failed": [{"cell": key, "error": error} for key, error in failed],
        "cell_stats": [_finite(asdict(s)) for s in stats],
    }


def _as_dict(fit: PowerFit | None) -> dict[str, Any] | None:
    return fit.as_dict() if fit else None


def _finite(row: dict[str, Any]) -> dict[str, Any]:
    """JSON has no NaN: a statistic that does not exist is null."""
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}
