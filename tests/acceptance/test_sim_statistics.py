"""Statistics of the simulated market over many sessions, and the price impact of our trades.

References: Almgren & Chriss (2000), "Optimal execution of portfolio transactions" — the
expected cost of a schedule E = ½γX² + εΣ|n_k| + (η̃/τ)Σn_k², η̃ = η − γτ/2; the square-root
law of Tóth et al. (2011), Phys. Rev. X 1, 021006 — impact ≈ Y·σ·√(Q/V) for an order traded
over a day (see the reference facts).
"""

import asyncio
import math

import numpy as np
import pytest

from execution import vtime
from execution.broker import Execution, OrderRequest
from pricing.almgren_chriss import ACParams, expected_cost_sum
from pricing.impact.models import LinearImpact, NullImpact, SquareRootImpact
from pricing.volume_profile import volume_profile
from sim_broker.broker import SimBroker
from sim_broker.market import simulate_path
from sim_broker.params import MarketParams, SimConfig
from tests.sim_session import collect

pytestmark = pytest.mark.slow

DAYS = 300


def es(**overrides):
    values = dict(
        instrument="ES", root="ES", price=5000.0, tick=0.25, multiplier=50.0, adv=1_500_000.0,
        daily_vol=0.012, spread_ticks=1, fee_per_contract=2.0, impact=NullImpact(),
    )
    values.update(overrides)
    return MarketParams(**values)


@pytest.fixture(scope="module")
def sessions():
    sim = SimConfig()
    return [simulate_path(es(), sim, np.random.default_rng(np.random.SeedSequence([2026, d]))) for d in range(DAYS)]


def test_realised_volatility_matches_the_configuration(sessions):
    sigma = 0.012 * 5000.0  # price units per √session
    # close-to-open moves: the sample sd is within four standard errors σ/√(2N)
    moves = np.array([p.mid[-1] - p.mid[0] for p in sessions])
    assert moves.std(ddof=1) == pytest.approx(sigma, abs=4 * sigma / math.sqrt(2 * DAYS))
    assert abs(moves.mean()) < 4 * sigma / math.sqrt(DAYS)  # no drift
    # realised variance from one-minute moves: each day's sum has relative sd √(2/390)
    rv = np.array([np.sum(np.diff(p.mid[::60]) ** 2) for p in sessions])
    assert rv.mean() == pytest.approx(sigma**2, rel=4 * math.sqrt(2 / 390 / DAYS))


def test_session_volume_averages_the_adv(sessions):
    totals = np.array([p.cum_volume[-1] for p in sessions])
    se = totals.std(ddof=1) / math.sqrt(DAYS)
    assert totals.mean() == pytest.approx(1_500_000.0, abs=4 * se)
    assert totals.std() / 1_500_000.0 < 0.01  # second-level noise averages out over a day


def test_volume_profile_has_the_configured_u_shape(sessions):
    half_hours = np.array([p.volume.reshape(13, 1800).sum(axis=1) / p.cum_volume[-1] for p in sessions])
    mean = half_hours.mean(axis=0)
    expected = volume_profile(13, edge_ratio=3.0)
    se = half_hours.std(axis=0, ddof=1) / math.sqrt(DAYS)
    assert np.all(np.abs(mean - expected) < 4 * se + 1e-12)
    assert mean[0] > mean[6] < mean[-1]


def _trade(broker, children, every, quiet=False):
    """Buy ``children`` (list of sizes) one every ``every`` seconds; return the executions."""

    async def buy(loop):
        for j, q in enumerate(children):
            await asyncio.sleep(broker.session_open + 0.5 * every + j * every - loop.time())
            broker.submit(OrderRequest(j + 1, "ES", q))
        await asyncio.sleep(broker.session_close - loop.time())

    events, _ = collect(broker, buy)
    return [e for e in events if isinstance(e, Execution)]


def _cost_against_the_undisturbed_mid(broker, fills):
    path = broker.path("ES")
    return sum(f.quantity * (f.price - path.mid_at(f.time)) for f in fills)


UNCAPPED = SimConfig(max_participation=math.inf)


def test_twap_cost_reproduces_almgren_chriss_linear_impact():
    eta, gamma, x, n = 2e-4, 1e-4, 78_000, 390
    broker = SimBroker.simulate([es(impact=LinearImpact(eta=eta, gamma=gamma))], 3, UNCAPPED)
    fills = _trade(broker, [x // n] * n, 60.0)
    assert sum(f.quantity for f in fills) == x
    ac = ACParams(quantity=x, horizon_days=1.0, periods=n, sigma=60.0, eta=eta, gamma=gamma, epsilon=0.125)
    expected = expected_cost_sum(ac, np.linspace(x, 0, n + 1))
    # the only gap is the warm-up of the decayed flow, about half_life / (ln 2 · T) of η
    assert _cost_against_the_undisturbed_mid(broker, fills) == pytest.approx(expected, rel=0.015)


def test_twap_over_a_day_pays_the_square_root_law():
    y, x, n = 0.7, 75_000, 390  # 5 % of ADV over one session
    model = SquareRootImpact(y=y)
    broker = SimBroker.simulate([es(impact=model)], 4, UNCAPPED)
    fills = _trade(broker, [x // n] * n, 60.0)
    per_contract = _cost_against_the_undisturbed_mid(broker, fills) / x
    law = y * 0.012 * 5000.0 * math.sqrt(x / 1_500_000.0)  # Y σ P √(Q/V), price units
    assert per_contract == pytest.approx(0.125 + law, rel=0.015)
    assert float(model.cost(x, 1.0, 5000.0, 0.012, 1_500_000.0).total) / x == pytest.approx(law)


def test_a_large_market_order_moves_the_mid_as_the_model_predicts():
    model = SquareRootImpact(y=0.7, permanent_fraction=0.25)
    q = 30_000
    active = SimBroker.simulate([es(impact=model)], 5, UNCAPPED)
    quiet = SimBroker.simulate([es(impact=model)], 5, UNCAPPED)
    checks = (1.0, 180.0, 900.0, 3600.0)  # seconds after the fill

    def run(broker, order):
        async def main():
            loop = asyncio.get_running_loop()
            mids, fills = [], []

            async def consume():
                async for e in broker.events():
                    fills.append(e)

            task = asyncio.create_task(consume())
            if order:
                broker.submit(OrderRequest(1, "ES", q))
            for c in checks:
                await asyncio.sleep(broker.session_open + 0.002 + c - loop.time())
                mids.append((await broker.snapshot("ES")).mid)
            task.cancel()
            return mids, [e for e in fills if isinstance(e, Execution)]

        return vtime.run(main, start=broker.session_open)

    moved, fills = run(active, True)
    base, _ = run(quiet, False)
    k, day, ref = math.log(2) / 180.0, 23_400.0, (5000.0, 0.012, 1_500_000.0)
    permanent = float(model.permanent_impact(q, *ref))
    for c, m1, m0 in zip(checks, moved, base):
        temporary = float(model.temporary_impact(k * q * math.exp(-k * c) * day, *ref))
        assert m1 - m0 == pytest.approx(permanent + temporary, abs=0.25)
    # and the order itself paid the temporary impact of half its own flow, plus half the spread
    (fill,) = fills
    paid = fill.price - active.path("ES").mid[0]
    assert paid == pytest.approx(0.125 + float(model.temporary_impact(k * q / 2 * day, *ref)), abs=0.125)
