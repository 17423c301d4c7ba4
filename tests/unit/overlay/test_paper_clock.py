"""`overlay paper --clock broker` follows the broker's clock: the gateway at --speed 10 makes
a rehearsal ten times faster. Tested in virtual time against a fake broker clock that, like
TWS, reports whole seconds."""

import asyncio
import math

import pytest

from execution.vtime import run
from overlay.paper.clock import measure_speed, on_broker_clock


def broker_clock(speed: float, epoch: float = 1_773_000_000.3):
    """``reqCurrentTime`` of a broker whose clock runs ``speed`` times the loop's."""

    async def current_time() -> float:
        return math.floor(epoch + speed * asyncio.get_running_loop().time())

    return current_time


@pytest.mark.parametrize("speed", [1.0, 2.5, 10.0, 60.0, 600.0])
def test_the_measured_speed_is_the_gateways_to_within_the_poll(speed):
    async def main():
        return await measure_speed(broker_clock(speed), probe=4.0, poll=0.05)

    measured = run(main, start=123.456)
    # edges are seen within one 50 ms poll: the error is at most 0.05 s over about 4 s
    assert measured == pytest.approx(speed, rel=0.05 / 4.0 + 1e-9)


def test_a_real_account_is_real_time_exactly():
    assert run(lambda: measure_speed(broker_clock(1.003)), start=7.77) == 1.0


def test_a_stopped_broker_clock_is_an_error_not_a_hang():
    async def stopped() -> float:
        return 1_773_000_000.0

    with pytest.raises(TimeoutError, match="did not move"):
        run(lambda: measure_speed(stopped, limit=3.0))


def test_a_390_minute_horizon_at_speed_10_takes_39_minutes():
    assert on_broker_clock(390 * 60.0, 10.0) == pytest.approx(39 * 60.0)


def test_a_pov_rehearsal_at_speed_10_sends_the_real_runs_slices_ten_times_faster():
    # A rehearsal must play the schedule the real run would play. Before, the schedule was
    # drawn on a horizon shortened to H / 10, which gave POV a tenth of the market's expected
    # volume: other slice targets than the real run's.
    from execution.algos import AlgoKind, AlgoParams, MarketParams, build_parent
    from overlay.paper.clock import play_at

    params = AlgoParams(AlgoKind.POV, 390 * 60.0, 60.0, participation=0.02)
    market = MarketParams(5000.0, 50.0, 0.25, adv=20_000.0)
    real = build_parent(1, "ESM6", 3_000, params, market)
    rehearsal = play_at(real, 10.0)
    assert rehearsal.cumulative == real.cumulative and rehearsal.quantity == real.quantity
    assert rehearsal.times == pytest.approx([t / 10.0 for t in real.times])
    assert rehearsal.horizon == pytest.approx(39 * 60.0)
    shortened = build_parent(1, "ESM6", 3_000, AlgoParams(AlgoKind.POV, 39 * 60.0, 6.0, participation=0.02), market)
    assert shortened.cumulative != real.cumulative  # what the rehearsal used to trade
    assert play_at(real, 1.0) is real  # a real account: unchanged
