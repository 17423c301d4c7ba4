"""Reading a user's TOML file: one place, one set of messages for every command.

:func:`read_toml` turns every way a file can be unreadable into one
:class:`~overlay.errors.InputError` naming the file (and, for broken TOML, the line).
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any

from overlay.errors import InputError

_LOC_RE = re.compile(r"\s*\(at line (\d+), column (\d+)\)")


def read_toml(path: str | os.PathLike[str], what: str = "config file") -> dict[str, Any]:
    """The parsed contents of the TOML file at ``path`` (``what`` names it in messages)."""
    file = str(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(file, None, "file not found") from None
    except IsADirectoryError:
        raise InputError(file, None, f"is a directory, not a {what}") from None
    except OSError as exc:
        raise InputError(file, None, f"cannot read: {exc.strerror or exc}") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError(file, None, "not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        m = _LOC_RE.search(message)
        text = _LOC_RE.sub("", message).strip()
        where = f"line {m.group(1)}" if m else None
        raise InputError(file, where, f"invalid TOML: {text} at column {m.group(2)}" if m else f"invalid TOML: {text}") from None
