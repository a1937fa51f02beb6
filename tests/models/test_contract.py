"""The contract every registered attention and space keeps, checked for each registry entry.

The tests are parametrised by the registries, so a new attention or space file gets these checks
without editing any test, and ``python -m pytest -m "not slow" -k <name>`` runs them for it.
The contract (the docstrings of :mod:`wavspa_flax.attention.base` and
:mod:`wavspa_flax.spaces.base`): ``[B, n, f] -> [B, n, f]`` in the compute dtype; masked keys
never influence a valid output; finite outputs and gradients, also for exact-zero rows (a
wavelet space zeroes the padding before its transform, so its attentions see zero rows that may
be marked valid) and for an example with a single valid position.

The last test registers toy classes from here (two attentions with the same option name, one
whose option clashes with a built-in's, and a DCT space) and runs the same checks on them.
"""

from __future__ import annotations

import warnings

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lra.config import load_config
from tests.models.helpers import key, length_mask, tiny_config
from wavspa_flax.attention import ATTENTIONS, MultiHeadAttention, attention_factory
from wavspa_flax.attention.base import zero_masked
from wavspa_flax.errors import ConfigError
from wavspa_flax.registry import ModuleFactory, RegistrationWarning, option
from wavspa_flax.spaces import SPACES, attend_bands, space_factory

B, N, F = 3, 16, 6
LENGTHS = [16, 9, 1]
REPO_CONFIG = "configs/listops.py"


def _inputs(width: int, seed: int = 0):
    """x with zeroed padding rows (as a wavelet space passes them), the same x with other padding
    content, the mask, and a copy whose first example has exact-zero *valid* rows."""
    rng = np.random.default_rng(seed)
    mask = length_mask(LENGTHS, N)
    x = rng.normal(size=(B, N, width)).astype(np.float32) * mask[..., None]
    other = np.where(mask[..., None], x, rng.normal(size=x.shape)).astype(np.float32)
    zero_rows = x.copy()
    zero_rows[0, ::2] = 0.0
    zero_rows[2] = 0.0  # the single valid position is an exact zero too
    return x, other, mask, zero_rows


def check_module_contract(module, width: int) -> None:
    """The shared checks (see the module docstring) on a built attention or space module (one
    compilation: the initialisation, every forward and gradient run in one jitted function)."""
    x, other, mask, zero_rows = _inputs(width)

    def loss(p, x):
        return jnp.sum(module.apply(p, x, mask) ** 2)

    def everything(rng, x, other, zero_rows):
        p = module.init(rng, x, mask)
        outs = module.apply(p, x, mask), module.apply(p, other, mask), module.apply(p, x, None)
        return outs, jax.grad(loss, argnums=(0, 1))(p, x), jax.grad(loss, argnums=(0, 1))(p, zero_rows)

    (out, out_other, unmasked), *grads = jax.jit(everything)(key(), x, other, zero_rows)
    out = np.asarray(out)
    assert out.shape == x.shape and out.dtype == np.float32
    assert np.isfinite(out).all()
    np.testing.assert_allclose(np.asarray(out_other)[mask], out[mask], atol=2e-5,
                               err_msg="padded content changed a valid output")
    assert unmasked.shape == x.shape and np.isfinite(np.asarray(unmasked)).all()
    for what, g in zip(("inputs", "exact-zero rows"), grads):
        for path, leaf in jax.tree_util.tree_flatten_with_path(g)[0]:
            assert np.isfinite(np.asarray(leaf)).all(), f"{what}: non-finite gradient at {jax.tree_util.keystr(path)}"
    # Any width (a space may hand its attention bands of half the hidden width): shapes only.
    odd = jax.ShapeDtypeStruct((B, N, width - 1), jnp.float32)
    shape = jax.eval_shape(lambda x: module.apply(module.init(key(), x, mask), x, mask), odd)
    assert shape.shape == odd.shape


def check_bfloat16(factory: ModuleFactory, width: int) -> None:
    """With ``dtype=bfloat16`` the output is bfloat16 and finite (the parameters stay float32)."""
    module = factory(dtype=jnp.bfloat16)
    x, _, mask, _ = _inputs(width)
    params = jax.jit(module.init)(key(), x, mask)
    assert all(p.dtype == jnp.float32 for p in jax.tree.leaves(params))
    out = jax.jit(module.apply)(params, jnp.asarray(x, jnp.bfloat16), mask)
    assert out.dtype == jnp.bfloat16 and np.isfinite(np.asarray(out, np.float32)).all()


