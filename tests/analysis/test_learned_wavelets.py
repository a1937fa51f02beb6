"""Learned-filter metrics: A.7 symmetry, frequency responses, distance from the initial filters."""
from __future__ import annotations

import numpy as np
import pytest
import pywt

from lra import analysis as an

SQ3 = np.sqrt(3.0)
# db2 scaling filter in closed form (Daubechies), independent of pywt
DB2 = np.array([1 + SQ3, 3 + SQ3, 3 - SQ3, 1 - SQ3]) / (4 * np.sqrt(2.0))


def test_closed_form_db2_is_pywt_db2_up_to_reversal():
    np.testing.assert_allclose(DB2[::-1], pywt.Wavelet("db2").dec_lo, atol=1e-12)


def test_symmetric_filters_score_zero():
    assert an.symmetry(np.array([1.0, 1.0]) / np.sqrt(2)) == 0.0
    assert an.symmetry(np.array([0.5, 2.0, 2.0, 0.5])) == 0.0
    assert an.symmetry(np.array([-1.0, 2.0, 9.0, 2.0, -1.0])) == 0.0
    assert an.symmetry(np.array([1.0, 3.0])) > 0


def test_db2_symmetry_is_sqrt6_for_the_scaling_filter_and_2sqrt2_for_the_wavelet():
    # u - reverse(u) = [2 sqrt3, 2 sqrt3, -2 sqrt3, -2 sqrt3] / (4 sqrt2): l1 = sqrt 6
    assert an.symmetry(DB2) == pytest.approx(np.sqrt(6.0), rel=1e-12)
    # high-pass g_k = (-1)^k h_{3-k}: g - reverse(g) has l1 sum_k |h_k + h_{3-k}| = (2 + 6) * 2 / (4 sqrt2)
    assert an.symmetry(DB2, of="wavelet") == pytest.approx(2 * np.sqrt(2.0), rel=1e-12)
    assert an.symmetry(pywt.Wavelet("haar").dec_lo, of="wavelet") == pytest.approx(2 * np.sqrt(2.0))


def test_symmetry_ignores_scale_and_reversal_and_is_per_channel():
    h = np.random.default_rng(0).normal(size=(5, 8))
    s = an.symmetry(h)
    assert s.shape == (5,)
    np.testing.assert_allclose(an.symmetry(3.7 * h), s)
    np.testing.assert_allclose(an.symmetry(h[:, ::-1]), s)
    u = h[2] / np.linalg.norm(h[2])
    np.testing.assert_allclose(s[2], np.abs(u - u[::-1]).sum())


def test_symlets_are_closer_to_symmetric_than_daubechies_as_a7_states():
    sym, db = an.symmetry(pywt.Wavelet("sym20").dec_lo), an.symmetry(pywt.Wavelet("db20").dec_lo)
    assert sym < db
    assert db == pytest.approx(5.7347, abs=1e-4)


def test_frequency_response_of_haar_is_the_closed_form():
    omega, lo, hi = an.frequency_response(np.array([[1.0, 1.0]]) / np.sqrt(2), num=33)
    assert omega[0] == 0 and omega[-1] == pytest.approx(np.pi) and lo.shape == hi.shape == (1, 33)
    np.testing.assert_allclose(lo[0], np.sqrt(2) * np.abs(np.cos(omega / 2)), atol=1e-12)
    np.testing.assert_allclose(hi[0], np.sqrt(2) * np.abs(np.sin(omega / 2)), atol=1e-12)


def test_orthonormal_filters_are_power_complementary():
    # db4, sym4 and the closed-form db2 zero-padded to length 8 (still orthonormal to even shifts)
    padded_db2 = np.concatenate([DB2, np.zeros(4)])
    h = np.stack([pywt.Wavelet("db4").dec_lo, pywt.Wavelet("sym4").dec_lo, padded_db2])
    _, lo, hi = an.frequency_response(h, num=101)
    np.testing.assert_allclose(lo**2 + hi**2, 2.0, atol=1e-9)
    np.testing.assert_allclose(lo[:, 0], np.sqrt(2), atol=1e-9)
    np.testing.assert_allclose(lo[:, -1], 0.0, atol=1e-9)
    # a random filter is not: the test can fail
    _, lo_r, hi_r = an.frequency_response(np.random.default_rng(1).normal(size=(1, 8)))
    assert np.abs(lo_r**2 + hi_r**2 - 2).max() > 0.1


def test_relative_change_per_channel_with_a_shared_initial_filter():
    h0 = pywt.Wavelet("db4").dec_lo
    h = np.stack([h0, 2 * np.asarray(h0), np.zeros(8), np.asarray(h0) + 0.1 * np.eye(8)[0]])
    np.testing.assert_allclose(an.relative_change(h, h0), [0.0, 1.0, 1.0, 0.1], rtol=1e-12)
