"""Plan, then execute every futures order on the simulator in virtual time, then report.

>>> from overlay.simulate import simulate
>>> result = simulate("examples/pension_multi_asset.toml", algo="vwap", seed=3)
>>> result.to_json()["orders"][0]["shortfall_bps"]

Steps:

1. Load and plan the config (:func:`overlay.config.load_config`, :func:`overlay.plan.planner.plan`).
2. Net the plan's futures orders per contract (a roll's opening leg and a rebalance in the
   same contract month are one parent order, as a desk would work them) and build the
   simulated market of each contract from the config's ``[market.<instrument>]`` table
   (:func:`sim_broker.tables.from_tables`, seeded by ``seed``).
3. Build each parent's schedule (:func:`execution.algos.build_parent`) from
   ``[execution]`` (``algo`` overrides its ``algo``); parents start at
   ``[execution].start``. The horizon is cut, if needed, to end at the session close; when
   it ends there, whatever is left after the last slice goes half a slice before the close,
   so that the completion order still meets an open market.
4. Work all parents concurrently (:class:`execution.engine.Engine`) in virtual time; book
   each swap order in one OTC step (:func:`execution.swaps.book_swap`).
5. Transaction-cost analysis per parent (:mod:`execution.tca`); with ``out_dir`` also
   ``fills.csv``, ``report.md`` and PNG plots (:mod:`overlay.reports.sim`).

Same config and seed give the same result apart from ``wall_seconds``.
"""

from __future__ import annotations

import gc
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from overlay.errors import InputError

ALGOS = ("twap", "vwap", "pov", "is")


@dataclass(frozen=True)
class SimulatedOrder:
    """One executed order: a worked futures parent (``tca``) or a swap booking."""

    instrument: str  # the contract traded (local symbol) or the swap's key
    key: str  # the config's instrument key
    planned: tuple[Any, ...]  # the plan's orders netted into this one
    tca: Any = None  # execution.tca.ParentTCA for a future
    booking: Any = None  # execution.swaps.SwapBooking for a swap
    legs: tuple[str, str] | None = None  # a roll worked as one calendar spread: (near, far)
    roll_cost: Any = None  # a roll's pricing.futures.RollCost as executed (see _executed_roll)


@dataclass(frozen=True)
class SimulationResult:
    """What :func:`simulate` returns; :meth:`to_json` is ``overlay simulate --json``."""

    seed: int
    algo: str
    virtual_seconds: float
    wall_seconds: float
    orders: tuple[SimulatedOrder, ...]
    parents: tuple[Any, ...]  # execution.orders.ParentOrder, with children, fills and trail
    specs: tuple[Any, ...]  # execution.algos.ParentSpec: the schedules followed
    plan: Any  # overlay.plan.types.Plan
    start: float  # loop time the parents started (seconds since midnight)
    horizon_seconds: float
    day: Any = None  # datetime.date of the session (the portfolio's as_of)
    timezone: str = "America/New_York"  # IANA zone of the session clock

    @property
    def child_orders(self) -> int:
        return sum(len(p.children) for p in self.parents)

    @property
    def fills(self) -> int:
        return sum(len(p.fills) for p in self.parents)

    @property
    def fills_frame(self):
        """Every execution as a pandas DataFrame (time, instrument, side, quantity, price, fee,
        notional, exec_id, order_id), clock times on the plan's date; see :mod:`overlay.frames`."""
        from overlay import frames

        return frames.fills(self.parents, self.plan.as_of)

    @property
    def parents_frame(self):
        """One row per parent order (quantity, filled, avg price, notional with the multiplier,
        fees, status, children); see :mod:`overlay.frames`."""
        from overlay import frames

        return frames.parents(self.parents)

    @property
    def tca_frame(self):
        """One row per executed order: the fields of ``to_json()["orders"]``, ``costs``
        flattened to ``costs_spread``...; see :mod:`overlay.frames`."""
        from overlay import frames

        return frames.json_orders(self.to_json()["orders"])

    def to_frame(self):
        """The transaction-cost analysis as a DataFrame (``tca_frame``)."""
        return self.tca_frame

    @property
    def unfilled(self) -> list[str]:
        """Contracts whose parent did not fill exactly."""
        return [p.instrument for p in self.parents if p.filled != p.quantity]

    @property
    def failures(self) -> list[str]:
        """One line per contract that did not fill exactly: what filled and why it stopped."""
        return [
            f"{p.instrument} filled {p.filled} of {p.quantity} ({p.reason or p.status.value})"
            for p in self.parents if p.filled != p.quantity
        ]

    def totals(self):
        """Every order's costs added up in the base currency (:func:`execution.tca.totals`)."""
        from execution.tca import totals

        items = []
        for o in self.orders:
            if o.tca is not None:
                items.append((o.tca.costs, o.tca.notional, o.tca.fx, o.tca.paper_notional))
            else:
                from execution.swaps import booking_costs  # a swap booking: only then

                fx = self.plan.instruments[o.key].fx if o.key in self.plan.instruments else 1.0
                items.append((booking_costs(o.booking), abs(o.booking.notional), fx))
        return totals(items, self.plan.currency)

    def to_json(self) -> dict:
        from execution.tca import totals_json

        def booking(o):
            from execution.swaps import booking_json  # a swap booking: only then

            inst = self.plan.instruments.get(o.key)
            return booking_json(o.booking, inst.currency if inst is not None else self.plan.currency)

        return {
            "seed": self.seed,
            "algo": self.algo,
            "virtual_seconds": round(self.virtual_seconds, 6),
            "wall_seconds": round(self.wall_seconds, 4),
            "child_orders": self.child_orders,
            "fills": self.fills,
            "orders": [_order_json(o) if o.tca is not None else booking(o) for o in self.orders],
            "totals": totals_json(self.totals()),
        }


