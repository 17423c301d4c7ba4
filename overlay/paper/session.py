"""The async side of ``overlay paper``: one process's session against the broker.

:func:`run_session` is called by :func:`overlay.paper.paper` after every input check. It
runs on an ordinary (real-time) asyncio loop:

1. open the journal and check it belongs to this config (before connecting);
2. connect the IB adapter;
3. a fresh run: read positions and prices, plan, journal the run and its parents;
   a resumed run: adopt every journaled child, reconcile, cancel the ones still working and
   wait until each is settled (journaled) before anything new is sent;
4. work what is left of each parent with the engine through a :class:`JournaledBroker`,
   with the kill switch watching;
5. reconcile once more, journal late fills, read the end positions and report.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
import signal
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np

from execution.broker import OrderRequest, OrderType, TimeInForce
from execution.ib.adapter import ContractNotFound, IBBroker, IBSettings, MarketDataUnavailable
from execution.ib.mapping import FutureRef
from execution.ib.settings import LiveAccountRefused
from execution.journal.store import (
    Identity,
    Journal,
    JournalDamaged,
    JournalError,
    JournalLocked,
    JournalUnusable,
    ParentState,
    RunStatus,
)
from execution.journal.broker import JournaledBroker
from overlay.config import PortfolioConfig
from overlay.errors import InputError, JobFailed
from overlay.paper.clock import ClockKind, measure_speed, play_at
from overlay.paper.progress import print_progress, report_progress
from overlay.paper.model import (
    ContractOrder,
    PaperOptions,
    PaperOrder,
    PaperResult,
    PaperStatus,
    algo_of,
    check_options,
    config_hash,
    contract_orders,
    current_contracts,
    not_sent_orders,
    with_market,
)
from overlay.paper.guard import fresh_options, fresh_run_problem, resume_options, resume_problem

log = logging.getLogger(__name__)

#: Seconds the session waits for late executions after the engine is done.
LATE_FILL_WAIT = 0.5


def run_session(config: PortfolioConfig, options: PaperOptions, journal_path: Path) -> PaperResult:
    """Run one session to its end on a fresh event loop (blocking)."""
    return asyncio.run(_Session(config, options, journal_path).run())


def _refs(c: ContractOrder) -> list[FutureRef]:
    """The futures to qualify for a parent: its contract, or a roll's two legs."""
    if c.legs:
        return [FutureRef(leg, c.symbol, c.exchange, c.currency, c.multiplier, month)
                for leg, month in zip(c.legs, c.leg_months or (None, None))]
    return [FutureRef(c.key, c.symbol, c.exchange, c.currency, c.multiplier, c.contract_month)]


def resample_profile(volumes: list[float], n: int) -> tuple[float, ...] | None:
    """Bar volumes spread over ``n`` equal buckets (linear in the cumulative volume curve);
    None when the bars carry no volume."""
    v = np.clip(np.asarray(volumes, dtype=np.float64), 0.0, None)
    if v.size < 2 or not v.sum() > 0:
        return None
    cum = np.concatenate([[0.0], np.cumsum(v)])
    edges = np.interp(np.linspace(0.0, v.size, n + 1), np.arange(v.size + 1), cum)
    shares = np.diff(edges)
    return tuple((shares / shares.sum()).tolist())


