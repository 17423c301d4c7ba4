"""`overlay paper` shows its progress on stderr: parents, filled, working, next slice."""

import asyncio
import io
from types import SimpleNamespace

from execution.orders import MarketTrail, ParentOrder, ParentStatus
from execution.vtime import run
from overlay.paper.progress import progress_line, report_progress


def parent(instrument, quantity, filled, working, status, start):
    p = ParentOrder(1, instrument, quantity, multiplier=50.0, filled=filled, working=working, status=status)
    p.trail = MarketTrail()
    p.trail.start_time = start
    return p


def spec(times):
    return SimpleNamespace(times=tuple(times))


def test_a_progress_line_names_parents_fills_working_and_the_next_slice():
    parents = [parent("ESM6", -413, -120, -5, ParentStatus.WORKING, 1000.0),
               parent("ZNM6", 554, 554, 0, ParentStatus.DONE, 1000.0)]
    specs = [spec([0, 60, 120, 180]), spec([0, 60])]
    line = progress_line(1078.0, parents, specs)
    assert line.startswith("overlay paper: 1/2 parents done, filled 674/967 contracts")
    assert "ESM6 -120/-413 working -5 next slice in 42 s" in line
    assert "ZNM6 +554/+554 done" in line


def test_progress_is_printed_on_the_run_clock_until_cancelled():
    out = io.StringIO()
    parents = [parent("ESM6", -10, 0, 0, ParentStatus.WORKING, 0.0)]
    engine = SimpleNamespace(parents=parents)

    async def main():
        task = asyncio.create_task(report_progress(engine, [spec(range(0, 600, 60))], every=30.0, stream=out))
        for k in range(1, 5):
            await asyncio.sleep(60)
            parents[0].filled = -k
        task.cancel()

    run(main, start=0.0)  # virtual time: four minutes in no time
    lines = out.getvalue().splitlines()
    assert len(lines) >= 8  # every 30 s of the run clock over four minutes
    assert lines[0].endswith("ESM6 +0/-10 next slice in 60 s")
    assert any("-3/-10" in line for line in lines)
