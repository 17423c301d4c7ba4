"""``run_backtest``: the Python function behind ``overlay backtest``.

Reads the config and its ``[backtest]`` table, loads and checks the data, runs every policy
× implementation on the history (one path, with a per-date trace) and, with ``paths > 0``,
on that many resampled histories of ``horizon_years`` (stationary block bootstrap, chunks of
:data:`CHUNK_PATHS` paths run in-process, on local processes or on Dask). Every input
problem is raised as :class:`~overlay.errors.InputError` before anything runs.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from overlay.backtest.book import Book, PolicyRun, build_book, build_policy
from overlay.backtest.bootstrap import path_rngs, stationary_indices
from overlay.backtest.builtin import is_builtin, load_builtin
from overlay.backtest.data import History, load_history
from overlay.backtest.engine import Paths, simulate
from overlay.backtest.metrics import METRICS, distribution, path_metrics
from overlay.backtest.parallel import check_options, run_tasks
from overlay.backtest.rolls import next_weekday
from overlay.plan.bands import add_months
from overlay.config import PortfolioConfig, load_config
from overlay.config.backtest import Implementation
from overlay.errors import InputError

#: Resampled paths per task: small enough for a progress bar, large enough for numpy.
CHUNK_PATHS = 500


@dataclass(frozen=True)
class BacktestResult:
    """What a backtest produced.

    ``results``: one row per policy × implementation × path (``sample`` is ``"history"``
    for the historical run, path 0, or ``"bootstrap"``), with every metric.
    ``history``: the historical run, one row per date × policy × implementation with NAV,
    cash, the sleeves' weights after the date's trades (``weight_<sleeve>``), costs, taxes,
    one-way value traded and whether the policy traded. ``summary``: the JSON object of
    ``overlay backtest --json``.
    """

    results: pd.DataFrame
    history: pd.DataFrame
    summary: dict[str, Any]

    def to_frame(self) -> pd.DataFrame:
        """The per-path results (``results``), as every result object of the API offers."""
        return self.results


@dataclass(frozen=True)
class Setup:
    cfg: PortfolioConfig
    history: History
    book: Book
    policies: tuple[PolicyRun, ...]
    implementations: tuple[Implementation, ...]


def prepare(config: PortfolioConfig | str | os.PathLike[str], history: History | None = None) -> Setup:
    """Load and check everything a backtest needs (raises :class:`InputError`); ``history``
    skips reading the data again."""
    cfg = config if isinstance(config, PortfolioConfig) else load_config(config)
    file = cfg.source
    bt = cfg.backtest
    if bt is None:
        raise InputError(file, "backtest", "required table missing: add [backtest] with data and policies")
    sleeves = [s.name for s in cfg.sleeves]
    if history is None:
        if is_builtin(bt.data):
            history = load_builtin(bt.data, sleeves, file)
        else:
            history = load_history(cfg.resolve_path(bt.data), sleeves)
        history = history.window(bt.start, bt.end, file)
    seen: dict[str, int] = {}
    for i, p in enumerate(bt.policies):
        if p.name in seen:
            raise InputError(file, f"backtest.policies[{i}].name", f"duplicate policy name {p.name!r} (also backtest.policies[{seen[p.name]}])")
        seen[p.name] = i
    implementations = tuple(dict.fromkeys(bt.implementations))
    book = build_book(cfg, list(implementations), file)
    policies = tuple(build_policy(cfg, p, i, history.periods_per_year, file) for i, p in enumerate(bt.policies))
    return Setup(cfg, history, book, policies, implementations)


def history_paths(history: History) -> Paths:
    return Paths(history.dates, history.returns[None], history.cash_rate[None, 1:], history.period_years)


def horizon_dates(history: History, periods: int) -> tuple[dt.date, ...]:
    """``periods + 1`` regular dates from the data's first date at the data's frequency."""
    start = history.dates[0]
    months = {"monthly": 1, "quarterly": 3, "annual": 12}.get(history.frequency)
    if months is not None:
        return tuple(add_months(start, months * k) for k in range(periods + 1))
    if history.frequency == "weekly":
        return tuple(start + dt.timedelta(days=7 * k) for k in range(periods + 1))
    out = [start]
    for _ in range(periods):
        out.append(next_weekday(out[-1]))
    return tuple(out)


@dataclass(frozen=True)
class ChunkTask:
    """Paths ``first … first + count − 1`` of the bootstrap (picklable)."""

    cfg: PortfolioConfig
    history: History
    seed: int
    paths: int
    first: int
    count: int


def run_chunk(task: ChunkTask) -> dict[tuple[int, str], dict[str, np.ndarray]]:
    """Every policy × implementation on one chunk of resampled paths: metrics per path."""
    setup = prepare(task.cfg, task.history)
    bt = task.cfg.backtest
    assert bt is not None
    h = setup.history
    periods = max(1, round(bt.horizon_years * h.periods_per_year))
    rngs = path_rngs(task.seed, task.paths, task.first, task.count)
    idx = stationary_indices(rngs, len(h.dates) - 1, periods, bt.block_months * h.periods_per_year / 12.0)
    dates = horizon_dates(h, periods)
    returns = h.returns[idx]
    rates = h.cash_rate[1:][idx]
    paths = Paths(dates, returns, rates, h.period_years)
    years = (dates[-1] - dates[0]).days / 365.25
    runs = [(policy, impl) for policy in setup.policies for impl in setup.implementations]
    outcomes = simulate(setup.book, runs, paths)
    keys = [(i, impl.value) for i in range(len(setup.policies)) for impl in setup.implementations]
    return {key: path_metrics(o, returns, rates, setup.book.targets, years, h.period_years) for key, o in zip(keys, outcomes)}


def run_backtest(
    config: PortfolioConfig | str | os.PathLike[str],
    *,
    paths: int | None = None,
    seed: int | None = None,
    workers: int = 0,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    chunk_paths: int = CHUNK_PATHS,
) -> BacktestResult:
    """Backtest every policy × implementation of the config's ``[backtest]`` table.

    ``paths`` and ``seed`` override the table's; ``workers``/``scheduler`` say where the
    resampled paths run (the results do not depend on it); ``progress(done, total)`` is
    called as chunks of paths finish; ``chunk_paths`` paths go to each task (the results do
    not depend on it either).
    """
    started = time.perf_counter()
    check_options(workers, scheduler)
    setup = prepare(config)
    cfg, h, book = setup.cfg, setup.history, setup.book
    bt = cfg.backtest
    assert bt is not None
    if paths is not None and paths < 0:
        raise InputError(None, "--paths", f"must be >= 0, got {paths}")
    if seed is not None and seed < 0:
        raise InputError(None, "--seed", f"must be >= 0, got {seed}")
    n_paths = bt.paths if paths is None else paths
    the_seed = bt.seed if seed is None else seed

    hp = history_paths(h)
    rows: list[dict[str, Any]] = []
    frames: list[pd.DataFrame] = []
    runs = [(policy, impl) for policy in setup.policies for impl in setup.implementations]
    for (policy, impl), outcome in zip(runs, simulate(book, runs, hp, trace=True)):
        m = path_metrics(outcome, hp.returns, hp.rates, book.targets, h.years, h.period_years)
        rows.append({"policy": policy.name, "implementation": impl.value, "sample": "history", "path": 0} | {k: v[0] for k, v in m.items()})
        frames.append(_history_frame(h, book, policy.name, impl, outcome))
    results = pd.DataFrame(rows)
    boot = _bootstrap(setup, n_paths, the_seed, workers, scheduler, progress, max(1, chunk_paths)) if n_paths > 0 else None
    if boot is not None:
        results = pd.concat([results, boot], ignore_index=True)
    summary = _summary(setup, results, n_paths, the_seed, time.perf_counter() - started)
    return BacktestResult(results=results, history=pd.concat(frames, ignore_index=True), summary=summary)


def _bootstrap(setup: Setup, n: int, seed: int, workers: int, scheduler: str | None, progress, chunk: int) -> pd.DataFrame:
    tasks = [ChunkTask(setup.cfg, setup.history, seed, n, first, min(chunk, n - first)) for first in range(0, n, chunk)]
    done: dict[int, dict] = {}
    if progress is not None:
        progress(0, n)
    for i, result in run_tasks(run_chunk, tasks, workers, scheduler):
        done[i] = result
        if progress is not None:
            progress(sum(tasks[j].count for j in done), n)
    frames = []
    for pi, policy in enumerate(setup.policies):
        for impl in setup.implementations:
            cols = {k: np.concatenate([done[i][(pi, impl.value)][k] for i in range(len(tasks))]) for k in METRICS}
            frame = pd.DataFrame({"policy": policy.name, "implementation": impl.value, "sample": "bootstrap", "path": np.arange(n)} | cols)
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _history_frame(h: History, book: Book, policy: str, impl: Implementation, outcome) -> pd.DataFrame:
    tr = outcome.trace
    data: dict[str, Any] = {
        "date": pd.to_datetime(list(h.dates)),
        "policy": policy,
        "implementation": impl.value,
        "nav": outcome.nav[0],
        "cash": tr["cash"][0],
    }
    for i, name in enumerate(book.sleeves):
        data[f"weight_{name}"] = tr["weights"][0, :, i]
    data |= {"costs": tr["costs"][0], "taxes": tr["taxes"][0], "traded": tr["traded"][0], "rebalanced": tr["traded"][0] > 0}
    return pd.DataFrame(data)


def _clean(value: Any) -> Any:
    """Strict JSON: NaN and infinities become null; numpy scalars become Python numbers."""
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else None
    return value


def _summary(setup: Setup, results: pd.DataFrame, n_paths: int, seed: int, wall: float) -> dict[str, Any]:
    h = setup.history
    bt = setup.cfg.backtest
    assert bt is not None
    out = []
    hist = results[results["sample"] == "history"]
    for _, row in hist.iterrows():
        item = {"policy": row["policy"], "implementation": row["implementation"]}
        item |= {k: _clean(row[k]) for k in METRICS}
        if n_paths > 0:
            mask = (results["sample"] == "bootstrap") & (results["policy"] == row["policy"]) & (results["implementation"] == row["implementation"])
            item["paths"] = {k: _clean(v) for k, v in distribution(results.loc[mask, "terminal_wealth"].to_numpy()).items()}
        out.append(item)
    summary: dict[str, Any] = {
        "data": {
            "source": bt.data if is_builtin(bt.data) else str(Path(h.source).name),
            "start": h.dates[0].isoformat(),
            "end": h.dates[-1].isoformat(),
            "periods": len(h.dates) - 1,
            "frequency": h.frequency,
        },
        "currency": setup.cfg.portfolio.currency,
        "nav0": setup.book.nav0,
        "results": out,
    }
    if n_paths > 0:
        summary["bootstrap"] = {"paths": n_paths, "seed": seed, "horizon_years": bt.horizon_years, "block_months": bt.block_months}
    summary["notes"] = list(setup.book.notes)
    summary["wall_seconds"] = round(wall, 3)
    return summary
