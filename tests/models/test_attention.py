"""Each attention kernel against an explicit O(n^2) NumPy reference (or its kernel formula)."""

from __future__ import annotations

import contextlib
import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.models.helpers import key, length_mask, masked_softmax_reference, random_qkv, tiny_config
from wavspa_flax.attention import attention_factory
from wavspa_flax.attention import full as full_attention
from wavspa_flax.attention.full import softmax_attention
from wavspa_flax.attention.linear import linear_attention
from wavspa_flax.attention.linformer import linformer_attention
from wavspa_flax.attention.longformer import longformer_attention
from wavspa_flax.attention.performer import favor_attention, generalized_attention, orthogonal_random_features

B, N, H, DH = 2, 13, 2, 4
LENGTHS = [13, 8]


@pytest.fixture(scope="module")
def qkv_mask():
    q, k, v = random_qkv((B, N, H, DH))
    return q, k, v, length_mask(LENGTHS, N)


def _valid_rows(out, mask):
    return np.asarray(out)[mask]


@pytest.mark.parametrize("impl,chunk", [("einsum", 0), ("chunked", 4), ("xla", 0)])
def test_full_attention_equals_reference(qkv_mask, impl, chunk):
    q, k, v, mask = qkv_mask
    ref = masked_softmax_reference(q, k, v, mask[:, None, None, :])
    out = softmax_attention(q, k, v, jnp.asarray(mask), impl=impl, chunk_size=chunk)
    np.testing.assert_allclose(_valid_rows(out, mask), ref[mask], atol=2e-6)


@contextlib.contextmanager
def _autodiff_softmax():
    """Inside: the full-attention kernels use ``jax.nn.softmax`` (autodiff) instead of ``full.softmax``."""
    original = full_attention.softmax
    full_attention.softmax = functools.partial(jax.nn.softmax, axis=-1)
    try:
        yield
    finally:
        full_attention.softmax = original


@pytest.mark.parametrize("impl,chunk,rate", [("einsum", 0, 0.0), ("einsum", 0, 0.3),
                                             pytest.param("chunked", 4, 0.3, marks=pytest.mark.slow)])
def test_full_attention_gradient_equals_autodiff_of_the_plain_softmax(qkv_mask, impl, chunk, rate):
    """The softmax's hand-written VJP (row sum as a matrix-vector product) gives autodiff's
    gradients w.r.t. q, k, v: padding, a batch row whose keys are all masked, dropout."""
    q, k, v, mask = qkv_mask
    mask = np.array(mask)
    mask[1, :] = False  # no valid key: uniform probabilities, no gradient reaches the logits
    mask = jnp.asarray(mask)
    rng = jax.random.PRNGKey(7) if rate else None
    cotangent = jax.random.normal(jax.random.PRNGKey(8), q.shape)

    def loss(q, k, v):
        if impl == "chunked":
            out = full_attention._chunked(q, k, v, mask, rate, rng, chunk)
        else:
            out = full_attention._block(q, k, v, mask, rate, rng)
        return jnp.sum(out * cotangent)

    def gradients():
        """A new jitted function per call: the kernels look the softmax up when traced."""
        return jax.jit(lambda *a: jax.grad(loss, argnums=(0, 1, 2))(*a))(q, k, v)

    got = gradients()
    with _autodiff_softmax():
        expected = gradients()
    for g, e in zip(got, expected):
        np.testing.assert_allclose(np.asarray(g), np.asarray(e), rtol=1e-5, atol=1e-6)
    assert float(jnp.max(jnp.abs(got[1]))) > 0


def test_longformer_window_covering_everything_equals_full(qkv_mask):
    q, k, v, mask = qkv_mask
    full = masked_softmax_reference(q, k, v, mask[:, None, None, :])
    for window, num_global in ((2 * N, 0), (4 * N, 2)):
        run = jax.jit(functools.partial(longformer_attention, window=window, num_global=num_global))
        out = run(q, k, v, jnp.asarray(mask))
        np.testing.assert_allclose(_valid_rows(out, mask), full[mask], atol=2e-6)


