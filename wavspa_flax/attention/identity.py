"""Ablation / test "attentions" with the shared interface.

* :class:`IdentityAttention` returns its input (tests: a space around it must reconstruct x).
* :class:`LinearMap` is the Table 9 'Linear' ablation's mixer: one learned affine map over the
  features, ``y = x W + b`` with ``W [f, f]`` (identity-initialised, zero bias), applied to every
  coefficient independently; all mixing along the sequence then comes from the wavelet transform
  alone, so the space is linear end to end.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax.numpy as jnp


class IdentityAttention(nn.Module):
    """``y = x`` (no parameters)."""

    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x, mask=None, *, deterministic: bool = True):
        del mask, deterministic
        return x


def _identity_init(key, shape, dtype=jnp.float32):
    del key
    return jnp.eye(shape[0], shape[1], dtype=dtype)


class LinearMap(nn.Module):
    """``y = x W + b`` over the feature axis (``W`` identity-initialised)."""

    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x, mask=None, *, deterministic: bool = True):
        del mask, deterministic
        return nn.Dense(
            x.shape[-1], dtype=self.dtype, param_dtype=jnp.float32, kernel_init=_identity_init, name="map"
        )(x)
