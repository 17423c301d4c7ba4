"""Paper trading at Interactive Brokers (or our gateway), journaled and resumable.

- :mod:`overlay.paper.runner` — :func:`paper`, the API behind ``overlay paper``, and the dry run;
- :mod:`overlay.paper.model` — options, results, the pure steps and the text report;
- :mod:`overlay.paper.session` — the async session: connect, plan or resume, execute, settle.

``paper``, ``render``, ``PaperOptions``, ``PaperResult``, ``PaperStatus`` and ``PaperOrder``
are importable from here (loaded on first use).
"""

from __future__ import annotations

_EXPORTS = {
    "paper": "overlay.paper.runner",
    "render": "overlay.paper.model",
    "PaperOptions": "overlay.paper.model",
    "PaperResult": "overlay.paper.model",
    "PaperStatus": "overlay.paper.model",
    "PaperOrder": "overlay.paper.model",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
