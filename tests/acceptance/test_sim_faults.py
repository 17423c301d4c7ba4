"""With every fault on, each order still ends exactly once and positions add up.

Faults follow IB's documented behaviour (see the reference facts): executions are the truth,
they may repeat and may arrive after a cancel; an order may never be acknowledged.
"""

import asyncio
from collections import Counter, defaultdict

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from execution.broker import TERMINAL_EVENTS, Execution, OrderCancelled, OrderFilled, OrderRejected, OrderRequest, OrderType, TimeInForce
from sim_broker.tables import from_tables
from tests.sim_session import collect

INSTRUMENTS = {"ES": {"root": "ES", "price": 5000.0}, "ZN": {"root": "ZN", "price": 110.5}}
MARKET = {
    "ES": {"adv": 100_000, "session_end": "10:00", "daily_vol": 0.03},
    "ZN": {"adv": 50_000, "session_end": "10:00", "impact": {"model": "almgren-chriss", "eta": 1e-6, "gamma": 1e-6}},
}
TICK = {"ES": 0.25, "ZN": 1 / 64}

rates = st.floats(0.05, 0.6)
faults = st.fixed_dictionaries(
    {
        "reject_rate": rates,
        "drop_ack_rate": rates,
        "duplicate_fill_rate": rates,
        "late_fill_rate": rates,
        "disconnect_every_minutes": st.integers(1, 10),
        "disconnect_seconds": st.integers(1, 50),
        "late_fill_max_seconds": st.floats(1.0, 90.0),
    }
)
orders = st.lists(
    st.tuples(
        st.floats(0.0, 1850.0),  # submit time after the open; the session lasts 1800 s
        st.sampled_from(["ES", "ZN"]),
        st.integers(1, 3000),
        st.sampled_from([1, -1]),
        st.one_of(st.none(), st.integers(-6, 6)),  # market, or a limit this many ticks from the touch
        st.sampled_from(list(TimeInForce)),
        st.one_of(st.none(), st.floats(0.0, 300.0)),  # cancel after this many seconds
    ),
    min_size=1,
    max_size=30,
)


def run(seed, fault_table, script):
    broker = from_tables(INSTRUMENTS, MARKET, fault_table, seed=seed)
    last_action = broker.session_open + max(at + (c or 0.0) for at, *_, c in script)
    horizon = max(broker.session_close, last_action) + fault_table["late_fill_max_seconds"] + 5.0

    async def play(loop):
        actions = []
        for i, (at, name, size, side, offset, tif, cancel_after) in enumerate(script):
            actions.append((at, 0, i))
            if cancel_after is not None:
                actions.append((at + cancel_after, 1, i))
        for at, kind, i in sorted(actions):
            await asyncio.sleep(max(0.0, broker.session_open + at - loop.time()))
            _, name, size, side, offset, tif, _ = script[i]
            if kind:
                broker.cancel(i)
                continue
            if offset is None:
                broker.submit(OrderRequest(i, name, side * size, tif=tif))
            else:
                snap = await broker.snapshot(name)
                touch = snap.ask if side > 0 else snap.bid
                price = max(TICK[name], touch + offset * TICK[name])
                broker.submit(OrderRequest(i, name, side * size, OrderType.LIMIT, price, tif))
        await asyncio.sleep(max(0.0, horizon - loop.time()))
        return await broker.positions()

    return collect(broker, play)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), faults, orders)
def test_every_order_ends_once_and_positions_equal_unique_executions(seed, fault_table, script):
    events, positions = run(seed, fault_table, script)
    terminals = Counter(e.order_id for e in events if isinstance(e, TERMINAL_EVENTS))
    assert set(terminals) == set(range(len(script)))
    assert set(terminals.values()) == {1}

    unique: dict[str, Execution] = {}
    for e in events:
        if isinstance(e, Execution):
            assert unique.setdefault(e.exec_id, e) == e  # a repeated exec_id is the same fill
    by_order: dict[int, int] = defaultdict(int)
    by_instrument: dict[str, int] = defaultdict(int)
    for e in unique.values():
        by_order[e.order_id] += e.quantity
        by_instrument[script[e.order_id][1]] += e.quantity
    assert {k: v for k, v in by_instrument.items() if v} == positions

    for e in events:
        if isinstance(e, TERMINAL_EVENTS):
            _, _, size, side, *_ = script[e.order_id]
            if isinstance(e, OrderRejected):
                assert by_order[e.order_id] == 0
            elif isinstance(e, OrderFilled):
                assert e.filled == by_order[e.order_id] == side * size
            elif isinstance(e, OrderCancelled):
                assert e.filled == by_order[e.order_id] and abs(e.filled) < size
