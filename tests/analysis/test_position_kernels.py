"""Position-table kernels: diagonal means, Toeplitz projection, shift invariance, spectrum."""
from __future__ import annotations

import numpy as np
import pytest

from lra import analysis as an
from wavspa_flax.position import sinusoidal_table


def brute_offset_average(k):
    n = k.shape[0]
    out = []
    for delta in range(-(n - 1), n):
        out.append(np.mean([k[i, i - delta] for i in range(n) if 0 <= i - delta < n]))
    return np.array(out)


def test_offset_average_and_toeplitz_projection_match_loops():
    k = np.random.default_rng(0).normal(size=(7, 7))
    np.testing.assert_array_equal(an.offsets(7), np.arange(-6, 7))
    avg = an.offset_average(k)
    np.testing.assert_allclose(avg, brute_offset_average(k), rtol=1e-12)
    t = an.toeplitz_projection(k)
    for i in range(7):
        for j in range(7):
            assert t[i, j] == pytest.approx(avg[i - j + 6])
    # orthogonal projection: the residual is orthogonal to every Toeplitz matrix, e.g. to T itself
    assert np.sum((k - t) * t) == pytest.approx(0.0, abs=1e-10)
    batched = an.offset_average(np.stack([k, 2 * k]))
    np.testing.assert_allclose(batched[1], 2 * avg)


def test_kernel_of_a_table_is_the_gram_matrix():
    p = np.random.default_rng(1).normal(size=(2, 5, 3))
    np.testing.assert_allclose(an.position_kernel(p)[1], p[1] @ p[1].T)


def test_the_sinusoidal_table_is_shift_invariant():
    p = sinusoidal_table(128, 64)
    assert an.shift_invariance(p) > 1 - 1e-9
    k = an.position_kernel(p)
    delta = np.arange(-127, 128)
    w = 10000.0 ** (-2.0 * np.arange(32) / 64)
    np.testing.assert_allclose(an.offset_average(k), np.cos(np.outer(delta, w)).sum(-1), atol=1e-4)


def test_a_random_table_is_far_less_shift_invariant():
    n, d = 128, 16
    frac = an.shift_invariance(np.random.default_rng(2).normal(size=(n, d)))
    assert frac == pytest.approx((d + 2) / (d + 2 + n), abs=0.04)  # diagonal energy only
    k = an.position_kernel(np.random.default_rng(2).normal(size=(n, d)))
    t = an.toeplitz_projection(k)
    assert frac == pytest.approx(1 - np.sum((k - t) ** 2) / np.sum(k**2))


def test_an_absolute_position_kernel_is_not_shift_invariant():
    p = np.arange(1.0, 33.0)[:, None]  # K[i, j] = (i + 1)(j + 1)
    k = an.position_kernel(p)
    t = an.toeplitz_projection(k)
    assert an.shift_invariance(p) == pytest.approx(np.sum(t**2) / np.sum(k**2))
    assert an.shift_invariance(p) < 0.9


def top_peaks(omega, spectrum, count):
    inner = (spectrum[1:-1] > spectrum[:-2]) & (spectrum[1:-1] > spectrum[2:])
    idx = np.nonzero(inner)[0] + 1
    return np.sort(omega[idx[np.argsort(spectrum[idx])[-count:]]])


def test_kernel_spectrum_peaks_at_the_table_frequencies():
    t = np.arange(64)
    p = np.stack([np.sin(0.5 * t), np.cos(0.5 * t), np.sin(2.0 * t), np.cos(2.0 * t)], axis=1)
    omega, spectrum = an.kernel_spectrum(p)
    assert omega[0] == 0 and omega[-1] == pytest.approx(np.pi) and len(omega) == 129  # nfft 256
    step = omega[1]
    np.testing.assert_allclose(top_peaks(omega, spectrum, 2), [0.5, 2.0], atol=step)
    # one frequency, 1 rad/token: a single line there
    omega1, s1 = an.kernel_spectrum(sinusoidal_table(64, 2))
    assert abs(omega1[np.argmax(s1)] - 1.0) <= step


@pytest.mark.parametrize("window", [None, "hann"])
def test_kernel_spectrum_is_the_cosine_sum_over_all_offsets(window):
    p = np.random.default_rng(3).normal(size=(9, 4))
    k = brute_offset_average(p @ p.T)
    delta = np.arange(-8, 9)
    w = np.ones(17) if window is None else np.sin(np.pi * (delta + 9) / 18) ** 2
    omega, spectrum = an.kernel_spectrum(p, window=window)
    expected = (w * k) @ np.cos(np.outer(delta, omega))
    np.testing.assert_allclose(spectrum, expected, atol=1e-10)
