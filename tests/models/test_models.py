"""build_model end to end: every (attention, space) pair from config alone, readouts, dual
encoder, dtypes, block variants and config validation."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.models.helpers import key, tiny_config
from wavspa_flax import build_model
from wavspa_flax.attention import ATTENTIONS
from wavspa_flax.attention.identity import LinearMap
from wavspa_flax.encoder import EncoderBlock
from wavspa_flax.heads import pool
from wavspa_flax.spaces import SPACES
from wavspa_flax.wavelets import UnknownWaveletError

N, VOCAB, CLASSES = 16, 11, 3
LENGTHS = np.array([16, 11])
# Every registered (non-ablation) attention with every space, from the registries: a new file adds
# its pairs (the paper's inventory is pinned in test_contract.py::test_paper_choices_are_registered).


def _tokens(lengths=LENGTHS, n=N, seed=0):
    """Two token sequences with identical valid content; the second copy has other pad tokens."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, VOCAB, size=(len(lengths), n)).astype(np.int32)
    pad = np.arange(n)[None, :] >= np.asarray(lengths)[:, None]
    b = np.where(pad, rng.integers(0, VOCAB, size=a.shape), a).astype(np.int32)
    return a, b, pad


def _check_model(cfg, task_kind="token", n=N, lengths=LENGTHS):
    """fwd+bwd in train mode (dropout on) and padding invariance in eval mode.

    Runs eagerly on purpose: the op-by-op executables are cached across the many small models
    of this file (a jit per model would recompile the shared embedding/MLP/head every time).
    """
    model = build_model(cfg, vocab_size=VOCAB, num_classes=CLASSES, max_length=n, task_kind=task_kind)
    a, b, pad = _tokens(lengths, n)
    lengths = jnp.asarray(lengths)
    params = model.init(key(), a, lengths)["params"]

    def loss(p):
        out = model.apply({"params": p}, a, lengths, train=True, rngs={"dropout": key(1)})
        return jnp.sum(out ** 2)

    grads = jax.grad(loss)(params)
    eval_a = np.asarray(model.apply({"params": params}, a, lengths))
    eval_b = np.asarray(model.apply({"params": params}, b, lengths))
    assert np.isfinite(eval_a).all()
    if task_kind == "token":
        np.testing.assert_allclose(eval_a[~pad], eval_b[~pad], atol=2e-5)
    else:
        np.testing.assert_allclose(eval_a, eval_b, atol=2e-5)
    for path, g in jax.tree_util.tree_flatten_with_path(grads)[0]:
        g = np.asarray(g)
        assert np.isfinite(g).all(), jax.tree_util.keystr(path)
        assert np.abs(g).max() > 0, f"no gradient reaches {jax.tree_util.keystr(path)}"
    return params, grads


