"""The rich consoles the commands print their tables to.

A terminal gets its own width; a pipe or file gets a fixed wide layout, so that a redirected
report keeps whole numbers instead of columns squeezed to 80 characters.
"""

from __future__ import annotations

import sys
from typing import IO

PIPE_WIDTH = 160


def table_console(file: IO[str] | None = None):
    """A rich ``Console`` on ``file`` (stdout by default) for human-readable tables."""
    from rich.console import Console

    out = file if file is not None else sys.stdout
    isatty = getattr(out, "isatty", lambda: False)()
    return Console(file=out, width=None if isatty else PIPE_WIDTH, highlight=False)
