"""The IB adapter works a roll as one calendar-spread parent: each child one BAG order at our
gateway (unmodified ib_async client), executions paired from the legs' and the BAG's reports.

The gateway runs in a thread on a loopback port with a fast simulated clock; the engine runs
on the ordinary loop, as ``overlay paper`` does.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import replace

import pytest

from execution.algos import AlgoParams, MarketParams, build_parent
from execution.engine import Engine, EngineConfig
from execution.ib.adapter import IBBroker
from execution.ib.mapping import FutureRef
from execution.ib.settings import IBSettings
from execution.journal.broker import JournaledBroker
from execution.journal.store import Journal
from execution.orders import ParentStatus
from execution.spreads import leg_fills
from overlay.config import config_from_dict
from sim_broker.tws.server import GatewayConfig, GatewayThread

pytestmark = pytest.mark.slow

FEE = 1.25


def config():
    return config_from_dict({
        "portfolio": {"name": "Roll test", "as_of": dt.date(2026, 3, 2), "cash": 2_000_000.0},
        "sleeves": [{"name": "equity", "target": 1.0, "value": 10_000_000.0, "overlay": ["ES"]}],
        "instruments": {"ES": {"kind": "future", "root": "ES", "price": 5200.0, "expiry": dt.date(2026, 6, 18)}},
        "positions": [{"instrument": "ES", "quantity": 12}],
        "market": {"ES": {"fee_per_contract": FEE}},
    })


async def _roll(port: int, journal=None):
    broker = IBBroker(IBSettings(port=port, client_id=9, commission_wait=2.0))
    await broker.connect()
    try:
        await broker.resolve([FutureRef("ESM6", "ES", "CME", "USD", 50.0, "202606"),
                              FutureRef("ESU6", "ES", "CME", "USD", 50.0, "202609")])
        name = broker.add_spread("ESM6", "ESU6")
        start = await broker.positions()
        params = AlgoParams(horizon_seconds=3.0, slice_seconds=0.5)
        spec = replace(build_parent(1, name, 12, params, MarketParams(5200.0, 50.0, 0.25, adv=1e6)), legs=("ESM6", "ESU6"))
        port_ = broker
        if journal is not None:
            journal.add_parent("roll", name, 12, "twap")
            port_ = JournaledBroker(broker, journal, {name: "roll"})
        engine = Engine(port_, config=EngineConfig(ack_timeout=5.0, cancel_timeout=5.0, finish_timeout=20.0))
        (parent,) = await engine.run([spec])
        for _ in range(100):  # the last commission reports
            if (await broker.positions()) != start:
                break
            await asyncio.sleep(0.05)
        return parent, engine, start, await broker.positions()
    finally:
        await broker.close()


def test_a_roll_is_worked_as_bag_orders_and_both_legs_move_together(tmp_path):
    settings = GatewayConfig(speed=300.0, start=10 * 3600 + 30 * 60, quote_interval=5.0)
    with GatewayThread(settings, config()) as gw:
        with Journal(tmp_path / "run.sqlite") as journal:
            parent, engine, start, end = asyncio.run(_roll(gw.port, journal))
            children = journal.children()
        assert parent.status is ParentStatus.DONE and parent.filled == 12, parent.reason
        assert start == {"ESM6": 12, "ESU6": 0}
        assert end == {"ESM6": 0, "ESU6": 12}  # reconciled by legs
        assert leg_fills(parent.fills) == {"ESM6": -12, "ESU6": 12}
        for f in parent.fills:
            near, far = f.legs
            assert far.price - near.price == pytest.approx(f.price)  # one price, both legs
            assert f.fee == pytest.approx(2 * abs(f.quantity) * FEE)  # the legs' commissions
        # every child was one BAG order at the gateway (one client order each, never a leg order)
        orders = [o for o in gw.desk._orders.values() if o.client_id == 9]
        assert orders and all(o.listing.combo is not None for o in orders)
        assert len(orders) == len(engine.children)
        # journaled as one order per child, on the spread, with its executions
        assert {c.instrument for c in children} == {"ESM6-ESU6"} and len(children) == len(engine.children)