@pytest.mark.parametrize("space", SPACES.names())
@pytest.mark.parametrize("attention", ATTENTIONS.names(ablations=False))
@pytest.mark.slow
def test_every_attention_space_pair_builds_trains_and_ignores_padding(attention, space):
    """Tables 3-4 (+ Table 9's spaces): built from config values only, forward + backward,
    valid outputs independent of padded content, a gradient on every parameter."""
    cfg = tiny_config(attention__kind=attention, space__kind=space)
    params, grads = _check_model(cfg)
    if space in ("ada", "ortho"):  # every learnable wavelet coefficient gets a gradient
        name = "scaling_filters" if space == "ada" else "angles"
        g = np.asarray(grads["encoder"]["block_0"]["mixer"][name])
        assert g.shape == (cfg.emb_dim, cfg.space.wavelet_length // (1 if space == "ada" else 2))
        assert np.all(np.abs(g) > 0)


@pytest.mark.parametrize("overrides", [
    dict(space__kind="lift", space__lifting_learnable=True, space__lifting_filter_length=4, space__level=2),
    dict(space__kind="fixed", space__layout="joint", attention__kind="longformer"),
    dict(space__kind="ada", space__layout="per_band_shared", space__dims="1d", attention__kind="linformer",
         space__init="damped_cos"),
    dict(space__kind="ortho", attention__kind="performer", attention__performer_kernel="favor"),
    dict(mixer="wavelet_mixing", mixing__mode="level", mixing__level=2, attention__kind="identity"),
    dict(mixer="fnet", attention__kind="identity", norm="post"),
    dict(position="rope", norm="wavspa_official", space__kind="fixed", space__dims="1d"),
    dict(position="learned", attention__full_impl="chunked", attention__chunk_size=5, attention_dropout=0.2),
], ids=["learnable-lift", "joint", "shared", "favor", "wavelet_mixing", "fnet", "rope-official", "chunked"])
@pytest.mark.slow
def test_other_variants_build_train_and_ignore_padding(overrides):
    params, grads = _check_model(tiny_config(**overrides))
    if overrides.get("space__lifting_learnable"):
        mixer = grads["encoder"]["block_0"]["mixer"]
        assert np.all(np.abs(np.asarray(mixer["predict"])) > 0) and np.all(np.abs(np.asarray(mixer["update"])) > 0)


@pytest.mark.parametrize("readout", ["CLS", "CLS2", "MEAN"])
def test_classification_readouts_ignore_padding(readout):
    # CLS prepends a token: inputs of N-1 give the same internal length N as the other tests.
    n, lengths = (N - 1, LENGTHS - 1) if readout == "CLS" else (N, LENGTHS)
    params, _ = _check_model(tiny_config(readout=readout), task_kind="classification", n=n, lengths=lengths)
    assert ("cls" in params["encoder"]) == (readout == "CLS")  # only CLS prepends a token


def test_pooling_formulas():
    x = np.random.default_rng(0).normal(size=(2, 5, 3)).astype(np.float32)
    mask = np.arange(5)[None, :] < np.array([[5], [3]])
    np.testing.assert_allclose(np.asarray(pool(x, mask, "MEAN")), [x[0].mean(0), x[1, :3].mean(0)], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(pool(x, mask, "CLS2")), [x[0, 0] + x[0, 4], x[1, 0] + x[1, 2]], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(pool(x, mask, "CLS")), x[:, 0])


@pytest.mark.parametrize("interaction,width", [("nli", 4), ("concat", 2)])
def test_dual_encoder_shares_the_encoder_and_combines_pooled_vectors(interaction, width):
    cfg = tiny_config(dual_interaction=interaction, readout="MEAN")
    model = build_model(cfg, vocab_size=VOCAB, num_classes=2, max_length=N, task_kind="dual")
    a, b, _ = _tokens()
    pair = jnp.asarray(a[None])  # [1, 2, n]: documents of lengths 16 and 11
    lengths = jnp.asarray(LENGTHS[None])
    params = model.init(key(), pair, lengths)
    assert set(params["params"]) == {"encoder", "head"}  # one encoder for both documents
    assert params["params"]["head"]["mlp"]["kernel"].shape[0] == width * cfg.emb_dim
    encode = lambda p, lens: np.asarray(model.apply(params, p, lens, method="encode"))  # noqa: E731
    pooled = encode(pair, lengths)
    # u depends on document 1 only; the pooled vectors are the single-document encodings.
    other_second = jnp.asarray(np.stack([a[0], a[0]])[None])
    np.testing.assert_allclose(encode(other_second, jnp.asarray([[16, 16]]))[:, 0], pooled[:, 0], atol=1e-6)
    single = model.apply(params, jnp.asarray(a), jnp.asarray(LENGTHS),
                         method=lambda m, x, lens: pool(*m.encoder_module(x, lens), "MEAN"))
    np.testing.assert_allclose(np.asarray(single), pooled[0], atol=1e-6)
    # Swapping the documents == the head applied to (v, u).
    swapped = model.apply(params, pair[:, ::-1], lengths[:, ::-1])
    head_vu = model.apply(params, pooled[:, 1], pooled[:, 0], method=lambda m, u, v: m.head(u, v))
    np.testing.assert_allclose(np.asarray(swapped), np.asarray(head_vu), atol=1e-5)
    assert model.apply(params, pair, lengths).shape == (1, 2)
    # The logits are an explicit float64 MLP on the combined pooled vectors, from the head's params.
    head = params["params"]["head"]
    u, v = (pooled[:, i].astype(np.float64) for i in (0, 1))
    combined = np.concatenate([u, v, u * v, u - v] if interaction == "nli" else [u, v], axis=-1)
    dense = lambda h, name: h @ np.asarray(head[name]["kernel"], np.float64) + np.asarray(head[name]["bias"])  # noqa: E731
    expected = dense(np.maximum(dense(np.maximum(dense(combined, "mlp"), 0.0), "mlp2"), 0.0), "logits")
    np.testing.assert_allclose(np.asarray(model.apply(params, pair, lengths)), expected, atol=1e-5)


def test_bfloat16_compute_keeps_float32_params_and_matches_float32():
    a, _, pad = _tokens()
    lengths = jnp.asarray(LENGTHS)
    models = {dtype: build_model(tiny_config(dtype=dtype, space__kind="ada"), vocab_size=VOCAB,
                                 num_classes=CLASSES, max_length=N, task_kind="token")
              for dtype in ("float32", "bfloat16")}
    params = models["float32"].init(key(), a, lengths)  # the same float32 params serve both
    assert jax.tree.structure(params) == jax.tree.structure(jax.eval_shape(models["bfloat16"].init, key(), a, lengths))
    out32 = np.asarray(models["float32"].apply(params, a, lengths))
    out16 = np.asarray(jax.jit(models["bfloat16"].apply)(params, a, lengths))
    assert out16.dtype == np.float32 and np.isfinite(out16).all()
    # Measured max |bf16 - f32| over the valid outputs: 0.0150 (|outputs| up to 2.3; CPU, jax
    # 0.10.2); the tolerance is about twice that.
    np.testing.assert_allclose(out16[~pad], out32[~pad], atol=0.03, rtol=0)
    assert np.abs(out16 - out32).max() > 0  # really computed in bfloat16


def test_block_variants_differ():
    a, _, _ = _tokens()
    outs = []
    for norm in ("pre", "post", "wavspa_official"):
        model = build_model(tiny_config(norm=norm), vocab_size=VOCAB, num_classes=CLASSES, max_length=N,
                            task_kind="token")
        params = model.init(key(), a, jnp.asarray(LENGTHS))
        if norm == "wavspa_official":  # no LayerNorm before the MLP
            assert set(params["params"]["encoder"]["block_0"]) == {"mixer", "mlp", "norm_mixer"}
        outs.append(np.asarray(model.apply(params, a, jnp.asarray(LENGTHS))))
    assert np.abs(outs[0] - outs[1]).max() > 1e-4 and np.abs(outs[0] - outs[2]).max() > 1e-4


def _layer_norm(h, p):
    mean, var = h.mean(-1, keepdims=True), h.var(-1, keepdims=True)
    return (h - mean) / np.sqrt(var + 1e-6) * p["scale"] + p["bias"]


def _gelu(h):  # flax's default: the tanh approximation
    return 0.5 * h * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (h + 0.044715 * h ** 3)))


