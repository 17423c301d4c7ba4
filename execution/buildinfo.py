"""Which build of the engine's hot path runs: compiled (mypyc) or pure Python.

The modules in :data:`HOT_MODULES` carry a child order's whole path: the engine, the
algorithms, the order records, the risk checks, the virtual-time loop and the simulator.
``OVERLAY_COMPILE=1 pip install .`` compiles them with mypyc, from the same source
(``setup.py``; ``docs/architecture.md``, the compiled build). Every other install runs them
as Python. Both give the same results for a seed.

``OVERLAY_PURE=1`` in the environment makes a compiled install run the Python sources of
these modules instead (installed beside the compiled ones), for a debugger, a profiler or a
comparison: :func:`prefer_sources`, called by the ``execution`` and ``sim_broker`` packages
as they load. This file is also read by ``setup.py``, so it imports nothing from the project.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys

__all__ = ["HOT_MODULES", "compiled_modules", "describe", "prefer_sources", "pure_requested"]

#: The modules the compiled build compiles (every other module always runs as Python).
HOT_MODULES: tuple[str, ...] = (
    "execution.algos",
    "execution.engine",
    "execution.orders",
    "execution.risk",
    "execution.vtime",
    "sim_broker.broker",
    "sim_broker.events",
    "sim_broker.market",
    "sim_broker.matching",
)


def compiled_modules() -> list[str]:
    """The modules of :data:`HOT_MODULES` that load (or loaded) from a compiled extension.

    A module not yet imported is looked up without importing it (its package is imported)."""
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    found = []
    for name in HOT_MODULES:
        module = sys.modules.get(name)
        if module is not None:
            origin = getattr(module, "__file__", None)
        else:
            spec = importlib.util.find_spec(name)
            origin = None if spec is None else spec.origin
        if origin is not None and origin.endswith(suffixes):
            found.append(name)
    return found


def describe() -> str:
    """``"compiled"`` (every hot module), ``"pure"`` (none), or ``"mixed: …"`` (a broken build)."""
    done = compiled_modules()
    if not done:
        return "pure"
    if len(done) == len(HOT_MODULES):
        return "compiled"
    return "mixed: compiled " + ", ".join(done)


def pure_requested() -> bool:
    """``OVERLAY_PURE`` is set (and not ``0``): run the hot modules from their sources."""
    return os.environ.get("OVERLAY_PURE", "0").strip() not in ("", "0")


class _SourceFirst:
    """A meta-path finder that loads the hot modules from their ``.py`` files even where a
    compiled module sits beside them (a compiled install ships both)."""

    def find_spec(self, name, path=None, target=None):  # noqa: ANN001, ANN201
        if name not in HOT_MODULES:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.origin is None:
            return None
        folder = os.path.dirname(spec.origin)
        source = os.path.join(folder, name.rpartition(".")[2] + ".py")
        if not os.path.exists(source):
            return None
        return importlib.util.spec_from_file_location(name, source)


def prefer_sources() -> None:
    """Load the hot modules imported from now on from their Python sources (idempotent)."""
    if not any(isinstance(f, _SourceFirst) for f in sys.meta_path):
        sys.meta_path.insert(0, _SourceFirst())
