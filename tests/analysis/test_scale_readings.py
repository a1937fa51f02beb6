"""Eq. 10's two readings on synthetic attention maps with known answers: the context reading
(the full map restricted to the sampled tokens vs the scaled map) and the scale reading (the
levels of W(x_alpha) vs the levels of W(x) log2(1/alpha) dyadic levels coarser)."""
import numpy as np
import pytest

from lra.analysis import head_spectra as hs


def _stochastic(rng, m):
    b = rng.random((m, m)) + 0.01
    return b / b.sum(axis=-1, keepdims=True)


def _previous_token(n):
    a = np.zeros((n, n))
    a[0, 0] = 1.0
    a[np.arange(1, n), np.arange(n - 1)] = 1.0
    return a


@pytest.mark.parametrize("factor", [2, 4])
def test_a_dilated_pattern_is_scale_invariant_in_the_dyadic_reading(factor):
    scaled = _stochastic(np.random.default_rng(0), 16)
    full = np.kron(scaled, np.ones((factor, factor))) / factor  # every distance times `factor`, rows sum to 1
    assert np.allclose(full.sum(axis=-1), 1.0)
    s = hs.dyadic_scale_sensitivity(full, scaled, wavelet="haar")
    assert s == pytest.approx(0.0, abs=1e-12)


def test_a_previous_token_head_separates_the_readings():
    # Context: the previous token of a sampled (even) token is odd, never sampled: every row but the
    # first restricts to zeros, S = 1 - 1/m. Scale: a delta at 2k+1 is at k one level coarser: S = 0.
    full, scaled = _previous_token(64), _previous_token(32)
    assert hs.scale_sensitivity(full, scaled) == pytest.approx(1 - 1 / 32, abs=1e-9)
    assert hs.dyadic_scale_sensitivity(full, scaled, wavelet="haar") == pytest.approx(0.0, abs=1e-12)


def test_a_content_only_head_is_zero_in_the_context_reading_not_in_the_dyadic_one():
    rng = np.random.default_rng(1)
    n = 64
    full = rng.random((n, n)) + 0.01
    full[:, 1::2] *= 5.0  # the unsampled (odd) tokens draw most of the attention in context
    full /= full.sum(axis=-1, keepdims=True)
    scaled = hs.restrict_map(full, hs.sample_indices(n, 0.5))  # the same head on the sampled tokens alone
    assert hs.scale_sensitivity(full, scaled) == pytest.approx(0.0, abs=1e-12)
    assert hs.dyadic_scale_sensitivity(full, scaled) > 0.02


def test_the_dyadic_reading_pairs_the_levels_as_documented():
    # Against an explicit pywt pairing at level 2: scaled [a2, d2, d1] with full [a3, d3, d2].
    import pywt

    rng = np.random.default_rng(2)
    full, scaled = _stochastic(rng, 32), _stochastic(rng, 16)
    rows = full[::2]
    got = hs.dyadic_scale_sensitivity(full, scaled, wavelet="db2", level=2)
    f = np.concatenate(pywt.wavedec(rows, "db2", mode="periodization", level=3, axis=-1)[:3], axis=-1)
    g = np.concatenate(pywt.wavedec(scaled, "db2", mode="periodization", level=2, axis=-1), axis=-1)
    cos = np.sum(f * g, axis=-1) / np.sqrt(np.sum(f * f, axis=-1) * np.sum(g * g, axis=-1))
    assert got == pytest.approx(1 - cos.mean(), abs=1e-12)


def test_head_metrics_reports_both_readings_and_rejects_non_dyadic_lengths():
    full, scaled = _previous_token(64), _previous_token(32)
    metrics = hs.head_metrics(full[None], {0.5: scaled[None]})
    assert metrics["scale_sensitivity_0.5"] == pytest.approx(1 - 1 / 32, abs=1e-9)
    assert metrics["scale_sensitivity_dyadic_0.5"] < metrics["scale_sensitivity_0.5"]
    with pytest.raises(ValueError, match="dyadic"):
        hs.dyadic_scale_sensitivity(full, _previous_token(20))
