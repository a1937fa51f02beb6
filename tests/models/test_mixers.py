"""Attention-free mixers: the wavelet mixing block (three modes) and FNet."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.models.helpers import key, length_mask
from wavspa_flax.mixers import FNetMixer, WaveletMixing

B, N, D = 2, 27, 4  # odd length: bands of 14, 7, 7 (non-dyadic repeats in 'level')
LENGTHS = [27, 16]


def _inputs():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(B, N, D)).astype(np.float32)
    mask = length_mask(LENGTHS, N)
    return x, np.where(mask[..., None], x, rng.normal(size=x.shape).astype(np.float32) * 9), mask


@pytest.mark.parametrize("mode", ["pointwise", "channel", "level"])
def test_wavelet_mixing_modes(mode):
    """Identity at init (perfect reconstruction, no hidden residual); padding invariant; every
    learnable weight (incl. off-diagonal channel / cross-level ones) reaches the output."""
    module = WaveletMixing(wavelet="db2", level=2, mode="periodization", mixing_mode=mode)
    x, x_other_pads, mask = _inputs()

    params = module.init(key(), x, mask)
    y0 = module.apply(params, x, mask)
    rng = np.random.default_rng(1)
    noisy = jax.tree.map(lambda p: p + 0.3 * rng.normal(size=p.shape).astype(np.float32), params)
    y1, y2 = module.apply(noisy, x, mask), module.apply(noisy, x_other_pads, mask)
    grads = jax.grad(lambda p: jnp.sum(module.apply(p, x, mask) ** 2))(noisy)
    np.testing.assert_allclose(np.asarray(y0), x * mask[..., None], atol=1e-5)  # y = x, not 2x
    valid = np.asarray(mask)
    np.testing.assert_allclose(np.asarray(y1)[valid], np.asarray(y2)[valid], atol=1e-5)
    assert np.abs(np.asarray(y1) - np.asarray(y0)).max() > 1e-2
    shapes = {k: v.shape for k, v in params["params"].items()}
    if mode == "pointwise":  # one weight per coefficient position and channel
        assert shapes == {"band_0": (7, D), "band_1": (7, D), "band_2": (14, D)}
    elif mode == "channel":  # a full d x d mix per band
        assert shapes == {"band_0": (D, D), "band_1": (D, D), "band_2": (D, D)}
    else:  # a (J+1) x (J+1) mix across bands per channel
        assert shapes == {"levels": (D, 3, 3)}
    for g in jax.tree.leaves(grads["params"]):
        assert np.all(np.abs(np.asarray(g)) > 0), g  # off-diagonal entries are used too


def test_fnet_is_the_real_2d_fft_of_the_unpadded_input():
    x, x_other_pads, mask = _inputs()
    out = jax.jit(lambda x: FNetMixer().apply({}, x, mask))
    expected = np.fft.fft2(x * mask[..., None], axes=(-2, -1), norm="ortho").real
    np.testing.assert_allclose(np.asarray(out(x)), expected, atol=1e-5)
    np.testing.assert_allclose(np.asarray(out(x_other_pads)), expected, atol=1e-5)
