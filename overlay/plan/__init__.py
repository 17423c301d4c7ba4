"""The pure planner: a validated config in, a plan out (``overlay plan``).

- :mod:`overlay.plan.planner` — :func:`plan`: drift, triggers, momentum deferral, routing of
  cash flows, and the futures, swap and physical orders that restore the policy;
- :mod:`overlay.plan.decide` — the decision step (weights, bands, trigger, exposure changes),
  vectorised over portfolios so that the policy backtest calls it for every path at once;
- :mod:`overlay.plan.bands` — tolerance bands (absolute, relative, asymmetric, vol-scaled);
- :mod:`overlay.plan.sizing` — contracts from exposure (beta-, DV01- and FX-adjusted);
- :mod:`overlay.plan.instruments` — the config's instruments resolved against the registry;
- :mod:`overlay.plan.suggest` — ``--suggest-bands``;
- :mod:`overlay.plan.taxes` — lot sales and taxes of the plan's physical sells, ``--harvest``
  and ``--compare`` (the rules live in :mod:`overlay.tax`);
- :mod:`overlay.plan.types` — the frozen plan records and the spec's JSON (:func:`plan_to_dict`).

It imports only ``overlay.config``, ``overlay.errors`` and ``pricing``; never the engine or
the simulator. ``plan``, ``plan_to_dict``, ``suggest_bands`` and ``Plan`` are importable from
here (loaded on first use).
"""

from __future__ import annotations

_EXPORTS = {
    "plan": "overlay.plan.planner",
    "plan_to_dict": "overlay.plan.types",
    "Plan": "overlay.plan.types",
    "suggest_bands": "overlay.plan.suggest",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