@pytest.mark.parametrize("norm", ["pre", "post", "wavspa_official"])
def test_block_variants_equal_their_formulas(norm):
    """Each EncoderBlock variant (eval mode) against its formula in float64 NumPy, with a linear
    mixer h W + b and random values for every parameter (LayerNorm scales and biases included):

    * pre:  x1 = x + mix(LN1(x));         out = x1 + MLP(LN2(x1))
    * post: x1 = LN1(x + mix(x));         out = LN2(x1 + MLP(x1))
    * wavspa_official: x0 = x * mask;     x1 = x0 + mix(LN1(x0)); out = x1 + MLP(x1)
    """
    b, n, d, mlp_dim = 2, 64, 32, 48
    block = EncoderBlock(mixer=functools.partial(LinearMap), mlp_dim=mlp_dim, norm=norm)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(b, n, d)).astype(np.float32)
    mask = np.arange(n)[None, :] < np.array([[n], [40]])
    shapes = jax.eval_shape(block.init, key(), x, mask)["params"]
    params = jax.tree.map(lambda s: (rng.normal(size=s.shape) / np.sqrt(s.shape[0] if len(s.shape) == 2 else 4)
                                     ).astype(np.float32), shapes)
    out = np.asarray(jax.jit(block.apply)({"params": params}, x, mask))

    p = jax.tree.map(lambda a: np.asarray(a, np.float64), params)
    mix = lambda h: h @ p["mixer"]["map"]["kernel"] + p["mixer"]["map"]["bias"]  # noqa: E731
    dense = lambda h, name: h @ p["mlp"][name]["kernel"] + p["mlp"][name]["bias"]  # noqa: E731
    mlp = lambda h: dense(_gelu(dense(h, "Dense_0")), "Dense_1")  # noqa: E731
    ln1 = lambda h: _layer_norm(h, p["norm_mixer"])  # noqa: E731
    ln2 = lambda h: _layer_norm(h, p["norm_mlp"])  # noqa: E731
    x64 = x.astype(np.float64)
    if norm == "pre":
        x1 = x64 + mix(ln1(x64))
        expected = x1 + mlp(ln2(x1))
    elif norm == "post":
        x1 = ln1(x64 + mix(x64))
        expected = ln2(x1 + mlp(x1))
    else:
        assert set(params) == {"mixer", "mlp", "norm_mixer"}  # no LayerNorm before the MLP
        x0 = x64 * mask[..., None]
        x1 = x0 + mix(ln1(x0))
        expected = x1 + mlp(x1)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


