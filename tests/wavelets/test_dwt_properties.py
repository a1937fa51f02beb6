"""DWT properties beyond pywt agreement: per-channel filters, any axis, gradients, errors, masks."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import pywt

import wavspa_flax.wavelets as wl
from tests.wavelets.helpers import assert_close_f32, compile_fast, level_warnings, run_compiled, stacked_bank


def test_per_channel_filters_equal_the_single_filter_transform_per_channel():
    """(C, L) banks with channel_axis give, channel by channel, the shared-bank transform."""
    names = ["db4", "random lattice"]
    rng = np.random.default_rng(0)
    random_h = np.asarray(wl.lattice_scaling_filter(rng.uniform(0, 2 * np.pi, 4)), np.float64)  # orthogonal
    banks = [wl.filter_bank("db4"), wl.qmf_filter_bank(random_h)]
    stacked = wl.FilterBank(*[np.stack([b[i] for b in banks]) for i in range(4)])
    x = rng.standard_normal((2, 2, 37)).astype(np.float32)  # channels on axis 1, transform axis 2

    def run(x):
        per_channel = wl.wavedec(x, stacked, 2, axis=-1, mode="symmetric", channel_axis=1)
        rec = wl.waverec(per_channel, stacked, axis=-1, mode="symmetric", channel_axis=1, length=37)
        single = [wl.wavedec(x[:, c], banks[c], 2, axis=-1, mode="symmetric") for c in range(2)]
        single_rec = [wl.waverec(s, banks[c], axis=-1, mode="symmetric", length=37) for c, s in enumerate(single)]
        return per_channel, rec, single, single_rec

    per_channel, rec, single, single_rec = run_compiled(run, jnp.asarray(x))
    for c in range(2):
        for a, b in zip(per_channel, single[c]):
            assert_close_f32(a[:, c], b, f"channel {c} ({names[c]})", rel=1e-6)
        assert_close_f32(rec[:, c], single_rec[c], f"channel {c} inverse", rel=1e-6)
    assert_close_f32(rec, x, "per-channel perfect reconstruction")


def test_any_axis_and_batch_layout_matches_pywt():
    """Transform axis 1 of a 4-D array, per-channel filters on the last axis (not adjacent)."""
    x = np.random.default_rng(1).standard_normal((2, 29, 3, 2)).astype(np.float32)
    bank = stacked_bank(["db3", "sym3"])  # (2, 6)

    def run(x):
        shared = wl.wavedec(x, "db3", 2, axis=1, mode="reflect")
        per_channel = wl.wavedec(x, bank, 2, axis=1, mode="reflect", channel_axis=-1)
        return shared, per_channel

    shared, per_channel = run_compiled(run, jnp.asarray(x))
    for ours, ref in zip(shared, pywt.wavedec(x.astype(np.float64), "db3", mode="reflect", level=2, axis=1)):
        assert_close_f32(ours, ref, "axis=1 shared")
    for c, name in enumerate(["db3", "sym3"]):
        ref = pywt.wavedec(x[..., c].astype(np.float64), name, mode="reflect", level=2, axis=1)
        for ours, theirs in zip(per_channel, ref):
            assert_close_f32(ours[..., c], theirs, f"axis=1 channel {name}")


def test_vmap_over_the_transform_gives_the_batched_transform():
    x = jnp.asarray(np.random.default_rng(2).standard_normal((4, 21)).astype(np.float32))
    mapped, batched = run_compiled(
        lambda x: (jax.vmap(lambda row: wl.wavedec(row, "db2", 2, mode="zero"))(x),
                   wl.wavedec(x, "db2", 2, mode="zero")), x
    )
    for a, b in zip(mapped, batched):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-6)


def _check_directional_derivatives(loss, x, h, rng):
    """Reverse-mode gradients of ``loss(x, h)`` vs float64 central differences along 3 random
    directions (run under ``jax.enable_x64``); returns the gradients w.r.t. ``x`` and ``h``."""
    grad_x, grad_h = run_compiled(jax.grad(loss, argnums=(0, 1)), x, h)
    loss = compile_fast(loss, x, h)
    eps = 1e-6
    for _ in range(3):
        vx, vh = jnp.asarray(rng.standard_normal(x.shape)), jnp.asarray(rng.standard_normal(h.shape))
        numeric = (loss(x + eps * vx, h + eps * vh) - loss(x - eps * vx, h - eps * vh)) / (2 * eps)
        analytic = jnp.sum(grad_x * vx) + jnp.sum(grad_h * vh)
        np.testing.assert_allclose(float(analytic), float(numeric), rtol=1e-6, atol=1e-8)
    return grad_x, grad_h


@pytest.mark.parametrize("mode", ["symmetric", "periodization"])
def test_gradients_wrt_inputs_and_per_channel_filters_match_finite_differences(mode):
    """Reverse-mode gradients (the kernels' custom VJPs) vs float64 central differences along
    random directions, through wavedec + a band-weighted loss + waverec, w.r.t. the signal and
    the (C, L) scaling filters of an AdaWavSpA-style bank (2 levels, odd length)."""
    rng = np.random.default_rng(3)
    with jax.enable_x64(True):
        x = jnp.asarray(rng.standard_normal((2, 13, 2)))
        h = rng.standard_normal((2, 4))
        h = jnp.asarray(h / np.linalg.norm(h, axis=1, keepdims=True))  # moderate gains: small FD error

        def loss(x, h):
            bank = wl.qmf_filter_bank(h)
            coeffs = wl.wavedec(x, bank, 2, axis=1, mode=mode, channel_axis=2)
            weighted = [c * (i + 1.5) for i, c in enumerate(coeffs)]
            return jnp.sum(jnp.sin(wl.waverec(weighted, bank, axis=1, mode=mode, channel_axis=2, length=13)))

        grad_x, grad_h = _check_directional_derivatives(loss, x, h, rng)
        assert float(jnp.min(jnp.abs(grad_h))) > 0  # every tap of every channel gets a gradient


@pytest.mark.parametrize("mode", ["symmetric", "periodization"])
@pytest.mark.parametrize("per_channel", [True, False])
@pytest.mark.slow
def test_filter_gradients_over_several_blocks_match_finite_differences(mode, per_channel):
    """The filter gradients are summed in blocks of ``_conv.GRAD_BLOCK`` outputs: band lengths of
    several blocks plus a remainder (n = 75, 2 levels), the channel axis before the transformed
    axis, per-channel (C, L) and shared (L,) traced filters, vs float64 central differences."""
    from wavspa_flax.wavelets import _conv

    n = 4 * _conv.GRAD_BLOCK + 11
    rng = np.random.default_rng(5)
    with jax.enable_x64(True):
        x = jnp.asarray(rng.standard_normal((2, 3, n)))  # (batch, channel, sequence)
        h = rng.standard_normal((3, 6) if per_channel else (6,))
        h = jnp.asarray(h / np.linalg.norm(h, axis=-1, keepdims=True))
        channel_axis = 1 if per_channel else None

        def loss(x, h):
            bank = wl.qmf_filter_bank(h)
            coeffs = wl.wavedec(x, bank, 2, axis=-1, mode=mode, channel_axis=channel_axis)
            weighted = [c * (i + 1.5) for i, c in enumerate(coeffs)]
            rec = wl.waverec(weighted, bank, axis=-1, mode=mode, channel_axis=channel_axis, length=n)
            return jnp.sum(jnp.sin(rec))

        grad_x, grad_h = _check_directional_derivatives(loss, x, h, rng)
        assert grad_h.shape == h.shape and float(jnp.min(jnp.abs(grad_h))) > 0


def test_input_gradient_of_a_fixed_orthogonal_transform_is_its_adjoint():
    """For an orthogonal wavelet in periodization mode the transform is orthogonal, so the
    gradient of <wavedec(x), c> w.r.t. x is waverec(c) (constant filters: no filter gradient)."""
    rng = np.random.default_rng(6)
    x = jnp.asarray(rng.standard_normal((3, 32)), jnp.float32)
    coeffs = run_compiled(lambda x: wl.wavedec(x, "sym4", 2, mode="periodization"), x)
    cot = [jnp.asarray(rng.standard_normal(c.shape), jnp.float32) for c in coeffs]
    grad = run_compiled(jax.grad(lambda x: sum(jnp.sum(a * b) for a, b
                                               in zip(wl.wavedec(x, "sym4", 2, mode="periodization"), cot))), x)
    adjoint = run_compiled(lambda c: wl.waverec(c, "sym4", mode="periodization"), cot)
    assert_close_f32(grad, adjoint, "gradient == inverse transform of the cotangent")


def test_idwt_with_a_missing_band_treats_it_as_zeros_like_pywt():
    cd = np.random.default_rng(4).standard_normal(9).astype(np.float32)
    ours = run_compiled(lambda d: wl.idwt(None, d, "db2"), jnp.asarray(cd))
    assert_close_f32(ours, pywt.idwt(None, cd.astype(np.float64), "db2"), "idwt(None, cD)")


def test_length_trims_odd_reconstructions():
    x = np.random.default_rng(5).standard_normal((2, 15)).astype(np.float32)
    coeffs = wl.wavedec(x, "haar", 1)  # pywt returns 16 samples for 15
    assert wl.waverec(coeffs, "haar").shape == (2, 16)
    assert_close_f32(wl.waverec(coeffs, "haar", length=15), x, "trimmed")
    with pytest.raises(ValueError, match="length=17"):
        wl.waverec(coeffs, "haar", length=17)


def test_bad_inputs_raise_clear_errors():
    x = np.zeros((2, 64), np.float32)
    with level_warnings() as (records, _):  # above the maximum: a warning, as in pywt, not an error
        assert len(jax.eval_shape(lambda x: wl.wavedec(x, "db2", level=5), x)) == 6
    assert len(records.messages()) == 1 and "above the maximum 4" in records.messages()[0]
    assert "level=None" in records.messages()[0]
    with pytest.raises(wl.LevelError, match="negative"):
        wl.wavedec(x, "db2", level=-1)
    with pytest.raises(wl.InputDtypeError, match="astype"):
        wl.wavedec(np.zeros((2, 64), np.int32), "db2")
    with pytest.raises(TypeError):  # InputDtypeError is a TypeError
        wl.dwt(jnp.zeros(8, jnp.int32), "haar")
    with pytest.raises(wl.ModeError, match="periodization"):
        wl.dwt(x, "db2", mode="circular")
    with pytest.raises(ValueError, match="channel_axis"):
        wl.dwt(x, stacked_bank(["db2", "sym2"]))
    with pytest.raises(wl.FilterLengthError, match="rows"):
        wl.dwt(np.zeros((2, 64, 3), np.float32), stacked_bank(["db2", "sym2"]), axis=1, channel_axis=2)
    with pytest.raises(wl.CoefficientShapeError, match="coeffs\\[1\\]"):
        wl.waverec([np.zeros((2, 17), np.float32), np.zeros((2, 14), np.float32)], "db2")


def _pywt_support(n, level, mode, length, rng):
    """Brute force: which inputs reach each coefficient, from the Jacobian of pywt.wavedec with
    a random (generic, so no exact cancellation) filter bank of the given length."""
    bank = [rng.standard_normal(length) for _ in range(4)]
    wavelet = pywt.Wavelet("random", filter_bank=bank)
    responses = pywt.wavedec(np.eye(n), wavelet, mode=mode, level=level, axis=1)  # [input, coef]
    return [np.abs(r) > 1e-12 for r in responses]


@pytest.mark.parametrize("length, modes", [(4, wl.MODES), (6, ("periodization", "antireflect"))])
def test_coefficient_support_masks_match_brute_force_support(length, modes):
    rng = np.random.default_rng(length)
    n, level = 4 * length - 1, 2
    masks = np.stack([np.arange(n) < 7, np.arange(n) >= 12, rng.random(n) < 0.3, np.zeros(n, bool)])

    def run(m):
        return {mode: wl.coefficient_support_masks(m, length, level, mode=mode) for mode in modes}

    ours = run_compiled(run, jnp.asarray(masks))
    for mode in modes:
        support = _pywt_support(n, level, mode, length, rng)
        assert len(ours[mode]) == len(support) == level + 1
        for band, (mine, reach) in enumerate(zip(ours[mode], support)):
            expected = (masks.astype(int) @ reach.astype(int)) > 0  # [mask, coef]
            np.testing.assert_array_equal(np.asarray(mine), expected, err_msg=f"{mode} band {band}")
