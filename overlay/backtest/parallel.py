"""Where the bootstrap's chunks of paths run: in this process, on local processes, on Dask.

Every chunk is an independent, picklable task; :func:`run_tasks` yields ``(index, result)``
as chunks finish, and the caller puts them back in index order, so the in-process,
``--workers N`` and ``--scheduler ADDRESS`` runs give the same numbers. The options and
messages are those of ``overlay study``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from overlay.errors import InputError

#: ``[tcp|tls|ws|wss]://HOST:PORT`` or ``HOST:PORT`` (IPv6 hosts in brackets).
_SCHEDULER_RE = re.compile(r"^(?:(?:tcp|tls|ws|wss)://)?(?:\[[0-9A-Fa-f:.]+\]|[^:/\s\[\]]+):\d{1,5}$")


def check_options(workers: int, scheduler: str | None) -> None:
    """Refuse bad ``--workers``/``--scheduler`` values before anything runs."""
    if workers < 0:
        raise InputError(None, "--workers", f"must be >= 0, got {workers}")
    if scheduler and workers:
        raise InputError(None, "--scheduler", "give either --workers or --scheduler, not both")
    if scheduler and not _SCHEDULER_RE.match(scheduler):
        raise InputError(None, "--scheduler", f"expected an address like tcp://HOST:PORT, got {scheduler!r}")


def run_tasks(fn: Callable[[Any], Any], tasks: Sequence[Any], workers: int = 0, scheduler: str | None = None) -> Iterator[tuple[int, Any]]:
    """Yield ``(index, fn(tasks[index]))`` for every task, in completion order."""
    check_options(workers, scheduler)
    if scheduler:
        yield from _dask(fn, tasks, scheduler)
    elif workers > 1:
        yield from _processes(fn, tasks, workers)
    else:
        for i, task in enumerate(tasks):
            yield i, fn(task)


def _processes(fn: Callable[[Any], Any], tasks: Sequence[Any], workers: int) -> Iterator[tuple[int, Any]]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {pool.submit(fn, task): i for i, task in enumerate(tasks)}
        for future in as_completed(futures):
            yield futures[future], future.result()


def _dask(fn: Callable[[Any], Any], tasks: Sequence[Any], address: str) -> Iterator[tuple[int, Any]]:
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise InputError(None, "--scheduler", "Dask is not installed; pip install 'overlay-engine[cluster]'") from None
    try:
        client = Client(address, timeout=10.0, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(None, "--scheduler", f"cannot reach the Dask scheduler at {address}: {exc}") from None
    try:
        futures = [client.submit(fn, task, pure=False) for task in tasks]
        index = {f.key: i for i, f in enumerate(futures)}
        for future in as_completed(futures, loop=client.loop):
            yield index[future.key], future.result()
            future.release()
    finally:
        client.close()
