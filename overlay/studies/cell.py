"""One cell of a study: its setup, its validation and its run on either engine.

:func:`run_cell` is a top-level function of plain picklable arguments, so local process
pools (spawn start method) and Dask workers can call it. It never raises for a bad cell: a
grid value that makes the cell impossible is returned as a failed :class:`CellOutcome`
naming the problem, and the study goes on with the other cells.

Order of a cell: a buy of ``Q = round(participation · adv)`` contracts from the session
open over ``horizon_minutes``, in ``N = horizon_minutes / slice_minutes`` slices.

- ``twap``: equal slices (:func:`execution.schedules.twap`);
- ``vwap``: slices in proportion to the expected U-shaped volume
  (:func:`execution.schedules.vwap`);
- ``pov``: a participation rate ``ρ = Q / E[market volume over the horizon]``, so the order
  completes at the horizon on an average day; ``ρ`` must not exceed 1;
- ``is``: the Almgren–Chriss trajectory (:func:`execution.schedules.implementation_shortfall`)
  with ``κ`` from the study's ``risk_aversion`` and the model linearised at the order's
  average rate (:func:`execution.algos.is_kappa`).

Both engines take the schedule from :func:`execution.algos.build_parent`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from overlay.studies.event import run_event_paths
from overlay.studies.grid import BLOCK_PATHS, Cell, block_generator
from overlay.studies.setup import CellError, CellSetup, CellTask, build_setup, quoted_mid
from overlay.studies.vectorized import simulate

__all__ = [
    "RESULT_COLUMNS",
    "CellError",
    "CellOutcome",
    "CellSetup",
    "CellStatus",
    "CellTask",
    "build_setup",
    "quoted_mid",
    "run_cell",
]

#: Result columns every engine fills, one value per path (besides the grid values and seed).
RESULT_COLUMNS = (
    "shortfall_bps", "cost", "participation_realised", "filled", "spread_bps", "impact_bps", "timing_bps", "fees_bps",
)


class CellStatus(enum.Enum):
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class CellOutcome:
    """A cell's per-seed columns (``RESULT_COLUMNS``, each ``seeds`` long) or its error."""

    cell: Cell
    status: CellStatus
    quantity: int = 0
    columns: Mapping[str, np.ndarray] | None = None
    error: str = ""


def run_cell(task: CellTask) -> CellOutcome:
    """Run one cell on its engine; a bad cell comes back as a failed outcome, never raises."""
    try:
        setup = build_setup(task)
        if task.engine == "vectorized":
            res = simulate(
                setup.market,
                setup.model,
                setup.order,
                task.seeds,
                lambda b: block_generator(task.entropy, b),
                block=BLOCK_PATHS,
            )
            columns = {k: getattr(res, k) for k in RESULT_COLUMNS}
        else:
            columns = run_event_paths(setup, task)
    except CellError as exc:
        return CellOutcome(task.cell, CellStatus.FAILED, error=str(exc))
    return CellOutcome(task.cell, CellStatus.DONE, quantity=setup.order.quantity, columns=columns)
