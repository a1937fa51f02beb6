"""Performer: kernelised attention in O(n) memory, two kernels behind ``kernel``.

* ``'generalized'`` (default, what produced the paper's numbers): the official WavSpA/LRA
  Performer's generalized kernel with *no random features*: ``phi(x) = relu(x) + 1e-3`` on
  LayerNorm-ed q and k (v LayerNorm-ed as well), normalised (bidirectional) kernel attention.
* ``'favor'``: FAVOR+ (Choromanski et al.) positive orthogonal random features, the normalised
  variant of the paper's A.2 (LayerNorm on q, k, v, then ``phi(x) = exp(w^T x' - |x'|^2/2) /
  sqrt(m)`` with ``x' = x / dh^(1/4)``, so ``E[phi(q)^T phi(k)] = exp(q^T k / sqrt(dh))``).
  ``num_features`` m (256 text, 512 image tasks, A.4).

The FAVOR+ projection is *not* a parameter (weight decay must not shrink it and the model's only
collection is ``params``): it is drawn inside the module from ``PRNGKey(seed)`` folded with a
hash of the module's path, so it is fixed, distinct per layer/band, and identical at every call.
"""

from __future__ import annotations

import functools
import zlib

import flax.linen as nn
import jax
import jax.numpy as jnp

from wavspa_flax.attention.base import ATTENTIONS, MultiHeadAttention
from wavspa_flax.attention.linear import kernel_attention
from wavspa_flax.registry import option

GENERALIZED_EPS = 1e-3


@functools.partial(jax.jit, static_argnums=(1, 2))
def orthogonal_random_features(key, num_features: int, dim: int):
    """``[num_features, dim]`` Gaussian rows made orthogonal in blocks of ``dim`` (QR), each row
    rescaled to the norm of an independent Gaussian vector (so rows are marginally N(0, I))."""
    num_blocks = -(-num_features // dim)
    block_key, norm_key = jax.random.split(key)
    gaussian = jax.random.normal(block_key, (num_blocks, dim, dim), jnp.float32)
    q, _ = jnp.linalg.qr(gaussian)  # orthonormal columns per block
    rows = jnp.swapaxes(q, -1, -2).reshape(num_blocks * dim, dim)[:num_features]
    norms = jnp.linalg.norm(jax.random.normal(norm_key, (num_features, dim), jnp.float32), axis=-1)
    return rows * norms[:, None]


def favor_features(x, projection, *, is_query: bool, mask=None):
    """Positive random features of ``x [B, n, H, dh]`` -> ``[B, n, H, m]`` (float32).

    A constant stabiliser is subtracted in the exponent: per row for queries, one value per
    (batch, head) over valid keys for keys. Both cancel in the normalised attention.
    """
    dh = x.shape[-1]
    x = x.astype(jnp.float32) * dh ** -0.25
    proj = jnp.einsum("bnhd,md->bnhm", x, projection)
    sq = 0.5 * jnp.sum(x * x, axis=-1, keepdims=True)
    if is_query:
        stab = jnp.max(proj, axis=-1, keepdims=True)
    else:
        masked = proj if mask is None else jnp.where(mask[:, :, None, None], proj, -jnp.inf)
        stab = jnp.max(masked, axis=(1, 3), keepdims=True)
        stab = jnp.where(jnp.isfinite(stab), stab, 0.0)  # a sequence with no valid key
    stab = jax.lax.stop_gradient(stab)
    return jnp.exp(proj - sq - stab) * projection.shape[0] ** -0.5


@jax.jit
def favor_attention(q, k, v, projection, mask=None):
    """FAVOR+ normalised attention of ``q, k, v [B, n, H, dh]`` with ``projection [m, dh]``."""
    phi_q = favor_features(q, projection, is_query=True)
    phi_k = favor_features(k, projection, is_query=False, mask=mask)
    return kernel_attention(phi_q, phi_k, v, mask)


@jax.jit
def generalized_attention(q, k, v, mask=None):
    """The official generalized-kernel Performer: ``phi = relu + 1e-3``, normalised."""
    phi = lambda x: jax.nn.relu(x.astype(jnp.float32)) + GENERALIZED_EPS  # noqa: E731
    return kernel_attention(phi(q), phi(k), v, mask)


def _path_constant(path) -> int:
    return zlib.crc32("/".join(map(str, path)).encode()) & 0x7FFFFFFF


@ATTENTIONS.register("performer")
class PerformerAttention(MultiHeadAttention):
    """Multi-head Performer; ``kernel`` 'generalized' | 'favor', ``num_features``, ``seed``."""

    kernel: str = option(
        "generalized", "'generalized' (the official code's ReLU(x)+1e-3 kernel, no random features: made the "
        "paper's numbers) | 'favor' (FAVOR+ positive orthogonal random features, the paper's A.2)",
        key="performer_kernel", choices=("generalized", "favor"))
    num_features: int = option(256, "FAVOR+ random features m (A.4: 256 text tasks, 512 image tasks)", minimum=1)
    seed: int = option(0, "seed of the fixed FAVOR+ projection (not a parameter)", key="performer_seed", minimum=0)

    def attend(self, q, k, v, mask, deterministic):
        norm = lambda name, x: nn.LayerNorm(dtype=self.dtype, param_dtype=jnp.float32, name=name)(x)  # noqa: E731
        q, k, v = norm("query_norm", q), norm("key_norm", k), norm("value_norm", v)
        if self.kernel == "generalized":
            return generalized_attention(q, k, v, mask)
        key = jax.random.fold_in(jax.random.PRNGKey(self.seed), _path_constant(self.scope.path))
        projection = orthogonal_random_features(key, self.num_features, q.shape[-1])
        return favor_attention(q, k, v, projection, mask)
