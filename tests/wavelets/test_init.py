"""Initialisers of the learnable wavelet parameters (section 4.1, Table 11, Table 8 counts)."""
from __future__ import annotations

import jax
import numpy as np
import pytest
import pywt

import wavspa_flax.wavelets as wl
from wavspa_flax.wavelets import lattice as lattice_module


@pytest.mark.parametrize("length, name", [(40, "db20"), (16, "db8"), (4, "db2"), (2, "haar")])
def test_wavelet_init_is_db_of_half_the_length_in_every_channel(length, name):
    filters = np.asarray(wl.init_scaling_filters("wavelet", 5, length))
    assert filters.shape == (5, length) and filters.dtype == np.float32
    np.testing.assert_allclose(filters, np.tile(pywt.Wavelet(name).dec_lo, (5, 1)), atol=1e-7)


def test_wavelet_init_with_an_explicit_wavelet_and_length_checks():
    np.testing.assert_allclose(np.asarray(wl.init_scaling_filters("wavelet", 2, 16, wavelet="sym8"))[1],
                               pywt.Wavelet("sym8").dec_lo, atol=1e-7)
    with pytest.raises(wl.FilterLengthError, match="length=16"):
        wl.init_scaling_filters("wavelet", 2, 12, wavelet="sym8")
    with pytest.raises(wl.FilterLengthError, match="odd length"):
        wl.init_scaling_filters("wavelet", 2, 15)
    with pytest.raises(ValueError, match="damped_cos"):
        wl.init_scaling_filters("laplace", 2, 16)


def test_gaussian_init_is_normal_with_std_0_02():
    filters = np.asarray(wl.init_scaling_filters("gaussian", 256, 40, key=jax.random.PRNGKey(0)))
    assert filters.shape == (256, 40)
    assert abs(filters.std() - 0.02) < 0.001 and abs(filters.mean()) < 0.001
    other = np.asarray(wl.init_scaling_filters("gaussian", 256, 40, key=jax.random.PRNGKey(1)))
    assert not np.allclose(filters, other)
    with pytest.raises(ValueError, match="key="):
        wl.init_scaling_filters("gaussian", 2, 4)


def test_damped_cosine_init():
    filters = np.asarray(wl.init_scaling_filters("damped_cos", 3, 16))
    t = np.arange(16)
    np.testing.assert_allclose(filters, np.tile(np.cos(t) / (t + 1), (3, 1)), atol=1e-7)


def test_lattice_init_wavelet_and_uniform():
    angles = np.asarray(wl.init_lattice_angles("wavelet", 3, 16))
    assert angles.shape == (3, 8)  # Table 8: L/2 parameters per channel
    np.testing.assert_allclose(lattice_module._build(angles.astype(np.float64), np),
                               np.tile(pywt.Wavelet("db8").dec_lo, (3, 1)), atol=1e-6)
    uniform = np.asarray(wl.init_lattice_angles("uniform", 64, 16, key=jax.random.PRNGKey(0)))
    assert uniform.shape == (64, 8) and uniform.min() >= 0 and uniform.max() < 2 * np.pi and uniform.std() > 1.5
    with pytest.raises(ValueError, match="uniform"):
        wl.init_lattice_angles("gaussian", 2, 16)


def test_lifting_init_is_legall_centred():
    predict, update = wl.init_lifting_weights()
    np.testing.assert_array_equal(np.asarray(predict), [0.5, 0.5])
    np.testing.assert_array_equal(np.asarray(update), [0.25, 0.25])
    predict, update = wl.init_lifting_weights(3, predict_length=4, update_length=4)
    assert predict.shape == update.shape == (3, 4)
    np.testing.assert_array_equal(np.asarray(predict)[2], [0, 0.5, 0.5, 0])
    np.testing.assert_array_equal(np.asarray(update)[0], [0, 0.25, 0.25, 0])
    with pytest.raises(wl.FilterLengthError, match="even"):
        wl.init_lifting_weights(predict_length=3)