@pytest.mark.parametrize("overrides,match", [
    (dict(attention__kind="flash"), r"attention.kind.*'full'.*'linear'.*'linformer'.*'longformer'.*'performer'"),
    (dict(space__kind="hartley"), r"space.kind.*'none'.*'fourier'.*'fixed'.*'ada'.*'ortho'.*'lift'"),
    (dict(mixer="mlp"), r"config.model.mixer"),
    (dict(readout="FIRST"), r"readout.*'CLS', 'CLS2', 'MEAN'"),
    (dict(space__layout="stacked"), r"space.layout"),
    (dict(num_heads=3), r"qkv_dim = 8 is not divisible by num_heads = 3"),
    (dict(mixer="fnet", position="rope"), r"rope"),
    (dict(space__kind="ortho", space__wavelet_length=7), r"wavelet_length = 7 must be even"),
    (dict(space__dims="2d", space__layout="joint", space__level=2, space__kind="fixed"), r"joint.*level=1"),
    (dict(dtype="float16"), r"dtype"),
])
def test_config_validation_names_the_key(overrides, match):
    with pytest.raises(ValueError, match=match):
        build_model(tiny_config(**overrides), vocab_size=VOCAB, num_classes=CLASSES, max_length=N,
                    task_kind="classification")


def test_unknown_wavelet_and_task_kind_raise_clear_errors():
    for overrides in (dict(space__kind="fixed", space__wavelet="db99x"), dict(mixer="wavelet_mixing",
                                                                              mixing__wavelet="morlet")):
        with pytest.raises(UnknownWaveletError):
            build_model(tiny_config(**overrides), vocab_size=VOCAB, num_classes=CLASSES, max_length=N,
                        task_kind="classification")
    with pytest.raises(ValueError, match="task_kind"):
        build_model(tiny_config(), vocab_size=VOCAB, num_classes=CLASSES, max_length=N, task_kind="lm")
