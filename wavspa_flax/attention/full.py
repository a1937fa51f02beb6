"""Full softmax attention, ``softmax(q k^T / sqrt(dh)) v`` (eq. 16), with a memory-bounded form.

Three implementations of the same function:

* ``einsum``: the whole ``[B, H, n, n]`` logits at once (fastest for short sequences).
* ``chunked``: queries in balanced blocks of at most ``chunk_size`` under ``lax.map`` +
  ``jax.checkpoint``: peak memory O(B H chunk n) in the forward *and* backward pass (the block's
  probabilities are recomputed in the backward), so 4K-16K tokens fit on CPU.
* ``dot_product_attention``: ``jax.nn.dot_product_attention`` (XLA, or cuDNN flash attention on
  GPU); it has no attention dropout, so the dropout is skipped on that path.

``auto`` (default) is ``einsum`` for ``n <= chunk_size`` and ``chunked`` above. Logits and the
softmax are computed in float32 whatever the compute dtype.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax import lax

from wavspa_flax.attention.base import ATTENTIONS, MASK_VALUE, MultiHeadAttention, dropout_probs, key_mask
from wavspa_flax.registry import option


@jax.custom_vjp
def softmax(x):
    """``jax.nn.softmax(x, axis=-1)`` with a hand-written gradient (same values, same residual).

    The gradient is ``p * (g - sum(g * p))``. Differentiated automatically, XLA:CPU fuses the
    row sum ``sum(g * p)`` into one multiply-reduce kernel that runs single-threaded at a few
    GB/s: it was the largest single op of a full-attention train step (measured 8x slower than
    the same sum as a product with a ones vector, [4, 1, 683, 2049] float32). Here the row sum is
    that matrix-vector product (float32, ``Precision.HIGHEST`` so no backend rounds it lower).
    """
    return jax.nn.softmax(x, axis=-1)


def _softmax_fwd(x):
    probs = jax.nn.softmax(x, axis=-1)
    return probs, probs


def _softmax_bwd(probs, g):
    ones = jnp.ones((probs.shape[-1],), probs.dtype)
    row_sum = jnp.matmul(g * probs, ones, precision=lax.Precision.HIGHEST)
    return (probs * (g - row_sum[..., None]),)


softmax.defvjp(_softmax_fwd, _softmax_bwd)


def attention_probs(q, k, mask=None):
    """``softmax(q k^T / sqrt(dh))`` over the valid keys: ``q [B, c, H, dh]``, ``k [B, n, H, dh]``,
    key ``mask [B, n] | None`` -> ``[B, H, c, n]`` float32 (masked keys get exactly 0)."""
    scale = q.shape[-1] ** -0.5
    logits = jnp.einsum("bqhd,bkhd->bhqk", q, k, preferred_element_type=jnp.float32) * scale
    m = key_mask(mask, k.shape[1])
    if m is not None:
        logits = jnp.where(m, logits, MASK_VALUE)
    return softmax(logits)


def _block(q, k, v, mask, dropout_rate: float, rng):
    """Softmax attention of a query block ``q [B, c, H, dh]`` over all keys ``[B, n, H, dh]``."""
    probs = dropout_probs(attention_probs(q, k, mask), dropout_rate, rng)
    return jnp.einsum("bhqk,bkhd->bqhd", probs.astype(v.dtype), v)


@functools.partial(jax.jit, static_argnames=("dropout_rate", "impl", "chunk_size"))
def softmax_attention(q, k, v, mask=None, *, dropout_rate: float = 0.0, rng=None,
                      impl: str = "einsum", chunk_size: int = 1024):
    """``q, k, v [B, n, H, dh]``, key ``mask [B, n] | None`` -> ``[B, n, H, dh]``.

    ``impl``: 'einsum' | 'chunked' | 'auto' | 'dot_product_attention' (see module docstring).
    """
    n = q.shape[1]
    if impl == "auto":
        impl = "chunked" if 0 < chunk_size < n else "einsum"
    if impl == "einsum" or (impl == "chunked" and not 0 < chunk_size < n):
        return _block(q, k, v, mask, dropout_rate, rng)
    if impl == "dot_product_attention":
        m = None if mask is None else mask[:, None, None, :]
        return jax.nn.dot_product_attention(q, k, v, mask=m).astype(v.dtype)
    if impl != "chunked":
        raise ValueError(f"unknown full attention impl {impl!r}")
    return _chunked(q, k, v, mask, dropout_rate, rng, chunk_size)


def _chunked(q, k, v, mask, dropout_rate, rng, chunk_size):
    b, n, h, dh = q.shape
    num_chunks = -(-n // chunk_size)
    block = -(-n // num_chunks)  # balanced blocks (<= chunk_size): n = 1025 -> 2 x 513, not 2 x 1024
    pad = num_chunks * block - n
    qp = jnp.pad(q, ((0, 0), (0, pad), (0, 0), (0, 0)))
    blocks = qp.reshape(b, num_chunks, block, h, dh).swapaxes(0, 1)  # [C, B, c, H, dh]

    @functools.partial(jax.checkpoint, prevent_cse=False)
    def one(args):
        index, q_block = args
        block_rng = None if rng is None else jax.random.fold_in(rng, index)
        return _block(q_block, k, v, mask, dropout_rate, block_rng)

    out = lax.map(one, (jnp.arange(num_chunks), blocks))  # [C, B, c, H, dh]
    return out.swapaxes(0, 1).reshape(b, num_chunks * block, h, dh)[:, :n]


IMPLS = ("auto", "einsum", "chunked", "dot_product_attention")


@ATTENTIONS.register("full", aliases=("transformer",))
class FullAttention(MultiHeadAttention):
    """Multi-head softmax attention (``impl``/``chunk_size``: see the module docstring)."""

    impl: str = option("auto", "'auto' (einsum, or chunked above chunk_size) | 'einsum' | 'chunked' | "
                       "'dot_product_attention' (fused kernels on GPU; no attention dropout)",
                       key="full_impl", choices=IMPLS)
    chunk_size: int = option(1024, "query block size of the chunked form (memory O(chunk n)); 0 = never chunk",
                             minimum=0)

    def attend(self, q, k, v, mask, deterministic):
        return softmax_attention(
            q, k, v, mask, dropout_rate=self.dropout_rate, rng=self.dropout_rng(deterministic),
            impl=self.impl, chunk_size=self.chunk_size,
        )

    def attention_maps(self, q, k, mask):
        """``softmax(q k^T / sqrt(dh))`` with the key mask, ``[B, H, n, n]`` (every ``impl`` computes
        this matrix; attention dropout is not applied)."""
        return attention_probs(q, k, mask)