class _Session:
    def __init__(self, config: PortfolioConfig, options: PaperOptions, journal_path: Path) -> None:
        self.config = config
        self.options = options
        self.path = journal_path
        self.kill_file = Path(options.kill_file) if options.kill_file else journal_path.with_name(journal_path.name + ".kill")
        self.kill_reason: str | None = None
        self.messages: list[str] = []
        self.identity: Identity | None = None
        self.speed = 1.0  # broker seconds per second of this run's clock (measured with --clock broker)
        self.legs: dict[str, tuple[str, str]] = {}  # the run's calendar spreads (rolls): (near, far)

    async def run(self) -> PaperResult:
        journal = self._open_journal()
        try:
            identity = journal.identity()
            run = journal.run()
            if run is not None and run.config_hash != config_hash(self.config):
                raise InputError(str(self.path), None, "holds a run of a different config; use another --journal")
            if run is not None and self.options.new_run:
                raise InputError(str(self.path), "--new-run", "the journal already holds a run; a new run needs a new journal")
            o = resume_options(self.options, identity, str(self.path)) if identity else fresh_options(self.options)
            check_options(o)
            settings = IBSettings(o.host, o.port, o.client_id, account=identity.account if identity else "",
                                  allow_live=o.allow_live, ack_timeout=o.ack_timeout,
                                  order_ref_prefix=identity.order_ref_prefix if identity else "ovl-unset-")
            broker = IBBroker(settings)
            try:
                await broker.connect()
            except LiveAccountRefused as exc:
                raise InputError(None, None, str(exc)) from None
            except (OSError, ConnectionError, TimeoutError) as exc:
                raise JobFailed(f"cannot connect to {o.host}:{o.port} (client id {o.client_id}): {exc or type(exc).__name__}") from None
            try:
                if identity is None:
                    run_id = secrets.token_hex(4)
                    identity = Identity(run_id, config_hash(self.config), o.client_id, broker.account, o.host, o.port)
                    broker.orders.ref_prefix = identity.order_ref_prefix
                    broker.settings = replace(broker.settings, order_ref_prefix=identity.order_ref_prefix)
                self.identity = identity
                log.info("connected to %s:%d as client %d, account %s, run %s", o.host, o.port, o.client_id,
                         broker.account, identity.run_id)
                return await self._guarded(broker, journal, run)
            finally:
                await broker.close()
        finally:
            journal.close()

    def _open_journal(self) -> Journal:
        """Open, lock and check the journal before anything connects."""
        try:
            journal = Journal(self.path)
        except (JournalUnusable, JournalLocked) as exc:
            raise InputError(None, "--journal", str(exc)) from None
        if journal.lock.stale:
            log.warning("%s: %s", self.path, journal.lock.stale)
            self.messages.append(journal.lock.stale)
        problem = journal.integrity()
        if problem != "ok":
            journal.close()
            raise JobFailed(f"{self.path}: the journal is damaged: {problem}; nothing was sent "
                            "(inspect it with overlay journal)")
        return journal

    async def _guarded(self, broker: IBBroker, journal: Journal, run: Any) -> PaperResult:
        """:meth:`_trade`, turning a journal failure mid-run into one line and exit 1 after
        cancelling what is still working."""
        try:
            return await self._trade(broker, journal, run)
        except (ConnectionError, TimeoutError) as exc:
            raise JobFailed(f"lost the broker connection ({exc or type(exc).__name__}); "
                            "resume with the same journal") from None
        except (JournalError, BaseExceptionGroup) as exc:
            err = _journal_error(exc)
            if err is None:
                raise
            cancelled = broker.cancel_all()
            await asyncio.sleep(min(1.0, self.options.ack_timeout))  # let the cancels go out
            if isinstance(err, JournalDamaged):
                raise JobFailed(str(err)) from None
            raise JobFailed(f"{err}; the run stopped ({cancelled} working order(s) cancelled)") from None

    # ------------------------------------------------------------------ the run
    async def _trade(self, broker: IBBroker, journal: Journal, run: Any) -> PaperResult:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._kill, sig.name)
        try:
            if run is not None:
                journal.begin_session()
                contracts = {k: ContractOrder(**v) for k, v in journal.run().info["contracts"].items()}
                await self._resolve(broker, contracts.values())
                journaled = JournaledBroker(broker, journal, {k: k for k in contracts})
                if run.status is RunStatus.COMPLETED:
                    journal.set_run_status(RunStatus.COMPLETED)
                    return self._final(journal, PaperStatus.NOTHING_TO_DO, await broker.positions(),
                                       "the journal's run is already complete")
                if not await self._settle_previous(broker, journal, journaled):
                    journal.set_run_status(RunStatus.STOPPED)
                    return self._final(journal, PaperStatus.STOPPED, await broker.positions(),
                                       "orders of the previous session could not be settled; nothing new was sent")
                await self._check_resume(broker, journal, journaled)
            else:
                problem = fresh_run_problem(await broker.account_orders(), self.identity.config_hash[:8],
                                            self.options.new_run, str(self.path))
                if problem:
                    raise JobFailed(problem)
                contracts = await self._start(broker, journal)
                journaled = JournaledBroker(broker, journal, {k: k for k in contracts})
            status = await self._work(broker, journal, journaled, contracts)
            return self._final(journal, status, await broker.positions(), "; ".join(self.messages))
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    async def _check_resume(self, broker: IBBroker, journal: Journal, journaled: JournaledBroker) -> None:
        """Every order of the run the broker shows must be journaled, with its executions."""
        await broker.reconcile()
        await _pump_until(journaled, lambda: False, LATE_FILL_WAIT)
        filled = {c.order_id: c.filled for c in journal.children()}
        problem = resume_problem(await broker.account_orders(), self.identity.order_ref_prefix,
                                 self.identity.config_hash[:8], filled, str(self.path))
        if problem:
            journal.log("refused", {"problem": problem}, asyncio.get_running_loop().time())
            journal.set_run_status(RunStatus.STOPPED)
            raise JournalDamaged(problem)

    def _final(self, journal: Journal, status: PaperStatus, end: dict[str, int] | None, message: str) -> PaperResult:
        """The report; a run whose own orders are done but whose positions differ from the
        plan (trades it did not make) is a ``mismatch``."""
        result = self._result(journal, status, end, message)
        if status in (PaperStatus.COMPLETED, PaperStatus.NOTHING_TO_DO) and result.positions_match is False:
            diff = ", ".join(f"{k} {v:+d}" for k, v in sorted(result.differences.items()))
            text = f"positions differ from start + plan ({diff}): trades this run did not make; none were compensated"
            journal.log("mismatch", {"differences": result.differences}, asyncio.get_running_loop().time())
            result = dataclasses.replace(result, status=PaperStatus.MISMATCH,
                                         message="; ".join(m for m in (text, result.message) if m))
        return result

    def _kill(self, reason: str) -> None:
        if self.kill_reason is None:
            self.kill_reason = reason
            log.warning("kill switch: %s", reason)

    async def _resolve(self, broker: IBBroker, contracts: Any) -> None:
        contracts = list(contracts)
        try:
            await broker.resolve([r for c in contracts for r in _refs(c)])
        except ContractNotFound as exc:
            raise JobFailed(str(exc)) from None
        for c in contracts:
            if c.legs:  # a roll: one calendar spread of its two legs
                self.legs[broker.add_spread(*c.legs)] = tuple(c.legs)

    async def _start(self, broker: IBBroker, journal: Journal) -> dict[str, ContractOrder]:
        """Read the account and the market, plan, journal the run and its parents."""
        from overlay.plan.types import plan_to_dict
        from overlay.plan.planner import plan as make_plan

        current = current_contracts(self.config)
        await self._resolve(broker, current.values())
        held = await broker.positions()
        prices = {}
        for key, c in current.items():
            try:
                snap = await broker.snapshot(c.key)
                prices[key] = snap.last if snap.last > 0 else snap.mid
            except MarketDataUnavailable as exc:
                self.messages.append(f"{key}: no broker price, the config's is used ({exc})")
        cfg = with_market(self.config, {k: held.get(c.key, 0) for k, c in current.items()}, prices)
        the_plan = make_plan(cfg)
        parents = contract_orders(cfg, the_plan)
        await self._resolve(broker, parents)
        start = await broker.positions()
        algo = algo_of(self.config, self.options)
        info = {"start_positions": start, "prices": prices, "algo": algo, "not_sent": list(not_sent_orders(the_plan)),
                "contracts": {c.key: asdict(c) for c in parents}}
        journal.start_run(config_hash(self.config), plan_to_dict(the_plan), info, self.identity)
        for c in parents:
            journal.add_parent(c.key, c.key, c.quantity, algo)
        log.info("planned %d contract orders (%s), journaled in %s", len(parents), algo, self.path)
        return {c.key: c for c in parents}

    async def _settle_previous(self, broker: IBBroker, journal: Journal, journaled: JournaledBroker) -> bool:
        """Hand every journaled child to the adapter, reconcile, cancel the ones still working
        and wait until each is settled in the journal."""
        rec = journal.recovery()
        for child in journal.children():
            limit = child.limit_price if child.order_type == OrderType.LIMIT.value else None
            req = OrderRequest(child.order_id, child.instrument, child.quantity, OrderType(child.order_type), limit,
                               TimeInForce.DAY, self.legs.get(child.instrument))
            broker.adopt(req, terminal=not child.state.is_open, executed=child.filled, exec_keys=rec.exec_keys)
        open_ids = [c.order_id for p in rec.parents for c in p.open_children]
        await broker.reconcile()
        for oid in open_ids:
            if journal.child(oid).state.is_open:
                broker.cancel(oid)
        settled = await _pump_until(journaled, lambda: not any(journal.child(i).state.is_open for i in open_ids),
                                    self.options.settle_timeout)
        journal.log("recovery", {"open_children": open_ids, "settled": settled}, asyncio.get_running_loop().time())
        return settled

    async def _work(self, broker: IBBroker, journal: Journal, journaled: JournaledBroker,
                    contracts: dict[str, ContractOrder]) -> PaperStatus:
        from execution.engine import Engine, EngineConfig
        from execution.risk import RiskLimits

        specs = []
        parents = journal.recovery().parents
        if self.options.clock is ClockKind.BROKER and any(p.remaining * p.quantity > 0 for p in parents):
            try:
                self.speed = await measure_speed(broker.current_time)
            except TimeoutError as exc:
                raise JobFailed(f"--clock broker: {exc}; nothing was sent (use --clock wall)") from None
        for i, p in enumerate(parents):
            if p.remaining * p.quantity < 0:
                self.messages.append(f"{p.parent_id}: filled {p.committed} of {p.quantity}: over-filled, not traded")
                continue
            if p.remaining:
                specs.append(await self._spec(broker, i + 1, contracts[p.parent_id], p.remaining, p.quantity))
        if specs:
            o = self.options
            if self.speed != 1.0:
                log.info("the schedule runs on the broker's clock: %.3g times real time", self.speed)
            cfg = EngineConfig(ack_timeout=2 * o.ack_timeout, cancel_timeout=3 * o.ack_timeout,
                               finish_timeout=o.finish_timeout, first_order_id=broker.first_order_id(journal.next_order_id()))
            risk = getattr(self.config, "risk", None)  # the config's [risk] pre-trade limits, if any
            engine = Engine(journaled, RiskLimits(**risk.model_dump()) if risk is not None else None, cfg)
            if self._check_kill(broker):  # a kill file already there: not one child goes out
                journal.log("kill", {"reason": self.kill_reason}, asyncio.get_running_loop().time())
                engine.kill()
            async with asyncio.TaskGroup() as tg:
                watch = tg.create_task(self._watch(engine, broker, journal))
                progress = (tg.create_task(report_progress(engine, specs, o.progress_seconds))
                            if o.progress_seconds > 0 else None)
                await engine.run(specs)
                watch.cancel()
                if progress is not None:
                    progress.cancel()
                    print_progress(engine, specs)
        await broker.reconcile()
        await _pump_until(journaled, lambda: False, LATE_FILL_WAIT)
        return self._close_parents(journal)

    async def _spec(self, broker: IBBroker, parent_id: int, c: ContractOrder, remaining: int, quantity: int) -> Any:
        from execution.algos import AlgoKind, AlgoParams, MarketParams, build_parent

        ex = self.config.execution
        kind = AlgoKind(algo_of(self.config, self.options))
        horizon = ex.horizon_minutes * 60.0 * abs(remaining) / abs(quantity)  # the same share of the horizon
        slice_s = min(ex.slice_minutes * 60.0, horizon)
        params = AlgoParams(kind, horizon, slice_s, ex.limit_offset_ticks, ex.participation,
                            risk_aversion=ex.risk_aversion)
        mc = self.config.market.get(c.instrument)
        profile = None
        if kind in (AlgoKind.VWAP, AlgoKind.POV):
            try:
                bars = await broker.historical_bars(c.key)
                profile = resample_profile([b.volume for b in bars], params.n_slices)
            except (TimeoutError, ConnectionError) as exc:
                log.warning("%s: no historical bars (%s); the default volume profile is used", c.key, exc)
        try:
            snap = await broker.snapshot(c.key)
        except MarketDataUnavailable as exc:
            raise JobFailed(f"{exc}; nothing more was sent (resume with the same journal)") from None
        market = MarketParams(snap.last if snap.last > 0 else snap.mid, c.multiplier, c.tick, c.fx,
                              (mc.daily_vol if mc and mc.daily_vol else 0.01), (mc.adv if mc and mc.adv else 1e6),
                              volume_profile=profile)
        # drawn in broker seconds; on the broker's clock (--clock broker) played at its speed
        spec = play_at(build_parent(parent_id, c.key, remaining, params, market, np.random.default_rng(parent_id)),
                       self.speed)
        return dataclasses.replace(spec, legs=tuple(c.legs)) if c.legs else spec

    def _check_kill(self, broker: IBBroker) -> bool:
        """Whether the kill switch is on: a signal came, the kill file exists, or the broker
        connection could not be restored."""
        if self.kill_reason is None and self.kill_file.exists():
            self._kill(f"kill file {self.kill_file}")
        if self.kill_reason is None and broker.failed:
            self._kill("the broker connection could not be restored")
        return self.kill_reason is not None

    async def _watch(self, engine: Any, broker: IBBroker, journal: Journal) -> None:
        """The kill switch: a signal, the kill file, or a connection that will not come back."""
        while True:
            if engine.killed:
                return
            await asyncio.sleep(0.2)
            if self._check_kill(broker):
                journal.log("kill", {"reason": self.kill_reason}, asyncio.get_running_loop().time())
                engine.kill()
                return

    def _close_parents(self, journal: Journal) -> PaperStatus:
        done = True
        for p in journal.recovery().parents:
            filled = p.committed == p.quantity
            journal.set_parent_state(p.parent_id, ParentState.DONE if filled else ParentState.STOPPED)
            if not filled:
                done = False
                self.messages.append(f"{p.parent_id}: filled {p.committed} of {p.quantity}")
        if self.kill_reason is not None and not done:
            journal.set_run_status(RunStatus.HALTED, {"kill": self.kill_reason})
            self.messages.insert(0, f"kill switch: {self.kill_reason}")
            return PaperStatus.HALTED
        journal.set_run_status(RunStatus.COMPLETED if done else RunStatus.STOPPED)
        return PaperStatus.COMPLETED if done else PaperStatus.STOPPED

    # ------------------------------------------------------------------ the report
    def _result(self, journal: Journal, status: PaperStatus, end: dict[str, int] | None, message: str) -> PaperResult:
        run = journal.run()
        info = run.info if run else {}
        orders = []
        by_parent: dict[str, list] = {}
        for e in journal.executions():
            by_parent.setdefault(e.parent_id, []).append(e)
        for p in journal.recovery().parents:
            execs = by_parent.get(p.parent_id, [])
            qty = sum(e.quantity for e in execs)
            avg = sum(e.quantity * e.price for e in execs) / qty if qty else None
            c = info.get("contracts", {}).get(p.parent_id, {})
            orders.append(PaperOrder(p.parent_id, c.get("instrument", p.instrument),
                                     p.quantity, p.filled, avg, round(sum(e.fee for e in execs), 2),
                                     len(journal.children(p.parent_id)), "filled" if p.committed == p.quantity else "unfilled",
                                     tuple(c["legs"]) if c.get("legs") else None))
        start = dict(info.get("start_positions", {}))
        if end is not None:
            end = {k: v for k, v in end.items() if k in start or any(o.contract == k for o in orders)}
        return PaperResult(status, str(self.path), bool(run and run.sessions > 1), run.sessions if run else 0,
                           tuple(orders), tuple(info.get("not_sent", ())), start, end, message,
                           self.identity.run_id if self.identity else "")


async def _pump_until(journaled: JournaledBroker, done: Callable[[], bool], timeout: float) -> bool:
    """Consume (and so journal) broker events until ``done()`` or ``timeout`` seconds."""
    if done():
        return True
    try:
        async with asyncio.timeout(timeout):
            async for _ in journaled.events():
                if done():
                    return True
    except TimeoutError:
        return done()
    return done()


def _journal_error(exc: BaseException) -> JournalError | None:
    """The journal error inside ``exc`` (an exception group from the engine's task group)."""
    if isinstance(exc, JournalError):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = _journal_error(inner)
            if found is not None:
                return found
    return None
