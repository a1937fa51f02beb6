"""The 1-D DWT against PyWavelets (and jaxwt where it has the mode): coefficients and round trips.

Compilation dominates the cost, so each test compiles once: wavelets of equal filter length run
together as per-channel filters (one channel per wavelet), and one jit covers many lengths,
levels and modes.
"""
from __future__ import annotations

import jax.numpy as jnp
import jaxwt
import numpy as np
import pytest
import pywt

import wavspa_flax.wavelets as wl
from tests.wavelets.helpers import DISCRETE, INEXACT, assert_close_f32, names_by_length, run_compiled, stacked_bank

# The family grid (haar, db2-db20, sym2-sym8, coif1-coif5, bior/rbio) has filter lengths
# 2..40; every discrete wavelet of those lengths runs here (sym9-sym20 and coif6 included).
BY_LENGTH = {length: names for length, names in names_by_length(DISCRETE).items() if length <= 40}
# Longer filters: representatives of each length class (db30 + coif10 share L=60, db38 is the
# longest db, coif17 the longest filter in pywt) and dmey (coefficients only: its round trip is
# inexact in pywt too). The families themselves are all covered above.
LONG = {60: ["coif10", "db30"], 62: ["dmey"], 76: ["db38"], 102: ["coif17"]}


def _channels_last_pywt(fn, x, names, **kwargs):
    """pywt applied to each channel x[..., c] with wavelet names[c]."""
    return [fn(x[..., c].astype(np.float64), name, **kwargs) for c, name in enumerate(names)]


@pytest.mark.parametrize("length", sorted(BY_LENGTH))
def test_wavedec_waverec_match_pywt_for_every_wavelet(length):
    """All wavelets of filter length L at once, in one of the 9 modes, odd and even n.

    Level 2 for L <= 8, level 1 above (compile time grows with L x levels); deeper levels of
    every mode are covered by test_every_mode_length_and_level_matches_pywt.
    """
    names = BY_LENGTH[length]
    index = length // 2
    mode = wl.MODES[index % len(wl.MODES)]
    n = (4 if length <= 8 else 2) * (length - 1) + 1 + index % 2  # odd or even, not a power of 2
    x = np.random.default_rng(length).standard_normal((2, n, len(names))).astype(np.float32)
    bank = stacked_bank(names)

    def run(x):
        coeffs = wl.wavedec(x, bank, axis=1, mode=mode, channel_axis=2)
        return coeffs, wl.waverec(coeffs, bank, axis=1, mode=mode, channel_axis=2)

    coeffs, rec_pywt_len = run_compiled(run, jnp.asarray(x))
    rec = np.asarray(rec_pywt_len)[:, :n]  # the same as length=n
    refs = _channels_last_pywt(pywt.wavedec, x, names, mode=mode, axis=1)
    for c, (name, ref) in enumerate(zip(names, refs)):
        assert len(coeffs) == len(ref) == 1 + wl.max_level(n, length)
        for band, (ours, theirs) in enumerate(zip(coeffs, ref)):
            assert_close_f32(ours[..., c], theirs, f"{name} {mode} n={n} band {band}")
        assert_close_f32(rec_pywt_len[..., c], pywt.waverec(ref, name, mode=mode, axis=1), f"{name} waverec")
        assert_close_f32(rec[..., c], x[..., c], f"{name} {mode} perfect reconstruction")
    assert [c.shape[1] for c in coeffs] == wl.coefficient_lengths(n, length, len(coeffs) - 1, mode)


# Slow tier: the everyday tier checks every family up to L = 40 above.
@pytest.mark.slow
@pytest.mark.parametrize("length", sorted(LONG))
def test_long_filters_reconstruct_perfectly(length):
    """Long filters: level-1 coefficients and waverec(wavedec(x)) == x; dmey exempt (inexact)."""
    names = LONG[length]
    mode = "symmetric" if length % 4 else "periodization"
    n = 2 * length + 1
    x = np.random.default_rng(length).standard_normal((1, n, len(names))).astype(np.float32)
    bank = stacked_bank(names)

    def run(x):
        coeffs = wl.wavedec(x, bank, 1, axis=1, mode=mode, channel_axis=2)
        return coeffs, wl.waverec(coeffs, bank, axis=1, mode=mode, channel_axis=2, length=n)

    coeffs, rec = run_compiled(run, jnp.asarray(x))
    for c, name in enumerate(names):
        ref = pywt.wavedec(x[..., c].astype(np.float64), name, mode=mode, level=1, axis=1)
        assert_close_f32(coeffs[1][..., c], ref[1], f"{name} cD_1")
        if name in INEXACT:
            assert np.max(np.abs(np.asarray(rec[..., c]) - x[..., c])) < 0.1  # pywt itself: ~2e-2
        else:
            assert_close_f32(rec[..., c], x[..., c], f"{name} {mode} perfect reconstruction")


