"""The space ``none`` (input space) and the Fourier spaces of Table 1/3/9.

* ``none``: attention on x itself.
* ``fourier`` (forward + backward, eq. 1-3 with the Fourier basis): ``dims='2d'`` (default, the
  paper's "2D Fourier transformation"): ``c = FFT2(x)`` over sequence and hidden (orthonormal
  scaling), attention on ``[Re c, Im c]`` (``[B, n, 2d]``, real and imaginary parts concatenated
  along the features), then ``y = Re IFFT2(h_re + i h_im)``; ``dims='1d'``: rFFT along the
  sequence (``[B, n//2+1, 2d]``), then irFFT to length n. Both are exactly invertible (identity
  attention returns x).
* ``fourier_forward`` (FNet-like, forward only): attention on ``Re FFT2(x)`` (or ``Re FFT`` along
  the sequence for '1d'), returned without a backward transform.

Padding: padded rows are zeroed before the FFT; every Fourier coefficient mixes all positions,
so all coefficients are valid keys (no coefficient mask). FFTs run in float32.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from wavspa_flax.attention.base import zero_masked
from wavspa_flax.registry import option
from wavspa_flax.spaces.base import SPACES


def dims_option():
    """The ``space.dims`` option, shared by the fixed wavelet and the Fourier spaces."""
    return option("2d", "'2d': over sequence and hidden (fixed: 2-D db2 wavelet, the paper's text; fourier: "
                  "2-D FFT) | '1d': along the sequence per channel (fixed: the official code's transform; "
                  "fourier: rFFT)", choices=("1d", "2d"))


@SPACES.register("none")
class InputSpace(nn.Module):
    """``none``: the attention on the input sequence."""

    attention: Any
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x, mask=None, *, deterministic: bool = True):
        return self.attention(length=x.shape[-2], name="attention")(x, mask, deterministic=deterministic)


def fourier_forward_real(x, dims: str):
    """``Re FFT`` of ``x [B, n, d]`` (orthonormal): over (sequence, hidden) for '2d', sequence for '1d'."""
    axes = (-2, -1) if dims == "2d" else (-2,)
    return jnp.fft.fftn(x.astype(jnp.float32), axes=axes, norm="ortho").real


@SPACES.register("fourier")
class FourierSpace(nn.Module):
    """``fourier`` (``forward_only=False``) and ``fourier_forward`` (``True``); see module docstring."""

    attention: Any
    dims: str = dims_option()
    forward_only: bool = False
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x, mask=None, *, deterministic: bool = True):
        n, d = x.shape[-2:]
        x = zero_masked(x, mask).astype(jnp.float32)
        if self.forward_only:
            z = fourier_forward_real(x, self.dims).astype(self.dtype)
            return self.attention(length=n, name="attention")(z, None, deterministic=deterministic)
        if self.dims == "2d":
            c = jnp.fft.fft2(x, axes=(-2, -1), norm="ortho")
        else:
            c = jnp.fft.rfft(x, axis=-2, norm="ortho")
        z = jnp.concatenate([c.real, c.imag], axis=-1).astype(self.dtype)
        h = self.attention(length=z.shape[-2], name="attention")(z, None, deterministic=deterministic)
        h = h.astype(jnp.float32)
        hc = h[..., :d] + 1j * h[..., d:]
        if self.dims == "2d":
            y = jnp.fft.ifft2(hc, axes=(-2, -1), norm="ortho").real
        else:
            y = jnp.fft.irfft(hc, n=n, axis=-2, norm="ortho")
        return y.astype(self.dtype)


SPACES.add("fourier_forward", FourierSpace, fixed={"forward_only": True})
