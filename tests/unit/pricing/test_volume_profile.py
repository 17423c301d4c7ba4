import numpy as np
import pytest

from pricing.volume_profile import cumulative_volume_fraction, volume_profile, volume_rate


@pytest.mark.parametrize("n", [1, 13, 390, 23_400])
def test_shares_are_non_negative_and_sum_to_one(n):
    shares = volume_profile(n)
    assert shares.shape == (n,)
    assert np.all(shares > 0)
    assert shares.sum() == pytest.approx(1.0, abs=1e-12)


def test_u_shape_edges_are_edge_ratio_times_midday():
    shares = volume_profile(390, edge_ratio=3.0)
    assert shares[0] / shares[195] == pytest.approx(3.0, rel=0.02)
    assert shares[-1] / shares[195] == pytest.approx(3.0, rel=0.02)
    assert np.argmin(shares) in (194, 195)
    assert np.allclose(volume_profile(10, edge_ratio=1.0), 0.1)


def test_bins_aggregate_consistently():
    fine = volume_profile(390)
    coarse = volume_profile(13)
    assert np.allclose(fine.reshape(13, 30).sum(axis=1), coarse)


def test_rate_is_the_derivative_of_the_cumulative_share():
    x = np.linspace(0.01, 0.99, 50)
    h = 1e-6
    numeric = (cumulative_volume_fraction(x + h, 2.5) - cumulative_volume_fraction(x - h, 2.5)) / (2 * h)
    assert np.allclose(numeric, volume_rate(x, 2.5), rtol=1e-6)
    assert cumulative_volume_fraction(0.0) == 0.0 and cumulative_volume_fraction(1.0) == pytest.approx(1.0)


def test_bad_arguments():
    with pytest.raises(ValueError):
        volume_profile(0)
    with pytest.raises(ValueError):
        volume_profile(10, edge_ratio=0.0)
