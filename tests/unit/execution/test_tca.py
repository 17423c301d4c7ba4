import pytest

from execution.algos import AlgoParams, MarketParams, build_parent
from execution.engine import Engine
from execution.swaps import book_swap, booking_json
from execution.tca import analyse, order_json
from execution.vtime import run
from pricing.swaps import TrsTerms
from tests.fakes import FakeBroker

ES = MarketParams(price=5000.0, multiplier=50.0, tick=0.25)


def _work(qty, broker, params=AlgoParams(horizon_seconds=3600.0, slice_seconds=60.0)):
    (parent,) = run(Engine(broker).run([build_parent(1, "ES", qty, params, ES)]))
    return parent


def test_flat_market_costs_half_the_spread_plus_fees():
    # bid 5000, ask 5000.25: a buyer pays half a tick (0.125 points = 6.25 USD) over mid
    parent = _work(120, FakeBroker({"ES": 5000.0}, fee=1.5))
    t = analyse(parent)
    assert t.arrival_price == 5000.125 and t.avg_price == 5000.25
    assert t.costs.spread == pytest.approx(120 * 6.25)
    assert t.costs.impact == pytest.approx(0.0) and t.costs.delay == pytest.approx(0.0)
    assert t.costs.fees == pytest.approx(120 * 1.5)
    expected_bps = (0.125 * 50 + 1.5) / (5000.125 * 50) * 1e4
    assert t.shortfall_bps == pytest.approx(expected_bps)
    assert t.shortfall_bps == pytest.approx(t.delay_bps + t.spread_bps + t.impact_bps + t.fees_bps)
    assert t.child_orders == 60


def test_shortfall_components_add_up_in_a_trending_market():
    # the price rises 0.01 point a second while we sell: selling late costs nothing extra,
    # rising prices help a seller, so the impact part (market drift) is negative
    parent = _work(-120, FakeBroker({"ES": 5000.0}, drift=0.01, fee=0.0))
    t = analyse(parent)
    paid = sum(-f.quantity * (t.arrival_price - f.price) * 50 for f in parent.fills) / (120 * 50 * t.arrival_price) * 1e4
    assert t.shortfall_bps == pytest.approx(paid)
    assert t.impact_bps < 0 < t.spread_bps
    # no fees here: the all-in average price is the average price
    assert t.vwap_slippage_bps == pytest.approx(-(t.avg_price - t.interval_vwap) / t.interval_vwap * 1e4)


def test_participation_is_filled_over_market_volume():
    parent = _work(120, FakeBroker({"ES": 5000.0}, volume_rate=2.0))
    t = analyse(parent)
    # the last child goes at 3540 s, where the parent completes: 7080 contracts traded
    assert t.participation == pytest.approx(120 / (2.0 * 3540))


def test_json_entry_has_the_cli_keys():
    entry = order_json(analyse(_work(-10, FakeBroker({"ES": 5000.0}))))
    assert set(entry) == {
        "instrument", "side", "quantity", "filled", "avg_price", "arrival_price", "interval_vwap", "currency",
        "decision_price", "shortfall_bps", "delay_bps", "spread_bps", "impact_bps", "timing_bps", "fees_bps",
        "vwap_slippage_bps", "participation", "child_orders", "costs",
        "unfilled", "end_price", "opportunity_bps", "paper_shortfall_bps",
    }
    assert entry["side"] == "sell"
    assert set(entry["costs"]) == {"shortfall", "delay", "spread", "impact", "timing", "fees", "opportunity", "paper_shortfall"}


def test_swap_is_booked_in_one_step_at_the_modelled_cost():
    b = book_swap("REIT_TRS", 300_000.0, TrsTerms(booking_cost_bps=2.0, ticket_fee=50.0))
    assert b.spread_cost == pytest.approx(60.0) and b.fee == 50.0 and b.cost == pytest.approx(110.0)
    entry = booking_json(b)
    assert entry["child_orders"] == 0 and entry["filled"] == 300_000.0
    assert book_swap("X", 0.0, TrsTerms(ticket_fee=50.0)).cost == 0.0


def test_waiting_for_the_first_child_is_not_delay():
    # before: "delay" was the algorithm's own wait between parent start and first child;
    # Perold's delay is the move between the decision and the release (none here)
    broker = FakeBroker({"ES": 5000.0}, drift=0.01, fee=1.5)
    params = AlgoParams(horizon_seconds=3600.0, slice_seconds=600.0)
    t = analyse(_work(120, broker, params))
    assert t.delay_bps == 0.0
    parts = t.delay_bps + t.spread_bps + t.impact_bps + t.timing_bps + t.fees_bps
    assert t.shortfall_bps == pytest.approx(parts, abs=1e-9)


def test_delay_is_the_move_from_decision_to_release_and_everything_adds_up():
    broker = FakeBroker({"ES": 5000.0}, drift=0.01, fee=1.5)
    parent = _work(120, broker)
    decided = 4990.0  # the mid when the plan was made, 10 points below the release
    t = analyse(parent, decision_price=decided, currency="USD")
    assert t.costs.delay == pytest.approx((t.arrival_price - decided) * 120 * 50)
    paid = sum(f.quantity * (f.price - decided) * 50 for f in parent.fills) + parent.fees
    assert t.costs.total == pytest.approx(paid)
    assert t.shortfall_bps == pytest.approx(paid / (decided * 120 * 50) * 1e4)
    parts = t.delay_bps + t.spread_bps + t.impact_bps + t.timing_bps + t.fees_bps
    assert abs(t.shortfall_bps - parts) < 1e-9
    assert order_json(t)["currency"] == "USD"


