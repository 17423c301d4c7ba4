"""PNG plots of a study (matplotlib, Agg backend; no display needed).

- ``cost_vs_participation.png``: mean impact (the market's own move removed, ±2 standard
  errors) and mean total shortfall over daily volatility against participation, log-log,
  one colour per algorithm, and each algorithm's power law fitted on the impact;
- ``cost_distribution.png``: the shortfall distribution of every cell (box 25–75 %, whiskers
  5–95 %, line at the median);
- ``frontier.png``: mean against standard deviation of the shortfall (the mean–risk plane
  of Almgren & Chriss), one panel per order size × volatility × impact model, one line per
  algorithm joining its horizons (each point labelled with its horizon). Written only when
  the grid has two horizons or more: one horizon has no trade-off to draw.

All plots work from :class:`~overlay.studies.results.CellStats`, so a study of millions of
paths plots as fast as a small one.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from overlay.studies.results import CellStats, fit_cells

PLOT_FILES = ("cost_vs_participation.png", "cost_distribution.png", "frontier.png")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _algos(stats: Sequence[CellStats]) -> list[str]:
    return list(dict.fromkeys(s.algo for s in stats))


def plot_cost_vs_participation(stats: Sequence[CellStats], path: Path) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 5))
    for i, algo in enumerate(_algos(stats)):
        colour = f"C{i}"
        rows = [s for s in stats if s.algo == algo]
        x = np.array([s.participation for s in rows])
        vol = np.array([s.daily_vol if s.daily_vol > 0 else np.nan for s in rows])
        y = np.array([s.impact_mean_bps for s in rows]) / 1e4 / vol
        err = np.array([2 * s.impact_se_bps for s in rows]) / 1e4 / vol
        total = np.array([s.mean_bps for s in rows]) / 1e4 / vol
        pos = y > 0
        ax.errorbar(x[pos], y[pos], yerr=np.minimum(err[pos], 0.999 * y[pos]), fmt="o", color=colour, alpha=0.8,
                    label=f"{algo}: impact")
        pos = total > 0
        ax.plot(x[pos], total[pos], "x", color=colour, alpha=0.6, label=f"{algo}: total shortfall")
        fit = fit_cells(rows)
        if fit is not None:
            grid = np.geomspace(x.min(), x.max(), 50)
            ax.plot(grid, fit.coefficient * grid**fit.exponent, "-", color=colour, label=f"{algo}: {fit.coefficient:.3g}·x^{fit.exponent:.3f}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("participation (order size / ADV)")
    ax.set_ylabel("mean cost / daily volatility")
    ax.set_title("Impact (market move removed, ±2 se) and total shortfall against participation")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_cost_distribution(stats: Sequence[CellStats], path: Path) -> None:
    plt = _pyplot()
    boxes = [
        {
            "label": f"{s.algo} p={s.participation:g} h={s.horizon_minutes:g} σ={s.daily_vol:g}",
            "med": s.median_bps,
            "q1": s.q25_bps,
            "q3": s.q75_bps,
            "whislo": s.q05_bps,
            "whishi": s.q95_bps,
            "mean": s.mean_bps,
            "fliers": [],
        }
        for s in stats
    ]
    fig, ax = plt.subplots(figsize=(8, max(3.0, 0.3 * len(boxes) + 1.5)))
    ax.bxp(boxes, orientation="horizontal", showmeans=True)
    ax.invert_yaxis()  # first cell of the grid at the top
    ax.set_xlabel("implementation shortfall (bps)")
    ax.set_title("Cost distribution per cell (box 25–75 %, whiskers 5–95 %)")
    ax.tick_params(axis="y", labelsize="x-small")
    ax.grid(True, axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def frontier_families(stats: Sequence[CellStats]) -> dict[tuple, dict[str, list[CellStats]]]:
    """The cells that form a mean–risk frontier: one family per order size, volatility and
    impact model, and in it each algorithm's cells across horizons (shortest first). Only
    families where some algorithm has two horizons or more: a single horizon has no
    trade-off to draw."""
    families: dict[tuple, dict[str, list[CellStats]]] = {}
    for s in stats:
        families.setdefault((s.participation, s.daily_vol, s.impact), {}).setdefault(s.algo, []).append(s)
    out = {}
    for key, by_algo in families.items():
        for members in by_algo.values():
            members.sort(key=lambda s: s.horizon_minutes)
        if any(len({m.horizon_minutes for m in members}) > 1 for members in by_algo.values()):
            out[key] = by_algo
    return out


def plot_frontier(stats: Sequence[CellStats], path: Path) -> bool:
    """One panel per size/volatility family, one line per algorithm joining its horizons;
    returns False (and writes nothing) when no family has two horizons."""
    families = frontier_families(stats)
    if not families:
        return False
    plt = _pyplot()
    algos = _algos(stats)
    n = len(families)
    cols = min(3, n)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(5.0 * cols, 4.2 * rows), squeeze=False)
    for ax, ((participation, daily_vol, impact), by_algo) in zip(axes.flat, families.items()):
        for algo, members in by_algo.items():
            colour = f"C{algos.index(algo)}"
            x = [s.std_bps for s in members]
            y = [s.mean_bps for s in members]
            ax.plot(x, y, "o-", color=colour, alpha=0.85, label=algo)
            for s in members:
                ax.annotate(f"{s.horizon_minutes:g} min", (s.std_bps, s.mean_bps), textcoords="offset points",
                            xytext=(4, 3), fontsize="x-small", color=colour)
        ax.set_title(f"size {participation:g} × ADV, σ {daily_vol:g}/day", fontsize="small")
        ax.set_xlabel("std of shortfall (bps of arrival notional)")
        ax.set_ylabel("mean shortfall (bps of arrival notional)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small", title="algorithm (points: horizon)", title_fontsize="x-small")
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    fig.suptitle("Mean–risk frontier: each algorithm across horizons, one order size per panel")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def write_plots(stats: Sequence[CellStats], out_dir: Path) -> list[Path]:
    """Write the PNG plots into ``out_dir``; returns their paths (``frontier.png`` only
    when the grid has two horizons or more: see :func:`frontier_families`)."""
    paths = [Path(out_dir) / name for name in PLOT_FILES]
    plot_cost_vs_participation(stats, paths[0])
    plot_cost_distribution(stats, paths[1])
    if not plot_frontier(stats, paths[2]):
        paths[2].unlink(missing_ok=True)  # a stale one from an earlier grid would mislead
        return paths[:2]
    return paths


def plot_calibration(x: np.ndarray, sigma: np.ndarray, s: np.ndarray, law, label: str, path: Path) -> None:
    """``calibration.png``: each parent order's cost over its volatility against its trading
    rate (fraction of ADV per day), log-log where positive, and the fitted law."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 5))
    y = s / sigma
    pos = y > 0
    ax.plot(x[pos], y[pos], "o", alpha=0.6, label="parent orders")
    grid = np.geomspace(x.min(), x.max(), 60)
    sig = float(np.median(sigma))
    curve = law(np.vstack((grid, np.full_like(grid, sig)))) / sig
    ok = curve > 0
    ax.plot(grid[ok], curve[ok], "-", color="C1", label=label)
    ax.set_xscale("log")
    if pos.any():
        ax.set_yscale("log")
    ax.set_xlabel("trading rate (order size / ADV per day)")
    ax.set_ylabel("shortfall / daily volatility")
    ax.set_title("Calibrated impact law")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
