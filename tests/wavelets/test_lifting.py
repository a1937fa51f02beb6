"""Lifting scheme (LiftWavSpA, eq. 7-9): an explicit loop reference, exact inverse for every
length/level/weights, support masks and gradients."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import wavspa_flax.wavelets as wl
from tests.wavelets.helpers import assert_close_f32, level_warnings, run_compiled


def _reference_lifting(x: np.ndarray, level: int, predict=(0.5, 0.5), update=(0.25, 0.25)) -> list:
    """Plain-python lifting of a 1-D signal, index by index (zero pad to even length, circular
    neighbours, predict taps centred on k..k+1, update taps on k-1..k)."""
    predict, update = np.asarray(predict, np.float64), np.asarray(update, np.float64)
    details, approx = [], np.asarray(x, np.float64)
    for _ in range(level):
        if len(approx) % 2:
            approx = np.append(approx, 0.0)
        even, odd = approx[0::2], approx[1::2]
        m = len(even)
        d = np.array([odd[k] - sum(p * even[(k + t - (len(predict) - 1) // 2) % m] for t, p in enumerate(predict))
                      for k in range(m)])
        s = np.array([even[k] + sum(u * d[(k + t - len(update) // 2) % m] for t, u in enumerate(update))
                      for k in range(m)])
        details.append(d)
        approx = s
    return [approx] + details[::-1]


def test_default_is_legall_5_3_of_eq_8_9():
    """d_k = o_k - (e_k + e_{k+1})/2 and s_k = e_k + (d_{k-1} + d_k)/4, circular (one level)."""
    x = np.random.default_rng(0).standard_normal(16)
    e, o = x[0::2], x[1::2]
    d = o - 0.5 * (e + np.roll(e, -1))
    s = e + 0.25 * (np.roll(d, 1) + d)
    ours = run_compiled(lambda x: wl.lifting_dec(x, 1), jnp.asarray(x, jnp.float32))
    assert_close_f32(ours[0], s, "s")
    assert_close_f32(ours[1], d, "d")


LENGTHS = (1, 2, 3, 5, 6, 7, 13, 37)


def test_matches_the_loop_reference_and_inverts_exactly_for_every_length_and_level():
    """Every level 0..max for odd/even/short lengths (the official liftrec breaks for odd
    intermediate lengths), default weights; one jit for the whole grid."""
    rng = np.random.default_rng(1)
    signals = {n: rng.standard_normal((2, n)).astype(np.float32) for n in LENGTHS}
    cases = [(n, level) for n in LENGTHS for level in range(wl.lifting_max_level(n) + 1)
             if n < 37 or level in (1, 3, 6)]

    def run(signals):
        out = {}
        for n, level in cases:
            coeffs = wl.lifting_dec(signals[n], level)
            out[(n, level)] = (coeffs, wl.lifting_rec(coeffs, length=n))
        return out

    for (n, level), (coeffs, rec) in run_compiled(run, {n: jnp.asarray(s) for n, s in signals.items()}).items():
        assert [c.shape[-1] for c in coeffs] == wl.lifting_band_lengths(n, level)
        for row in range(2):
            for ours, ref in zip(coeffs, _reference_lifting(signals[n][row], level)):
                assert_close_f32(ours[row], ref, f"n={n} level={level}")
        assert_close_f32(rec, signals[n], f"n={n} level={level} inverse")
    assert len(cases) > 25


def test_learnable_per_channel_weights_match_reference_and_invert():
    """(C, P) predict and (C, U) update weights (longer filters, random values): the transform
    equals the loop reference channel by channel and the inverse is exact at level 3, odd n;
    gradients reach the weights."""
    rng = np.random.default_rng(2)
    predict = (np.asarray(wl.init_lifting_weights(3, 4, 2)[0]) + 0.1 * rng.standard_normal((3, 4))).astype(np.float32)
    update = (np.asarray(wl.init_lifting_weights(3, 4, 2)[1]) + 0.1 * rng.standard_normal((3, 2))).astype(np.float32)
    x = rng.standard_normal((2, 45, 3)).astype(np.float32)

    def loss(predict, update, x):
        coeffs = wl.lifting_dec(x, 3, axis=1, predict=predict, update=update, channel_axis=-1)
        rec = wl.lifting_rec(coeffs, axis=1, predict=predict, update=update, channel_axis=-1, length=45)
        return sum(jnp.sum(c**2) for c in coeffs[1:]), (coeffs, rec)

    (_, (coeffs, rec)), grads = run_compiled(jax.value_and_grad(loss, argnums=(0, 1), has_aux=True), predict, update, x)
    for c in range(3):
        ref = _reference_lifting(x[0, :, c], 3, predict[c], update[c])
        for ours, theirs in zip(coeffs, ref):
            assert_close_f32(ours[0, :, c], theirs, f"channel {c}")
    assert_close_f32(rec, x, "inverse with learned weights")
    assert all(float(jnp.min(jnp.abs(g))) > 0 for g in grads)


def test_lifting_support_masks_match_brute_force_support():
    """Support from the Jacobian of the loop reference with random weights (no cancellation)."""
    rng = np.random.default_rng(3)
    n, level = 21, 3
    p, u = rng.uniform(0.5, 1.5, 2), rng.uniform(0.5, 1.5, 2)
    jacobian = [np.stack(b) for b in zip(*[_reference_lifting(np.eye(n)[i], level, p, u) for i in range(n)])]
    masks = np.stack([np.arange(n) < 5, np.arange(n) >= 17, rng.random(n) < 0.3])
    ours = run_compiled(lambda m: wl.lifting_support_masks(m, level), jnp.asarray(masks))
    for band, (mine, jac) in enumerate(zip(ours, jacobian)):
        expected = (masks.astype(int) @ (np.abs(jac) > 1e-12).astype(int)) > 0
        np.testing.assert_array_equal(np.asarray(mine), expected, err_msg=f"band {band}")


def test_lifting_errors():
    x = np.zeros((2, 8), np.float32)
    with level_warnings() as (records, _):  # above the maximum: a warning, the bands stay 1 long
        assert [c.shape[-1] for c in jax.eval_shape(lambda x: wl.lifting_dec(x, 4), x)] == [1, 1, 1, 2, 4]
    assert len(records.messages()) == 1 and "maximum 3" in records.messages()[0]
    with pytest.raises(wl.LevelError, match="negative"):
        wl.lifting_dec(x, -1)
    with pytest.raises(wl.InputDtypeError):
        wl.lifting_dec(np.zeros(8, np.int64), 1)
    with pytest.raises(ValueError, match="channel_axis"):
        wl.lifting_dec(x, 1, predict=np.ones((2, 2), np.float32))
    with pytest.raises(wl.CoefficientShapeError, match="equal shapes"):
        wl.lifting_rec([np.zeros((2, 4), np.float32), np.zeros((2, 3), np.float32)])
