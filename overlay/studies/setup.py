"""One study cell's validated setup, shared by both engines.

:func:`build_setup` checks a cell's grid values and builds its market, impact model and
order (:class:`CellSetup`) from a picklable :class:`CellTask`; :mod:`overlay.studies.cell`
runs it on the vectorized engine or on the event engine (:mod:`overlay.studies.event`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from overlay.studies.grid import Cell
from overlay.studies.paths import (
    ImpactDynamics,
    Order,
    PathMarket,
    expected_slice_volume,
    slice_volume_noise,
)
from overlay.studies.spec import SESSION_MINUTES


class CellError(ValueError):
    """A grid value makes this cell impossible; the message says which and why."""


@dataclass(frozen=True, slots=True)
class CellTask:
    """Everything a worker needs to run one cell (plain data, picklable)."""

    study: str
    engine: str
    seeds: int
    market: Mapping[str, Any]
    execution: Mapping[str, Any]
    cell: Cell
    entropy: int
    grid_seconds: float = 1.0


@dataclass(frozen=True, slots=True)
class CellSetup:
    """The validated pieces of one cell, shared by both engines: the market, the impact
    model, the order as the vectorized engine sees it and the execution engine's parent."""

    market: PathMarket
    model: Any
    order: Order
    parent: Any  # execution.algos.ParentSpec


def quoted_mid(price: float, tick: float, spread_ticks: int) -> float:
    """The simulator's quoted mid for an exact mid ``price``: the bid is ``price − spread/2``
    rounded to the tick (half up) and the ask one spread above, so an odd spread on a mid
    that sits on a tick quotes half a tick high."""
    half = 0.5 * spread_ticks * tick
    bid = math.floor((price - half) / tick + 0.5) * tick
    return bid + half


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise CellError(message)


def build_setup(task: CellTask) -> CellSetup:
    """Validate the cell's values and build its market, impact model and order.

    The schedule comes from :func:`execution.algos.build_parent`, the function the
    execution engine itself uses, so both engines work the very same child sizes.
    """
    from execution import algos
    from pricing.impact import ImpactSpecError, model_from_spec

    cell, mk, ex = task.cell, task.market, task.execution
    _check(math.isfinite(cell.participation) and 0 < cell.participation <= 1, f"participation must lie in (0, 1], got {cell.participation!r}")
    _check(
        math.isfinite(cell.horizon_minutes) and 0 < cell.horizon_minutes <= SESSION_MINUTES,
        f"horizon_minutes must lie in (0, {SESSION_MINUTES:g}], got {cell.horizon_minutes!r}",
    )
    _check(math.isfinite(cell.daily_vol) and cell.daily_vol >= 0, f"daily_vol must be >= 0, got {cell.daily_vol!r}")
    slice_minutes = float(ex["slice_minutes"])
    slices = cell.horizon_minutes / slice_minutes
    n_slices = int(round(slices))
    _check(n_slices >= 1 and abs(slices - n_slices) < 1e-9, f"horizon_minutes {cell.horizon_minutes:g} is not a whole number of {slice_minutes:g}-minute slices")
    try:
        model = model_from_spec(dict(cell.impact))
    except ImpactSpecError as exc:
        raise CellError(f"impact: {exc}") from None
    quantity = int(round(cell.participation * mk["adv"]))
    _check(quantity >= 1, f"participation {cell.participation!r} of adv {mk['adv']:g} is less than one contract")
    # the simulator's exact mid at the open (half a tick above ``price`` for an odd spread,
    # see sim_broker.params.MarketParams.anchor_mid): fills are priced from it in both engines
    start_mid = mk["price"] + (0.5 * mk["tick"] if int(mk["spread_ticks"]) % 2 else 0.0)
    market = PathMarket(
        price=start_mid,
        multiplier=mk["multiplier"],
        adv=mk["adv"],
        daily_vol=cell.daily_vol,
        half_spread=0.5 * mk["spread_ticks"] * mk["tick"],
        fee_per_unit=mk["fee_per_contract"],
        volume_noise=slice_volume_noise(mk["volume_noise"], slice_minutes * 60.0 / task.grid_seconds),
        edge_ratio=mk["edge_ratio"],
        session_minutes=SESSION_MINUTES,
        dynamics=ImpactDynamics(mk["impact_dynamics"]),
        impact_half_life=mk["impact_half_life"],
        tick=mk["tick"],
    )
    expected = expected_slice_volume(market, Order(quantity, cell.horizon_minutes, n_slices, pov_rate=1.0))
    pov_rate = quantity / float(expected.sum())
    if cell.algo == "pov":
        _check(pov_rate <= 1.0, f"pov needs {pov_rate:.0%} of the market's volume over {cell.horizon_minutes:g} minutes; at most 100% is possible")
    params = algos.AlgoParams(
        kind=algos.AlgoKind(cell.algo),
        horizon_seconds=cell.horizon_minutes * 60.0,
        slice_seconds=slice_minutes * 60.0,
        participation=min(pov_rate, 1.0),
        risk_aversion=float(ex["risk_aversion"]),
    )
    algo_market = algos.MarketParams(
        price=market.price,
        multiplier=market.multiplier,
        tick=mk["tick"],
        daily_vol=market.daily_vol,
        adv=market.adv,
        session_seconds=SESSION_MINUTES * 60.0,
        volume_profile=tuple(expected.tolist()),
    )
    try:
        parent = algos.build_parent(1, mk["root"], quantity, params, algo_market, impact=model)
    except ValueError as exc:
        raise CellError(f"{cell.algo}: {exc}") from None
    if parent.pov is not None:
        order = Order(quantity, cell.horizon_minutes, n_slices, pov_rate=parent.pov.rate)
    else:
        order = Order(quantity, cell.horizon_minutes, n_slices, cumulative=np.asarray(parent.cumulative, dtype=np.int64))
    return CellSetup(market=market, model=model, order=order, parent=parent)
