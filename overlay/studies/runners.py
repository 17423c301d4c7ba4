"""Running a study: in-process, on a local process pool or on a Dask cluster.

:func:`run_study` is what ``overlay study`` calls. Cells are independent; each runs through
:func:`overlay.studies.cell.run_cell` wherever the runner sends it, and the results are put
back in grid order, so the in-process, ``--workers N`` and ``--scheduler ADDRESS`` runs of a
study write the same ``results.parquet``, byte for byte.

With an output folder, every finished cell is saved at once as
``DIR/cells/<digest>.parquet`` (``digest`` from the study's fingerprint and the cell key);
running the study again into the same folder reuses those files and runs only the missing
or failed cells. Changing anything that shapes a cell's numbers (seeds, market, engine,
execution) changes the digest, so stale cells are never reused.
"""

from __future__ import annotations

import enum
import hashlib
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from overlay.errors import InputError
from overlay.jsonout import dumps
from overlay.studies.cell import RESULT_COLUMNS, CellOutcome, CellStatus, CellTask, run_cell
from overlay.studies.grid import Cell, cell_entropy, expand
from overlay.studies.results import CellStats, cell_stats, cell_table, combine, summary
from overlay.studies.spec import StudySpec

log = logging.getLogger(__name__)

#: Bumped whenever the meaning or the columns of a cell's results change, so that cells saved
#: by an earlier version are run again rather than reused (2: Perold split, fees included).
RESULTS_VERSION = 2


class Extras(enum.Flag):
    """Optional outputs of :func:`run_study`: PNG plots in the output folder, a progress bar
    on stderr."""

    NONE = 0
    PLOTS = enum.auto()
    PROGRESS = enum.auto()


class RunnerKind(enum.Enum):
    IN_PROCESS = "in-process"
    PROCESSES = "processes"
    DASK = "dask"


# --------------------------------------------------------------------------- runners


class InProcessRunner(AbstractContextManager):
    """Runs cells one after the other in this process."""

    kind = RunnerKind.IN_PROCESS

    def map_unordered(self, fn: Callable[[CellTask], CellOutcome], tasks: Iterable[CellTask]) -> Iterator[CellOutcome]:
        for task in tasks:
            yield fn(task)

    def __exit__(self, *exc: object) -> None:
        return None


class ProcessRunner(AbstractContextManager):
    """Runs cells on ``workers`` local processes (spawned, so safe on every platform)."""

    kind = RunnerKind.PROCESSES

    def __init__(self, workers: int) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))

    def map_unordered(self, fn: Callable[[CellTask], CellOutcome], tasks: Iterable[CellTask]) -> Iterator[CellOutcome]:
        from concurrent.futures import as_completed

        futures = [self._pool.submit(fn, task) for task in tasks]
        for future in as_completed(futures):
            yield future.result()

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


#: ``[tcp|tls|ws|wss]://HOST:PORT`` or ``HOST:PORT`` (IPv6 hosts in brackets).
_SCHEDULER_RE = re.compile(r"^(?:(?:tcp|tls|ws|wss)://)?(?:\[[0-9A-Fa-f:.]+\]|[^:/\s\[\]]+):\d{1,5}$")