def _attention(name: str, **overrides):
    cfg = tiny_config(**overrides)
    factory = attention_factory(cfg, kind=name)
    return ModuleFactory(factory.cls, tuple(sorted({**dict(factory.options), "length": N}.items())))


@pytest.mark.parametrize("name", ATTENTIONS.names())
def test_attention_contract(name):
    check_module_contract(_attention(name)(), F)


# XLA:CPU has no bfloat16 x bfloat16 -> float32 dot (``preferred_element_type``), which the linear
# attention's key-value sum uses; accelerators have it.
_CPU_BF16_DOT = pytest.mark.xfail(jax.default_backend() == "cpu", strict=True,
                                  reason="XLA:CPU: Unsupported element type for DotThunk: BF16 x BF16 = F32")


@pytest.mark.parametrize("name", [pytest.param(n, marks=_CPU_BF16_DOT) if n == "linear" else n
                                  for n in ATTENTIONS.names()])
def test_attention_bfloat16(name):
    factory = _attention(name)
    check_bfloat16(ModuleFactory.of(factory.cls, **{k: v for k, v in factory.options if k != "dtype"}), F)


@pytest.mark.parametrize("name", SPACES.names())
def test_space_contract(name):
    cfg = tiny_config(space__kind=name, attention__kind="full")
    check_module_contract(space_factory(cfg)(), 8)


def test_every_class_registered():
    """A class whose option keys clash is not registered (a warning at import); fail here with why."""
    failures = {**ATTENTIONS.failures(), **SPACES.failures()}
    assert not failures, "\n".join(failures.values())


def test_paper_choices_are_registered():
    """The paper's five attentions and eight spaces (more may be added without editing this)."""
    assert set(ATTENTIONS.names(ablations=False)) >= {"full", "linformer", "linear", "longformer", "performer"}
    assert set(SPACES.names()) >= {"none", "fourier", "fixed", "ada", "ortho", "lift", "fourier_forward", "linear"}


# -- toy classes registered from a test -------------------------------------------------------------

class CosineAttention(MultiHeadAttention):
    """Softmax over scaled cosine similarities of the keys with |j - i| < span."""

    span: int = option(3, "toy: keys with |j - i| < span", minimum=1)

    def attend(self, q, k, v, mask, deterministic):
        del deterministic
        # rsqrt(|a|^2 + eps), not a / max(|a|, eps): the gradient of |a| at a zero row is NaN.
        unit = lambda a: a * jax.lax.rsqrt(jnp.sum(a * a, axis=-1, keepdims=True) + 1e-12)  # noqa: E731
        logits = 4.0 * jnp.einsum("bqhd,bkhd->bhqk", unit(q), unit(k))
        n = q.shape[1]
        offsets = jnp.arange(n)[:, None] - jnp.arange(n)[None, :]
        allowed = (jnp.abs(offsets) < self.span)[None, None]
        if mask is not None:
            allowed = allowed & mask[:, None, None, :]
        probs = jax.nn.softmax(jnp.where(allowed, logits, -1e9), axis=-1)
        return jnp.einsum("bhqk,bkhd->bqhd", probs, v)


class BandedMeanAttention(MultiHeadAttention):
    """The mean of the values of the keys with |j - i| < span (the same option as above)."""

    span: int = option(3, "toy: keys with |j - i| < span", minimum=1)

    def attend(self, q, k, v, mask, deterministic):
        del q, k, deterministic
        n = v.shape[1]
        offsets = jnp.arange(n)[:, None] - jnp.arange(n)[None, :]
        weights = jnp.broadcast_to((jnp.abs(offsets) < self.span)[None], (v.shape[0], n, n)).astype(v.dtype)
        if mask is not None:
            weights = weights * mask[:, None, :].astype(v.dtype)
        weights = weights / jnp.maximum(weights.sum(-1, keepdims=True), 1.0)
        return jnp.einsum("bqk,bkhd->bqhd", weights, v)


