"""Readouts and heads (LRA ``classifier_head`` / ``classifier_head_dual`` conventions).

* ``pool``: 'CLS' -> token 0 (the prepended token); 'CLS2' -> token 0 + the *last valid* token
  (the official code adds token -1, which is a pad on padded inputs; on unpadded image inputs
  the two agree); 'MEAN' -> mean over valid positions only (the official code averages pads too).
* :class:`ClassifierHead`: Dense(mlp_dim) -> ReLU -> Dense(C).
* :class:`DualHead` (Retrieval): ``[u, v]`` ('concat', the official code and LRA's matching script) or
  ``[u, v, u*v, u-v]`` ('nli') ->
  Dense(mlp_dim) -> ReLU -> Dense(mlp_dim // 2) -> ReLU -> Dense(C).
* :class:`TokenHead` (LEGO): Dense(C) per token.
Logits are float32.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax.numpy as jnp


def _cls2(x, mask):
    last = jnp.maximum(jnp.sum(mask, axis=-1) - 1, 0)
    return x[:, 0] + jnp.take_along_axis(x, last[:, None, None], axis=1)[:, 0]


def _mean(x, mask):
    w = mask.astype(x.dtype)[..., None]
    return jnp.sum(x * w, axis=1) / jnp.maximum(jnp.sum(w, axis=1), 1.0)


READOUTS = {"CLS": lambda x, mask: x[:, 0], "CLS2": _cls2, "MEAN": _mean}
INTERACTIONS = {
    "nli": lambda u, v: jnp.concatenate([u, v, u * v, u - v], axis=-1),
    "concat": lambda u, v: jnp.concatenate([u, v], axis=-1),
}


def pool(x, mask, readout: str):
    """``x [B, n, d]``, ``mask [B, n]`` -> ``[B, d]`` (``readout`` in :data:`READOUTS`)."""
    return READOUTS[readout](x, mask)


def combine(u, v, interaction: str):
    """Dual-encoder interaction: 'nli' -> [u, v, u*v, u-v]; 'concat' -> [u, v]."""
    return INTERACTIONS[interaction](u, v)


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
    interaction: str = "concat"
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
