"""The rich consoles the commands print their tables to, and tables that fit them.

A terminal gets its own width (``COLUMNS`` when set, as for every Unix tool); a pipe or file
gets a fixed wide layout, so that a redirected report keeps whole rows.

:func:`print_table` never cuts a number: every column is at least as wide as its widest cell;
when the whole table is wider than the console, the columns are stacked in several tables
that each repeat the key columns (the instrument, the sleeve), so an 80-column terminal shows
every figure whole.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import IO, Any

PIPE_WIDTH = 160


def _env_width() -> int | None:
    value = os.environ.get("COLUMNS", "")
    return int(value) if value.isdigit() and int(value) > 0 else None


def table_console(file: IO[str] | None = None, width: int | None = None):
    """A rich ``Console`` on ``file`` (stdout by default) for human-readable tables:
    ``width`` if given, else ``COLUMNS``, else the terminal's width, else (a pipe) 160."""
    from rich.console import Console

    out = file if file is not None else sys.stdout
    isatty = getattr(out, "isatty", lambda: False)()
    if width is None:
        width = _env_width()
    if width is None and not isatty:
        width = PIPE_WIDTH
    return Console(file=out, width=width, highlight=False, soft_wrap=False)


def _cell_width(text: str) -> int:
    from rich.cells import cell_len

    return max((cell_len(line) for line in str(text).splitlines()), default=0)


def _header_width(name: str) -> int:
    """A header may wrap at its spaces: its narrowest form is its longest word."""
    return max((_cell_width(w) for w in name.split()), default=0)


def column_widths(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[int]:
    """Each column's width: its widest cell, or its header's longest word if wider."""
    return [max([_header_width(h)] + [_cell_width(r[i]) for r in rows]) for i, h in enumerate(headers)]


def column_groups(headers: Sequence[str], rows: Sequence[Sequence[str]], width: int, keys: int = 1) -> list[list[int]]:
    """Indices of the columns of each stacked table: the first ``keys`` columns in every
    group, then as many of the others, in order, as fit in ``width`` cells (a rich table
    with a box border uses its columns' widths plus 3 cells per column plus 1)."""
    need = column_widths(headers, rows)
    cost = [n + 3 for n in need]
    key_cols = list(range(min(keys, len(headers))))
    base = 1 + sum(cost[i] for i in key_cols)
    groups: list[list[int]] = []
    current: list[int] = []
    used = base
    for i in range(len(key_cols), len(headers)):
        if current and used + cost[i] > width:
            groups.append(key_cols + current)
            current, used = [], base
        current.append(i)
        used += cost[i]
    if current or not groups:
        groups.append(key_cols + current)
    return groups


def print_table(
    console: Any,
    title: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    left: Sequence[str] = (),
    keys: int = 1,
    caption: str | None = None,
) -> None:
    """Print ``rows`` (already formatted text) under ``headers`` on ``console``: one table
    when it fits the console's width, else stacked tables of column groups (see
    :func:`column_groups`); columns named in ``left`` are left-aligned, the rest right."""
    from rich.table import Table
    from rich.text import Text

    groups = column_groups(headers, rows, console.width, keys)
    need = column_widths(headers, rows)
    for n, group in enumerate(groups):
        part = f" ({n + 1}/{len(groups)})" if len(groups) > 1 else ""
        console.print(f"{title}{part}", markup=False, highlight=False)  # not squeezed to the table's width
        table = Table(caption=caption if n == len(groups) - 1 else None, caption_justify="left")
        for i in group:  # a fixed width: rich never has to squeeze (and so cut) a column
            table.add_column(headers[i], justify="left" if headers[i] in left else "right", width=need[i])
        for r in rows:  # a cell never wraps; its header may, at its spaces
            table.add_row(*(Text(str(r[i]), no_wrap=True, overflow="fold") for i in group))
        console.print(table)
