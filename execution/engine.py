"""The execution engine: works parent orders concurrently against one Broker.

>>> engine = Engine(broker, RiskLimits(max_child_quantity=50), EngineConfig(ack_timeout=5.0))
>>> parents = await engine.run(specs)        # specs from execution.algos.build_parent

Structure (one event loop, no threads):

- ``run`` starts one **dispatch task** that reads ``broker.events()`` and routes each event
  by ``order_id`` through a dict to its :class:`~execution.orders.ChildOrder`, then wakes
  the parent waiting on it; and one task per parent (all in one ``asyncio.TaskGroup``)
  running :func:`execution.algos.follow`. No task is created per child. A stream that
  offers ``attach(consumer, on_error)`` (the simulator's) is read in **push mode** instead: it hands
  each event to :meth:`Engine._on_event` as it is put, saving a loop iteration (the
  dispatch task's wake-up) per delivery; the dispatch task then only waits for an error.
- Parents sleep with ``loop.call_at`` on a future (equivalent to ``asyncio.sleep``) that
  :meth:`Engine.kill` can resolve early. Timers due at the same instant share one
  ``call_at`` handle, so parents on the same slice grid cost one timer, not one each.
  Acknowledgement deadlines share one **watchdog** timer, armed at the earliest deadline
  of a child still unacknowledged (deadlines come in send order), so a child acknowledged
  in time costs no timer of its own; cancel waits and the completion at the horizon are
  bounded by ``asyncio.timeout``.
- **Garbage collection** (``EngineConfig.gc``, :class:`~execution.host.GcPolicy`): by
  default ``run`` freezes the heap it starts with (``gc.freeze``) and suspends full
  (generation-2) collections while it works, then restores the collector's thresholds
  (and unfreezes, unless the caller had frozen objects itself); ``SUSPEND`` (simulated
  runs) suspends young collections too. The children, fills and
  futures a run creates stay reachable until it ends, so full passes over them found
  nothing to free while their cost grew with the run.

Fault handling (decisions):

- **Reject**: retried after ``backoff · 2^(k−1)`` seconds for the k-th consecutive reject,
  up to ``max_retries`` retries; then the parent stops with status FAILED and the reason.
- **Missing acknowledgement**: after ``ack_timeout`` seconds without any message for a
  child, the engine asks the broker to cancel it and waits ``cancel_timeout``. An answer
  (cancelled, filled, executions) settles it normally. If the broker stays silent the
  engine reconciles against ``broker.positions()``: any position change the engine has
  no executions for is taken to be this child's fills still in flight (kept counted as
  working, so never re-sent); the rest of the child is treated as lost (CANCELLED,
  reason "lost"). A lost child that fills later still counts (executions are truth).
- **Duplicate executions** are dropped by ``exec_id``; late executions count.
- **Never overfill**: a child's size is capped at ``quantity − filled − working`` before
  it is sent, where ``working`` includes executions announced but not yet delivered.
- **Disconnect**: while the broker reports the connection down, no child is sent: the
  schedule pauses (its slices are caught up, spread over the remaining slices, once the
  link is back) and a child refused because the link is down is not counted as a reject.
  A cancel refused while down is sent again after the reconnection, and the cancel wait
  restarts then. The order fails only at its horizon (plus ``finish_timeout``), with the
  reason.
- **Collar** (``RiskLimits.collar_bps``): every child, catch-up and completion included, is
  a limit order no worse than the collar bound (a market order becomes a marketable limit
  at the bound), so no fill lands outside the collar on the adverse side; a child whose
  touch is already beyond the favourable bound is blocked.
- **Kill switch** (:meth:`Engine.kill`): no new child is sent, every live child is
  cancelled, and ``run`` returns once every child is terminal (or reconciled as lost).
  Killed before ``run``, the engine sends nothing.
"""

from __future__ import annotations

import asyncio
import heapq
import math
from collections import deque
from typing import TYPE_CHECKING

from execution.broker import (
    CancelRejected,
    ConnectionChanged,
    Execution,
    OrderAccepted,
    OrderCancelled,
    OrderFilled,
    OrderRejected,
    OrderRequest,
    OrderType,
    TimeInForce,
)
from execution.algos import ParentSpec, follow
from execution.host import EngineConfig
from execution.orders import ChildOrder, OrderState, ParentOrder, ParentStatus, Trigger
from execution.risk import RiskGuard, RiskLimits, RiskVerdict, collar_bound
from execution.gc_policy import gc_enter
from execution import spreads

