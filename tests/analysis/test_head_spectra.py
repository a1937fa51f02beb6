"""Attention-map metrics (eq. 1-11 of the wavelet-like-properties seed) on maps with known answers."""
from __future__ import annotations

import numpy as np
import pytest
import pywt

from lra import analysis as an
from lra.analysis import head_spectra as hs


def softmax(scores):
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def delta_row(n, at):
    row = np.zeros(n)
    row[at] = 1.0
    return row


def tone(n, cycles_per_token):
    return np.cos(2 * np.pi * cycles_per_token * np.arange(n))


def shift_head(n, back):
    """Each query attends to the token ``back`` positions before it (clipped at token 0)."""
    a = np.zeros((n, n))
    a[np.arange(n), np.maximum(np.arange(n) - back, 0)] = 1.0
    return a


# --- eq. 1: spectrum -------------------------------------------------------------------------


@pytest.mark.parametrize("n, nfft", [(1, 8), (4, 8), (5, 16), (100, 256), (128, 256), (129, 512)])
def test_fft_length_is_the_next_power_of_two_of_twice_the_length(n, nfft):
    assert hs.fft_length(n) == nfft


def test_psd_matches_a_direct_dft_of_the_hann_windowed_zero_padded_row():
    rng = np.random.default_rng(0)
    x = rng.random((2, 6))
    n, nfft = 6, 16
    t = np.arange(n)
    window = np.sin(np.pi * (t + 1) / (n + 1)) ** 2
    k = np.arange(nfft // 2 + 1)
    dft = (window * x) @ np.exp(-2j * np.pi * np.outer(t, k) / nfft)
    freqs, power = hs.psd(x)
    np.testing.assert_allclose(power, np.abs(dft) ** 2, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(freqs, k / (nfft // 2))
    assert np.all(hs.hann_window(n) > 0)


def test_psd_peak_of_a_tone_is_at_twice_its_frequency_in_nyquist_units():
    freqs, power = hs.psd(tone(128, 0.2))
    assert abs(freqs[np.argmax(power)] - 0.4) <= 1.0 / (len(freqs) - 1)


def test_psd_rejects_an_fft_length_off_the_band_grid():
    with pytest.raises(ValueError):
        hs.psd(np.ones(10), nfft=20)
    with pytest.raises(ValueError):
        hs.psd(np.ones(10), nfft=8)


# --- eq. 2: band fractions --------------------------------------------------------------------


def test_band_fractions_integrate_a_linear_spectrum_exactly():
    power = np.arange(9.0)  # P(f) = 8 f on f = k/8: integrals 0.25, 2, 1.75 of 4
    np.testing.assert_allclose(hs.band_fractions(power), [0.0625, 0.5, 0.4375], rtol=1e-12)


def test_a_delta_has_a_flat_spectrum_and_band_fractions_equal_the_band_widths():
    _, power = hs.psd(delta_row(64, 20))
    np.testing.assert_allclose(power, power[0], rtol=1e-12)
    np.testing.assert_allclose(hs.band_fractions(power), [0.25, 0.5, 0.25], rtol=1e-12)


@pytest.mark.parametrize("cycles, band", [(0.05, 0), (0.25, 1), (0.45, 2)])
def test_a_pure_tone_puts_its_power_in_its_band(cycles, band):
    _, power = hs.psd(tone(128, cycles))
    fractions = hs.band_fractions(power)
    assert fractions[band] > 0.99
    np.testing.assert_allclose(fractions.sum(), 1.0)


# --- eq. 3: selectivity -----------------------------------------------------------------------


def test_selectivity_is_the_peak_bin_over_the_other_bins():
    np.testing.assert_allclose(hs.selectivity(np.array([1.0, 2.0, 7.0])), 7.0 / 3.0)
    assert hs.selectivity(np.array([0.0, 3.0, 0.0])) == pytest.approx(3.0 / hs.EPS)


def test_a_tone_is_far_more_selective_than_a_delta():
    freqs, p_delta = hs.psd(delta_row(128, 50))
    _, p_tone = hs.psd(tone(128, 0.2))
    s_delta = hs.selectivity(p_delta)
    np.testing.assert_allclose(s_delta, 1.0 / (len(freqs) - 1), rtol=1e-10)
    assert hs.selectivity(p_tone) > 20 * s_delta


# --- eq. 6-7: entropies -----------------------------------------------------------------------


def test_positional_entropy_known_values():
    n = 32
    assert hs.positional_entropy(np.full(n, 1.0 / n)) == pytest.approx(np.log(n))
    assert hs.positional_entropy(delta_row(n, 3)) == 0.0
    assert hs.positional_entropy(np.array([2.0, 2.0])) == pytest.approx(np.log(2))  # normalised
    assert hs.positional_entropy(np.array([1.0, 1.0, 2.0, 0.0])) == pytest.approx(1.5 * np.log(2))


def test_spectral_entropy_known_values():
    assert hs.spectral_entropy(np.ones(4)) == pytest.approx(np.log(4))
    assert hs.spectral_entropy(np.array([0.0, 5.0, 0.0])) == 0.0
    freqs, power = hs.psd(delta_row(64, 10))
    assert hs.spectral_entropy(power) == pytest.approx(np.log(len(freqs)))


def test_a_uniform_row_has_maximal_positional_entropy_and_its_power_at_dc():
    n = 64
    row = np.full(n, 1.0 / n)
    _, power = hs.psd(row)
    assert hs.positional_entropy(row) == pytest.approx(np.log(n))
    assert np.argmax(power) == 0
    assert hs.band_fractions(power)[0] > 0.9999
    _, p_delta = hs.psd(delta_row(n, 10))
    assert hs.spectral_entropy(power) < 0.3 * hs.spectral_entropy(p_delta)


# --- eq. 5: wavelet entropy -------------------------------------------------------------------


def test_wavelet_entropy_is_eq5_on_raw_coefficient_energies():
    # haar, one level, periodization: x = [1, 0, 0, 0] -> cA = [1/sqrt2, 0], cD = [1/sqrt2, 0]
    x = np.array([1.0, 0.0, 0.0, 0.0])
    h = hs.wavelet_entropy(x, "haar", level=1, mode="periodization")
    np.testing.assert_allclose(h, [0.5 * np.log(2), 0.5 * np.log(2)])
    hn = hs.wavelet_entropy(x, "haar", level=1, mode="periodization", normalize=True)
    np.testing.assert_allclose(hn, [0.0, 0.0], atol=1e-15)


def test_normalised_and_raw_wavelet_entropies_are_related_per_scale():
    # H_norm = H_raw / E + log E with E the energy of the scale
    x = np.random.default_rng(1).random((3, 40))
    raw = hs.wavelet_entropy(x)
    norm = hs.wavelet_entropy(x, normalize=True)
    energy = np.stack([np.sum(c**2, axis=-1) for c in pywt.wavedec(x, "db2", level=3, axis=-1)], -1)
    np.testing.assert_allclose(norm, raw / energy + np.log(energy), rtol=1e-10)


def test_default_level_is_the_db2_maximum_and_scales_are_named_in_pywt_order():
    assert hs.default_level(64) == 4  # floor(log2(64 / 3))
    assert hs.default_level(2) == 1
    assert hs.scale_names(4) == ["a4", "d4", "d3", "d2", "d1"]
    assert hs.wavelet_entropy(np.ones((2, 5, 64))).shape == (2, 5, 5)


# --- eq. 11: reconstruction error -------------------------------------------------------------


def test_reconstruction_error_is_round_off_for_db2_and_the_loss_for_a_broken_bank():
    maps = softmax(np.random.default_rng(2).normal(size=(3, 33, 33)))
    assert hs.reconstruction_error(maps).max() < 1e-13
    err32 = hs.reconstruction_error(maps.astype(np.float32))
    assert np.all((err32 > 1e-9) & (err32 < 1e-5))
    lo, hi, rlo, rhi = pywt.Wavelet("db2").filter_bank
    halved = pywt.Wavelet("halved", filter_bank=(lo, hi, [0.5 * c for c in rlo], [0.5 * c for c in rhi]))
    np.testing.assert_allclose(hs.reconstruction_error(maps, halved, level=1), 0.5, rtol=1e-10)


# --- eq. 8-9: position-spectrum correlation ---------------------------------------------------


def test_pearson_matches_numpy_and_is_nan_for_a_constant():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=50), rng.normal(size=50)
    assert hs.pearson(x, y) == pytest.approx(np.corrcoef(x, y)[0, 1])
    assert hs.pearson(x, -2 * x + 1) == pytest.approx(-1.0)
    assert np.isnan(hs.pearson(np.ones(5), x[:5]))


def gaussian_bumps(n, widths):
    t = np.arange(n)
    rows = np.exp(-0.5 * ((t[None, :] - n / 2) / np.asarray(widths)[:, None]) ** 2)
    return rows / rows.sum(axis=-1, keepdims=True)


def test_wider_bumps_trade_positional_for_spectral_entropy():
    maps = gaussian_bumps(128, np.linspace(1.0, 10.0, 128))[None]  # one map whose rows widen
    hp, hsp = hs.row_entropies(maps)
    assert np.all(np.diff(hp) > 0) and np.all(np.diff(hsp) < 0)
    assert hs.position_spectrum_correlation(maps) < -0.9


def test_layer_correlation_is_the_mean_over_heads_skipping_undefined_ones():
    rng = np.random.default_rng(4)
    maps = softmax(rng.normal(size=(2, 3, 2, 16, 16)) * rng.uniform(0.1, 4, size=(2, 3, 2, 16, 1)))
    maps[1, 2] = 1.0 / 16  # uniform head: constant entropies, no correlation
    rho = hs.position_spectrum_correlation(maps)
    assert rho.shape == (2, 3)
    hp, hsp = hs.row_entropies(maps[0, 1])
    assert rho[0, 1] == pytest.approx(np.corrcoef(hp.ravel(), hsp.ravel())[0, 1])
    assert np.isnan(rho[1, 2])
    np.testing.assert_allclose(hs.layer_correlation(maps), [rho[0].mean(), rho[1, :2].mean()])


# --- eq. 10: scale sensitivity ----------------------------------------------------------------


def test_sample_indices_uniform_and_prefix():
    np.testing.assert_array_equal(hs.sample_indices(8, 0.5), [0, 2, 4, 6])
    np.testing.assert_array_equal(hs.sample_indices(16, 0.25), [0, 4, 8, 12])
    np.testing.assert_array_equal(hs.sample_indices(8, 0.5, how="prefix"), [0, 1, 2, 3])
    np.testing.assert_array_equal(hs.sample_indices(9, 0.5), [0, 2, 4, 6])  # floor(4.5) = 4 tokens
    np.testing.assert_array_equal(hs.sample_indices(11, 0.4), [0, 2, 5, 8])  # floor(k * 11 / 4)
    assert len(hs.sample_indices(101, 0.25)) == 25
    with pytest.raises(ValueError):
        hs.sample_indices(8, 0.01)


def test_restricting_a_softmax_map_equals_the_softmax_of_the_restricted_scores():
    scores = np.random.default_rng(9).normal(size=(2, 12, 12))
    idx = np.array([1, 4, 7, 10])
    sub = hs.restrict_map(softmax(scores), idx)
    np.testing.assert_allclose(sub, softmax(scores[:, idx][:, :, idx]), rtol=1e-12)
    np.testing.assert_allclose(sub.sum(axis=-1), 1.0)


@pytest.mark.parametrize("alpha", [0.5, 0.25])
@pytest.mark.parametrize("how", ["uniform", "prefix"])
def test_content_only_attention_is_scale_insensitive(alpha, how):
    scores = np.random.default_rng(5).normal(size=(3, 64, 64)) * 3
    idx = hs.sample_indices(64, alpha, how=how)
    full, scaled = softmax(scores), softmax(scores[:, idx][:, :, idx])
    assert hs.scale_sensitivity(full, scaled, how=how).max() < 1e-12


def test_a_map_of_relative_coordinates_is_scale_insensitive():
    def relative(n):
        x = np.arange(n) / n
        a = np.exp(-((x[:, None] - x[None, :]) * 5) ** 2) + 0.1
        return a / a.sum(axis=-1, keepdims=True)

    assert hs.scale_sensitivity(relative(64), relative(32)) < 1e-12
    assert hs.scale_sensitivity(relative(64), relative(16)) < 1e-12


def test_a_fixed_token_offset_head_is_scale_sensitive():
    # full: query 2k looks at 2k - 4 = sampled token k - 2; scaled input: at k - 4 -> orthogonal rows
    s = hs.scale_sensitivity(shift_head(64, 4), shift_head(32, 4))
    assert s > 0.8
    local = lambda n: softmax(-np.abs(np.arange(n)[:, None] - np.arange(n)[None, :]) / 2.0)
    assert 0.03 < hs.scale_sensitivity(local(64), local(32)) < 0.2


def test_scale_sensitivity_in_periodization_mode_is_one_minus_the_row_cosine():
    rng = np.random.default_rng(6)
    full, scaled = softmax(rng.normal(size=(32, 32))), softmax(rng.normal(size=(16, 16)))
    sub = hs.restrict_map(full, hs.sample_indices(32, 0.5))
    cos = np.sum(sub * scaled, -1) / np.linalg.norm(sub, axis=-1) / np.linalg.norm(scaled, axis=-1)
    s = hs.scale_sensitivity(full, scaled, mode="periodization")
    assert s == pytest.approx(1 - cos.mean(), rel=1e-10)
    assert s > 0.01


# --- per head and per (layer, head) -----------------------------------------------------------


def test_head_metrics_of_uniform_maps():
    maps = np.full((2, 32, 32), 1.0 / 32)
    m = hs.head_metrics(maps)
    assert m["positional_entropy"] == pytest.approx(np.log(32))
    assert m["band_low"] > 0.9999
    assert np.isnan(m["entropy_correlation"])
    assert m["reconstruction_error"] < 1e-13
    assert [k for k in m if k.startswith("wavelet_entropy_")] == [
        f"wavelet_entropy_{s}" for s in hs.scale_names(hs.default_level(32))
    ]
    assert all(isinstance(v, float) for v in m.values())


def test_head_metrics_agree_with_the_vectorised_functions():
    rng = np.random.default_rng(7)
    scores = rng.normal(size=(3, 32, 32)) * 2
    maps = softmax(scores)
    idx = hs.sample_indices(32, 0.5)
    scaled = {0.5: softmax(scores[:, idx][:, :, idx]), 0.25: shift_head(8, 1)[None].repeat(3, 0)}
    m = hs.head_metrics(maps, scaled)
    _, power = hs.psd(maps)
    np.testing.assert_allclose([m["band_low"], m["band_mid"], m["band_high"]],
                               hs.band_fractions(power).mean(axis=(0, 1)))
    assert m["selectivity"] == pytest.approx(hs.selectivity(power).mean())
    assert m["spectral_entropy"] == pytest.approx(hs.spectral_entropy(power).mean())
    assert m["wavelet_entropy_d1"] == pytest.approx(hs.wavelet_entropy(maps)[..., -1].mean())
    assert m["entropy_correlation"] == pytest.approx(hs.position_spectrum_correlation(maps))
    assert m["scale_sensitivity_0.5"] < 1e-12
    assert m["scale_sensitivity_0.25"] > 0.1


def test_head_table_has_one_row_per_layer_and_head_and_layer_table_averages():
    rng = np.random.default_rng(8)
    maps = softmax(rng.normal(size=(2, 3, 2, 16, 16)) * 2)
    rows = an.head_table(maps)
    assert [(r["layer"], r["head"]) for r in rows] == [(layer, h) for layer in range(2) for h in range(3)]
    assert rows[4] == {"layer": 1, "head": 1, **hs.head_metrics(maps[1, 1])}
    assert any("selectivity" in k for k in rows[0]) and sum("entropy" in k for k in rows[0]) >= 3
    layers = an.layer_table(rows)
    assert layers[1]["heads"] == 3
    assert layers[1]["selectivity"] == pytest.approx(np.mean([r["selectivity"] for r in rows[3:]]))
    np.testing.assert_allclose([layer["entropy_correlation"] for layer in layers], hs.layer_correlation(maps))
    text = an.format_table(rows, ["layer", "head", "selectivity"])
    assert text.splitlines()[0] == "| layer | head | selectivity |" and len(text.splitlines()) == 8


def test_head_metrics_sample_the_scaled_tokens_as_told():
    scores = np.random.default_rng(10).normal(size=(2, 32, 32)) * 3
    prefix = {0.5: softmax(scores[:, :16, :16])}
    assert hs.head_metrics(softmax(scores), prefix, how="prefix")["scale_sensitivity_0.5"] < 1e-12
    assert hs.head_metrics(softmax(scores), prefix)["scale_sensitivity_0.5"] > 0.05


# --- maps of different lengths (examples cropped to their own length) ------------------------


def test_a_list_of_equal_maps_gives_what_the_stacked_array_gives():
    rng = np.random.default_rng(11)
    scores = rng.normal(size=(3, 24, 24)) * 2
    idx = hs.sample_indices(24, 0.5)
    scaled = softmax(scores[:, idx][:, :, idx]) + 0.0
    scaled[0] = shift_head(12, 2)
    stacked = hs.head_metrics(softmax(scores), {0.5: scaled})
    listed = hs.head_metrics(list(softmax(scores)), {0.5: list(scaled)})
    assert listed == pytest.approx(stacked, rel=1e-12)


def test_ragged_maps_pool_rows_on_one_grid_at_the_level_of_the_shortest():
    """Uniform maps of sizes 8 and 24: positional entropy is the row-weighted mean of log 8 and
    log 24; delta rows have flat spectra on any grid; the level is that of n = 8."""
    uniform = [np.full((8, 8), 1 / 8), np.full((24, 24), 1 / 24)]
    m = hs.head_metrics(uniform)
    assert m["positional_entropy"] == pytest.approx((8 * np.log(8) + 24 * np.log(24)) / 32)
    level = hs.default_level(8)
    assert [k for k in m if k.startswith("wavelet_entropy_")] == [f"wavelet_entropy_{s}" for s in hs.scale_names(level)]
    # entropy correlation over the 32 pooled rows: two entropy values, spectral entropy by hand
    hp = np.r_[np.full(8, np.log(8)), np.full(24, np.log(24))]
    nfft = hs.fft_length(24)
    spectra = [np.abs(np.fft.rfft(hs.hann_window(n) / n, nfft)) ** 2 for n in (8, 24)]
    hsp = [-np.sum(p / p.sum() * np.log(p / p.sum() + (p == 0))) for p in spectra]
    hs_rows = np.r_[np.full(8, hsp[0]), np.full(24, hsp[1])]
    assert m["spectral_entropy"] == pytest.approx(hs_rows.mean(), rel=1e-10)
    assert m["entropy_correlation"] == pytest.approx(np.corrcoef(hp, hs_rows)[0, 1], rel=1e-10)
    eye = hs.head_metrics([np.eye(8), np.eye(24)])
    assert [eye["band_low"], eye["band_mid"], eye["band_high"]] == pytest.approx([0.25, 0.5, 0.25])
    with pytest.raises(ValueError, match="square"):
        hs.head_metrics([np.ones((3, 4))])
    with pytest.raises(ValueError, match="1 maps for 2"):
        hs.head_metrics(uniform, {0.5: [np.full((4, 4), 0.25)]})


def test_scaled_index_aligns_a_kept_first_token():
    """A content-only head on [CLS] + 20 tokens, scaled by keeping CLS and every fourth token: with
    the index [0, 1 + 4k] the sensitivity is 0; the default uniform sampling of the 21 positions
    ([0, 3, 7, 10, 14, 17]) compares the wrong tokens."""
    rng = np.random.default_rng(12)
    n_tokens = 20
    scores = rng.normal(size=(2, n_tokens + 1, n_tokens + 1)) * 3
    keep = np.r_[0, 1 + hs.sample_indices(n_tokens, 0.25)]
    assert keep.tolist() == [0, 1, 5, 9, 13, 17]
    full, scaled = softmax(scores), softmax(scores[:, keep][:, :, keep])
    assert hs.scale_sensitivity(full, scaled, index=keep).max() < 1e-12
    assert hs.scale_sensitivity(full, scaled).mean() > 0.05
    m = hs.head_metrics(list(full), {0.25: list(scaled)}, scaled_index={0.25: [keep, keep]})
    assert m["scale_sensitivity_0.25"] < 1e-12
    with pytest.raises(ValueError, match="index"):
        hs.scale_sensitivity(full, scaled, index=keep[:-1])