@pytest.mark.parametrize("window,num_global", [(4, 2), (6, 1), (3, 0)])
def test_longformer_equals_banded_plus_global_reference(qkv_mask, window, num_global):
    q, k, v, mask = qkv_mask
    i, j = np.arange(N)[:, None], np.arange(N)[None, :]
    half = max(window // 2, 1)
    pattern = ((j - i > -half) & (j - i <= half)) | (j < num_global) | (i < num_global)
    allowed = pattern[None, None] & mask[:, None, None, :]
    ref = masked_softmax_reference(q, k, v, allowed)
    run = jax.jit(functools.partial(longformer_attention, window=window, num_global=num_global))
    out = run(q, k, v, jnp.asarray(mask))
    rows = mask & allowed.any(axis=(1, 3))  # queries with at least one visible valid key
    np.testing.assert_allclose(np.asarray(out)[rows], ref[rows], atol=2e-6)


def test_linear_attention_equals_its_kernel_formula(qkv_mask):
    q, k, v, mask = (np.asarray(a, np.float64) for a in qkv_mask)
    phi = lambda x: np.where(x > 0, x + 1.0, np.exp(x))  # elu(x) + 1
    scores = np.einsum("bqhm,bkhm->bhqk", phi(q), phi(k)) * mask[:, None, None, :]
    ref = np.einsum("bhqk,bkhd->bqhd", scores, v) / scores.sum(-1)[..., None].transpose(0, 2, 1, 3)
    out = linear_attention(*(jnp.asarray(a, jnp.float32) for a in qkv_mask[:3]), jnp.asarray(qkv_mask[3]))
    np.testing.assert_allclose(np.asarray(out), ref, rtol=1e-4, atol=1e-5)


def test_generalized_performer_equals_its_kernel_formula(qkv_mask):
    q, k, v, mask = (np.asarray(a, np.float64) for a in qkv_mask)
    phi = lambda x: np.maximum(x, 0.0) + 1e-3
    scores = np.einsum("bqhm,bkhm->bhqk", phi(q), phi(k)) * mask[:, None, None, :]
    ref = np.einsum("bhqk,bkhd->bqhd", scores, v) / scores.sum(-1)[..., None].transpose(0, 2, 1, 3)
    out = generalized_attention(*(jnp.asarray(a, jnp.float32) for a in qkv_mask[:3]), jnp.asarray(qkv_mask[3]))
    np.testing.assert_allclose(np.asarray(out), ref, rtol=1e-4, atol=1e-5)


def test_linformer_with_identity_projection_equals_full(qkv_mask):
    q, k, v, _ = qkv_mask
    out = linformer_attention(q, k, v, jnp.eye(N))
    np.testing.assert_allclose(np.asarray(out), masked_softmax_reference(q, k, v, True), atol=2e-6)


def test_performer_favor_error_falls_as_features_grow():
    n, dh, seeds, sizes = 24, 8, 3, (8, 64, 512)
    q, k, v = random_qkv((2, n, 2, dh), seed=3)
    unit = lambda x: 1.5 * x / np.linalg.norm(x, axis=-1, keepdims=True)
    q, k = unit(q), unit(k)
    mask = jnp.asarray(length_mask([24, 15], n))
    exact = softmax_attention(q, k, v, mask)

    @jax.jit
    def mean_errors(keys):
        # The first m rows of an orthogonal random feature draw are an m-feature draw (blocks of dh).
        draws = jax.vmap(lambda kk: orthogonal_random_features(kk, sizes[-1], dh))(keys)
        errs = []
        for m in sizes:
            out = jax.vmap(lambda w: favor_attention(q, k, v, w, mask))(draws[:, :m])
            errs.append(jnp.sum(jnp.abs(out - exact[None]) * mask[None, :, :, None, None]) / (seeds * jnp.sum(mask)))
        return jnp.stack(errs)

    errors = np.asarray(mean_errors(jax.random.split(jax.random.PRNGKey(0), seeds)))
    assert all(a > b for a, b in zip(errors, errors[1:])), errors
    assert errors[-1] < 0.3 * errors[0], errors


def test_orthogonal_random_features_are_orthogonal_within_blocks():
    w = np.asarray(jax.jit(orthogonal_random_features, static_argnums=(1, 2))(jax.random.PRNGKey(0), 12, 8))
    assert w.shape == (12, 8)
    block = w[:8] / np.linalg.norm(w[:8], axis=-1, keepdims=True)
    np.testing.assert_allclose(block @ block.T, np.eye(8), atol=1e-5)


def _tiny_full_attention(seed: int):
    """The tiny config's full attention module, an input ``[B, N, 6]`` drawn with ``seed``, the
    ``LENGTHS`` mask and the module's initial parameters."""
    cfg = tiny_config()
    module = attention_factory(cfg)(length=N, name=None)
    x = np.random.default_rng(seed).normal(size=(B, N, 6)).astype(np.float32)
    mask = length_mask(LENGTHS, N)
    return cfg, module, x, mask, jax.jit(module.init)(key(), x, mask)["params"]


def test_full_attention_module_equals_numpy_with_its_parameters():
    _, module, x, mask, params = _tiny_full_attention(1)
    out = np.asarray(jax.jit(module.apply)({"params": params}, x, jnp.asarray(mask)))
    proj = lambda name: np.einsum("bnf,fhd->bnhd", x, np.asarray(params[name]["kernel"]))
    heads = masked_softmax_reference(proj("query"), proj("key"), proj("value"), mask[:, None, None, :])
    ref = np.einsum("bnhd,hdf->bnf", heads, np.asarray(params["out"]["kernel"]))
    assert out.shape == x.shape
    np.testing.assert_allclose(out[mask], ref[mask], atol=1e-5)


def test_favor_projection_is_fixed_and_not_a_parameter():
    cfg = tiny_config(attention__kind="performer", attention__performer_kernel="favor")
    factory = attention_factory(cfg)

    class Two(nn.Module):
        @nn.compact
        def __call__(self, x):
            return factory(length=10, name="a")(x), factory(length=10, name="b")(x)

    x = np.random.default_rng(2).normal(size=(1, 10, 8)).astype(np.float32)
    params = jax.jit(Two().init)(key(), x)["params"]
    assert set(params["a"]) == {"query", "key", "value", "out", "query_norm", "key_norm", "value_norm"}
    shared = {"a": params["a"], "b": params["a"]}  # same weights: only the projections can differ
    run = jax.jit(lambda p: Two().apply({"params": p}, x))
    (a1, b1), (a2, _) = run(shared), run(shared)
    np.testing.assert_array_equal(np.asarray(a1), np.asarray(a2))  # fixed across calls
    assert np.abs(np.asarray(a1) - np.asarray(b1)).max() > 1e-4  # distinct per module path


# Realistic sizes: n >= 1024 (not a multiple of the chunk, window or block sizes), head dims
# 64-256, two sequences of which one is padded. The NumPy references are explicit O(n^2) float64
# formulas; float32 sums over ~1000 keys are compared at 1e-5 of the output scale.
N_LONG, LONG_LENGTHS = 1100, [1100, 703]


def _long_inputs(dh, heads=1, seed=0):
    q, k, v = random_qkv((2, N_LONG, heads, dh), seed=seed)
    return q, k, v, length_mask(LONG_LENGTHS, N_LONG)


def _kernel_reference(phi, q, k, v, mask):
    """Normalised kernel attention sum_j s_ij v_j / sum_j s_ij with s_ij = phi(q_i).phi(k_j) over valid j."""
    q, k, v = (np.asarray(a, np.float64) for a in (q, k, v))
    scores = np.einsum("bqhm,bkhm->bhqk", phi(q), phi(k)) * mask[:, None, None, :]
    return np.einsum("bhqk,bkhd->bqhd", scores, v) / scores.sum(-1).transpose(0, 2, 1)[..., None]


@pytest.mark.parametrize("impl,chunk,dh,heads", [("einsum", 0, 64, 2), ("chunked", 300, 128, 1)])
def test_full_attention_at_realistic_sizes(impl, chunk, dh, heads):
    """n = 1100, chunked in 4 balanced blocks of 275 (the last one padded)."""
    q, k, v, mask = _long_inputs(dh, heads)
    ref = masked_softmax_reference(q, k, v, mask[:, None, None, :])
    out = jax.jit(functools.partial(softmax_attention, impl=impl, chunk_size=chunk))(q, k, v, jnp.asarray(mask))
    np.testing.assert_allclose(_valid_rows(out, mask), ref[mask], atol=1e-5)


def test_longformer_at_realistic_sizes():
    """The official window (256 = 128 each side) with 2 global tokens, dh 64, n = 1100."""
    window, num_global = 256, 2
    q, k, v, mask = _long_inputs(64, heads=2, seed=1)
    i, j = np.arange(N_LONG)[:, None], np.arange(N_LONG)[None, :]
    pattern = ((j - i > -window // 2) & (j - i <= window // 2)) | (j < num_global) | (i < num_global)
    ref = masked_softmax_reference(q, k, v, pattern[None, None] & mask[:, None, None, :])
    out = jax.jit(functools.partial(longformer_attention, window=window, num_global=num_global))(q, k, v,
                                                                                                jnp.asarray(mask))
    np.testing.assert_allclose(_valid_rows(out, mask), ref[mask], atol=1e-5)


def test_linear_and_generalized_performer_at_realistic_sizes():
    """elu+1 (linear, dh 128) and relu+1e-3 (generalized Performer, dh 256) against the kernel formula."""
    q, k, v, mask = _long_inputs(128, seed=2)
    ref = _kernel_reference(lambda x: np.where(x > 0, x + 1.0, np.exp(x)), q, k, v, mask)
    out = linear_attention(q, k, v, jnp.asarray(mask))
    np.testing.assert_allclose(_valid_rows(out, mask), ref[mask], rtol=1e-4, atol=1e-5)
    q, k, v, mask = _long_inputs(256, seed=3)
    ref = _kernel_reference(lambda x: np.maximum(x, 0.0) + 1e-3, q, k, v, mask)
    out = generalized_attention(q, k, v, jnp.asarray(mask))
    np.testing.assert_allclose(_valid_rows(out, mask), ref[mask], rtol=1e-4, atol=1e-5)


def test_linformer_random_projection_with_padding_equals_formula():
    """Random E [1200, 256] (longer than the sequence: its first n rows are used), n = 1100,
    dh 64: K' = E^T (K with padded rows zeroed), V' likewise, then unmasked softmax over the 256
    projected rows."""
    q, k, v, mask = _long_inputs(64, heads=2, seed=4)
    e = np.random.default_rng(5).normal(size=(1200, 256)).astype(np.float32) / np.sqrt(N_LONG)
    keep = mask[:, :, None, None]
    k_low = np.einsum("bnhd,nk->bkhd", np.where(keep, k, 0.0).astype(np.float64), e[:N_LONG].astype(np.float64))
    v_low = np.einsum("bnhd,nk->bkhd", np.where(keep, v, 0.0).astype(np.float64), e[:N_LONG].astype(np.float64))
    ref = masked_softmax_reference(q, k_low, v_low, True)
    out = linformer_attention(q, k, v, jnp.asarray(e), jnp.asarray(mask))
    np.testing.assert_allclose(np.asarray(out), ref, atol=1e-5)
    # Padded content cannot reach any output: other values at the padded positions change nothing.
    noise = np.random.default_rng(6).normal(size=k.shape).astype(np.float32) * 5
    out_other = linformer_attention(q, np.where(keep, k, noise), np.where(keep, v, noise), jnp.asarray(e),
                                    jnp.asarray(mask))
    np.testing.assert_array_equal(np.asarray(out_other), np.asarray(out))


# --- attention maps sown for analysis (collection "intermediates") ------------------------------


def _sown(intermediates):
    return intermediates["attention_maps"][0], intermediates.get("attention_mask", (None,))[0]


def test_full_attention_module_sows_its_softmax_maps():
    """The sown maps equal an explicit NumPy softmax of the module's own q, k with the key mask; the
    output is the same with and without the collection."""
    cfg, module, x, mask, params = _tiny_full_attention(7)
    plain = np.asarray(jax.jit(module.apply)({"params": params}, x, jnp.asarray(mask)))
    out, state = jax.jit(functools.partial(module.apply, mutable=["intermediates"]))(
        {"params": params}, x, jnp.asarray(mask))
    maps, sown_mask = _sown(state["intermediates"])
    proj = lambda name: np.einsum("bnf,fhd->bnhd", x.astype(np.float64), np.asarray(params[name]["kernel"]))
    logits = np.einsum("bqhd,bkhd->bhqk", proj("query"), proj("key")) / np.sqrt(cfg.qkv_dim // cfg.num_heads)
    logits = np.where(mask[:, None, None, :], logits, -np.inf)
    ref = np.exp(logits - logits.max(-1, keepdims=True))
    ref /= ref.sum(-1, keepdims=True)
    assert maps.shape == (B, cfg.num_heads, N, N) and maps.dtype == jnp.float32
    np.testing.assert_allclose(np.asarray(maps), ref, atol=1e-6)
    np.testing.assert_array_equal(np.asarray(sown_mask), mask)
    np.testing.assert_array_equal(np.asarray(out), plain)
    assert "intermediates" not in jax.jit(module.init)(key(), x, mask)  # init adds no collection


def _numpy_values(params, x, maps_kind, mask):
    """v as the attention sees it: x W_v (+ b), LayerNorm-ed for the Performer, projected for Linformer."""
    v = np.einsum("bnf,fhd->bnhd", x.astype(np.float64), np.asarray(params["value"]["kernel"], np.float64))
    if "bias" in params["value"]:
        v = v + np.asarray(params["value"]["bias"])
    if maps_kind == "performer":
        mu, var = v.mean(-1, keepdims=True), v.var(-1, keepdims=True)
        v = (v - mu) / np.sqrt(var + 1e-6) * np.asarray(params["value_norm"]["scale"]) + np.asarray(
            params["value_norm"]["bias"])
    if maps_kind == "linformer":
        e = np.asarray(params["projection"], np.float64)[: x.shape[1]]
        v = np.einsum("bnhd,nk->bkhd", np.where(mask[:, :, None, None], v, 0.0), e)
    return v


@pytest.mark.parametrize("kind,extra", [
    ("full", {}), ("linear", {}), ("performer", {}), ("performer", {"attention__performer_kernel": "favor"}),
    ("longformer", {}), ("longformer", {"attention__num_global_tokens": 2}), ("linformer", {}),
])
def test_each_attention_applies_its_sown_maps_to_the_values(kind, extra):
    """``out = W_out (maps v)`` on every valid query: the sown matrix is the operator the attention
    applied (kernel attentions: the implied D^-1 phi(Q) phi(K)^T; Longformer: zero outside its keys)."""
    cfg = tiny_config(attention__kind=kind, attention__use_bias=kind in ("linear", "linformer"), **extra)
    module = attention_factory(cfg)(length=N, name=None)
    x = np.random.default_rng(8).normal(size=(B, N, 6)).astype(np.float32)
    mask = length_mask(LENGTHS, N)
    params = jax.jit(module.init)(key(), x, mask)["params"]
    out, state = jax.jit(functools.partial(module.apply, mutable=["intermediates"]))(
        {"params": params}, x, jnp.asarray(mask))
    maps = np.asarray(_sown(state["intermediates"])[0], np.float64)
    width = cfg.attention.linformer_k if kind == "linformer" else N
    assert maps.shape == (B, cfg.num_heads, N, width)
    y = np.einsum("bhqk,bkhd->bqhd", maps, _numpy_values(params, x, kind, mask))
    ref = np.einsum("bnhd,hdf->bnf", y, np.asarray(params["out"]["kernel"], np.float64))
    if "bias" in params["out"]:
        ref = ref + np.asarray(params["out"]["bias"])
    np.testing.assert_allclose(np.asarray(out)[mask], ref[mask], rtol=1e-4, atol=2e-5)
    valid = maps.transpose(0, 2, 1, 3)[mask]  # [valid queries, H, width]
    assert valid.min() >= 0.0
    np.testing.assert_allclose(valid.sum(-1), 1.0, atol=1e-4)  # linear/generalized: 1 - eps/(den+eps)
    if kind != "linformer":  # padded keys get exactly zero weight from every valid query
        padded_key = np.broadcast_to(mask[:, None, :, None] & ~mask[:, None, None, :], maps.shape)
        assert np.all(maps[padded_key] == 0.0) and padded_key.any()
    if kind == "longformer":
        from wavspa_flax.attention.longformer import longformer_pattern

        outside = ~longformer_pattern(N, cfg.attention.window, cfg.attention.num_global_tokens)
        assert np.all(maps[:, :, outside][np.broadcast_to(mask[:, None, np.nonzero(outside)[0]],
                                                          maps[:, :, outside].shape)] == 0.0)
        assert outside.any()


@pytest.mark.slow
def test_maps_are_computed_only_when_intermediates_are_mutable(monkeypatch):
    """A model's training forward (dropout on) never calls ``attention_maps`` and its logits equal
    those of the same forward that sows the maps."""
    from wavspa_flax import build_model
    from wavspa_flax.attention.full import FullAttention

    cfg = tiny_config(num_layers=2, dropout=0.1, attention_dropout=0.1)
    model = build_model(cfg, vocab_size=11, num_classes=3, max_length=N, task_kind="classification")
    tokens = np.random.default_rng(9).integers(0, 11, size=(B, N))
    lengths = np.asarray(LENGTHS)
    params = jax.jit(functools.partial(model.init, train=False))(key(), tokens, lengths)["params"]
    train = functools.partial(model.apply, train=True, rngs={"dropout": key(3)})
    logits, state = jax.jit(functools.partial(train, mutable=["intermediates"]))({"params": params}, tokens, lengths)
    blocks = state["intermediates"]["encoder"]
    assert sorted(blocks) == ["block_0", "block_1"]
    assert blocks["block_0"]["mixer"]["attention"]["attention_maps"][0].shape == (B, 2, N + 1, N + 1)  # + CLS

    def refuse(self, q, k, mask):
        raise AssertionError("attention_maps called without the intermediates collection")

    monkeypatch.setattr(FullAttention, "attention_maps", refuse)
    plain = jax.jit(train)({"params": params}, tokens, lengths)
    np.testing.assert_array_equal(np.asarray(plain), np.asarray(logits))
    with pytest.raises(AssertionError, match="without the intermediates"):
        train({"params": params}, tokens, lengths, mutable=["intermediates"])
