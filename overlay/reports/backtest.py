"""``overlay backtest`` for people and files: tables, Parquet, ``summary.json`` and plots.

Works on the backtest's plain outputs (the summary object and the two DataFrames), so it
knows nothing of how they were computed.

Files of ``--out DIR``:

- ``results.parquet``: one row per policy × implementation × path (``sample`` is
  ``history`` or ``bootstrap``);
- ``history.parquet``: the historical run, one row per date × policy × implementation;
- ``summary.json``: the object of ``--json``;
- ``wealth.png``: NAV over the history per policy and implementation (log scale);
- ``weights.png``: the first sleeve's weight over the history per policy (physical run, or
  the first implementation);
- ``cost_vs_tracking.png``: costs plus taxes (bp a year) against tracking error per run;
- ``terminal_wealth.png``: the distribution of terminal wealth over the resampled paths
  (with ``paths > 0``).

matplotlib (Agg backend) is imported only when the plots are written.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from overlay.console import print_table, table_console


def _pct(x: Any, digits: int = 2) -> str:
    return "n/a" if x is None else f"{x:.{digits}%}"


def _num(x: Any, fmt: str = ",.0f") -> str:
    return "n/a" if x is None else format(x, fmt)


def render(summary: dict[str, Any], out: TextIO, width: int | None = None) -> None:
    """The summary as readable tables (stacked, never cut, in a narrow terminal)."""
    console = table_console(out, width)
    d = summary["data"]
    console.print(
        f"{d['source']}: {d['start']} to {d['end']}, {d['periods']} {d['frequency']} periods; "
        f"start NAV {summary['nav0']:,.0f} {summary['currency']}"
    )
    cols = ("policy", "impl.", "return", "vol", "sharpe", "max dd", "TE", "max drift", "rebal.", "rolls", "turnover",
            "costs bp/y", "tax bp/y", "terminal wealth")
    rows = [
        (r["policy"], r["implementation"], _pct(r["annual_return"]), _pct(r["annual_vol"]), _num(r["sharpe"], ".2f"),
         _pct(r["max_drawdown"], 1), _pct(r["tracking_error"]), _pct(r["max_abs_drift"]), str(r["rebalances"]),
         str(r["rolls"]), _pct(r["turnover"], 1), _num(r["costs_bps_per_year"], ".2f"),
         _num(r["tax_drag_bps_per_year"], ".2f"), _num(r["terminal_wealth"]))
        for r in summary["results"]
    ]
    print_table(console, "Policies on the history", cols, rows, left=("policy", "impl."), keys=2)
    boot = summary.get("bootstrap")
    if boot:
        rows = []
        for r in summary["results"]:
            p = r["paths"]
            ratio = p["p95"] / p["p05"] if p["p05"] else None
            rows.append((r["policy"], r["implementation"], _num(p["mean"]), _num(p["std"]), _num(p["p05"]), _num(p["p50"]),
                         _num(p["p95"]), _num(ratio, ".2f")))
        print_table(console, f"Terminal wealth over {boot['paths']:,} resampled {boot['horizon_years']:g}-year histories "
                    f"(seed {boot['seed']})", ("policy", "impl.", "mean", "std", "p05", "p50", "p95", "p95/p05"), rows,
                    left=("policy", "impl."), keys=2)
    for note in summary.get("notes", []):
        console.print(f"note: {note}")


def _write_atomic(path: Path, write) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    write(tmp)
    os.replace(tmp, path)


def write_files(summary: dict[str, Any], results: pd.DataFrame, history: pd.DataFrame, out: Path, plots: bool = True) -> None:
    """Write the files of ``--out DIR`` (see the module docstring); Parquet needs pyarrow
    (the ``data`` extra)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out.mkdir(parents=True, exist_ok=True)
    for name, frame in (("results.parquet", results), ("history.parquet", history)):
        table = pa.Table.from_pandas(frame, preserve_index=False)
        _write_atomic(out / name, lambda p, table=table: pq.write_table(table, p, compression="zstd"))
    _write_atomic(out / "summary.json", lambda p: p.write_text(json.dumps(summary, indent=2, allow_nan=False) + "\n"))
    if plots:
        write_plots(summary, results, history, out)


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def write_plots(summary: dict[str, Any], results: pd.DataFrame, history: pd.DataFrame, out: Path) -> None:
    plt = _plt()
    runs = list(dict.fromkeys(zip(history["policy"], history["implementation"])))
    # Wealth
    fig, ax = plt.subplots(figsize=(10, 6))
    for policy, impl in runs:
        h = history[(history["policy"] == policy) & (history["implementation"] == impl)]
        ax.plot(h["date"], h["nav"], lw=0.9, ls="-" if impl == "physical" else "--", label=f"{policy} ({impl})")
    ax.set_yscale("log")
    ax.set_ylabel(f"NAV ({summary['currency']})")
    ax.set_title("Wealth after costs and taxes")
    ax.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    fig.savefig(out / "wealth.png", dpi=110)
    plt.close(fig)
    # Weights
    weight_cols = [c for c in history.columns if c.startswith("weight_")]
    if weight_cols:
        col = weight_cols[0]
        impl0 = "physical" if "physical" in set(history["implementation"]) else history["implementation"].iloc[0]
        fig, ax = plt.subplots(figsize=(10, 5))
        for policy in dict.fromkeys(history["policy"]):
            h = history[(history["policy"] == policy) & (history["implementation"] == impl0)]
            ax.plot(h["date"], h[col], lw=0.8, label=policy)
        ax.set_ylabel(f"{col[len('weight_'):]} weight after trades")
        ax.set_title(f"Weights over time ({impl0})")
        ax.legend(fontsize=7, ncol=2)
        fig.tight_layout()
        fig.savefig(out / "weights.png", dpi=110)
        plt.close(fig)
    # Cost against tracking error
    fig, ax = plt.subplots(figsize=(8, 6))
    for r in summary["results"]:
        te, cost, tax = r["tracking_error"], r["costs_bps_per_year"], r["tax_drag_bps_per_year"]
        if te is None or cost is None or tax is None:
            continue
        marker = "o" if r["implementation"] == "physical" else "^"
        ax.scatter(te * 1e4, cost + tax, marker=marker)
        ax.annotate(f"{r['policy']} ({r['implementation'][:4]})", (te * 1e4, cost + tax), fontsize=6)
    ax.set_xlabel("tracking error (bp a year)")
    ax.set_ylabel("costs + taxes (bp a year)")
    ax.set_title("Cost against tracking error")
    fig.tight_layout()
    fig.savefig(out / "cost_vs_tracking.png", dpi=110)
    plt.close(fig)
    # Terminal wealth distribution
    boot = results[results["sample"] == "bootstrap"]
    if len(boot):
        labels, data = [], []
        for policy, impl in dict.fromkeys(zip(boot["policy"], boot["implementation"])):
            v = boot[(boot["policy"] == policy) & (boot["implementation"] == impl)]["terminal_wealth"].to_numpy()
            data.append(v[v > 0] if (v > 0).any() else v)
            labels.append(f"{policy} ({impl[:4]})")
        fig, ax = plt.subplots(figsize=(10, 6))
        ax.boxplot(data, whis=(5, 95), showfliers=False)
        ax.set_xticks(range(1, len(labels) + 1), labels, rotation=60, ha="right", fontsize=7)
        if all(len(x) and x.min() > 0 for x in data):
            ax.set_yscale("log")
        ax.set_ylabel(f"terminal wealth ({summary['currency']}); box 25-75 %, whiskers 5-95 %")
        ax.set_title("Terminal wealth over resampled histories")
        fig.tight_layout()
        fig.savefig(out / "terminal_wealth.png", dpi=110)
        plt.close(fig)


def is_finite_json(obj: Any) -> bool:
    """True when ``obj`` has no NaN or infinity anywhere (strict JSON)."""
    if isinstance(obj, float):
        return math.isfinite(obj)
    if isinstance(obj, dict):
        return all(is_finite_json(v) for v in obj.values())
    if isinstance(obj, list):
        return all(is_finite_json(v) for v in obj)
    return True