if TYPE_CHECKING:
    from execution.broker import Broker, MarketSnapshot

__all__ = ["Engine", "EngineConfig"]

_PENDING = OrderState.PENDING_SUBMIT
_WORKING = OrderState.WORKING
_Future = asyncio.Future  # the loop's own futures (what loop.create_future makes), one call less
_NEVER = float("inf")
_TERMINAL = frozenset({OrderState.FILLED, OrderState.CANCELLED, OrderState.REJECTED})


class Engine:
    """Runs parent orders against a :class:`~execution.broker.Broker`.

    Public surface: :meth:`run`, :meth:`kill`, :attr:`parents`, :attr:`children`,
    :attr:`killed`. The remaining methods are the primitives algorithms use.
    """

    _loop: asyncio.AbstractEventLoop  # the running loop, bound by :meth:`run`

    def __init__(self, broker: Broker, risk: RiskLimits | None = None, config: EngineConfig | None = None) -> None:
        self.broker = broker
        self.config = config or EngineConfig()
        self.guard = RiskGuard(risk or RiskLimits())
        self.children: dict[int, ChildOrder] = {}
        self.parents: list[ParentOrder] = []
        self.killed = False
        self.connected = True
        self._next_id = self.config.first_order_id
        self._start_positions: dict[str, int] = {}
        self._timers: dict[float, list] = {}  # coalesced timers: due time -> futures and parents
        self._due: list[float] = []  # heap of the due times of self._timers
        self._tick_at = _NEVER  # the engine's one loop timer is armed for this time
        # acknowledgement watchdog (see await_ack): (deadline, parent, child) in send order
        self._acks: deque[tuple[float, ParentOrder, ChildOrder]] = deque()
        self._ack_timer_at: float | None = None  # when the watchdog fires next (None: not armed)

    # ------------------------------------------------------------------ public API
    async def run(self, specs: list[ParentSpec]) -> list[ParentOrder]:
        """Work every parent concurrently until each is done, failed or killed."""
        self._loop = asyncio.get_running_loop()
        self._start_positions = dict(await self.broker.positions())
        self.guard = RiskGuard(self.guard.limits, self._start_positions)
        self.guard.killed = self.killed
        parents = [
            ParentOrder(s.parent_id, s.instrument, s.quantity, multiplier=s.multiplier, tick=s.tick, legs=s.legs)
            for s in specs
        ]
        self.parents.extend(parents)
        restore = gc_enter(self.config.gc)
        try:
            async with asyncio.TaskGroup() as outer:
                dispatcher = outer.create_task(self._dispatch())
                try:
                    async with asyncio.TaskGroup() as work:
                        for spec, parent in zip(specs, parents):
                            work.create_task(follow(self, spec, parent))
                finally:
                    dispatcher.cancel()
        finally:
            restore()
        return parents

    def kill(self) -> None:
        """Kill switch: stop sending, cancel every working child, let ``run`` return."""
        self.killed = True
        self.guard.killed = True
        for bucket in self._timers.values():
            for item in bucket:
                if type(item) is not ParentOrder and not item.done():
                    item.set_result(None)
        for parent in self.parents:
            self._wake(parent)

    # ------------------------------------------------------------------ dispatch
    async def _dispatch(self) -> None:
        stream = self.broker.events()
        attach = getattr(stream, "attach", None)
        if attach is None:
            async for ev in stream:
                self._on_event(ev)
            return
        # push mode: the stream calls ``_on_event`` from put; an error in it detaches it and
        # ends this task (and so ``run``) as it would have in the pull loop above
        failed = self._loop.create_future()

        def fail(exc: BaseException) -> None:
            if not failed.done():
                failed.set_exception(exc)

        attach(self._on_event, fail)
        try:
            await failed
        finally:
            attach(None)

    def _on_event(self, ev) -> None:
        """Route one broker event to its child and wake the parent waiting on it."""
        child = self.children.get(ev.order_id)
        if child is None:
            if type(ev) is ConnectionChanged:
                self.connected = ev.connected
                for p in self.parents:  # rare: lets paused parents resume at once
                    self._wake(p)
            return
        typ = type(ev)
        parent = child.parent
        if typ is Execution:
            parent.record_execution(child, ev.time, ev.key, ev.quantity, ev.price, ev.fee, ev.legs)
        elif typ is OrderAccepted:
            if child.state is _PENDING and not child.filled:
                child.state = _WORKING  # the usual first word: the open quantity is unchanged
            else:
                child.apply(Trigger.ACCEPT)
        elif typ is OrderFilled:
            child.report_terminal(Trigger.FILL, ev.filled)
        elif typ is OrderCancelled:
            open_before = child.open_quantity
            child.report_terminal(Trigger.CANCELLED, ev.filled)
            child.reason = ev.reason
            self.guard.release(parent.instrument, open_before - child.open_quantity)
        elif typ is OrderRejected:
            open_before = child.open_quantity
            child.apply(Trigger.REJECT)
            child.reason = ev.reason
            self.guard.release(parent.instrument, open_before)
        elif typ is CancelRejected:
            if child.state is OrderState.CANCEL_PENDING:
                child.apply(Trigger.CANCEL_REJECT)
        w = parent.waiter
        if w is not None:
            then = parent.resume_at
            if then is None or not self._sleep_on(parent, w, then):
                self._wake(parent)

    def _sleep_on(self, parent: ParentOrder, waiter: asyncio.Future, then: float) -> bool:
        """A parent waits for a child's first word and then sleeps until ``then``: after a
        good word (neither rejected nor still pending; not killed; the parent not yet done),
        move its waiter straight to the timer of ``then`` instead of waking its task only
        for it to go to sleep again (one task step less per child). False: wake it now."""
        child = parent.children[-1]
        state = child.state
        if (
            state is _PENDING
            or state is OrderState.REJECTED
            or self.killed
            or then <= self._loop.time()
            or (parent.filled == parent.quantity and not parent.working)
        ):
            return False
        parent.waiter = None
        parent.slept = True
        self._at(then, waiter)
        return True

    @staticmethod
    def _wake(parent: ParentOrder) -> None:
        w = parent.waiter
        if w is not None:
            parent.waiter = None
            if not w.done():
                w.set_result(None)

    # ------------------------------------------------------------------ primitives for algorithms
    def _at(self, when: float, item: asyncio.Future | ParentOrder) -> None:
        """At loop time ``when``, resolve future ``item`` or wake parent ``item``.

        Timers are coalesced: every item due at the same instant shares one bucket, and
        the buckets' due times wait in the engine's own heap of floats, behind a single
        ``loop.call_at`` handle armed for the earliest (:meth:`_tick`). Parents on the same
        slice grid wake together, and parents on different grids (staggered starts) cost
        a float in that heap rather than a handle in the loop's, whose comparisons run in
        Python; the loop's timer heap stays small however many parents run.
        """
        bucket = self._timers.get(when)
        if bucket is None:
            bucket = self._timers[when] = []
            heapq.heappush(self._due, when)
            if when < self._tick_at:
                self._tick_at = when
                self._loop.call_at(when, self._tick, when)
        bucket.append(item)

    def _tick(self, when: float) -> None:
        """Fire every bucket due by ``when`` in time order, then re-arm for the next one."""
        if when != self._tick_at:
            return  # superseded by an earlier arming
        due = self._due
        while due and due[0] <= when:
            self._fire(heapq.heappop(due))
        self._tick_at = _NEVER
        if due:
            self._tick_at = nxt = due[0]
            self._loop.call_at(nxt, self._tick, nxt)
        if self._acks:
            self._watch_acks(when)

    def _fire(self, when: float) -> None:
        for item in self._timers.pop(when, ()):
            if type(item) is ParentOrder:
                self._wake(item)
            elif not item.done():
                item.set_result(None)

    async def sleep_until(self, parent: ParentOrder, when: float) -> None:
        """Sleep until loop time ``when`` (returns at once when killed)."""
        if self.killed:
            return
        fut: asyncio.Future[None] = _Future(loop=self._loop)
        self._at(when, fut)
        await fut

    async def wait_event(self, parent: ParentOrder) -> None:
        """Wait until the next broker event for one of ``parent``'s children (or a kill)."""
        fut: asyncio.Future[None] = _Future(loop=self._loop)
        parent.waiter = fut
        try:
            await fut
        finally:
            parent.waiter = None

    async def wait_connected(self, parent: ParentOrder) -> None:
        """Wait until the broker's connection is up again (or a kill)."""
        while not self.connected and not self.killed:
            await self.wait_event(parent)

    def next_order_id(self) -> int:
        oid = self._next_id
        self._next_id = oid + 1
        return oid

    def send_child(
        self,
        parent: ParentOrder,
        quantity: int,
        snap: MarketSnapshot,
        offset_ticks: int | None,
        interval_volume: float | None,
        unit_value: float,
    ) -> ChildOrder | RiskVerdict:
        """Risk-check and submit one child of signed ``quantity`` (capped so that the
        parent cannot overfill). Returns the child, or the verdict that blocked it."""
        rest = parent.quantity - parent.filled - parent.working
        if quantity * rest <= 0:
            return RiskVerdict.OK if not self.killed else RiskVerdict.KILLED
        if abs(quantity) > abs(rest):
            quantity = rest
        clipped = self.guard.clip(quantity, unit_value, interval_volume)
        if clipped:
            quantity = clipped
        buy = quantity > 0
        touch = snap.ask if buy else snap.bid
        tick, legs = parent.tick, parent.legs
        if offset_ticks is None:
            limit = None
        else:
            raw = touch + offset_ticks * tick if buy else touch - offset_ticks * tick
            limit = round(round(raw / tick) * tick, 10)
            if limit <= 0 and legs is None:  # a spread's price may be zero or negative
                limit = tick
        collar = self.guard.limits.collar_bps if legs is None else None  # a spread: its limit bounds it
        if collar is not None:
            bound = collar_bound(parent, collar, buy)
            if buy:
                limit = bound if limit is None or limit > bound else limit
            else:
                limit = bound if limit is None or limit < bound else limit
            price = touch  # the favourable side: a touch already beyond the band is blocked
        else:
            price = touch if limit is None else limit
        arrival = parent.trail.arrival if legs is None else math.nan
        verdict = self.guard.check(parent.instrument, quantity, price, unit_value, arrival, interval_volume)
        if verdict is not RiskVerdict.OK:
            parent.risk_blocks += 1
            return verdict
        oid = self._next_id
        self._next_id = oid + 1
        if limit is None:
            request = OrderRequest(oid, parent.instrument, quantity, legs=legs)
        else:
            request = OrderRequest(oid, parent.instrument, quantity, OrderType.LIMIT, limit, TimeInForce.DAY, legs)
        child = ChildOrder(oid, parent, quantity, snap.time, 0.5 * (snap.bid + snap.ask), touch, limit or 0.0)
        self.children[oid] = child
        parent.children.append(child)
        parent.working += quantity
        self.guard.commit(parent.instrument, quantity)
        self.broker.submit(request)
        return child

    async def await_ack(self, parent: ParentOrder, child: ChildOrder, then: float | None = None) -> bool:
        """Wait for the broker's first word on ``child``; reconcile after ``ack_timeout``.

        With ``then`` (a loop time), a good first word (not a reject) does not wake the
        parent: it sleeps on until ``then`` (unless killed, or its order is done by then),
        as :meth:`sleep_until` would, without a task step between. True: it slept until
        ``then`` (or a kill); False: it returns at the first word (or after reconciling).
        ``child`` must be the parent's latest child.

        The deadline is watched by one engine-wide watchdog timer (:meth:`_ack_due`) rather
        than a timer per child, and armed only when no engine timer comes first: a timer
        that does (another parent's slice) looks again (:meth:`_watch_acks`). So a child
        acknowledged within the usual latency leaves no timer behind, and parents on
        different slice grids do not each pay a loop iteration for a deadline that has
        nothing left to do.
        """
        if child.state is not _PENDING:
            return False
        loop = self._loop
        deadline = loop.time() + self.config.ack_timeout
        self._acks.append((deadline, parent, child))
        armed = self._ack_timer_at
        if (armed is None or deadline < armed) and not (self._due and self._due[0] < deadline):
            self._ack_timer_at = deadline
            loop.call_at(deadline, self._ack_due, deadline)
        parent.resume_at = then
        parent.slept = False
        try:
            while child.state is _PENDING and not self.killed:
                if loop.time() >= deadline:
                    parent.resume_at = None
                    await self.cancel_children(parent, [child])
                    return False
                fut: asyncio.Future[None] = _Future(loop=loop)  # wait_event, written out
                parent.waiter = fut
                try:
                    await fut
                finally:
                    parent.waiter = None
        finally:
            parent.resume_at = None
        slept, parent.slept = parent.slept, False
        return slept

    def _ack_due(self, when: float) -> None:
        """The watchdog's timer: see :meth:`_watch_acks`."""
        if when != self._ack_timer_at:
            return  # superseded by an earlier arming
        self._ack_timer_at = None
        self._watch_acks(when)

    def _watch_acks(self, now: float) -> None:
        """The watchdog: wake the parent of every child still unacknowledged at its deadline
        (``await_ack`` then reconciles it); forget acknowledged ones; make sure the oldest
        child still waiting, if any, is looked at again by its deadline (deadlines are in
        send order): by an engine timer due before it, or else the watchdog's own."""
        acks = self._acks
        while acks:
            deadline, parent, child = acks[0]
            if child.state is not _PENDING:
                acks.popleft()
            elif deadline <= now:
                acks.popleft()
                self._wake(parent)
            else:
                armed = self._ack_timer_at
                if (armed is None or deadline < armed) and not (self._due and self._due[0] < deadline):
                    self._ack_timer_at = deadline
                    self._loop.call_at(deadline, self._ack_due, deadline)
                return

    def live_children(self, parent: ParentOrder) -> list[ChildOrder]:
        return [c for c in parent.children if c.state not in _TERMINAL]

    async def cancel_children(self, parent: ParentOrder, children: list[ChildOrder]) -> None:
        """Cancel ``children`` and wait until each is terminal; silent ones are reconciled.

        While the link is down nothing is asked (a cancel would be refused); after the
        reconnection the cancels of children still live are sent again and the wait of
        ``cancel_timeout`` starts afresh (a link down for longer than ``finish_timeout``
        ends the wait: the children are reconciled against positions)."""
        resend = True
        while True:
            pending = [c for c in children if c.state not in _TERMINAL]
            if not pending:
                return
            if not self.connected and not self.killed:
                try:
                    async with asyncio.timeout(self.config.finish_timeout):
                        await self.wait_connected(parent)
                except TimeoutError:  # the link stays down: settle from positions
                    await self._reconcile_lost(parent, [c for c in pending if c.state not in _TERMINAL])
                    return
                resend = True
                continue
            if resend:
                for child in pending:
                    if child.state is not OrderState.CANCEL_PENDING:
                        child.apply(Trigger.CANCEL_REQUEST)
                        self.broker.cancel(child.order_id)
                resend = False
            try:
                async with asyncio.timeout(self.config.cancel_timeout):
                    while self.connected and any(c.state not in _TERMINAL for c in pending):
                        await self.wait_event(parent)
            except TimeoutError:
                await self._reconcile_lost(parent, [c for c in pending if c.state not in _TERMINAL])
                return

    async def _reconcile_lost(self, parent: ParentOrder, silent: list[ChildOrder]) -> None:
        """The broker said nothing about ``silent`` children after a cancel: compare its
        positions with the executions received and settle each child."""
        positions = await self.broker.positions()
        instrument = parent.instrument  # a spread's unexplained fills show on both legs
        unexplained = spreads.unexplained(parent, self.parents, self._start_positions, positions)
        for child in silent:
            if child.state in _TERMINAL:
                continue
            open_before = child.open_quantity
            in_flight = 0
            if unexplained * child.quantity > 0:
                in_flight = min(abs(unexplained), abs(open_before)) * (1 if child.quantity > 0 else -1)
                unexplained -= in_flight
            child.report_terminal(Trigger.CANCELLED, child.filled + in_flight)
            child.reason = "lost: no answer from the broker"
            self.guard.release(instrument, open_before - child.open_quantity)

    def finish(self, parent: ParentOrder, status: ParentStatus, reason: str = "") -> None:
        parent.status = status
        parent.reason = reason
        parent.trail.end_time = self._loop.time()
