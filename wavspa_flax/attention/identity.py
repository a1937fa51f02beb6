"""Ablation / test "attentions" with the shared interface.

* ``identity`` returns its input (tests: a space around it must reconstruct x).
* ``linear_map``, the Table 9 'Linear' ablation's mixer: one learned affine map over the
  features, ``y = x W + b`` with ``W [f, f]`` (identity-initialised, zero bias), applied to every
  coefficient independently; all mixing along the sequence then comes from the wavelet transform
  alone, so the space is linear end to end.
"""

from __future__ import annotations

import flax.linen as nn
import jax.numpy as jnp

from wavspa_flax.attention.base import ATTENTIONS, Attention


@ATTENTIONS.register("identity", ablation=True)
class IdentityAttention(Attention):
    """``y = x`` (no parameters)."""

    @nn.compact
    def __call__(self, x, mask=None, *, deterministic: bool = True):
        del mask, deterministic
        return x


def _identity_init(key, shape, dtype=jnp.float32):
    del key
    return jnp.eye(shape[0], shape[1], dtype=dtype)


@ATTENTIONS.register("linear_map", ablation=True)
class LinearMap(Attention):
    """``y = x W + b`` over the feature axis (``W`` identity-initialised)."""

    @nn.compact
    def __call__(self, x, mask=None, *, deterministic: bool = True):
        del mask, deterministic
        return nn.Dense(
            x.shape[-1], dtype=self.dtype, param_dtype=jnp.float32, kernel_init=_identity_init, name="map"
        )(x)
