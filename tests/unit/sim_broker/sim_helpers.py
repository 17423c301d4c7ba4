"""Helpers shared by the simulator unit tests: build a broker and drive it with a timed script."""

from __future__ import annotations

import asyncio

from execution.broker import OrderRequest
from pricing.impact import NullImpact
from sim_broker.broker import SimBroker
from sim_broker.params import FaultParams, MarketParams, SimConfig
from tests.sim_session import collect

OPEN = 34_200.0


def es_params(**overrides) -> MarketParams:
    values = dict(
        instrument="ES", root="ES", price=5000.0, tick=0.25, multiplier=50.0, adv=1_500_000.0,
        daily_vol=0.012, spread_ticks=1, fee_per_contract=2.0, impact=NullImpact(),
    )
    values.update(overrides)
    return MarketParams(**values)


def make_broker(
    seed: int = 7, sim: SimConfig = SimConfig(), faults: FaultParams = FaultParams(), **overrides
) -> SimBroker:
    return SimBroker.simulate([es_params(**overrides)], seed, sim, faults)


def drive(broker: SimBroker, script: list[tuple[float, object]], until: float) -> list:
    """Run ``script`` — (seconds after the open, OrderRequest | order id to cancel | callable) —
    in virtual time until ``until`` seconds after the open; return every event."""

    async def run_script(loop):
        for at, action in sorted(script, key=lambda x: x[0]):
            await asyncio.sleep(max(0.0, OPEN + at - loop.time()))
            if isinstance(action, OrderRequest):
                broker.submit(action)
            elif isinstance(action, int):
                broker.cancel(action)
            else:
                result = action()
                if asyncio.iscoroutine(result):
                    await result
        await asyncio.sleep(max(0.0, OPEN + until - loop.time()))

    events, _ = collect(broker, run_script, start=OPEN)
    return events

