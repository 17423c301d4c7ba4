"""Grid expansion and the random streams of every cell.

Every combination of the grid's lists is one :class:`Cell`. A cell's *key* is a canonical
text of its values (``algo=twap|impact=square-root(y=0.8)|participation=0.05|...``), and its
random streams come from a :class:`numpy.random.SeedSequence` whose entropy is a SHA-256
digest of the study name and that key. Path ``s`` of the event engine draws from
``SeedSequence(entropy, spawn_key=(EVENT, s))``; block ``b`` of the vectorized engine (paths
``b·B … b·B + B − 1`` for the fixed :data:`BLOCK_PATHS` ``B``) from
``SeedSequence(entropy, spawn_key=(VECTORIZED, b))``. Nothing depends on the order cells
run in, on the worker or on the machine, so any runner yields the same numbers.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from overlay.studies.spec import GRID_KEYS, StudySpec

#: Paths per random block of the vectorized engine. Part of the results' definition: changing
#: it changes the numbers (the memory chunk size does not).
BLOCK_PATHS = 1024

#: First element of the spawn key, per engine, so the two engines never share a stream.
EVENT_STREAM = 0
VECTORIZED_STREAM = 1


def impact_label(table: Mapping[str, Any]) -> str:
    """A short stable name for an impact table, e.g. ``square-root(y=0.8)``."""
    params = {k: v for k, v in table.items() if k not in ("model", "name")}
    name = str(table.get("model", table.get("name", "preset")))
    inner = ",".join(f"{k}={params[k]!r}" for k in sorted(params))
    return f"{name}({inner})"


@dataclass(frozen=True, slots=True)
class Cell:
    """One combination of grid values.

    ``index`` is the position of each value in its grid list (in :data:`GRID_KEYS` order), so
    sorting by ``index`` reproduces the expansion order.
    """

    index: tuple[int, ...]
    algo: str
    impact: Mapping[str, Any]
    participation: float
    horizon_minutes: float
    daily_vol: float

    @property
    def key(self) -> str:
        return "|".join(
            (
                f"algo={self.algo}",
                f"impact={impact_label(self.impact)}",
                f"participation={self.participation!r}",
                f"horizon_minutes={self.horizon_minutes!r}",
                f"daily_vol={self.daily_vol!r}",
            )
        )

    def values(self) -> dict[str, Any]:
        """The grid columns of this cell's result rows."""
        return {
            "algo": self.algo,
            "impact": impact_label(self.impact),
            "participation": self.participation,
            "horizon_minutes": self.horizon_minutes,
            "daily_vol": self.daily_vol,
        }


def expand(spec: StudySpec) -> list[Cell]:
    """Every cell of the study's grid, in expansion order (the last grid key varies fastest)."""
    lists = [spec.grid[k] for k in GRID_KEYS]
    cells = []
    for index in itertools.product(*(range(len(v)) for v in lists)):
        values = dict(zip(GRID_KEYS, (lst[i] for lst, i in zip(lists, index))))
        cells.append(Cell(index=tuple(index), **values))
    return cells


def cell_entropy(study_name: str, cell_key: str) -> int:
    """128 bits of entropy from SHA-256 of the study name and the cell key."""
    digest = hashlib.sha256(json.dumps([study_name, cell_key]).encode()).digest()
    return int.from_bytes(digest[:16], "big")


def path_generator(entropy: int, seed: int) -> np.random.Generator:
    """The generator of event-engine path ``seed`` of a cell."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy, spawn_key=(EVENT_STREAM, seed))))


def block_generator(entropy: int, block: int) -> np.random.Generator:
    """The generator of vectorized-engine block ``block`` of a cell."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy, spawn_key=(VECTORIZED_STREAM, block))))
