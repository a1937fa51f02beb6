"""The encoder: embedding, position encoding, N blocks around a mixer, final LayerNorm.

Block variants (``norm``):

* ``'pre'`` (default; the LRA transformer block): ``x = x + Drop(mixer(LN(x)))``, then
  ``x = x + MLP(LN(x))``.
* ``'post'``: ``x = LN(x + Drop(mixer(x)))``, then ``x = LN(x + MLP(x))``.
* ``'wavspa_official'`` (the official WavSpA block, reference D.1): ``z = mixer(LN(x))``,
  ``x = z + x``, ``x = x + MLP(Drop(x))``: no LayerNorm before the MLP, no dropout on the
  mixer branch.

The MLP is Dense(mlp_dim) -> GELU -> Dropout -> Dense(d) -> Dropout (LRA/official MlpBlock).
The mixer is any module with the space signature ``mixer(x, mask, deterministic=...)`` and returns
only its transform of x: the block adds the single residual.

Padding: the mask is ``position < length``; every mixer keeps valid outputs independent of padded
content, and LayerNorm/MLP act per position, so padded rows never leak into valid ones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from wavspa_flax.attention.base import zero_masked
from wavspa_flax.position import AddPosition

ACTIVATIONS = {"gelu": nn.gelu, "relu": nn.relu}
NORMS = ("pre", "post", "wavspa_official")


def layer_norm(dtype, name=None):
    return nn.LayerNorm(dtype=dtype, param_dtype=jnp.float32, name=name)


class MlpBlock(nn.Module):
    """Dense(mlp_dim) -> activation -> Dropout -> Dense(d) -> Dropout."""

    mlp_dim: int
    dropout: float = 0.1
    activation: str = "gelu"
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x, *, deterministic: bool = True):
        dense = lambda f: nn.Dense(  # noqa: E731
            f, dtype=self.dtype, param_dtype=jnp.float32, kernel_init=nn.initializers.xavier_uniform(),
            bias_init=nn.initializers.normal(1e-6),
        )
        h = ACTIVATIONS[self.activation](dense(self.mlp_dim)(x))
        h = nn.Dropout(self.dropout)(h, deterministic=deterministic)
        h = dense(x.shape[-1])(h)
        return nn.Dropout(self.dropout)(h, deterministic=deterministic)


class EncoderBlock(nn.Module):
    """One block; ``mixer`` is a factory ``mixer(name=...)`` -> mixer module."""

    mixer: Callable
    mlp_dim: int
    norm: str = "pre"
    dropout: float = 0.1
    activation: str = "gelu"
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x, mask=None, *, deterministic: bool = True):
        mixer = self.mixer(name="mixer")
        mlp = MlpBlock(self.mlp_dim, self.dropout, self.activation, self.dtype, name="mlp")
        drop = lambda h: nn.Dropout(self.dropout)(h, deterministic=deterministic)  # noqa: E731
        mix = lambda h: mixer(h, mask, deterministic=deterministic).astype(self.dtype)  # noqa: E731
        if self.norm == "pre":
            x = x + drop(mix(layer_norm(self.dtype, "norm_mixer")(x)))
            return x + mlp(layer_norm(self.dtype, "norm_mlp")(x), deterministic=deterministic)
        if self.norm == "post":
            x = layer_norm(self.dtype, "norm_mixer")(x + drop(mix(x)))
            return layer_norm(self.dtype, "norm_mlp")(x + mlp(x, deterministic=deterministic))
        # 'wavspa_official'
        x = zero_masked(x, mask)
        x = x + mix(layer_norm(self.dtype, "norm_mixer")(x))
        return x + mlp(drop(x), deterministic=deterministic)


def length_mask(lengths, n: int):
    """``lengths [B]`` -> ``[B, n]`` bool, True where ``position < length``."""
    return jnp.arange(n)[None, :] < lengths[:, None]


class Encoder(nn.Module):
    """Token ids ``[B, n]`` + lengths ``[B]`` -> (``[B, n'] `` encodings ``[B, n', d]``, mask ``[B, n']``).

    ``cls_token``: prepend a learned (zero-initialised, as LRA) token, so ``n' = n + 1`` and
    position 0 is always valid. Embedding init normal(1.0) (official). Positions for
    ``max_length`` (+1 with the CLS token).
    """

    vocab_size: int
    max_length: int
    emb_dim: int
    num_layers: int
    mixer: Callable
    mlp_dim: int
    position: str = "sinusoidal"
    norm: str = "pre"
    dropout: float = 0.1
    activation: str = "gelu"
    cls_token: bool = False
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, inputs, lengths, *, deterministic: bool = True):
        mask = length_mask(lengths, inputs.shape[-1])
        x = nn.Embed(
            self.vocab_size, self.emb_dim, embedding_init=nn.initializers.normal(1.0),
            param_dtype=jnp.float32, dtype=self.dtype, name="embed",
        )(inputs)
        if self.cls_token:
            cls = self.param("cls", nn.initializers.zeros, (1, 1, self.emb_dim), jnp.float32)
            x = jnp.concatenate([jnp.broadcast_to(cls.astype(self.dtype), (x.shape[0], 1, self.emb_dim)), x], axis=1)
            mask = jnp.concatenate([jnp.ones((mask.shape[0], 1), bool), mask], axis=1)
        x = AddPosition(self.position, self.max_length + int(self.cls_token), self.dtype, name="position")(x)
        x = nn.Dropout(self.dropout)(x, deterministic=deterministic)
        for i in range(self.num_layers):
            x = EncoderBlock(
                self.mixer, self.mlp_dim, self.norm, self.dropout, self.activation, self.dtype, name=f"block_{i}"
            )(x, mask, deterministic=deterministic)
        return layer_norm(self.dtype, "encoder_norm")(x), mask
