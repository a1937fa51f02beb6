"""Full softmax attention, ``softmax(q k^T / sqrt(dh)) v`` (eq. 16), ours and the library's.

Implementations of the same function (``impl``):

* ``einsum``: ours, the whole ``[B, H, n, n]`` logits at once (fastest for short sequences).
* ``chunked``: ours, queries in balanced blocks of at most ``chunk_size`` under ``lax.map`` +
  ``jax.checkpoint``: peak memory O(B H chunk n) in the forward *and* backward pass (the block's
  probabilities are recomputed in the backward), so 4K-16K tokens fit on CPU.
* ``xla``: ``jax.nn.dot_product_attention(implementation='xla')`` with the key mask as its boolean
  ``mask`` (any mask). It materialises the n x n logits like ``einsum``.
* ``cudnn``: ``jax.nn.dot_product_attention(implementation='cudnn')``: cuDNN flash attention
  (NVIDIA GPUs; bfloat16/float16, head dim <= 128 and a multiple of 8). The key mask is passed as
  ``key_value_seq_lengths`` = its number of valid keys, which is exact only for a *prefix* mask
  (valid keys first: what the encoder's ``lengths`` give); any other mask needs another impl.

What the library path lacks: **attention dropout** (it has no dropout on the probabilities). So
whenever attention dropout is active (a training step with ``attention_dropout > 0``) ``xla`` and
``cudnn`` run ours instead (``einsum`` up to ``chunk_size`` queries, ``chunked`` above): the
library kernels serve evaluation and dropout-free training. ``auto`` (default) picks per backend
and shape: ours (``einsum`` up to ``chunk_size``, ``chunked`` above) on CPU and TPU, where the
library's XLA path lowers to the same dot-softmax-dot (its CPU speed against ours is not measured yet);
on GPU ``cudnn`` where its constraints hold and no dropout is active, else ours (the GPU choice is
measured by ``scripts/device_check.py`` when a GPU is available).

Logits and the softmax are computed in float32 whatever the compute dtype (ours). On CPU our
softmax has a hand-written gradient (:func:`softmax`); on other backends it is ``jax.nn.softmax``
(see :func:`softmax_for_backend`).
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


def softmax_for_backend(backend: str):
    """The last-axis softmax ours uses on ``backend``: the CPU-tuned gradient on ``'cpu'``, XLA's
    ``jax.nn.softmax`` elsewhere (the row sum it avoids is only slow on XLA:CPU)."""
    return softmax if backend == "cpu" else functools.partial(jax.nn.softmax, axis=-1)


def attention_probs(q, k, mask=None):
    """``softmax(q k^T / sqrt(dh))`` over the valid keys: ``q [B, c, H, dh]``, ``k [B, n, H, dh]``,
    key ``mask [B, n] | None`` -> ``[B, H, c, n]`` float32 (masked keys get exactly 0)."""
    scale = q.shape[-1] ** -0.5
    logits = jnp.einsum("bqhd,bkhd->bhqk", q, k, preferred_element_type=jnp.float32) * scale
    m = key_mask(mask, k.shape[1])
    if m is not None:
        logits = jnp.where(m, logits, MASK_VALUE)
    return softmax_for_backend(jax.default_backend())(logits)


def _block(q, k, v, mask, dropout_rate: float, rng):
    """Softmax attention of a query block ``q [B, c, H, dh]`` over all keys ``[B, n, H, dh]``."""
    probs = dropout_probs(attention_probs(q, k, mask), dropout_rate, rng)
    return jnp.einsum("bhqk,bkhd->bqhd", probs.astype(v.dtype), v)


def cudnn_supports(q) -> bool:
    """Whether cuDNN flash attention takes these inputs: a GPU, 16-bit q/k/v, a head dim <= 128 that
    is a multiple of 8 (the mask is passed as lengths: see the module docstring)."""
    dh = q.shape[-1]
    return (jax.default_backend() == "gpu" and q.dtype in (jnp.bfloat16, jnp.float16) and dh <= 128
            and dh % 8 == 0)


def resolve_impl(impl: str, q, mask, dropout_active: bool, chunk_size: int) -> str:
    """The implementation that runs: ``'einsum' | 'chunked' | 'xla' | 'cudnn'`` (module docstring)."""
    ours = "chunked" if 0 < chunk_size < q.shape[1] else "einsum"
    if impl == "auto":
        return "cudnn" if not dropout_active and cudnn_supports(q) else ours
    if impl in ("xla", "cudnn") and dropout_active:
        return ours  # the library has no attention dropout
    if impl == "chunked":
        return ours
    if impl not in IMPLS:
        raise ValueError(f"unknown full attention impl {impl!r}; expected one of {IMPLS}")
    return impl


def library_attention(q, k, v, mask, implementation: str):
    """``jax.nn.dot_product_attention`` with the key ``mask [B, n] | None`` as a boolean mask
    (``xla``) or as key lengths (``cudnn``: exact for a prefix mask)."""
    if implementation == "cudnn":
        lengths = None if mask is None else jnp.sum(mask, axis=-1, dtype=jnp.int32)
        return jax.nn.dot_product_attention(q, k, v, key_value_seq_lengths=lengths, implementation="cudnn")
    m = key_mask(mask, k.shape[1])
    return jax.nn.dot_product_attention(q, k, v, mask=m, implementation="xla")


@functools.partial(jax.jit, static_argnames=("dropout_rate", "impl", "chunk_size"))
def softmax_attention(q, k, v, mask=None, *, dropout_rate: float = 0.0, rng=None,
                      impl: str = "einsum", chunk_size: int = 1024):
    """``q, k, v [B, n, H, dh]``, key ``mask [B, n] | None`` -> ``[B, n, H, dh]``.

    ``impl``: one of :data:`IMPLS` (see the module docstring and :func:`resolve_impl`).
    """
    dropout_active = rng is not None and dropout_rate > 0.0
    impl = resolve_impl(impl, q, mask, dropout_active, chunk_size)
    if impl in ("xla", "cudnn"):
        return library_attention(q, k, v, mask, impl).astype(v.dtype)
    if impl == "einsum":
        return _block(q, k, v, mask, dropout_rate, rng)
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


IMPLS = ("auto", "einsum", "chunked", "xla", "cudnn")


@ATTENTIONS.register("full", aliases=("transformer",))
class FullAttention(MultiHeadAttention):
    """Multi-head softmax attention (``impl``/``chunk_size``: see the module docstring)."""

    impl: str = option("auto", "'auto' (per backend: ours on CPU/TPU; cuDNN flash on GPU without attention "
                       "dropout) | 'einsum' | 'chunked' (above chunk_size) | 'xla' | 'cudnn' "
                       "(jax.nn.dot_product_attention; ours while attention dropout is active)",
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
