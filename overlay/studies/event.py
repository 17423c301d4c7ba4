"""The event engine: each path of a cell is one real execution on the simulator.

For seed ``s`` of a cell, :func:`run_path` generates a simulated session from the cell's
generator for ``s`` (:func:`sim_broker.market.simulate_path`: Brownian mid, U-shaped noisy
volume), builds a :class:`~sim_broker.broker.SimBroker` on it, and lets the async
:class:`~execution.engine.Engine` work the cell's parent order (the very
:class:`~execution.algos.ParentSpec` the vectorized engine evaluates) from the session
open, on a :class:`~execution.vtime.VirtualTimeLoop`: a day's execution takes a fraction
of a second of wall time.

Per path it reports what a TCA report would (:func:`execution.tca.analyse`, given the
session's unimpacted path as the reference and its mid at the start as the decision price):
``shortfall_bps`` and its parts ``spread_bps``, ``impact_bps`` (the market's own move
removed), ``timing_bps`` and ``fees_bps``, fees included everywhere, in bp of the decision
notional; ``cost`` (currency, the same shortfall), ``participation_realised`` (filled over
the market volume of the horizon) and ``filled``.

The study lifts the simulator's per-minute participation cap, so that costs follow the
impact model as in the vectorized engine.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from overlay.studies.grid import path_generator

if TYPE_CHECKING:
    from overlay.studies.setup import CellSetup, CellTask


def _sim_config(market: Mapping, grid_seconds: float):
    from sim_broker.params import SimConfig

    return SimConfig(
        grid_seconds=grid_seconds,
        volume_noise=market["volume_noise"],
        edge_ratio=market["edge_ratio"],
        impact_half_life=market["impact_half_life"],
        max_participation=math.inf,
    )


def _market_params(setup: CellSetup, market: Mapping):
    from sim_broker.params import MarketParams

    m = setup.market
    return MarketParams(
        instrument=market["root"],
        root=market["root"],
        price=market["price"],  # the simulator's open mid is m.price (anchor_mid)
        tick=market["tick"],
        multiplier=m.multiplier,
        adv=m.adv,
        daily_vol=m.daily_vol,
        spread_ticks=int(market["spread_ticks"]),
        fee_per_contract=m.fee_per_unit,
        impact=setup.model,
    )


COLUMNS = ("shortfall_bps", "cost", "participation_realised", "filled", "spread_bps", "impact_bps", "timing_bps", "fees_bps")


def run_path(setup: CellSetup, task: CellTask, seed: int) -> tuple[float, ...]:
    """One seed: the values of :data:`COLUMNS`."""
    from execution.engine import Engine
    from execution.host import EngineConfig, GcPolicy
    from execution.tca import analyse
    from execution.vtime import run
    from sim_broker.broker import SimBroker
    from sim_broker.market import simulate_path

    sim = _sim_config(task.market, task.grid_seconds)
    params = _market_params(setup, task.market)
    path = simulate_path(params, sim, path_generator(task.entropy, seed))
    broker = SimBroker({params.instrument: params}, {params.instrument: path}, sim)
    engine = Engine(broker, config=EngineConfig(gc=GcPolicy.SUSPEND))  # a simulated run

    async def work():
        return await engine.run([setup.parent])

    (parent,) = run(work, start=params.session_start)
    filled = abs(parent.filled)
    start = parent.trail.start_time
    volume = path.volume_until(start + setup.parent.horizon) - path.volume_until(start)
    if filled == 0:
        return (math.nan, 0.0, 0.0, 0.0, math.nan, math.nan, math.nan, math.nan)
    t = analyse(parent, path.mid_at, path.mid_at(start))
    return (
        t.shortfall_bps,
        t.costs.total,
        filled / volume if volume > 0 else math.nan,
        float(filled),
        t.spread_bps,
        t.impact_bps,
        t.timing_bps,
        t.fees_bps,
    )


def run_event_paths(setup: CellSetup, task: CellTask) -> dict[str, np.ndarray]:
    """Every seed of the cell, in seed order, as the result columns."""
    rows = np.array([run_path(setup, task, seed) for seed in range(task.seeds)], dtype=np.float64).reshape(-1, len(COLUMNS))
    return {k: rows[:, i].copy() for i, k in enumerate(COLUMNS)}
