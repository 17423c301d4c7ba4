"""The execution engine: algorithms, orders, risk checks, the journal and the brokers' port.

With ``OVERLAY_PURE=1`` a compiled install runs the engine's hot modules from their Python
sources (:mod:`execution.buildinfo`).
"""

from execution.buildinfo import prefer_sources, pure_requested

if pure_requested():
    prefer_sources()