def _order_json(o: SimulatedOrder) -> dict:
    """An order's TCA; a roll adds ``legs`` and ``roll_cost`` (the plan's fields, as executed)."""
    from execution.tca import order_json

    out = order_json(o.tca)
    if o.legs is not None:
        out["legs"] = list(o.legs)
        c = o.roll_cost
        out["roll_cost"] = None if c is None else {
            "executed_spread": round(c.market_spread, 10) + 0.0, "fair_spread": round(c.fair_spread, 10) + 0.0,
            "points": round(c.points, 10) + 0.0, "amount": round(c.amount, 2) + 0.0, "bps": round(c.bps, 6) + 0.0,
        }
    return out


def _check_algo(algo: str | None) -> str | None:
    if algo is not None and algo not in ALGOS:
        raise InputError(None, "--algo", f"unknown algorithm {algo!r}; choose one of {', '.join(ALGOS)}")
    return algo


def _check_out_dir(out_dir: str | os.PathLike | None) -> Path | None:
    if out_dir is None:
        return None
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(str(out), "--out", "exists and is not a directory")
    if not out.exists() and not out.parent.resolve().is_dir():
        raise InputError(str(out), "--out", f"parent directory {out.parent} does not exist")
    try:  # before the run: an unwritable folder is bad input, not a traceback after the work
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(str(out), "--out", f"cannot create the directory: {exc.strerror or exc}") from None
    return out


def _contracts(plan) -> dict[str, tuple[str, int, list]]:
    """Outright futures orders netted per contract: ``symbol -> (instrument key, quantity,
    orders)``; each roll is one calendar-spread order of its own, ``"NEAR-FAR" -> (key,
    contracts rolled, [the spread])`` (worked as one order, never as two legs)."""
    from execution.spreads import spread_name

    out: dict[str, tuple[str, int, list]] = {}
    for o in plan.orders:
        if o.kind.value == "spread":
            close, open_ = o.legs
            out[spread_name(close.local_symbol, open_.local_symbol)] = (o.instrument, int(o.quantity), [o])
        elif o.kind.value == "future":
            symbol = o.local_symbol or o.instrument
            key, qty, orders = out.get(symbol, (o.instrument, 0, []))
            out[symbol] = (key, qty + int(o.quantity), orders + [o])
    return out


def _spread_legs(contracts) -> dict[str, tuple[str, str]]:
    return {s: (o[0].legs[0].local_symbol, o[0].legs[1].local_symbol) for s, (_, _, o) in contracts.items() if o and o[0].legs}