class DaskRunner(AbstractContextManager):
    """Runs cells on the Dask cluster whose scheduler listens at ``address``.

    Needs the ``cluster`` extra (``dask[distributed]``) here and the project installed on
    the workers.
    """

    kind = RunnerKind.DASK

    def __init__(self, address: str, timeout: float = 10.0) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise InputError(None, "--scheduler", "Dask is not installed; pip install 'overlay-engine[cluster]'") from None
        if not _SCHEDULER_RE.match(address):
            raise InputError(None, "--scheduler", f"expected an address like tcp://HOST:PORT, got {address!r}")
        if address.startswith("tls://"):
            import dask

            # without them distributed fails with a TypeError about a missing ssl_context and
            # then hangs 20 s closing the half-made client: refuse first, on one line
            if not dask.config.get("distributed.comm.tls.ca-file", None):
                raise InputError(None, "--scheduler", f"{address}: tls:// needs the Dask TLS settings "
                                 "(distributed.comm.tls.ca-file, .client.cert, .client.key in the Dask config)")
        try:
            self._client = Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError, TypeError) as exc:
            why = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise InputError(None, "--scheduler", f"cannot reach the Dask scheduler at {address}: {why}") from None

    def map_unordered(self, fn: Callable[[CellTask], CellOutcome], tasks: Iterable[CellTask]) -> Iterator[CellOutcome]:
        from distributed import as_completed

        futures = [
            self._client.submit(fn, task, key=f"overlay-study-{task.entropy:032x}", pure=False) for task in tasks
        ]
        for future in as_completed(futures, loop=self._client.loop):
            yield future.result()
            future.release()

    def __exit__(self, *exc: object) -> None:
        self._client.close()


def make_runner(workers: int = 0, scheduler: str | None = None) -> AbstractContextManager:
    """The runner for the CLI's ``--workers`` / ``--scheduler`` (in-process when neither)."""
    if workers < 0:
        raise InputError(None, "--workers", f"must be >= 0, got {workers}")
    if scheduler and workers:
        raise InputError(None, "--scheduler", "give either --workers or --scheduler, not both")
    if scheduler:
        return DaskRunner(scheduler)
    if workers > 1:
        return ProcessRunner(workers)
    return InProcessRunner()


# --------------------------------------------------------------------------- tasks and files


def make_tasks(spec: StudySpec) -> list[CellTask]:
    """One task per cell of the grid, in grid order."""
    from sim_broker.params import SimConfig

    market = spec.market.as_dict()
    execution = {"slice_minutes": spec.execution.slice_minutes, "risk_aversion": spec.execution.risk_aversion}
    grid_seconds = SimConfig().grid_seconds
    return [
        CellTask(
            study=spec.name,
            engine=spec.engine.value,
            seeds=spec.seeds,
            market=market,
            execution=execution,
            cell=cell,
            entropy=cell_entropy(spec.name, cell.key),
            grid_seconds=grid_seconds,
        )
        for cell in expand(spec)
    ]


def cell_digest(spec: StudySpec, cell: Cell) -> str:
    return hashlib.sha256(f"{spec.fingerprint()}\n{cell.key}\n{RESULTS_VERSION}".encode()).hexdigest()[:24]


def _write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    write(tmp)
    os.replace(tmp, path)


def write_parquet(table: pa.Table, path: Path) -> None:
    """Write ``table`` so that equal tables give equal files."""
    _write_atomic(path, lambda p: pq.write_table(table, p, compression="zstd", write_statistics=False))


def _columns(table: pa.Table) -> dict[str, Any]:
    return {k: table.column(k).to_numpy() for k in RESULT_COLUMNS}


# --------------------------------------------------------------------------- the study


@dataclass
class StudyRun:
    """What a study produced: the results table, ``summary.json``'s object and failures."""

    table: pa.Table
    summary: dict[str, Any]
    failed: list[tuple[str, str]] = field(default_factory=list)
    out: Path | None = None

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def rows_frame(self):
        """``results.parquet`` as a pandas DataFrame, one row per cell × seed."""
        from overlay import frames

        return frames.study_rows(self.table.to_pandas())

    @property
    def cells_frame(self):
        """One row per cell: the grid values and the shortfall's mean, std and quantiles."""
        from overlay import frames

        return frames.study_cells(self.summary.get("cell_stats", []))

    def to_frame(self):
        """The per-path results as a DataFrame (``rows_frame``)."""
        return self.rows_frame


