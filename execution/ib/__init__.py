"""The Interactive Brokers adapter: :class:`IBBroker` implements the Broker port over
``ib_async`` (falling back to ``ib_insync``).

- :mod:`execution.ib.adapter` — the asyncio shell: connect, qualify, submit, reconcile;
- :mod:`execution.ib.mapping` — pure tables between our types and IB's (contracts, order
  types, statuses, error codes, ports);
- :mod:`execution.ib.orders` — the per-order state that turns IB's callbacks into our events;
- :mod:`execution.ib.pacing` — the client-side message pacer (under 50 messages a second).

``IBBroker``, ``IBSettings``, ``ContractNotFound`` and ``MarketDataUnavailable`` are
importable from here (loaded on first use: importing the package does not import the IB
client library).
"""

from __future__ import annotations

_EXPORTS = {
    "IBBroker": "execution.ib.adapter",
    "IBSettings": "execution.ib.settings",
    "ContractNotFound": "execution.ib.settings",
    "MarketDataUnavailable": "execution.ib.settings",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
