"""Position encodings: learned, sinusoidal (a Fourier-feature map), rotary (RoPE).

Sinusoidal: ``pe[p, 2i] = sin(p * w_i)``, ``pe[p, 2i+1] = cos(p * w_i)``, ``w_i = 10000^(-2i/d)``
(the LRA / official WavSpA layout). It is the Fourier-feature map of Theorem 3 in "Unifying
Position Embeddings, NTK and Fourier Features": ``<pe(x), pe(y)> = sum_i cos(w_i (x - y))``,
a shift-invariant kernel of x - y only.

RoPE rotates each (first-half, second-half) feature pair of queries and keys by ``p * w_i``, so the
query-key product of positions i and j depends on the positions only through i - j. It is applied
inside the attention modules (``use_rope``), on whatever sequence they attend over (in a wavelet
space: the coefficient index within a band).
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax.numpy as jnp
import numpy as np


def frequencies(num: int, dim: int, base: float = 10000.0) -> np.ndarray:
    """``w_i = base^(-2i/dim)`` for i < num (float64 numpy)."""
    return base ** (-2.0 * np.arange(num) / dim)


def sinusoidal_table(length: int, dim: int) -> np.ndarray:
    """``[length, dim]`` float32 table, sin at even and cos at odd features (dim even)."""
    if dim % 2:
        raise ValueError(f"sinusoidal position encoding needs an even dimension, got {dim}")
    angles = np.arange(length)[:, None] * frequencies(dim // 2, dim)[None, :]
    table = np.empty((length, dim), np.float64)
    table[:, 0::2] = np.sin(angles)
    table[:, 1::2] = np.cos(angles)
    return table.astype(np.float32)


POSITIONS = ("learned", "sinusoidal", "rope", "none")


class AddPosition(nn.Module):
    """Adds a position encoding to ``x [B, n, d]``; ``kind`` in learned | sinusoidal | rope | none.

    'rope' and 'none' add nothing here (RoPE acts in attention). The learned table has
    ``max_length`` rows, normal(0.02) init (the official CIFAR setting).
    """

    kind: str
    max_length: int
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x):
        n, d = x.shape[-2:]
        if n > self.max_length:
            raise ValueError(f"sequence length {n} exceeds the position table's max_length {self.max_length}")
        if self.kind == "sinusoidal":
            return x + jnp.asarray(sinusoidal_table(n, d), self.dtype)[None]
        if self.kind == "learned":
            table = self.param("pos_embedding", nn.initializers.normal(0.02), (self.max_length, d))
            return x + table[None, :n].astype(self.dtype)
        return x


def apply_rope(x, base: float = 10000.0):
    """Rotate ``x [B, n, H, dh]`` (dh even) by its positions 0..n-1 (rotate-half layout)."""
    n, dh = x.shape[1], x.shape[-1]
    half = dh // 2
    angles = np.arange(n)[:, None] * frequencies(half, dh, base)[None, :]  # [n, half]
    cos = jnp.asarray(np.cos(angles), x.dtype)[None, :, None, :]
    sin = jnp.asarray(np.sin(angles), x.dtype)[None, :, None, :]
    x1, x2 = x[..., :half], x[..., half:]
    return jnp.concatenate([x1 * cos - x2 * sin, x1 * sin + x2 * cos], axis=-1)
