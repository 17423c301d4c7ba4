"""``overlay paper``'s entry point: checks, the dry run, or a journaled session.

:func:`paper` checks its input before any side effect, then either plans a dry run (never
connects) or hands over to :func:`overlay.paper.session.run_session`. The types and pure steps
live in :mod:`overlay.paper.model`; see its docstring for what a session does.
"""

from __future__ import annotations

from pathlib import Path

from overlay.config import PortfolioConfig, load_config
from overlay.errors import InputError
from overlay.paper.model import (
    PaperOptions,
    PaperOrder,
    PaperResult,
    PaperStatus,
    _config_position,
    check_options,
    contract_orders,
    current_contracts,
    journal_path,
    not_sent_orders,
)


def paper(config: PortfolioConfig | str | Path, options: PaperOptions = PaperOptions()) -> PaperResult:
    """Plan ``config`` and execute its futures orders at an IB paper account (see the module
    docstring). Raises :class:`~overlay.errors.InputError` for bad input before any side
    effect, and :class:`~overlay.errors.JobFailed` when the broker cannot be reached."""
    if not isinstance(config, PortfolioConfig):
        config = load_config(config)
    check_options(options)
    journal = journal_path(config, options)
    if options.dry_run:
        return dry_run(config, options, journal)
    from overlay.paper.session import run_session

    return run_session(config, options, journal)


def dry_run(config: PortfolioConfig, options: PaperOptions, journal: Path) -> PaperResult:
    """Plan from the config alone; never connects. With a journal, show what is left."""
    from overlay.plan.planner import plan as make_plan

    if journal.exists():
        from execution.journal.store import Journal, JournalUnusable

        try:
            opened = Journal.open_readonly(journal)
        except JournalUnusable as exc:
            raise InputError(None, "--journal", str(exc)) from None
        with opened as j:
            rec = j.recovery()
            if rec.run is not None:
                legs = {k: v.get("legs") for k, v in rec.run.info.get("contracts", {}).items()}
                orders = tuple(PaperOrder(p.parent_id, p.instrument, p.quantity, p.committed, None, p.fees,
                                          len(j.children(p.parent_id)), "not sent",
                                          tuple(legs[p.parent_id]) if legs.get(p.parent_id) else None)
                               for p in rec.parents)
                msg = f"journal holds a {rec.run.status.value} run; a resumed run would trade what is left"
                return PaperResult(PaperStatus.DRY_RUN, str(journal), True, rec.run.sessions, orders,
                                   tuple(rec.run.info.get("not_sent", ())),
                                   dict(rec.run.info.get("start_positions", {})), None, msg)
    the_plan = make_plan(config)
    orders = tuple(PaperOrder(c.key, c.instrument, c.quantity, 0, None, 0.0, 0, "not sent", c.legs)
                   for c in contract_orders(config, the_plan))
    start = {c.key: int(_config_position(config, c.instrument)) for c in current_contracts(config).values()}
    return PaperResult(PaperStatus.DRY_RUN, str(journal), False, 0, orders, not_sent_orders(the_plan), start, None,
                       "dry run: planned from the config's positions and prices; nothing was sent")
