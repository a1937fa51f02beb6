"""Orthogonal lattice filters (OrthoWavSpA, eq. 5-6): properties for any angles, exact
factorisation of known wavelets, the official construction, reconstruction and gradients."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import pywt

import wavspa_flax.wavelets as wl
from tests.wavelets.helpers import assert_close_f32, run_compiled
from wavspa_flax.wavelets import lattice as lattice_module


def _official_lattice(angles: np.ndarray) -> np.ndarray:
    """The official code's construction written with explicit matrices (D.1c of the peers notes):
    C = e_0; for each angle C = C . blockdiag(A, ..., A) . S with A = [[sin, cos], [cos, -sin]] and
    S the cyclic right shift (S[i, i+1] = 1); finally C = C . S^-1."""
    length = 2 * len(angles)
    shift = np.roll(np.eye(length), 1, axis=1)
    c = np.eye(length)[0]
    for theta in angles:
        a = np.array([[np.sin(theta), np.cos(theta)], [np.cos(theta), -np.sin(theta)]])
        c = c @ np.kron(np.eye(length // 2), a) @ shift
    return c @ np.linalg.inv(shift)


def _double_shift_gram(h: np.ndarray) -> np.ndarray:
    """[..., m] = sum_k h_k h_{k+2m} for m = 0 .. L/2-1."""
    length = h.shape[-1]
    return np.stack([np.sum(h[..., 2 * m :] * h[..., : length - 2 * m], -1) for m in range(length // 2)], -1)


def test_random_angles_give_orthonormal_lowpass_filters():
    rng = np.random.default_rng(0)
    angles = rng.uniform(-10, 10, (64, 8))
    with jax.enable_x64(True):
        h = np.asarray(wl.lattice_scaling_filter(jnp.asarray(angles)))
        raw = np.asarray(wl.lattice_scaling_filter(jnp.asarray(angles), lowpass=False))
    delta = np.zeros(8)
    delta[0] = 1.0
    for filt in (h, raw):  # orthonormal to even shifts for ANY angles, projected or not
        np.testing.assert_allclose(_double_shift_gram(filt), np.broadcast_to(delta, (64, 8)), atol=1e-12)
    np.testing.assert_allclose(h.sum(-1), np.sqrt(2), atol=1e-12)  # low-pass after the projection
    total = angles.sum(-1)
    np.testing.assert_allclose(raw.sum(-1), np.sin(total) + np.cos(total), atol=1e-12)  # raw: not low-pass
    assert np.max(np.abs(raw.sum(-1) - np.sqrt(2))) > 0.5
    # float32 (the training dtype) keeps the properties to float32 precision
    h32 = np.asarray(wl.lattice_scaling_filter(jnp.asarray(angles, jnp.float32)))
    np.testing.assert_allclose(h32.sum(-1), np.sqrt(2), atol=1e-5)
    np.testing.assert_allclose(_double_shift_gram(h32), np.broadcast_to(delta, (64, 8)), atol=1e-5)


def test_raw_lattice_reproduces_the_official_construction():
    rng = np.random.default_rng(1)
    angles = rng.uniform(0, 2 * np.pi, (5, 8))  # the official init range
    with jax.enable_x64(True):
        ours = np.asarray(wl.lattice_scaling_filter(jnp.asarray(angles), lowpass=False))
    for row, theta in zip(ours, angles):
        np.testing.assert_allclose(row, _official_lattice(theta), atol=1e-12)
    # eq. 6: one angle gives [sin, cos]
    np.testing.assert_allclose(np.asarray(wl.lattice_scaling_filter(jnp.asarray([0.3]), lowpass=False)),
                               [np.sin(0.3), np.cos(0.3)], atol=1e-7)


ORTHOGONAL = [n for n in pywt.wavelist(kind="discrete") if pywt.Wavelet(n).orthogonal and n != "dmey"]
KNOWN = ["haar", "db2", "db4", "db8", "sym4", "sym8", "coif2"]


def test_lattice_angles_reproduce_every_orthogonal_wavelet_in_float64():
    """Exact factorisation of haar, db1-db38, sym2-sym20, coif1-coif17: the lattice recursion
    (the same code as lattice_scaling_filter, run by numpy in float64) rebuilds dec_lo to 1e-12,
    and the angles sum to pi/4, so the low-pass projection leaves them unchanged."""
    for name in ORTHOGONAL:
        angles = wl.lattice_angles(name)
        reference = np.asarray(pywt.Wavelet(name).dec_lo)
        assert angles.shape == (len(reference) // 2,)
        np.testing.assert_allclose(angles.sum(), np.pi / 4, atol=1e-9, err_msg=name)
        np.testing.assert_allclose(lattice_module._build(angles, np), reference, atol=1e-12, err_msg=name)
    assert len(ORTHOGONAL) == 75


def test_lattice_scaling_filter_reproduces_known_wavelets_in_float32():
    """The jax path in float32 (the training dtype) to 1e-5 for representatives (db8 / L=16 is
    the paper's OrthoWavSpA length); lowpass=False gives the same filters."""
    groups = {}
    for name in KNOWN:
        groups.setdefault(pywt.Wavelet(name).dec_len, []).append(name)
    angles = {length: jnp.asarray(np.stack([wl.lattice_angles(n) for n in names]), jnp.float32)
              for length, names in groups.items()}
    filters = run_compiled(lambda a: {k: wl.lattice_scaling_filter(v) for k, v in a.items()}, angles)  # one compile
    for length, names in groups.items():
        reference = np.stack([pywt.Wavelet(n).dec_lo for n in names])
        np.testing.assert_allclose(np.asarray(filters[length]), reference, atol=1e-5, err_msg=str(names))
    raw = wl.lattice_scaling_filter(jnp.asarray(wl.lattice_angles("sym8"), jnp.float32), lowpass=False)
    np.testing.assert_allclose(np.asarray(raw), pywt.Wavelet("sym8").dec_lo, atol=1e-5)
    # and the QMF bank of the db8 lattice is pywt's db8 bank (the OrthoWavSpA L=16 init)
    bank = wl.lattice_filter_bank(jnp.asarray(wl.lattice_angles("db8"), jnp.float32))
    for ours, theirs in zip(bank, pywt.Wavelet("db8").filter_bank):
        np.testing.assert_allclose(np.asarray(ours), theirs, atol=1e-5)


def test_random_lattice_banks_reconstruct_perfectly_per_channel():
    """Per-channel lattice banks with random angles - projected (C=4, L=16, the paper's length)
    or raw (L=8) - reconstruct perfectly at an odd length; the gradient reaches every angle."""
    rng = np.random.default_rng(2)
    angles = jnp.asarray(rng.uniform(0, 2 * np.pi, (4, 8)), jnp.float32)
    raw_angles = jnp.asarray(rng.uniform(0, 2 * np.pi, (4, 4)), jnp.float32)
    x = jnp.asarray(rng.standard_normal((2, 67, 4)), jnp.float32)

    def transform(angles, lowpass):
        bank = wl.lattice_filter_bank(angles, lowpass)
        coeffs = wl.wavedec(x, bank, 1, axis=1, mode="symmetric", channel_axis=2)
        rec = wl.waverec(coeffs, bank, axis=1, mode="symmetric", channel_axis=2, length=67)
        return jnp.sum(coeffs[1] ** 2), rec

    def run(angles, raw_angles):
        (_, raw_rec), grad = jax.value_and_grad(lambda a: transform(a, False), has_aux=True)(raw_angles)
        return transform(angles, True)[1], raw_rec, grad

    rec, raw_rec, grad = run_compiled(run, angles, raw_angles)
    assert_close_f32(rec, x, "projected lattice perfect reconstruction")
    assert_close_f32(raw_rec, x, "raw lattice perfect reconstruction")
    assert grad.shape == (4, 4) and bool(jnp.all(jnp.isfinite(grad))) and float(jnp.min(jnp.abs(grad))) > 0


def test_lattice_errors():
    with pytest.raises(wl.FilterLengthError, match="even length"):
        wl.init_lattice_angles("uniform", 4, 15, key=jax.random.PRNGKey(0))
    with pytest.raises(wl.UnknownWaveletError, match="not orthogonal"):
        wl.lattice_angles("bior2.2")
    with pytest.raises(wl.UnknownWaveletError, match="dmey"):
        wl.lattice_angles("dmey")
    with pytest.raises(wl.UnknownWaveletError, match="unknown wavelet name"):
        wl.lattice_angles("db99")