def test_with_the_unimpacted_path_the_markets_own_move_is_timing_not_impact():
    # the fake market drifts +0.01 point/s by itself: that drift is timing; we leave no footprint
    broker = FakeBroker({"ES": 5000.0}, drift=0.01, fee=0.0)
    parent = _work(120, broker)
    start = parent.trail.start_time
    t = analyse(parent, reference=lambda x: 5000.125 + 0.01 * (x - start))
    assert t.costs.timing > 0 and t.costs.impact == pytest.approx(0.0, abs=120 * 50 * 0.02)
    assert t.costs.total == pytest.approx(t.costs.delay + t.costs.spread + t.costs.impact + t.costs.timing)


def test_fees_are_in_vwap_slippage_as_in_shortfall():
    # one convention: every cost is all-in (fees included), VWAP slippage too
    no_fee = analyse(_work(120, FakeBroker({"ES": 5000.0}, fee=0.0)))
    fee = analyse(_work(120, FakeBroker({"ES": 5000.0}, fee=2.5)))
    per_contract = 2.5 / (50 * fee.interval_vwap) * 1e4
    assert fee.vwap_slippage_bps - no_fee.vwap_slippage_bps == pytest.approx(per_contract)
    assert fee.shortfall_bps - no_fee.shortfall_bps == pytest.approx(fee.fees_bps)


def test_totals_add_orders_in_the_base_currency():
    from execution.tca import CostSplit, totals

    usd = CostSplit(delay=1.0, spread=2.0, impact=3.0, fees=4.0, timing=5.0)
    eur = CostSplit(delay=10.0, spread=20.0, impact=30.0, fees=40.0, timing=50.0)
    tot = totals([(usd, 1000.0, 1.0), (eur, 2000.0, 1.1)], "USD")
    assert tot.notional == pytest.approx(1000 + 2200)
    assert tot.costs.impact == pytest.approx(3 + 33) and tot.costs.total == pytest.approx(15 + 165)


def _half_filled_buy():
    """Buy 10 ES (50 USD a point) decided at 5,000.00; one child of 6, priced from a quote of
    mid 5,000.00 / ask 5,000.25, filled at 5,000.50 with 1 USD a contract; the order ends
    (its horizon passes) with the mid at 5,010.00 and 4 contracts undone."""
    from execution.orders import ChildOrder, Fill, MarketTrail, ParentOrder, ParentStatus

    trail = MarketTrail(start_time=0.0, end_time=600.0, arrival=5000.0, first_mid=5000.0,
                        marks=[(0.0, 5000.0), (600.0, 5010.0)])
    parent = ParentOrder(1, "ES", 10, multiplier=50.0, tick=0.25, filled=6, filled_value=6 * 5000.5, fees=6.0,
                         status=ParentStatus.FAILED, reason="unfilled 4 at the deadline", trail=trail)
    child = ChildOrder(7, parent, 6, 0.0, 5000.0, 5000.25, 0.0)
    parent.children.append(child)
    parent.fills.append(Fill(1.0, "ES", 6, 5000.5, "E1", 7, 6.0))
    return parent


def test_an_order_left_half_done_reports_perolds_opportunity_cost_and_it_adds_up():
    # Perold (1988): paper shortfall = execution cost of the filled part + opportunity cost
    # of the unfilled part, (E - D) per contract left undone. By hand:
    #   spread = 0.25 * 6 * 50 = 75; impact = (5000.50 - 5000.00 - 0.25) * 6 * 50 = 75;
    #   fees = 6; shortfall = 156 (of the filled notional 5000 * 6 * 50 = 1,500,000: 1.04 bp)
    #   opportunity = (5010 - 5000) * 4 * 50 = 2,000; paper shortfall = 2,156, of the paper
    #   notional 5000 * 10 * 50 = 2,500,000: 8.624 bp (opportunity 8.0 bp)
    t = analyse(_half_filled_buy(), decision_price=5000.0)
    assert t.unfilled == 4 and t.end_price == 5010.0
    assert t.costs.spread == pytest.approx(75.0) and t.costs.impact == pytest.approx(75.0)
    assert t.costs.total == pytest.approx(156.0) and t.shortfall_bps == pytest.approx(1.04)
    assert t.costs.opportunity == pytest.approx(2000.0) and t.opportunity_bps == pytest.approx(8.0)
    assert t.costs.paper == pytest.approx(2156.0) and t.paper_shortfall_bps == pytest.approx(8.624)
    entry = order_json(t)
    assert entry["costs"]["paper_shortfall"] == pytest.approx(entry["costs"]["shortfall"] + entry["costs"]["opportunity"])


def test_a_seller_left_undone_in_a_falling_market_pays_opportunity_and_a_filled_order_none():
    from execution.tca import CostSplit, totals

    parent = _half_filled_buy()
    parent.quantity, parent.filled, parent.filled_value = -10, -6, -6 * 5000.5
    parent.fills[0] = parent.fills[0]._replace(quantity=-6)
    parent.children[0].quantity = -6
    parent.trail.marks[-1] = (600.0, 4990.0)  # the market fell 10 points while 4 stayed unsold
    t = analyse(parent, decision_price=5000.0)
    assert t.costs.opportunity == pytest.approx(10 * 4 * 50)
    full = analyse(_work(120, FakeBroker({"ES": 5000.0}, fee=1.5)))
    assert full.unfilled == 0 and full.costs.opportunity == 0.0 and full.paper_shortfall_bps == pytest.approx(full.shortfall_bps)
    tot = totals([(t.costs, t.notional, 1.0, t.paper_notional), (CostSplit(1.0, 0.0, 0.0, 0.0), 100.0, 1.0)], "USD")
    assert tot.costs.opportunity == pytest.approx(2000.0)
    assert tot.paper_notional == pytest.approx(2_500_000 + 100.0)
