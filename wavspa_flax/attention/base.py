"""The attention interface, its registry, and the multi-head projections shared by the attentions.

Every attention is a linen module called as ``attn(x, mask, deterministic=...)`` with
``x [B, n, f]``, ``mask [B, n]`` bool (True = valid key) or None, returning ``[B, n, f]``; the
output width equals the input width whatever ``f`` is (a wavelet space may hand it bands of half
the hidden width). Queries at masked positions get some finite output the caller ignores;
masked keys never influence any output.

The contract every attention keeps (``tests/models/test_contract.py`` checks each registered one;
``python -m pytest -m "not slow" -k <name>`` runs it for a new one):

* **Zero rows.** Inputs may hold exact-zero rows, valid or not: a wavelet space zeroes the padding
  before its transform, so bands hold zero coefficients, some marked valid, and an example may
  have a single valid position. Outputs and gradients must stay finite: guard every division and
  norm (``x * rsqrt(|x|^2 + eps)``; not ``x / |x|``, nor ``x / max(|x|, eps)``, whose gradient at
  a zero row is NaN through ``|x|``). A NaN from this shows up as a NaN loss within a few steps,
  not as a learning-rate problem.
* **Masks.** ``mask [B, n]`` bool, True = valid key, or None (all valid). A masked key must get
  exactly no weight (use :data:`MASK_VALUE` logits or zero its features), so padded content never
  changes a valid output; a row with no valid key must still give finite values.
* **Dtypes.** ``dtype`` is the compute dtype (float32 or bfloat16): the output is ``dtype``;
  parameters are float32 (``param_dtype``); softmax statistics and long sums run in float32.
* **Shapes.** ``[B, n, f] -> [B, n, f]`` for any ``f`` and any ``n <= length``.
* **Options.** Declared as :func:`~wavspa_flax.registry.option` fields; a key must not clash with
  another class's (the registry says which and how to rename it).

:data:`ATTENTIONS` is the one registry of attentions: a new attention is one file in this package
with ``@ATTENTIONS.register("<name>")`` on its class and its options declared as fields with
:func:`~wavspa_flax.registry.option` (see :mod:`wavspa_flax.registry`).

:class:`MultiHeadAttention` projects x to per-head q, k, v (``qkv_dim`` features split over
``num_heads``), optionally rotates q and k (RoPE), calls the subclass's ``attend`` on
``[B, n, H, dh]`` arrays and projects the heads back to ``f``. The kernels themselves are pure
functions (one per file) so tests can compare them with NumPy formulas.

Attention maps for analysis (``lra.analyze``). When the flax collection ``"intermediates"`` is
mutable (``module.apply(..., mutable=["intermediates"])``), :class:`MultiHeadAttention` sows
``attention_maps``: the ``[B, H, n, m]`` float32 matrix each head applies to its values, from the
attention's :meth:`~MultiHeadAttention.attention_maps` (before attention dropout), and
``attention_mask``: the ``[B, n]`` mask of valid positions it was given (when there is one).
Otherwise nothing is computed or stored, so training is unchanged. What the maps are per
attention is in each class's ``attention_maps`` docstring; an attention without them returns None.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from wavspa_flax.position import apply_rope
from wavspa_flax.registry import Registry, option

ATTENTIONS = Registry("model.attention")

# Large finite negative logit for masked keys (no NaN when a row has no valid key).
MASK_VALUE = -1e9


def key_mask(mask, n: int):
    """``mask [B, n] | None`` -> ``[B, 1, 1, n]`` bool for logits ``[B, H, q, n]`` (None stays None)."""
    if mask is None:
        return None
    if mask.shape[-1] != n:
        raise ValueError(f"mask length {mask.shape[-1]} != sequence length {n}")
    return mask[:, None, None, :]


def zero_masked(x, mask):
    """Zero the rows of ``x [B, n, ...]`` where ``mask [B, n]`` is False (None: unchanged)."""
    if mask is None:
        return x
    return jnp.where(mask.reshape(mask.shape + (1,) * (x.ndim - 2)), x, jnp.zeros((), x.dtype))


class Attention(nn.Module):
    """Base of every attention: ``length`` is the longest sequence the module will see (for
    attentions that size a parameter with it; None = the input's), ``dtype`` the compute dtype."""

    length: int | None = None
    dtype: Any = jnp.float32

    @classmethod
    def context_from_config(cls, model_cfg) -> dict[str, Any]:
        """Constructor values taken from the model config outside ``attention`` (none here)."""
        del model_cfg
        return {}


class MultiHeadAttention(Attention):
    """Base class: q/k/v projections, optional RoPE, ``attend``, output projection.

    ``num_heads``, ``qkv_dim`` (total q/k/v features, split over the heads), ``dropout_rate``
    (attention dropout, where the kernel has probabilities) and ``use_rope`` come from the model
    config (:meth:`context_from_config`); params are float32.
    """

    num_heads: int = 1
    qkv_dim: int = 64
    dropout_rate: float = 0.0
    use_rope: bool = False
    use_bias: bool = option(
        False, "bias on the q/k/v/out projections (False as most official attentions; the ones that had "
        "a bias preset True at registration)")

    @classmethod
    def context_from_config(cls, model_cfg) -> dict[str, Any]:
        return dict(num_heads=model_cfg.num_heads, qkv_dim=model_cfg.qkv_dim,
                    dropout_rate=float(model_cfg.attention_dropout), use_rope=model_cfg.position == "rope")

    def attend(self, q, k, v, mask, deterministic: bool):  # pragma: no cover - abstract
        """``q, k, v [B, n, H, dh]``, ``mask [B, n] | None`` -> ``[B, n, H, dh]``."""
        raise NotImplementedError

    def prepare(self, q, k, v):
        """Per-attention step between the projections (and RoPE) and ``attend``; its results also
        feed :meth:`attention_maps`. Default: none (Performer: LayerNorm of q, k, v)."""
        return q, k, v

    def attention_maps(self, q, k, mask):
        """The head maps ``[B, H, n, m]`` (float32) that ``attend`` applies to the values, for
        analysis only (O(n m) memory); None when the attention has no such matrix. Called after
        ``attend``, with its ``q, k`` and ``mask``, only while ``"intermediates"`` is mutable."""
        del q, k, mask
        return None

    def dropout_rng(self, deterministic: bool):
        """The dropout key for the attention probabilities, or None when there is no dropout."""
        if deterministic or self.dropout_rate == 0.0:
            return None
        return self.make_rng("dropout")

    @nn.compact
    def __call__(self, x, mask=None, *, deterministic: bool = True):
        features = x.shape[-1]
        head_dim = self.qkv_dim // self.num_heads
        x = x.astype(self.dtype)
        projection = lambda name: nn.DenseGeneral(  # noqa: E731
            (self.num_heads, head_dim), use_bias=self.use_bias, dtype=self.dtype,
            param_dtype=jnp.float32, kernel_init=nn.initializers.xavier_uniform(), name=name,
        )
        q, k, v = projection("query")(x), projection("key")(x), projection("value")(x)
        if self.use_rope:
            q, k = apply_rope(q), apply_rope(k)
        q, k, v = self.prepare(q, k, v)
        y = self.attend(q, k, v, mask, deterministic).astype(self.dtype)
        if self.is_mutable_collection("intermediates"):
            maps = self.attention_maps(q, k, mask)
            if maps is not None:
                self.sow("intermediates", "attention_maps", maps)
                if mask is not None:
                    self.sow("intermediates", "attention_mask", mask)
        return nn.DenseGeneral(
            features, axis=(-2, -1), use_bias=self.use_bias, dtype=self.dtype, param_dtype=jnp.float32,
            kernel_init=nn.initializers.xavier_uniform(), name="out",
        )(y)


def dropout_probs(probs, rate: float, rng):
    """Inverted dropout on attention probabilities (no-op when ``rng`` is None)."""
    if rng is None or rate == 0.0:
        return probs
    keep = jax.random.bernoulli(rng, 1.0 - rate, probs.shape)
    return jnp.where(keep, probs / (1.0 - rate), jnp.zeros((), probs.dtype))
