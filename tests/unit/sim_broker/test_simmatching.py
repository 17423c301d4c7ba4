"""Pricing of our fills: impact curve, tick rounding, participation intervals, FIFO volume."""

import math

import numpy as np
import pytest

from execution.broker import Execution, OrderFilled, OrderRequest
from pricing.impact.models import ATHL2005Impact, IStarImpact, LinearImpact, NullImpact, SquareRootImpact
from sim_broker.market import simulate_path
from sim_broker.matching import InstrumentBook
from sim_broker.params import SimConfig
from sim_helpers import drive, es_params, make_broker


def book(**overrides):
    p = es_params(**overrides)
    return InstrumentBook(p, simulate_path(p, SimConfig(), np.random.default_rng(0)), SimConfig())


@pytest.mark.parametrize(
    "model, rel",
    [
        (LinearImpact(eta=1e-4), 1e-12),
        (SquareRootImpact(y=0.7), 1e-12),
        (ATHL2005Impact(shares_outstanding=1e9), 1e-12),
        (IStarImpact(), 1e-5),
    ],
)
def test_tabulated_temporary_impact_matches_the_model(model, rel):
    b = book(impact=model)
    rates = np.exp(np.random.default_rng(1).uniform(-9.0, 27.0, 300))  # units per day, past both table ends
    for r in rates:
        want = float(model.temporary_impact(r, 5000.0, 0.012, 1.5e6))
        assert b.temporary(r / 23_400.0) == pytest.approx(want, rel=rel)
        assert b.temporary(-r / 23_400.0) == pytest.approx(-want, rel=rel)
    assert book(impact=NullImpact()).temporary(1.0) == 0.0


def test_prices_round_to_the_tick_without_binary_noise():
    rty = book(tick=0.1)
    assert rty.round(2100.149) == 2100.1 and rty.round(2100.15) == 2100.2
    assert repr(rty.round(2100.3 + 1e-9)) == "2100.3"
    zn = book(tick=1 / 64, price=110.5)
    assert zn.round(110.5 + 0.4 / 64) == 110.5 and zn.round(110.5 + 0.6 / 64) == 110.515625


def test_participation_buckets_start_on_the_interval_even_with_clock_noise():
    b = book()
    assert b.bucket(b.start + 60.0 - 1e-12) == 1
    assert b.next_interval(b.start + 59.0) == b.start + 60.0
    assert b.available(b.start) == int(0.25 * b.path.cum_volume[60])


def test_waiting_orders_take_new_volume_oldest_first():
    broker = make_broker(adv=20_000.0)
    events = drive(broker, [(1.0, OrderRequest(1, "ES", 200)), (2.0, OrderRequest(2, "ES", 200))], until=7200)
    fills = {1: [], 2: []}
    for e in events:
        if isinstance(e, Execution):
            fills[e.order_id].append(e.time)
    assert {e.order_id for e in events if isinstance(e, OrderFilled)} == {1, 2}
    assert len(fills[1]) > 2
    assert min(fills[2]) >= max(fills[1])  # the younger order waits until the older one is done


def test_temporary_displacement_decays_with_the_half_life():
    b = book(impact=LinearImpact(eta=1e-4))
    b.commit(b.start, 1_000)
    k = math.log(2) / 180.0
    now = b.temporary(k * b.decayed_flow(b.start))
    later = b.temporary(k * b.decayed_flow(b.start + 180.0))
    assert later == pytest.approx(now / 2)
