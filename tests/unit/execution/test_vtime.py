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


def test_timers_due_at_one_instant_run_in_the_order_they_were_scheduled():
    """asyncio's own heap leaves ties to its shape; here equal times keep scheduling order,
    whatever else is waiting (so an unrelated timer cannot reorder a simulation)."""
    for others in (0, 1, 7, 40):
        seen = []

        async def main():
            loop = asyncio.get_running_loop()
            for k in range(others):
                loop.call_at(5.0 + k, lambda: None)
            for name in "abcdefghij":
                loop.call_at(3.0, seen.append, name)
            await asyncio.sleep(10)

        run(main)
        assert seen == list("abcdefghij")


def test_a_whole_instant_runs_in_one_iteration_and_the_clock_stays_put():
    """Callbacks that schedule callbacks, and timers that fall due at that same instant, run
    before the clock moves; asyncio's order between them is kept."""
    seen = []

    def chain(k):
        loop = asyncio.get_running_loop()
        seen.append((f"soon{k}", loop.time()))
        if k < 3:
            loop.call_soon(chain, k + 1)
            loop.call_at(loop.time(), seen.append, (f"due{k}", loop.time()))

    async def main():
        loop = asyncio.get_running_loop()
        loop.call_at(2.0, chain, 0)
        loop.call_at(2.5, seen.append, ("later", 2.5))
        await asyncio.sleep(3)

    run(main)
    names = [n for n, _ in seen]
    assert names == ["soon0", "soon1", "due0", "soon2", "due1", "soon3", "due2", "later"]
    assert {t for n, t in seen if n != "later"} == {2.0}


def test_cancelled_timers_never_run_and_do_not_pile_up():
    async def main():
        loop = asyncio.get_running_loop()
        ran = []
        handles = [loop.call_at(1.0 + k * 1e-3, ran.append, k) for k in range(1000)]
        for h in handles[::2]:
            h.cancel()
        await asyncio.sleep(0.5)  # the loop drops cancelled handles as it goes
        assert len(loop._timers) <= 1000
        await asyncio.sleep(2)
        return ran, handles

    ran, handles = run(main)
    assert ran == list(range(1, 1000, 2))
    assert handles[1].when() == pytest.approx(1.001) and handles[0].cancelled()


def test_an_error_in_a_timer_goes_to_the_exception_handler_and_the_loop_goes_on():
    errors = []

    async def main():
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda _loop, ctx: errors.append(ctx["exception"]))
        loop.call_at(1.0, lambda: 1 / 0)
        await asyncio.sleep(2)
        return loop.time()

    assert run(main) == pytest.approx(2.0)
    assert len(errors) == 1 and isinstance(errors[0], ZeroDivisionError)


def test_debug_mode_runs_the_same_timers():
    seen = []

    async def main():
        loop = asyncio.get_running_loop()
        loop.set_debug(True)
        for name in "xyz":
            loop.call_at(1.0, seen.append, name)
        await asyncio.sleep(2)

    run(main)
    assert seen == ["x", "y", "z"]


def test_a_closed_loop_takes_no_timer():
    loop = VirtualTimeLoop()
    loop.close()
    with pytest.raises(RuntimeError, match="closed"):
        loop.call_at(1.0, lambda: None)


def test_run_hands_back_the_result_or_the_error_of_a_coroutine_or_of_a_function_making_one():
    async def day(n):
        await asyncio.sleep(60)
        if n < 0:
            raise ValueError("negative")
        return [n] * n

    assert run(day(3), start=100.0) == [3, 3, 3]
    assert run(lambda: day(2)) == [2, 2]
    with pytest.raises(ValueError, match="negative"):
        run(day(-1))


def test_the_runner_main_task_does_not_hold_the_result():
    # the runner's Ctrl-C handler, put back at the end, formats the repr of its main task
    # (Python 3.11's signal module): the task's repr must not spell out a whole run's result
    seen = []

    async def day():
        seen.append(asyncio.current_task())
        return ["child"] * 1000

    assert len(run(day)) == 1000
    main_task = seen[0]
    assert main_task.done() and "'child'" not in repr(main_task)
