"""Readouts and heads (LRA ``classifier_head`` / ``classifier_head_dual`` conventions).

* ``pool``: 'CLS' -> token 0 (the prepended token); 'CLS2' -> token 0 + the *last valid* token
  (the official code adds token -1, which is a pad on padded inputs; on unpadded image inputs
  the two agree); 'MEAN' -> mean over valid positions only (the official code averages pads too).
* :class:`ClassifierHead`: Dense(mlp_dim) -> ReLU -> Dense(C).
* :class:`DualHead` (Retrieval): ``[u, v, u*v, u-v]`` ('nli') or ``[u, v]`` ('concat') ->
  Dense(mlp_dim) -> ReLU -> Dense(mlp_dim // 2) -> ReLU -> Dense(C).
* :class:`TokenHead` (LEGO): Dense(C) per token.
Logits are float32.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax.numpy as jnp


def pool(x, mask, readout: str):
    """``x [B, n, d]``, ``mask [B, n]`` -> ``[B, d]``."""
    if readout == "CLS":
        return x[:, 0]
    if readout == "CLS2":
        last = jnp.maximum(jnp.sum(mask, axis=-1) - 1, 0)
        return x[:, 0] + jnp.take_along_axis(x, last[:, None, None], axis=1)[:, 0]
    if readout == "MEAN":
        w = mask.astype(x.dtype)[..., None]
        return jnp.sum(x * w, axis=1) / jnp.maximum(jnp.sum(w, axis=1), 1.0)
    raise ValueError(f"config.model.readout = {readout!r} is not valid; expected 'CLS', 'CLS2', 'MEAN'")


def combine(u, v, interaction: str):
    """Dual-encoder interaction: 'nli' -> [u, v, u*v, u-v]; 'concat' -> [u, v]."""
    if interaction == "nli":
        return jnp.concatenate([u, v, u * v, u - v], axis=-1)
    if interaction == "concat":
        return jnp.concatenate([u, v], axis=-1)
    raise ValueError(f"config.model.dual_interaction = {interaction!r} is not valid; expected 'nli', 'concat'")


def _dense(features, dtype, name):
    return nn.Dense(features, dtype=dtype, param_dtype=jnp.float32, name=name)


class ClassifierHead(nn.Module):
    num_classes: int
    mlp_dim: int
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, pooled):
        h = nn.relu(_dense(self.mlp_dim, self.dtype, "mlp")(pooled))
        return _dense(self.num_classes, jnp.float32, "logits")(h)


class DualHead(nn.Module):
    num_classes: int
    mlp_dim: int
    interaction: str = "nli"
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, u, v):
        h = nn.relu(_dense(self.mlp_dim, self.dtype, "mlp")(combine(u, v, self.interaction)))
        h = nn.relu(_dense(max(self.mlp_dim // 2, 1), self.dtype, "mlp2")(h))
        return _dense(self.num_classes, jnp.float32, "logits")(h)


class TokenHead(nn.Module):
    num_classes: int

    @nn.compact
    def __call__(self, x):
        return _dense(self.num_classes, jnp.float32, "logits")(x)