def _executed_roll(parent, planned):
    """The roll's cost as executed, the plan's :class:`~pricing.futures.RollCost` with the
    average spread filled ``p̄`` (far − near, points) in place of the market spread:
    ``points = p̄ − fair``, ``amount = points · multiplier · filled`` (instrument currency),
    ``bps = amount / (|filled| · p̄_near · multiplier) · 1e4`` with ``p̄_near`` the near leg's
    average fill price; None before a fill or without the plan's fair spread."""
    from pricing.futures import roll_cost

    if not parent.filled or planned.roll_cost is None:
        return None
    near = sum(f.legs[0].price * -f.legs[0].quantity for f in parent.fills) / parent.filled
    return roll_cost(parent.filled, near, near + parent.avg_price, planned.roll_cost.fair_spread, parent.multiplier)


def _tables(config, contracts) -> tuple[dict, dict]:
    instruments, market = {}, {}
    legs = []
    for _, (key, _, orders) in contracts.items():
        if orders and orders[0].legs:
            legs += [(leg.local_symbol, (key, 0, [leg])) for leg in orders[0].legs]
    for symbol, (key, _, orders) in [*legs, *contracts.items()]:
        if orders and orders[0].legs:
            continue
        table = config.instruments[key].model_dump(mode="json", exclude_none=True)
        table.setdefault("root", key)
        if orders and orders[0].price is not None:
            table["price"] = orders[0].price  # the next month's carry price for a rolled contract
        instruments[symbol] = table
        if key in config.market:
            market[symbol] = config.market[key].model_dump(mode="json", exclude_none=True)
    return instruments, market


def simulate(config: Any, algo: str | None = None, seed: int = 0, out_dir: str | os.PathLike | None = None) -> SimulationResult:
    """Plan ``config`` (a path or a loaded ``PortfolioConfig``), execute every futures order
    on the simulator in virtual time and analyse the costs; see the module docstring.

    Raises :class:`~overlay.errors.InputError` for bad input before anything runs.
    """
    # Until the run ends, no automatic garbage collection: the imports, the config, the plan
    # and the simulated paths are some 100,000 objects that live all run (most of them as long
    # as the process), and the hundred collections their allocation would trigger traverse
    # them and free nothing; the run itself makes no cyclic garbage on its usual path (see
    # execution.host.GcPolicy.SUSPEND). The set-up's objects are frozen for the run and the
    # collector is back as it was when the run ends, or when an error ends the set-up.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _simulate(config, algo, seed, out_dir, collecting)
    finally:
        if collecting:
            gc.enable()


