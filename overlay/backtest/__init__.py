"""The policy backtester behind ``overlay backtest``: the planner run over time.

Public API::

    run_backtest(config_or_path, *, paths=None, seed=None, workers=0, scheduler=None,
                 progress=None) -> BacktestResult      # .results, .history (DataFrames), .summary

Modules:

- :mod:`overlay.backtest.data` — the data file (CSV or Parquet of total-return index levels),
  checked row by row; :mod:`overlay.backtest.builtin` — ``builtin:us-stocks-bonds-1926``;
- :mod:`overlay.backtest.bootstrap` — the stationary block bootstrap, seeded per path;
- :mod:`overlay.backtest.book` — what the config holds and trades (sleeves, futures, swaps,
  costs, tax rules) and each policy as the planner's :class:`~overlay.plan.decide.Rule`;
- :mod:`overlay.backtest.engine` — the date loop, vectorised over policies × paths, calling
  the planner's :func:`~overlay.plan.decide.decide` and :func:`~overlay.plan.sizing.size_changes`;
- :mod:`overlay.backtest.costs`, :mod:`overlay.backtest.rolls`, :mod:`overlay.backtest.ledger`
  — trading costs from :mod:`pricing.impact`, roll dates, tax lots and taxes;
- :mod:`overlay.backtest.metrics` — the metrics of the spec, per path;
- :mod:`overlay.backtest.parallel` — in-process, local processes or Dask for resampled paths.
"""

from __future__ import annotations

_EXPORTS = {"run_backtest": "overlay.backtest.run", "BacktestResult": "overlay.backtest.run"}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
