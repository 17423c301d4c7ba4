"""Strict JSON for everything the ``overlay`` command prints or writes.

JSON has no NaN or Infinity; Python's ``json`` writes them unless told not to. Every JSON
output goes through :func:`dumps`, which refuses a non-finite number with one
:class:`~overlay.errors.InputError` naming its key path, so it is never printed.
"""

from __future__ import annotations

import json
import math
from typing import Any

from overlay.errors import InputError


def first_non_finite(node: Any, path: str = "") -> str | None:
    """The key path of the first NaN or infinity in a JSON-like object, or None."""
    if isinstance(node, float):
        return None if math.isfinite(node) else (path or "(top)")
    if isinstance(node, dict):
        for key, value in node.items():
            found = first_non_finite(value, f"{path}.{key}" if path else str(key))
            if found:
                return found
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            found = first_non_finite(value, f"{path}[{i}]")
            if found:
                return found
    return None


def dumps(obj: Any, file: str | None = None, **kwargs: Any) -> str:
    """``json.dumps(obj, allow_nan=False, **kwargs)``; a non-finite number raises
    :class:`InputError` (``file``: the input it came from) naming where it is."""
    try:
        return json.dumps(obj, allow_nan=False, **kwargs)
    except ValueError as exc:
        where = first_non_finite(obj)
        if where is None:
            raise
        raise InputError(file, None, f"the result's {where} is not a finite number (the inputs combine beyond float range); nothing was printed") from exc