def _simulate(config: Any, algo: str | None, seed: int, out_dir: str | os.PathLike | None,
              collecting: bool) -> SimulationResult:
    # imported here, with the collector off (asyncio and its imports: some 15 collections)
    import asyncio

    import numpy as np

    from execution.algos import AlgoKind, AlgoParams, MarketParams, build_parent
    from execution.engine import Engine
    from execution.host import EngineConfig, GcPolicy
    from execution.risk import RiskLimits
    from execution.tca import analyse
    from execution.vtime import run
    from overlay.config import as_config
    from overlay.plan.planner import plan as make_plan
    from pricing.volume_profile import cumulative_volume_fraction
    from sim_broker.params import TableError
    from sim_broker.tables import from_tables, time_of_day

    _check_algo(algo)
    out = _check_out_dir(out_dir)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(None, "--seed", f"must be a non-negative integer, got {seed!r}")
    cfg = as_config(config)
    source = cfg.source
    ex = cfg.execution
    kind = AlgoKind(algo or ex.algo.value)
    the_plan = make_plan(cfg)
    contracts = _contracts(the_plan)
    instruments, market = _tables(cfg, contracts)
    base_dir = Path(source).parent if source else None
    if not any(qty for _, qty, _ in contracts.values()):
        contracts = {}
    # [faults] and [risk] hold numbers only: their items as they are (model_dump would build
    # each model's serializer first, ~1 ms)
    try:
        broker = None if not contracts else from_tables(instruments, market, dict(cfg.faults), int(seed), ex.start, None, source, base_dir)
        start = time_of_day(ex.start, source, "execution.start")
    except TableError as exc:
        raise InputError(exc.file, exc.key, exc.problem) from None
    slice_s = ex.slice_minutes * 60.0
    specs, orders = [], []
    horizon = ex.horizon_minutes * 60.0
    spreads = _spread_legs(contracts)
    for symbol, (near, far) in spreads.items():
        try:
            broker.add_spread(near, far)
        except ValueError as exc:  # legs that cannot make one calendar spread
            raise InputError(source, f"instruments.{contracts[symbol][0]}", str(exc)) from None
    for symbol in contracts:
        sp = broker.params(symbol)
        if not sp.session_start <= start < sp.session_end - slice_s:
            raise InputError(source, "execution.start", f"{ex.start} is outside the {symbol} session")
        horizon = min(horizon, sp.session_end - start)
    n_pid = 0
    for symbol, (key, qty, planned) in contracts.items():
        if qty == 0:
            orders.append(SimulatedOrder(symbol, key, tuple(planned)))
            continue
        sp = broker.params(symbol)
        params = AlgoParams(
            kind, horizon, slice_s, ex.limit_offset_ticks, ex.participation, risk_aversion=ex.risk_aversion
        )
        n = params.n_slices
        x = (start - sp.session_start + np.linspace(0.0, horizon, n + 1)) / sp.session_seconds
        profile = tuple(np.diff(cumulative_volume_fraction(x, broker.sim.edge_ratio)).tolist())
        fx = the_plan.instruments[key].fx
        mp = MarketParams(sp.price, sp.multiplier, sp.tick, fx, sp.daily_vol, sp.adv, sp.session_seconds, profile)
        n_pid += 1
        complete_at = min(horizon, sp.session_end - start - 0.5 * slice_s)
        spec = build_parent(n_pid, symbol, qty, params, mp, impact=sp.impact)
        legs = spreads.get(symbol)
        specs.append(replace(spec, start=start, complete_at=complete_at if complete_at < horizon else None, legs=legs))
        orders.append(SimulatedOrder(symbol, key, tuple(planned), legs=legs))
    # a simulated run: no automatic collection while it works. The collector is off already
    # (see simulate), so the engine leaves it as it is (GcPolicy.LEAVE): SUSPEND would do the
    # same after counting the frozen heap (gc.get_freeze_count walks it, some 5 ms here)
    engine = Engine(broker, RiskLimits(**dict(cfg.risk)), EngineConfig(gc=GcPolicy.LEAVE)) if broker is not None else None

    async def main():
        parents = [] if engine is None else await engine.run(specs)
        return parents, asyncio.get_running_loop().time()

    gc.freeze()  # the plan and the simulated paths live all run: keep them out of the collector's passes
    try:
        wall0 = time.perf_counter()
        parents, end = run(main, start=min(broker.session_open, start) if broker else start)
        wall = time.perf_counter() - wall0
    finally:
        gc.unfreeze()  # the set-up's objects join the oldest generation; the run's, the youngest
        if collecting:
            gc.enable()  # cycles the run made (faults' exceptions) are collected from here on
    by_symbol = {p.instrument: p for p in parents}
    done = []
    for o in orders:
        parent = by_symbol.get(o.instrument)
        if parent is None:
            done.append(o)
            continue
        # the plan is decided at the start on the market of that instant: the decision price is
        # the simulator's unimpacted mid then (Perold's delay is 0 when released at once)
        ref = broker.path(o.instrument).mid_at
        inst = the_plan.instruments[o.key]
        roll = None if o.legs is None else _executed_roll(parent, o.planned[0])
        # a roll's bps are of the notional rolled (the near leg's), not of the spread's price
        basis = None if o.legs is None else broker.path(o.legs[0]).mid_at(start)
        done.append(replace(o, tca=analyse(parent, ref, ref(start), inst.currency, inst.fx, basis), roll_cost=roll))
    for o in the_plan.orders:
        if o.kind.value == "swap":
            from execution.swaps import book_swap  # only a plan with swaps needs them
            from pricing.swaps import TrsTerms

            inst = cfg.instruments[o.instrument]
            terms = TrsTerms(financing_spread_bps=inst.financing_spread_bps, booking_cost_bps=inst.booking_cost_bps)
            done.append(SimulatedOrder(o.instrument, o.instrument, (o,), booking=book_swap(o.instrument, float(o.quantity), terms, start)))
    done = [o for o in done if o.tca is not None or o.booking is not None]
    result = SimulationResult(
        int(seed), kind.value, end - start, wall, tuple(done), tuple(parents), tuple(specs), the_plan, start, horizon,
        cfg.portfolio.as_of, ex.timezone,
    )
    if out is not None:
        from overlay.reports.sim import write_report

        write_report(result, out)
    return result
