"""Filter banks, the QMF relation (eq. 4), level limits, band lengths and name errors."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import pywt

import wavspa_flax.wavelets as wl
from tests.wavelets.helpers import DISCRETE, names_by_length

ORTHOGONAL = [n for n in DISCRETE if pywt.Wavelet(n).orthogonal]


def test_filter_bank_accepts_names_wavelets_banks_and_sequences():
    ref = pywt.Wavelet("sym3").filter_bank
    for spec in ("sym3", pywt.Wavelet("sym3"), wl.FilterBank(*ref), list(ref)):
        bank = wl.filter_bank(spec)
        assert isinstance(bank, wl.FilterBank)
        for ours, theirs in zip(bank, ref):
            np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))


def test_qmf_bank_reproduces_every_orthogonal_pywt_bank():
    """dec_hi[k] = (-1)^(k+1) h[L-1-k], rec_lo = flip(h), rec_hi[k] = (-1)^k h[k] with h = dec_lo
    gives pywt's bank exactly for haar, db*, sym*, coif* (and dmey); batched by length."""
    for _length, names in names_by_length(ORTHOGONAL).items():
        h = np.stack([pywt.Wavelet(n).dec_lo for n in names])
        bank = wl.qmf_filter_bank(h)
        for c, name in enumerate(names):
            for field, ours, theirs in zip(bank._fields, bank, pywt.Wavelet(name).filter_bank):
                np.testing.assert_allclose(np.asarray(ours)[c], theirs, atol=1e-12, err_msg=f"{name} {field}")
    assert len(ORTHOGONAL) == 76


def test_qmf_bank_of_traced_filters_equals_the_numpy_bank():
    h = np.stack([pywt.Wavelet("db4").dec_lo, pywt.Wavelet("sym4").dec_lo]).astype(np.float32)
    traced = jax.jit(wl.qmf_filter_bank)(jnp.asarray(h))
    for ours, ref in zip(traced, wl.qmf_filter_bank(h)):
        assert isinstance(ours, jax.Array)
        np.testing.assert_allclose(np.asarray(ours), ref, atol=1e-7)


def test_qmf_bank_is_not_a_biorthogonal_bank():
    """The relation is specific to orthogonal wavelets: it must NOT reproduce bior2.2."""
    bank = wl.qmf_filter_bank(np.asarray(pywt.Wavelet("bior2.2").dec_lo))
    assert not np.allclose(np.asarray(bank.rec_lo), pywt.Wavelet("bior2.2").rec_lo)


def test_max_level_matches_pywt():
    for n in (0, 1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 100, 1000, 4096, 4097):
        for length in (2, 3, 4, 6, 8, 16, 40, 102):
            assert wl.max_level(n, length) == pywt.dwt_max_level(n, length), (n, length)
    assert wl.max_level(1000, "sym5") == pywt.dwt_max_level(1000, "sym5") == 6


def test_coefficient_lengths_match_pywt_band_shapes():
    x = np.zeros(1)
    for mode in wl.MODES:
        for n in (2, 5, 33, 100, 257):
            for name in ("haar", "db3", "bior2.4"):
                top = pywt.dwt_max_level(n, name)
                for level in range(1, top + 1):
                    ref = [c.shape[0] for c in pywt.wavedec(np.resize(x, n), name, mode=mode, level=level)]
                    assert wl.coefficient_lengths(n, pywt.Wavelet(name).dec_len, level, mode) == ref
    # periodization gives exact halving
    assert wl.coefficient_lengths(4096, 16, 3, "periodization") == [512, 512, 1024, 2048]


def test_unknown_wavelet_name_lists_close_matches_and_the_fix():
    with pytest.raises(wl.UnknownWaveletError) as info:
        wl.filter_bank("db39")
    message = str(info.value)
    assert "db39" in message and "pywt.wavelist(kind='discrete')" in message and "FilterBank" in message
    assert "'db3'" in message or "'db38'" in message  # close matches
    with pytest.raises(ValueError, match="continuous"):
        wl.wavedec(np.zeros(16, np.float32), "morl")
    with pytest.raises(TypeError, match="FilterBank"):
        wl.filter_bank(3.5)


def test_filter_banks_of_unequal_lengths_are_refused():
    with pytest.raises(wl.FilterLengthError, match="same shape"):
        wl.filter_bank([np.ones(4), np.ones(4), np.ones(6), np.ones(4)])
