"""The same seed gives an identical event sequence; another seed gives a different one."""

import asyncio
import hashlib

from execution.broker import OrderRequest, OrderType, TimeInForce
from sim_broker.tables import from_tables
from tests.sim_session import collect

INSTRUMENTS = {"ES": {"root": "ES", "price": 5000.0}, "ZN": {"root": "ZN", "price": 110.5}}
MARKET = {"ES": {"adv": 200_000}, "ZN": {"impact": {"model": "almgren-chriss", "eta": 1e-7, "gamma": 1e-7}}}
FAULTS = {
    "reject_rate": 0.05,
    "drop_ack_rate": 0.05,
    "duplicate_fill_rate": 0.05,
    "late_fill_rate": 0.05,
    "disconnect_every_minutes": 15,
    "disconnect_seconds": 20,
}

#: sha256 of the event list of :func:`session` with seed 2026. Changed when
#: ``Execution`` gained ``perm_id`` and ``exec_time`` (its repr grew two fields; the
#: simulator's events and their order did not change), and again when a resting limit
#: order came to trade at its own price (the session rests sell limits above the market).
GOLDEN = "343003a8b8d36156c4b5a524dc54f09d1c13f21192df4a77f3de183074d6f49c"


def session(seed: int) -> list:
    broker = from_tables(INSTRUMENTS, MARKET, FAULTS, seed=seed, start="09:30")

    async def trade(loop):
        oid = 0
        for minute in range(120):
            await asyncio.sleep(broker.session_open + 60.0 * minute + 7.0 - loop.time())
            for name, size in (("ES", 40), ("ZN", -25)):
                oid += 1
                broker.submit(OrderRequest(oid, name, size))
            snap = await broker.snapshot("ES")
            oid += 1
            broker.submit(OrderRequest(oid, "ES", -3, OrderType.LIMIT, snap.ask + 0.5, TimeInForce.DAY))
            if minute % 3 == 0:
                oid += 1
                broker.submit(OrderRequest(oid, "ES", 5, OrderType.LIMIT, snap.bid - 1.0, TimeInForce.IOC))
            if minute % 4 == 1:
                broker.cancel(oid - 2)
        await asyncio.sleep(broker.session_open + 7600.0 - loop.time())
        return await broker.positions()

    return collect(broker, trade)


def digest(events) -> str:
    return hashlib.sha256("\n".join(map(repr, events)).encode()).hexdigest()


def test_same_seed_same_events_golden():
    events, positions = session(2026)
    again, _ = session(2026)
    assert events == again
    assert len(events) > 500 and positions
    assert digest(events) == GOLDEN


def test_another_seed_gives_other_events():
    assert digest(session(2026)[0]) != digest(session(2027)[0])