# Lengths giving pads wider than the signal, odd lengths and levels 0..2 (haar: 0..3).
SHORT_AND_ODD = {"haar": (1, 2, 3, 5, 9), "db2": (1, 2, 3, 5, 9, 17)}


@pytest.mark.parametrize("name", sorted(SHORT_AND_ODD))
def test_every_mode_length_and_level_matches_pywt(name):
    """Shared filters, all 9 modes x short/odd lengths x every level 0..max.

    One wavedec at the maximum level per case gives every cD_j; every intermediate cA_j (the
    first band of pywt.wavedec(level=j)) is checked through waverec of the coarser bands. Level 0
    (signal shorter than the filter) runs the single-level dwt/idwt, which pywt allows.
    Biorthogonal banks meet every mode in test_wavedec_waverec_match_pywt_for_every_wavelet.
    """
    rng = np.random.default_rng(7)
    lengths = SHORT_AND_ODD[name]
    signals = {n: rng.standard_normal((3, n)).astype(np.float32) for n in lengths}
    length = pywt.Wavelet(name).dec_len
    cases = [(m, n) for m in wl.MODES for n in lengths if not (n < 2 and m in ("reflect", "antireflect"))]

    def run(signals):
        out = {}
        for mode, n in cases:
            if wl.max_level(n, length) == 0:
                ca, cd = wl.dwt(signals[n], name, mode=mode)
                out[(mode, n)] = ([ca, cd], [wl.idwt(ca, cd, name, mode=mode)])
            else:
                coeffs = wl.wavedec(signals[n], name, mode=mode)
                partial = [wl.waverec(coeffs[: k + 1], name, mode=mode) for k in range(1, len(coeffs))]
                out[(mode, n)] = (coeffs, partial)
        return out

    out = run_compiled(run, {n: jnp.asarray(s) for n, s in signals.items()})
    checked_levels = set()
    for (mode, n), (coeffs, partial) in out.items():
        x = signals[n].astype(np.float64)
        top = wl.max_level(n, length)
        what = f"{name} {mode} n={n}"
        if top == 0:
            ref = pywt.dwt(x, name, mode=mode)
            assert_close_f32(partial[0], pywt.idwt(*ref, name, mode=mode), what + " idwt")
        else:
            ref = pywt.wavedec(x, name, mode=mode)
            for level in range(1, top):  # partial[k-1] reconstructs cA_{top-k}
                ref_level = pywt.wavedec(x, name, mode=mode, level=level)
                ours = np.asarray(partial[top - level - 1])[:, : ref_level[0].shape[1]]  # pywt drops 1
                assert_close_f32(ours, ref_level[0], f"{what} cA_{level} (level={level})")
            assert_close_f32(partial[-1], pywt.waverec(ref, name, mode=mode), what + " waverec")
        checked_levels.add(top)
        assert len(coeffs) == len(ref), what
        for band, (ours, theirs) in enumerate(zip(coeffs, ref)):
            assert_close_f32(ours, theirs, f"{what} band {band}")
    assert checked_levels >= {0, 1, 2}


def test_matches_jaxwt_where_jaxwt_has_the_mode():
    """jaxwt 0.1.1 as a second peer: zero / symmetric / reflect coefficients and waverec
    (sym4 and the biorthogonal bior2.2, odd length, level 2)."""
    x = np.random.default_rng(3).standard_normal((2, 4, 41)).astype(np.float32)
    cases = [("sym4", "zero"), ("sym4", "symmetric"), ("sym4", "reflect"), ("bior2.2", "symmetric")]

    def run(x):
        out = {}
        for name, mode in cases:
            ours = wl.wavedec(x, name, 2, mode=mode)
            theirs = jaxwt.wavedec(x, name, mode=mode, level=2)
            # jaxwt's waverec has no mode argument and keeps one extra sample for odd lengths.
            out[(name, mode)] = (ours, theirs, wl.waverec(ours, name, mode=mode, length=41),
                                 jaxwt.waverec(theirs, name))
        return out

    for (name, mode), (ours, theirs, rec, rec_theirs) in run_compiled(run, jnp.asarray(x)).items():
        assert len(ours) == len(theirs) == 3
        for a, b in zip(ours, theirs):
            assert_close_f32(a, b, f"{name} {mode} vs jaxwt")
        assert_close_f32(rec, np.asarray(rec_theirs)[..., :41], f"{name} {mode} waverec vs jaxwt")
        assert_close_f32(rec, x, f"{name} {mode} perfect reconstruction")
