import asyncio
import time

import pytest

from execution.vtime import TimeTravelError, VirtualTimeLoop, run


def test_a_trading_day_of_sleeps_passes_instantly():
    async def day():
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        for _ in range(390):
            await asyncio.sleep(60)
        return loop.time() - t0

    wall = time.perf_counter()
    elapsed = run(day)
    assert elapsed == pytest.approx(390 * 60)
    assert time.perf_counter() - wall < 1.0


def test_concurrent_timers_fire_in_virtual_order():
    seen = []

    async def worker(name, delay):
        await asyncio.sleep(delay)
        seen.append((name, asyncio.get_running_loop().time()))

    async def main():
        async with asyncio.TaskGroup() as tg:
            tg.create_task(worker("b", 20))
            tg.create_task(worker("a", 10))
            tg.create_task(worker("c", 30))

    run(main, start=100.0)
    assert seen == [("a", 110.0), ("b", 120.0), ("c", 130.0)]


def test_timeouts_work_in_virtual_time():
    async def main():
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(5):
                await asyncio.sleep(3600)
        return asyncio.get_running_loop().time()

    assert run(main) == pytest.approx(5.0)


def test_time_never_goes_backwards():
    loop = VirtualTimeLoop(start=10.0)
    try:
        loop.advance_to(20.0)
        assert loop.time() == 20.0
        with pytest.raises(TimeTravelError):
            loop.advance_to(5.0)
    finally:
        loop.close()


def test_paced_mode_follows_the_wall_clock_at_speed():
    async def main():
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        await asyncio.sleep(50.0)  # 50 virtual seconds at 1000x is 50 ms of wall time
        return loop.time() - t0

    wall = time.perf_counter()
    assert run(main, speed=1000.0) == pytest.approx(50.0)
    assert time.perf_counter() - wall >= 0.04