class ClashingAttention(BandedMeanAttention):
    """A field ``window`` with another default than LongformerAttention's ``window``."""

    window: int = option(5, "toy: clashes with longformer's window", minimum=1)


class RenamedAttention(BandedMeanAttention):
    """The same field under its own key."""

    window: int = option(5, "toy: its own key", key="toy_renamed_window", minimum=1)


class DctSpace(nn.Module):
    """Attention over the orthonormal DCT-II of the sequence; every coefficient sees every
    position, so a coefficient is valid where its example has a valid position."""

    attention: ModuleFactory
    dtype: object = jnp.float32

    @nn.compact
    def __call__(self, x, mask=None, *, deterministic: bool = True):
        n = x.shape[-2]
        j, k = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        basis = np.sqrt(2.0 / n) * np.cos(np.pi * (j + 0.5) * k / n)
        basis[:, 0] /= np.sqrt(2.0)
        basis = jnp.asarray(basis, jnp.float32)  # [positions, frequencies], orthonormal
        coeffs = jnp.einsum("bnd,nk->bkd", zero_masked(x, mask).astype(jnp.float32), basis)
        band_mask = None if mask is None else jnp.broadcast_to(mask.any(-1, keepdims=True), mask.shape)
        (out,) = attend_bands(self.attention, [coeffs.astype(self.dtype)], [band_mask], "per_band", deterministic)
        return zero_masked(jnp.einsum("bkd,nk->bnd", out.astype(jnp.float32), basis).astype(self.dtype), mask)


@pytest.fixture
def toy_registrations():
    ATTENTIONS.register("toy_cosine")(CosineAttention)
    ATTENTIONS.register("toy_banded")(BandedMeanAttention)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ATTENTIONS.register("toy_clash")(ClashingAttention)
    ATTENTIONS.register("toy_renamed")(RenamedAttention)
    SPACES.register("toy_dct")(DctSpace)
    try:
        yield [str(w.message) for w in caught if issubclass(w.category, RegistrationWarning)]
    finally:
        for name in ("toy_cosine", "toy_banded", "toy_clash", "toy_renamed"):
            ATTENTIONS.unregister(name)
        SPACES.unregister("toy_dct")


def test_new_classes_registered_from_a_test_keep_the_contract(toy_registrations):
    # Two new attentions share the option name 'span' with one declaration: one config key.
    # A third declares 'window' unlike the built-in Longformer: a warning naming both classes,
    # the rest of the package unaffected, and choosing it is a one-line ConfigError.
    (warning,) = toy_registrations
    assert "ClashingAttention" in warning and "LongformerAttention" in warning and "toy_clash_window" in warning
    assert "toy_clash" not in ATTENTIONS.names() and "toy_clash" in ATTENTIONS.failures()
    with pytest.raises(ConfigError, match="ClashingAttention .* unlike LongformerAttention"):
        load_config(f"{REPO_CONFIG}:toy_clash")
    assert load_config(f"{REPO_CONFIG}:transformer").model.attention.kind == "full"

    config = load_config(f"{REPO_CONFIG}:toy_cosine,toy_dct", {"scale": "smoke", "model.attention.span": 2})
    assert (config.model.attention.kind, config.model.space.kind) == ("toy_cosine", "toy_dct")
    assert load_config(f"{REPO_CONFIG}:toy_banded").model.attention.span == 3
    assert load_config(f"{REPO_CONFIG}:toy_renamed", {"model.attention.toy_renamed_window": 2}) \
        .model.attention.toy_renamed_window == 2
    # A choice accepts only its own options: the DCT space has no 'level', Longformer's options
    # are not the cosine attention's.
    with pytest.raises(ConfigError, match=r"config.model.space.level is not an option of space 'toy_dct'"):
        load_config(f"{REPO_CONFIG}:toy_cosine,toy_dct", {"model.space.level": 7})
    with pytest.raises(ConfigError, match=r"num_global_tokens is not an option of attention 'toy_cosine'"):
        load_config(f"{REPO_CONFIG}:toy_cosine", {"model.attention.num_global_tokens": 1})

    for name in ("toy_cosine", "toy_banded", "toy_renamed"):
        check_module_contract(_attention(name)(), F)
    cfg = tiny_config(space__kind="toy_dct", attention__kind="toy_cosine")
    check_module_contract(space_factory(cfg)(), 8)
