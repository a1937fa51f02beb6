"""Token mixers for the encoder block, and the attention-free baselines (registry :data:`MIXERS`).

``mixer_factory(cfg, dtype)`` -> a factory ``mixer(name=...)`` for ``cfg.mixer``:

* ``'attention'``: the space ``cfg.space.kind`` around the attention ``cfg.attention.kind``
  (:func:`wavspa_flax.spaces.space_factory`).
* ``'fnet'`` (:class:`FNetMixer`): ``Re FFT2(x)`` over sequence and hidden (FNet), orthonormal
  scaling (FNet uses the unscaled FFT; with a pre-LN residual the unscaled one grows with
  sqrt(n d)). Padded rows are zeroed first.
* ``'wavelet_mixing'`` (:class:`WaveletMixing`): the spectrans WaveletTransformer idea, DWT ->
  learnable coefficient transform -> IDWT, batched over channels (no Python loop over them),
  mask-aware, and without a residual of its own (the block adds the only residual).

Mixing modes (``mixing.mode``), all identity-initialised (perfect reconstruction at init):

* ``'pointwise'``: one weight per coefficient position and channel: ``y_j = c_j * W_j`` with
  ``W_j [n_j, d]`` (sum_j n_j * d parameters; sized for the model's sequence length, as inputs
  are always padded to ``max_length``).
* ``'channel'``: a real d x d mix per band: ``y_j = c_j @ M_j``, ``M_j [d, d]``.
* ``'level'``: mixing across bands, per channel: every band is upsampled by repetition to a common
  time grid, ``z_j = sum_k A[c, j, k] u_k`` with ``A [d, J+1, J+1]``, and ``z_j`` is averaged back
  to band j's length (each coefficient mixes with the coefficients of the other levels at the
  same time location).
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from wavspa_flax import wavelets as wl
from wavspa_flax.attention.base import zero_masked
from wavspa_flax.registry import ModuleFactory, Registry, option
from wavspa_flax.spaces import space_factory
from wavspa_flax.spaces.wavelet import seq_wavedec, seq_waverec, support_masks, wavelet_name

# Attention-free mixers; ``model.mixer = 'attention'`` (the default) is a space around an attention.
MIXERS = Registry("model.mixing", choice="model.mixer")
ATTENTION_MIXER = "attention"
MIXERS.add(ATTENTION_MIXER, None)  # built by mixer_factory from the space registry


@MIXERS.register("fnet")
class FNetMixer(nn.Module):
    """``Re FFT2(x)`` over (sequence, hidden), orthonormal; padded rows zeroed first."""

    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x, mask=None, *, deterministic: bool = True):
        x = zero_masked(x, mask).astype(jnp.float32)
        return jnp.fft.fft2(x, axes=(-2, -1), norm="ortho").real.astype(self.dtype)


def _identity_matrices(key, shape, dtype=jnp.float32):
    del key
    return jnp.broadcast_to(jnp.eye(shape[-1], dtype=dtype), shape)


def mix_levels(bands, weights):
    """``bands`` (list of ``[B, n_j, d]``), ``weights [d, J+1, J+1]`` -> mixed bands (see module doc)."""
    lengths = [b.shape[-2] for b in bands]
    longest = max(lengths)
    repeats = [-(-longest // n) for n in lengths]
    grid = max(n * r for n, r in zip(lengths, repeats))
    up = jnp.stack([
        jnp.pad(jnp.repeat(b, r, axis=-2), ((0, 0), (0, grid - n * r), (0, 0)))
        for b, n, r in zip(bands, lengths, repeats)
    ], axis=1)  # [B, J+1, T, d]
    mixed = jnp.einsum("bktd,djk->bjtd", up, weights.astype(up.dtype))
    return [mixed[:, j, : n * r].reshape(b.shape[0], n, r, b.shape[-1]).mean(axis=2)
            for j, (b, n, r) in enumerate(zip(bands, lengths, repeats))]


@MIXERS.register("wavelet_mixing")
class WaveletMixing(nn.Module):
    """Attention-free wavelet mixer: DWT (``wavelet``, ``level``, boundary ``mode``) along the
    sequence -> ``mixing_mode`` ('pointwise' | 'channel' | 'level') -> IDWT. Transforms in float32."""

    wavelet: str = option("db2", "wavelet of the mixing block", check=wavelet_name)
    level: int = option(1, "decomposition levels of the mixing block", minimum=0)
    mixing_mode: str = option("pointwise", "'pointwise' | 'channel' | 'level' (see the module docstring)",
                              key="mode", choices=("pointwise", "channel", "level"))
    mode: str = "periodization"  # boundary: config.model.space.mode
    dtype: Any = jnp.float32

    @classmethod
    def context_from_config(cls, model_cfg):
        return {"mode": model_cfg.space.mode}

    @nn.compact
    def __call__(self, x, mask=None, *, deterministic: bool = True):
        n, d = x.shape[-2:]
        x = zero_masked(x, mask).astype(jnp.float32)
        bands = seq_wavedec(x, wavelet=self.wavelet, level=self.level, mode=self.mode)
        if self.mixing_mode == "pointwise":
            mixed = [b * self.param(f"band_{j}", nn.initializers.ones, b.shape[-2:], jnp.float32)[None]
                     for j, b in enumerate(bands)]
        elif self.mixing_mode == "channel":
            mixed = [b @ self.param(f"band_{j}", _identity_matrices, (d, d), jnp.float32)
                     for j, b in enumerate(bands)]
        else:  # 'level'
            k = len(bands)
            mixed = mix_levels(bands, self.param("levels", _identity_matrices, (d, k, k), jnp.float32))
        if mask is not None:
            masks = support_masks(mask, filter_length=wl.bank_length(self.wavelet), level=self.level,
                                  mode=self.mode)
            mixed = [zero_masked(b, m) for b, m in zip(mixed, masks)]
        return seq_waverec(mixed, wavelet=self.wavelet, mode=self.mode, length=n).astype(self.dtype)


def mixer_factory(cfg, dtype=jnp.float32) -> ModuleFactory:
    """The block mixer for ``cfg`` = ``config.model``."""
    if cfg.mixer == ATTENTION_MIXER:
        return space_factory(cfg, dtype)
    entry = MIXERS.entry(cfg.mixer)
    context = getattr(entry.cls, "context_from_config", lambda _: {})(cfg)
    return ModuleFactory.of(entry.cls, dtype=dtype, **MIXERS.kwargs(entry.name, cfg.mixing), **context)
