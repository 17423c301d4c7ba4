import pytest

from execution.risk import RiskGuard, RiskLimits, RiskVerdict


def check(guard, qty, price=5000.0, arrival=5000.0, interval=None, instrument="ES"):
    return guard.check(instrument, qty, price, price * 50, arrival, interval)


def test_all_off_by_default():
    assert check(RiskGuard(RiskLimits()), 10_000, price=1.0) is RiskVerdict.OK


def test_child_quantity_and_notional():
    g = RiskGuard(RiskLimits(max_child_quantity=10, max_child_notional=1_000_000))
    assert check(g, -10, price=1000.0) is RiskVerdict.OK
    assert check(g, 11, price=100.0) is RiskVerdict.CHILD_QUANTITY
    assert check(g, 5) is RiskVerdict.CHILD_NOTIONAL  # 5 * 5000 * 50 = 1.25m


def test_participation_uses_interval_volume_and_exempts_first_slice():
    g = RiskGuard(RiskLimits(max_participation=0.1))
    assert check(g, 10, interval=100.0) is RiskVerdict.OK
    assert check(g, 11, interval=100.0) is RiskVerdict.PARTICIPATION
    assert check(g, 11, interval=None) is RiskVerdict.OK


def test_collar_blocks_a_touch_already_beyond_the_favourable_bound():
    # the adverse bound is enforced by the child's limit price (see the engine's tests);
    # the check blocks what a limit price cannot bound: a buy offered below arrival·(1 − c)
    g = RiskGuard(RiskLimits(collar_bps=50))
    assert check(g, 1, price=5024.0) is RiskVerdict.OK
    assert check(g, 1, price=5026.0) is RiskVerdict.OK  # sent as a limit at the bound
    assert check(g, 1, price=4974.0) is RiskVerdict.COLLAR
    assert check(g, -1, price=5026.0) is RiskVerdict.COLLAR
    assert check(g, -1, price=4974.0) is RiskVerdict.OK


def test_gross_exposure_counts_positions_and_working_children():
    g = RiskGuard(RiskLimits(max_gross_exposure=2_500_000), positions={"ES": -4})
    assert check(g, -6) is RiskVerdict.OK  # |-10| * 250k = 2.5m
    g.commit("ES", -6)
    assert check(g, -1) is RiskVerdict.GROSS_EXPOSURE
    assert check(g, 3) is RiskVerdict.OK  # reducing exposure is always fine
    g.release("ES", -6)  # cancelled
    assert g.gross_exposure == pytest.approx(1_000_000)
    assert check(g, -6) is RiskVerdict.OK


def test_kill_blocks_everything():
    g = RiskGuard(RiskLimits())
    g.killed = True
    assert check(g, 1) is RiskVerdict.KILLED


def test_limits_must_be_positive():
    with pytest.raises(ValueError):
        RiskLimits(collar_bps=0)


def test_size_limits_clip_a_child_to_the_tightest_of_quantity_notional_and_participation():
    guard = RiskGuard(RiskLimits(max_child_quantity=40, max_child_notional=5_000_000, max_participation=0.1))
    # one contract is worth 250,000: the notional limit admits 20
    assert guard.clip(100, 250_000.0, None) == 20
    assert guard.clip(-100, 250_000.0, None) == -20
    # 10 % of 150 contracts traded since the last slice is 15
    assert guard.clip(100, 250_000.0, 150.0) == 15
    # small children pass untouched; nothing fits -> 0
    assert guard.clip(3, 250_000.0, 150.0) == 3
    assert RiskGuard(RiskLimits(max_child_notional=100_000)).clip(5, 250_000.0, None) == 0
