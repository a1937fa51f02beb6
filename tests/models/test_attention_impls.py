"""Full attention's implementations (ours and ``jax.nn.dot_product_attention``) against the explicit
reference for every mask case, the dropout fallback, and the softmax chosen per backend."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.models.helpers import key, length_mask, masked_softmax_reference, random_qkv
from wavspa_flax.attention import full
from wavspa_flax.attention.full import resolve_impl, softmax_attention, softmax_for_backend

B, N, H, DH = 3, 11, 2, 8
MASKS = {
    "none": None,
    "prefix": length_mask([11, 7, 1], N),
    "scattered": np.random.default_rng(3).random((B, N)) < 0.6,
    "a row with no valid key": length_mask([11, 5, 0], N),
}


def _reference_and_rows(q, k, v, mask):
    allowed = np.ones((B, 1, 1, N), bool) if mask is None else mask[:, None, None, :]
    rows = np.ones((B, N), bool) if mask is None else mask
    # A batch row without any valid key has no query the caller reads (its outputs are ignored).
    rows = rows & allowed.reshape(B, N).any(-1, keepdims=True)
    return masked_softmax_reference(q, k, v, allowed), rows


@pytest.mark.parametrize("mask_case", list(MASKS))
@pytest.mark.parametrize("impl,chunk", [("einsum", 0), ("chunked", 4), ("xla", 0), ("auto", 0), ("auto", 4)])
def test_every_impl_equals_the_reference_for_every_mask(impl, chunk, mask_case):
    q, k, v = random_qkv((B, N, H, DH), seed=1)
    mask = MASKS[mask_case]
    ref, rows = _reference_and_rows(q, k, v, mask)
    out = softmax_attention(q, k, v, None if mask is None else jnp.asarray(mask), impl=impl, chunk_size=chunk)
    np.testing.assert_allclose(np.asarray(out)[rows], ref[rows], atol=3e-6)


def test_library_gradients_equal_ours():
    q, k, v = random_qkv((B, N, H, DH), seed=2)
    mask = jnp.asarray(MASKS["prefix"])
    weights = jnp.asarray(np.random.default_rng(0).normal(size=(B, N, H, DH)), jnp.float32) * mask[..., None, None]

    def loss(impl, q, k, v):
        return jnp.sum(softmax_attention(q, k, v, mask, impl=impl, chunk_size=0) * weights)

    ours = jax.grad(functools.partial(loss, "einsum"), argnums=(0, 1, 2))(q, k, v)
    library = jax.grad(functools.partial(loss, "xla"), argnums=(0, 1, 2))(q, k, v)
    for a, b in zip(ours, library):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=2e-6)


@pytest.mark.parametrize("impl", ["xla", "cudnn"])
def test_library_impls_run_ours_while_attention_dropout_is_active(impl):
    q, k, v = random_qkv((B, N, H, DH), seed=4)
    mask = jnp.asarray(MASKS["prefix"])
    run = functools.partial(softmax_attention, q, k, v, mask, dropout_rate=0.3, rng=key(5), chunk_size=4)
    np.testing.assert_array_equal(np.asarray(run(impl=impl)), np.asarray(run(impl="chunked")))
    assert resolve_impl(impl, jnp.zeros((1, N, 1, 8)), None, dropout_active=False, chunk_size=4) == impl


def test_auto_picks_ours_on_cpu_by_length():
    q = jnp.zeros((1, N, 1, 8), jnp.bfloat16)
    assert resolve_impl("auto", q, None, dropout_active=False, chunk_size=4) == "chunked"
    assert resolve_impl("auto", q, None, dropout_active=False, chunk_size=64) == "einsum"


def test_softmax_is_the_cpu_tuned_one_only_on_cpu():
    x = jnp.asarray(np.random.default_rng(6).normal(size=(2, 3, 5, 7)), jnp.float32)
    g = jnp.asarray(np.random.default_rng(7).normal(size=x.shape), jnp.float32)
    assert softmax_for_backend("cpu") is full.softmax
    for backend in ("gpu", "tpu"):
        assert softmax_for_backend(backend) is not full.softmax
    values, grads = {}, {}
    for backend in ("cpu", "gpu"):
        f = softmax_for_backend(backend)
        values[backend] = f(x)
        grads[backend] = jax.grad(lambda x, f=f: jnp.sum(f(x) * g))(x)
    np.testing.assert_allclose(values["cpu"], values["gpu"], rtol=1e-6)
    np.testing.assert_allclose(grads["cpu"], grads["gpu"], atol=1e-6)
    # The same values as the plain formula.
    e = np.exp(np.asarray(x) - np.asarray(x).max(-1, keepdims=True))
    np.testing.assert_allclose(values["gpu"], e / e.sum(-1, keepdims=True), rtol=1e-5)
