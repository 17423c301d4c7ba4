"""`overlay paper --clock broker` follows the broker's clock: the gateway at --speed 10 makes
a rehearsal ten times faster. Tested in virtual time against a fake broker clock."""

import asyncio
import math

import pytest

from execution.vtime import run
from overlay.paper.clock import follow_broker_clock, probe_speed


class FakeBroker:
    """A broker whose clock runs ``speed`` times the loop's, reported in whole seconds."""

    def __init__(self, speed: float, epoch: float = 1_773_000_000.0):
        self.speed = speed
        self.epoch = epoch
        self.wall = 0.0  # seconds of real time elapsed, as the fake loop sees them
        self.loop_speed = 1.0

    async def current_time(self) -> float:
        return math.floor(self.epoch + self.speed * self.wall)


@pytest.mark.parametrize("speed", [1.0, 10.0, 60.0])
def test_the_probe_measures_the_gateway_speed(speed):
    broker = FakeBroker(speed)
    seen = []

    async def main():
        loop = asyncio.get_running_loop()
        start = loop.time()

        async def current_time():
            broker.wall = loop.time() - start  # loop at speed 1 during the probe: loop s = wall s
            return await broker.current_time()

        return await probe_speed(current_time, seen.append, probe=2.0)

    measured, _, _ = run(main)
    assert seen == [measured]
    assert measured == pytest.approx(speed, rel=0.5 / 2.0 + 1e-9)  # whole seconds over a 2 s probe


def test_the_follower_jumps_forward_when_behind_and_slows_when_ahead():
    calls = []
    broker_times = iter([1030.0 + 5.0, 1060.0 - 6.0, 1090.0 - 6.0])

    async def current_time():
        return next(broker_times)

    async def main():
        loop = asyncio.get_running_loop()
        task = asyncio.create_task(follow_broker_clock(
            current_time, lambda s: calls.append(("speed", s)), lambda t: calls.append(("advance", t)),
            anchor=(10.0, 1000.0, loop.time()), every=30.0))
        await asyncio.sleep(95)
        task.cancel()

    run(main)
    assert calls[0] == ("advance", pytest.approx(35.0)) and calls[1] == ("speed", 10.0)  # 5 s behind: jump
    assert calls[2] == ("speed", pytest.approx(10.0 * (1 - 6.0 / 30.0)))  # 6 s ahead: slow down
