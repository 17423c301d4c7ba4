"""The simulated market and broker in virtual time.

- :class:`sim_broker.broker.SimBroker` implements :class:`execution.broker.Broker`;
- :func:`sim_broker.tables.from_tables` builds one from the config's tables;
- :mod:`sim_broker.market` generates (or replays) the price and volume paths;
- :mod:`sim_broker.matching` prices our fills with the impact model;
- :mod:`sim_broker.faults` injects faults; :mod:`sim_broker.account` keeps the account.

``SimBroker``, ``from_tables``, ``MarketParams``, ``FaultParams`` and ``SimConfig`` are
importable from here (loaded on first use, so the package imports cheaply). With
``OVERLAY_PURE=1`` a compiled install runs the simulator's hot modules from their Python
sources (:mod:`execution.buildinfo`).
"""

from __future__ import annotations

from execution.buildinfo import prefer_sources, pure_requested

if pure_requested():
    prefer_sources()

_EXPORTS = {
    "SimBroker": "sim_broker.broker",
    "from_tables": "sim_broker.tables",
    "MarketParams": "sim_broker.params",
    "FaultParams": "sim_broker.params",
    "SimConfig": "sim_broker.params",
}


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
