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


def test_collar_around_arrival():
    g = RiskGuard(RiskLimits(collar_bps=50))
    assert check(g, 1, price=5024.0) is RiskVerdict.OK
    assert check(g, 1, price=5026.0) is RiskVerdict.COLLAR
    assert check(g, -1, price=4974.0) is RiskVerdict.COLLAR


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
