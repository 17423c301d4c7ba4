"""Replaying a file of 1-minute bars reproduces its closes and volumes."""

import asyncio

import numpy as np
import pandas as pd
import pytest

from execution import vtime
from execution.broker import Execution, OrderRequest
from sim_broker.tables import from_tables
from tests.sim_session import collect


@pytest.fixture
def bar_file(tmp_path):
    rng = np.random.default_rng(42)
    n = 390
    close = 5000.0 + 0.25 * np.cumsum(rng.integers(-4, 5, n))
    open_ = np.concatenate(([5000.0], close[:-1]))
    high = np.maximum(open_, close) + 0.25 * rng.integers(0, 4, n)
    low = np.minimum(open_, close) - 0.25 * rng.integers(0, 4, n)
    volume = rng.integers(500, 8000, n)
    stamps = pd.date_range("2026-03-02 09:30", periods=n, freq="1min")
    frame = pd.DataFrame({"timestamp": stamps, "open": open_, "high": high, "low": low, "close": close, "volume": volume})
    path = tmp_path / "es_1min.csv"
    frame.to_csv(path, index=False)
    return path, frame


def test_replay_reproduces_closes_and_volumes(bar_file):
    path, frame = bar_file
    broker = from_tables({"ES": {"root": "ES", "price": 5000.0}}, {"ES": {"bars": str(path)}}, seed=1)
    ends = broker.session_open + 60.0 * np.arange(1, len(frame) + 1)

    async def main():
        loop = asyncio.get_running_loop()
        seen = []
        for t in ends:
            await asyncio.sleep(t - loop.time())
            seen.append(await broker.snapshot("ES"))
        return seen

    snaps = vtime.run(main, start=broker.session_open)
    assert [s.last for s in snaps] == list(frame["close"])
    assert np.allclose([s.volume for s in snaps], frame["volume"].cumsum(), rtol=0, atol=1e-6)
    bars = broker.path("ES").minute_bars()
    assert np.array_equal(bars["close"], frame["close"].to_numpy())
    assert np.allclose(bars["volume"], frame["volume"].to_numpy())
    assert np.array_equal(bars["high"], frame["high"].to_numpy())
    assert np.array_equal(bars["low"], frame["low"].to_numpy())


def test_orders_trade_on_the_replayed_prices(bar_file):
    path, frame = bar_file
    broker = from_tables(
        {"ES": {"root": "ES", "price": 5000.0}}, {"ES": {"bars": str(path), "impact": {"model": "none"}}}, seed=1
    )

    async def buy_two(loop):
        await asyncio.sleep(broker.session_open + 600.0 - loop.time())
        broker.submit(OrderRequest(1, "ES", 2))
        await asyncio.sleep(1.0)

    events, _ = collect(broker, buy_two)
    (fill,) = [e for e in events if isinstance(e, Execution)]
    # ten minutes in is the end of bar 10: its close is the mid, on a tick, so a one-tick
    # spread quotes it as the bid and the buy pays the ask one tick above
    assert fill.price == frame["close"].iloc[9] + 0.25