def _progress(enabled: bool, total: int) -> Any:
    if not enabled:
        return nullcontext(None)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    bar = Progress(TextColumn("study"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console)
    if not console.is_terminal:  # rich draws the final state only; end its line
        return _EndLine(bar, console)
    return bar


class _EndLine(AbstractContextManager):
    def __init__(self, bar: Any, console: Any) -> None:
        self.bar, self.console = bar, console

    def __enter__(self) -> Any:
        return self.bar.__enter__()

    def __exit__(self, *exc: object) -> None:
        self.bar.__exit__(*exc)
        self.console.file.write("\n")


def run_study(
    spec: StudySpec | str | os.PathLike,
    out: str | Path | None = None,
    *,
    workers: int = 0,
    scheduler: str | None = None,
    extras: Extras = Extras.PLOTS,
) -> StudyRun:
    """Run every cell of ``spec`` (a loaded :class:`StudySpec` or the path of a study file)
    and, with ``out``, write the study's files there.

    ``DIR/results.parquet``, ``DIR/summary.json``, PNG plots (with ``Extras.PLOTS``) and
    the per-cell files that let a re-run skip finished cells. A failed cell is logged and
    listed in the summary; the other cells still run. ``Extras.PROGRESS`` draws a progress
    bar on stderr. Bad runner options raise :class:`InputError` before any file is written.
    """
    if not isinstance(spec, StudySpec):
        from overlay.studies.spec import load_study

        spec = load_study(spec)
    started = time.perf_counter()
    tasks = make_tasks(spec)
    runner = make_runner(workers, scheduler)
    out_dir = Path(out) if out is not None else None
    tables: dict[tuple[int, ...], pa.Table] = {}
    stats: dict[tuple[int, ...], CellStats] = {}
    failed: dict[tuple[int, ...], tuple[str, str]] = {}
    pending: list[CellTask] = []
    with runner:
        if out_dir is not None:
            (out_dir / "cells").mkdir(parents=True, exist_ok=True)
        for task in tasks:
            path = out_dir / "cells" / f"{cell_digest(spec, task.cell)}.parquet" if out_dir else None
            if path is not None and path.exists():
                table = pq.read_table(path)
                tables[task.cell.index] = table
                stats[task.cell.index] = cell_stats(task.cell, _columns(table))
            else:
                pending.append(task)
        reused = len(tables)
        with _progress(Extras.PROGRESS in extras, len(tasks)) as bar:
            job = bar.add_task("cells", total=len(tasks), completed=reused) if bar is not None else None
            for outcome in runner.map_unordered(run_cell, pending):
                index = outcome.cell.index
                if outcome.status is CellStatus.FAILED:
                    failed[index] = (outcome.cell.key, outcome.error)
                    log.error("cell %s failed: %s", outcome.cell.key, outcome.error)
                else:
                    table = cell_table(outcome.cell, outcome.quantity, outcome.columns)
                    tables[index] = table
                    stats[index] = cell_stats(outcome.cell, outcome.columns)
                    if out_dir is not None:
                        write_parquet(table, out_dir / "cells" / f"{cell_digest(spec, outcome.cell)}.parquet")
                if bar is not None:
                    bar.advance(job)
    order = sorted(tables)
    table = combine(tables[i] for i in order)
    failures = [failed[i] for i in sorted(failed)]
    result = summary(
        study=spec.name,
        engine=spec.engine.value,
        cells=len(tasks),
        rows=table.num_rows,
        wall_seconds=time.perf_counter() - started,
        stats=[stats[i] for i in order],
        failed=failures,
        reused=reused,
    )
    if out_dir is not None:
        write_parquet(table, out_dir / "results.parquet")
        _write_atomic(out_dir / "summary.json", lambda p: p.write_text(dumps(result, None, indent=2) + "\n"))
        if Extras.PLOTS in extras and stats:
            from overlay.studies.plots import write_plots

            write_plots([stats[i] for i in order], out_dir)
    return StudyRun(table=table, summary=result, failed=failures, out=out_dir)
