"""Linear Transformer (Katharopoulos et al.): kernel attention with ``phi(x) = elu(x) + 1``.

``out_i = phi(q_i)^T S / (phi(q_i)^T z)`` with ``S = sum_j phi(k_j) v_j^T`` and
``z = sum_j phi(k_j)`` over valid keys j: O(n) time and memory (no n x n matrix). There are no
attention probabilities, so no attention dropout (the block's output dropout still applies).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from wavspa_flax.attention.base import ATTENTIONS, MultiHeadAttention, zero_masked

EPS = 1e-6


def elu_feature_map(x):
    return jax.nn.elu(x) + 1.0


def kernel_attention(phi_q, phi_k, v, mask=None, eps: float = EPS):
    """Normalised kernel attention from features ``phi_q, phi_k [B, n, H, m]``, ``v [B, n, H, dh]``.

    ``out_i = phi_q_i^T (sum_j phi_k_j v_j^T) / den_i`` with ``den_i = phi_q_i^T sum_j phi_k_j``.
    Masked keys get zero features, so they contribute to neither the numerator nor the
    denominator. Sums are in float32. ``eps > 0`` divides by ``den + eps`` (the elu+1 and
    relu+1e-3 kernels, whose features are O(1)); ``eps = 0`` divides by ``den`` itself and only
    guards ``den = 0`` (a row with no valid key: output 0, finite gradients), for features of any
    scale (FAVOR+: an absolute epsilon would swamp denominators of 1e-11).
    """
    phi_k = zero_masked(phi_k, mask)
    kv = jnp.einsum("bnhm,bnhd->bhmd", phi_k, v, preferred_element_type=jnp.float32)
    z = jnp.sum(phi_k.astype(jnp.float32), axis=1)  # [B, H, m]
    num = jnp.einsum("bnhm,bhmd->bnhd", phi_q.astype(jnp.float32), kv)
    den = jnp.einsum("bnhm,bhm->bnh", phi_q.astype(jnp.float32), z)[..., None]
    den = den + eps if eps else jnp.where(den > 0, den, 1.0)
    return (num / den).astype(v.dtype)


def kernel_attention_map(phi_q, phi_k, mask=None, eps: float = EPS):
    """The matrix :func:`kernel_attention` applies to ``v``: ``A = D^-1 phi(Q) phi(K)^T`` per head,
    ``[B, H, n, n]`` float32, with ``D_i`` its denominator (``den_i + eps``, or ``den_i`` for
    ``eps = 0``) so ``kernel_attention(...) = A v``. Masked keys give zero columns. Positive features
    make the rows non-negative; they sum to ``den / (den + eps)`` (1 for ``eps = 0``). O(n^2):
    analysis only."""
    phi_k = zero_masked(phi_k, mask)
    scores = jnp.einsum("bqhm,bkhm->bhqk", phi_q.astype(jnp.float32), phi_k.astype(jnp.float32))
    den = jnp.sum(scores, axis=-1, keepdims=True)  # = phi_q_i^T sum_j phi_k_j
    den = den + eps if eps else jnp.where(den > 0, den, 1.0)
    return scores / den


@jax.jit
def linear_attention(q, k, v, mask=None):
    """``q, k, v [B, n, H, dh]`` -> ``[B, n, H, dh]`` with the elu+1 feature map."""
    return kernel_attention(elu_feature_map(q), elu_feature_map(k), v, mask)


@ATTENTIONS.register("linear", preset={"use_bias": True})
class LinearAttention(MultiHeadAttention):
    """Multi-head Linear Transformer attention."""

    def attend(self, q, k, v, mask, deterministic):
        return linear_attention(q, k, v, mask)

    def attention_maps(self, q, k, mask):
        """The implied normalised kernel matrix ``D^-1 phi(Q) phi(K)^T`` with ``phi = elu + 1``
        (:func:`kernel_attention_map`): the attention never forms it, but it is exactly the
        linear map it applies to the values."""
        return kernel_attention_map(elu_feature_map(q), elu_feature_map(k), mask)
