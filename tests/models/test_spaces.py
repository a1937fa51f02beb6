"""Transformed spaces: perfect reconstruction, layouts, band lengths (A.6), Table 8 parameter counts."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.models.helpers import key, length_mask, tiny_config
from tests.wavelets.helpers import level_warnings, run_compiled
from wavspa_flax import wavelets as wl
from wavspa_flax.attention.identity import IdentityAttention
from wavspa_flax.spaces import space_factory

B, N, D = 2, 32, 8
LENGTHS = [32, 21]


def _inputs(seed=0):
    x = np.random.default_rng(seed).normal(size=(B, N, D)).astype(np.float32)
    return x, length_mask(LENGTHS, N)


def _space(**overrides):
    return space_factory(tiny_config(**overrides))()


@pytest.mark.parametrize("space", [
    dict(space__kind="fixed"),  # 2-D db2 level 1 (the paper's fixed WavSpA)
    dict(space__kind="fixed", space__dims="1d", space__level=2, space__wavelet="sym3"),
    dict(space__kind="ada", space__wavelet_length=6),  # db3 init: orthogonal at init
    dict(space__kind="ortho", space__wavelet_length=6),  # random angles: always orthogonal
    dict(space__kind="ortho", space__ortho_lowpass=True, space__ortho_init="wavelet"),
    dict(space__kind="lift", space__level=3),
    dict(space__kind="lift", space__level=2, space__lifting_learnable=True, space__lifting_filter_length=4),
    dict(space__kind="fourier"),
    dict(space__kind="fourier", space__dims="1d"),
    dict(space__kind="linear"),  # identity-initialised linear map
], ids=lambda d: "-".join(str(v) for v in d.values()))
def test_identity_attention_reconstructs_the_input(space):
    """Forward transform -> identity -> backward transform returns x (pads zeroed), exactly."""
    overrides = {"attention__kind": "identity", **space}
    module = _space(**overrides)
    x, mask = _inputs()
    params = module.init(key(), x, mask)  # eager: the transforms are jitted pieces, cached by shape
    masked, unmasked = module.apply(params, x, mask), module.apply(params, x, None)
    np.testing.assert_allclose(np.asarray(masked), x * mask[..., None], atol=2e-5)
    np.testing.assert_allclose(np.asarray(unmasked), x, atol=2e-5)


def test_fourier_forward_is_attention_on_the_real_2d_spectrum():
    module = _space(space__kind="fourier_forward", attention__kind="identity")
    x, mask = _inputs(1)
    out = np.asarray(module.apply({}, x, mask))
    np.testing.assert_allclose(out, np.fft.fft2(x * mask[..., None], axes=(-2, -1), norm="ortho").real, atol=1e-5)


def _projection_lengths(params):
    """Linformer projection rows per attention module = the band length it attends over."""
    flat = jax.tree_util.tree_flatten_with_path(params)[0]
    return sorted(int(leaf.shape[0]) for path, leaf in flat if "projection" in jax.tree_util.keystr(path))


@pytest.mark.parametrize("kind,extra", [
    ("fixed", dict(space__dims="1d")), ("ada", dict(space__wavelet_length=40)),
    ("ortho", dict(space__wavelet_length=16)), ("lift", {}), ("fixed", dict(space__dims="2d")),
])
def test_a6_band_lengths_4096_three_levels(kind, extra):
    """A.6: 4096 tokens, 3 levels -> bands of 2048, 1024, 512, 512 (periodization / lifting)."""
    module = _space(space__kind=kind, space__level=3, attention__kind="linformer", **extra)
    x = jax.ShapeDtypeStruct((1, 4096, 64), jnp.float32)
    params = jax.eval_shape(module.init, key(), x)["params"]
    expected = [512, 512, 1024, 2048]
    if extra.get("space__dims") == "2d":  # three detail bands (cH, cV, cD) per level
        expected = [512] + [512] * 3 + [1024] * 3 + [2048] * 3
    assert _projection_lengths(params) == sorted(expected)
    if kind == "fixed" and extra["space__dims"] == "2d":
        widths = {int(p["query"]["kernel"].shape[0]) for name, p in params.items()}
        assert widths == {8, 16, 32}  # the hidden axis is transformed too: 64 / 2^j


@pytest.mark.parametrize("kind,extra,expected", [
    ("fixed", {}, 0),
    ("fixed", dict(space__dims="1d"), 0),
    ("ada", dict(space__wavelet_length=40), 40 * 128),  # wavelet length x d
    ("ada", dict(space__wavelet_length=16), 16 * 128),
    ("ortho", dict(space__wavelet_length=16), 8 * 128),  # wavelet length / 2 x d
    ("lift", dict(space__level=3), 0),
    ("lift", dict(space__level=3, space__lifting_learnable=True), 2 * 2 * 128),  # ours, off by default
])
def test_table8_added_wavelet_parameters(kind, extra, expected):
    module = _space(space__kind=kind, **extra)
    params = jax.eval_shape(module.init, key(), jax.ShapeDtypeStruct((1, 1024, 128), jnp.float32))["params"]
    wavelet_params = {k: v for k, v in params.items() if not k.startswith("band_") and k != "attention"}
    assert sum(int(np.prod(v.shape)) for v in jax.tree.leaves(wavelet_params)) == expected


def test_layouts_shared_weights_and_joint_attention():
    x, mask = _inputs(2)
    common = dict(space__kind="fixed", space__dims="1d", space__level=2, attention__kind="full",
                  attention_dropout=0.0)
    per_band, shared, joint = (_space(space__layout=layout, **common)
                               for layout in ("per_band", "per_band_shared", "joint"))
    attn = dict(space_factory(tiny_config(**common)).options)["attention"](length=None, name=None)

    @jax.jit
    def run(x, mask):
        shared_params = shared.init(key(1), x, mask)["params"]
        per_band_params = per_band.init(key(2), x, mask)["params"]
        joint_params = joint.init(key(3), x, mask)["params"]
        # per_band with every band's weights set to the shared ones == per_band_shared.
        tied = {name: shared_params["attention"] for name in per_band_params}
        tied_out = per_band.apply({"params": tied}, x, mask)
        shared_out = shared.apply({"params": shared_params}, x, mask)
        # joint == one attention over the concatenated bands (with the band masks), then the inverse.
        coeffs, masks, _ = joint.apply({"params": joint_params}, x, mask, method="bands")
        cat = attn.apply({"params": joint_params["attention"]}, jnp.concatenate(coeffs, 1), jnp.concatenate(masks, 1))
        parts = jnp.split(cat, np.cumsum([c.shape[1] for c in coeffs])[:-1], axis=1)
        expected = wl.waverec([p * m[..., None] for p, m in zip(parts, masks)], "db2", axis=-2,
                              mode="periodization", length=N)
        joint_out = joint.apply({"params": joint_params}, x, mask)
        shared_with_joint_weights = shared.apply({"params": joint_params}, x, mask)
        return tied_out, shared_out, expected, joint_out, shared_with_joint_weights

    shapes = lambda m: jax.eval_shape(m.init, key(), x, mask)["params"]  # noqa: E731
    assert list(shapes(shared)) == ["attention"] and sorted(shapes(per_band)) == ["band_0", "band_1", "band_2"]
    tied_out, shared_out, expected, joint_out, other = run(x, mask)
    np.testing.assert_allclose(np.asarray(tied_out), np.asarray(shared_out), atol=1e-5)
    np.testing.assert_allclose(np.asarray(joint_out), np.asarray(expected), atol=1e-5)
    assert not np.allclose(np.asarray(joint_out), np.asarray(other), atol=1e-3)  # bands do interact


def test_band_masks_mark_coefficients_that_only_see_padding():
    module = _space(space__kind="fixed", space__dims="1d", space__level=2)
    x, mask = _inputs(3)
    _, masks, _ = module.apply({}, x, mask, method="bands")
    ones = [np.ones(m.shape[1], bool) for m in masks]
    assert all(np.asarray(m[0]).all() for m in masks)  # full-length example: every coefficient valid
    assert all(not np.asarray(m[1]).all() for m in masks)  # 21 of 32 valid: the tail bands are masked
    assert [m.shape[1] for m in masks] == [8, 8, 16] == [len(o) for o in ones]


def _attention_inputs(module, params, x, mask):
    """The bands and band masks the space hands its attention modules (call order), and its output."""
    seen = []

    def record(next_fun, args, kwargs, context):
        if isinstance(context.module, IdentityAttention) and context.method_name == "__call__":
            seen.append(args[:2])
        return next_fun(*args, **kwargs)

    with nn.intercept_methods(record):
        out = module.apply(params, x, mask)
    return [b for b, _ in seen], [m for _, m in seen], out


@pytest.mark.parametrize("n,overrides", [
    (1000, dict(space__kind="fixed")),  # the paper's 2-D db2, level 1: masks per sequence band
    (1000, dict(space__kind="fixed", space__level=2)),  # 2-D, two levels: (cH, cV, cD)_2 before _1
    (1001, dict(space__kind="fixed", space__dims="1d", space__level=3)),
    (1001, dict(space__kind="ortho", space__wavelet_length=16)),
    (1000, dict(space__kind="ada", space__wavelet_length=32, space__level=2)),
    (1001, dict(space__kind="ada", space__wavelet_length=40)),
    (1001, dict(space__kind="lift", space__level=3)),
], ids=["fixed-2d", "fixed-2d-2", "fixed-1d-3", "ortho-16", "ada-32-2", "ada-40", "lift-3"])
def test_band_masks_are_the_support_masks_of_the_transform(n, overrides):
    """At realistic lengths with padding (1000 / 1001 with 613 and 1 valid positions) and the
    configs' wavelet lengths: the spaces' band masks equal ``coefficient_support_masks`` /
    ``lifting_support_masks`` for their own (L, level, mode), and every coefficient they mark
    invalid is exactly 0 in the transform of the zero-padded input (it sees only padding)."""
    module = _space(attention__kind="identity", **overrides)
    x = np.random.default_rng(4).normal(size=(3, n, D)).astype(np.float32)
    mask = length_mask([n, 613, 1], n)
    params = jax.eval_shape(module.init, key(), x, mask)  # shapes only: no forward pass needed
    params = jax.tree.map(lambda s: np.random.default_rng(5).normal(size=s.shape).astype(np.float32), params)
    space = overrides["space__kind"]
    level = overrides.get("space__level", 1)

    def expected_masks(mask):
        if space == "lift":
            return wl.lifting_support_masks(mask, level)
        length = overrides.get("space__wavelet_length", 4)  # fixed: db2
        masks = wl.coefficient_support_masks(mask, length, level, mode="periodization")
        if space == "fixed" and overrides.get("space__dims", "2d") == "2d":  # (cH, cV, cD) share one
            masks = [masks[0]] + [m for m_d in masks[1:] for m in (m_d, m_d, m_d)]
        return masks

    (coeffs, masks, _), expected = run_compiled(
        lambda p, x, m: (_attention_inputs(module, p, x, m), expected_masks(m)), params, x, mask)
    assert len(masks) == len(expected) == len(coeffs)
    for band, (got, want, c) in enumerate(zip(masks, expected, coeffs)):
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want), err_msg=f"band {band}")
        assert np.asarray(got)[0].all() and not np.asarray(got)[2].all()  # full / single-token rows
        np.testing.assert_array_equal(np.asarray(c)[~np.asarray(got)], 0.0, err_msg=f"band {band}")


def test_listops_smoke_ada_40_at_65_tokens_warns_and_reconstructs():
    """The ListOps smoke run (64 tokens + CLS, AdaWavSpA L = 40, level 1) used to raise a LevelError
    (max_level(65, 40) = 0); now it warns, gives bands of 33 and 33 and reconstructs exactly."""
    module = _space(attention__kind="identity", space__kind="ada", space__wavelet_length=40)
    x = np.random.default_rng(6).normal(size=(2, 65, D)).astype(np.float32)
    mask = length_mask([65, 30], 65)
    with level_warnings() as (records, _):
        coeffs, _, out = run_compiled(lambda x, m: _attention_inputs(module, module.init(key(), x, m), x, m), x, mask)
    assert [c.shape[1] for c in coeffs] == [33, 33]
    np.testing.assert_allclose(np.asarray(out), x * mask[..., None], atol=2e-5)
    assert len(records.messages()) == 1 and "length 65 and filters of length 40" in records.messages()[0]
