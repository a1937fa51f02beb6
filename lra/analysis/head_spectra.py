"""Spectral, wavelet and entropy metrics of attention maps.

Equation numbers refer to "Wavelet-like properties in transformers" (the seed in
``shared/seeds/wavelet_like_properties_in_transformers.txt``, sections 3.1-3.5).

Layout. An attention map is ``A [..., n, n]``: row ``i`` is query ``i``'s distribution over the
``n`` keys. The seed's signal ``a_h(t)`` ("the attention pattern over token positions") is taken to
be **one row** (choice: the seed does not say which 1-D pattern of a map it analyses). Every
row-level metric is computed per row, along the key axis, and a head's value is the mean over all
rows of all its maps (queries x batch). Functions that take ``maps`` accept any leading shape,
e.g. ``[layers, heads, batch, n, n]``, and keep it.

Spectra (eq. 1). ``P(w) = |DFT(window * a)|^2`` with

* a Hann window ``hann_window(n)``: the symmetric Hann window of length ``n + 2`` with its two
  zero end points dropped, so no key (in particular key 0, often an attention sink) is multiplied
  by exactly 0 (choice: the seed only says "Hann window");
* zero padding to ``nfft = fft_length(n)``: the smallest power of two ``>= 2 n``, and at least 8
  (so the band edges 0.25 and 0.75 of Nyquist fall exactly on bins). Pass ``nfft`` yourself to use
  one grid for several lengths; it must be a multiple of 8 and ``>= n``.

The row's mean is not removed before the transform (the seed removes nothing): a row of a
probability distribution has a DC term of at least ``1/n`` per key, so most of its power is
usually in the low band.

The one-sided spectrum has ``K = nfft / 2 + 1`` bins at ``f_k = k / (K - 1)`` in units of the
Nyquist frequency (0 = DC, 1 = Nyquist = 1/2 cycle per token). The metrics depend on ``nfft``
(padding adds correlated bins), so compare values computed with the same rule.

Division by a quantity that can vanish is guarded by ``EPS = 1e-10`` (the threshold the seed
applies to its divisions, section 4).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pywt

EPS = 1e-10
BAND_NAMES = ("low", "mid", "high")
BAND_EDGES = ((0.0, 0.25), (0.25, 0.75), (0.75, 1.0))  # fractions of the Nyquist frequency


# ---------------------------------------------------------------------------------------------
# Spectrum (eq. 1)


def fft_length(n: int) -> int:
    """FFT length used for a signal of ``n`` samples: the smallest power of two ``>= 2n``, min 8."""
    if n < 1:
        raise ValueError(f"signal length must be >= 1, got {n}")
    return max(8, 1 << int(np.ceil(np.log2(2 * n))))


def hann_window(n: int) -> np.ndarray:
    """``[n]`` Hann window ``sin^2(pi (t + 1) / (n + 1))``, t = 0..n-1 (no zero samples)."""
    return np.hanning(n + 2)[1:-1]


def psd(x, nfft: int | None = None, window: str | None = "hann"):
    """Power spectrum of real signals along the last axis (eq. 1).

    Args:
      x: ``[..., n]`` real signals (attention rows).
      nfft: FFT length (zero padding); default :func:`fft_length` ``(n)``. Multiple of 8, ``>= n``.
      window: ``"hann"`` (:func:`hann_window`) or ``None`` (rectangular).

    Returns:
      ``(freqs [K], power [..., K])``: ``K = nfft/2 + 1`` one-sided bins, ``freqs`` in units of the
      Nyquist frequency (0..1), ``power = |rfft(window * x, nfft)|^2`` (float64).
    """
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[-1]
    nfft = fft_length(n) if nfft is None else int(nfft)
    if nfft % 8 or nfft < n:
        raise ValueError(f"nfft must be a multiple of 8 and >= the signal length {n}, got {nfft}")
    if window == "hann":
        x = x * hann_window(n)
    elif window is not None:
        raise ValueError(f"window must be 'hann' or None, got {window!r}")
    power = np.abs(np.fft.rfft(x, n=nfft, axis=-1)) ** 2
    freqs = np.arange(nfft // 2 + 1) / (nfft // 2)
    return freqs, power


# ---------------------------------------------------------------------------------------------
# Band fractions (eq. 2), selectivity (eq. 3), entropies (eq. 6-7)


def _band_integral(power: np.ndarray, lo: float, hi: float) -> np.ndarray:
    last = power.shape[-1] - 1  # index of the Nyquist bin
    i0, i1 = int(round(lo * last)), int(round(hi * last))
    return np.trapezoid(power[..., i0 : i1 + 1], dx=1.0 / last, axis=-1)


def band_fractions(power) -> np.ndarray:
    """Fraction of spectral power in the low, mid and high bands (eq. 2).

    Bands: 0-0.25, 0.25-0.75 and 0.75-1 of Nyquist (:data:`BAND_EDGES`). The integrals of eq. 2 are
    trapezoidal sums over the one-sided bins; the band edges are bins (``nfft`` is a multiple of 8),
    so the three bands partition the whole integral and a flat spectrum gives exactly
    0.25 / 0.5 / 0.25.

    Args:
      power: ``[..., K]`` one-sided power spectrum from :func:`psd`.

    Returns:
      ``[..., 3]`` fractions (low, mid, high) summing to 1 (0 for an all-zero spectrum).
    """
    power = np.asarray(power, dtype=np.float64)
    if (power.shape[-1] - 1) % 4:
        raise ValueError("band edges must fall on bins: use a spectrum from psd() (nfft multiple of 8)")
    bands = np.stack([_band_integral(power, lo, hi) for lo, hi in BAND_EDGES], axis=-1)
    total = _band_integral(power, 0.0, 1.0)[..., None]
    return bands / np.maximum(total, EPS)


def selectivity(power) -> np.ndarray:
    """Frequency selectivity (eq. 3): power of the strongest bin over the power of all other bins.

    Eq. 3 divides the spectral peak by the integral of the spectrum minus the peak; with densities
    that difference is not dimensionally consistent (a flat spectrum would give a zero
    denominator), so it is read on the discrete bins: ``max_k P_k / (sum_k P_k - max_k P_k)``
    (choice). A flat spectrum of ``K`` bins gives ``1 / (K - 1)``; one non-zero bin gives
    ``1 / EPS``.

    Args:
      power: ``[..., K]`` power spectrum. Returns ``[...]``.
    """
    power = np.asarray(power, dtype=np.float64)
    peak = power.max(axis=-1)
    return peak / np.maximum(power.sum(axis=-1) - peak, EPS)


def _shannon(p: np.ndarray) -> np.ndarray:
    """``-sum p log p`` along the last axis with ``0 log 0 = 0`` (natural log)."""
    safe = np.where(p > 0, p, 1.0)
    return -np.sum(np.where(p > 0, p * np.log(safe), 0.0), axis=-1)


def spectral_entropy(power) -> np.ndarray:
    """Spectral entropy (eq. 7): Shannon entropy (nats) of the power normalised over the bins.

    Args:
      power: ``[..., K]`` power spectrum. Returns ``[...]``, in ``[0, log K]``.
    """
    power = np.asarray(power, dtype=np.float64)
    return _shannon(power / np.maximum(power.sum(axis=-1, keepdims=True), EPS))


def positional_entropy(a) -> np.ndarray:
    """Positional entropy (eq. 6): Shannon entropy (nats) of an attention row over positions.

    The row is divided by its sum first (the seed normalises attention weights before analysis),
    so it need not sum to 1. Negative entries are not expected (softmax attention) and are not
    handled.

    Args:
      a: ``[..., n]`` non-negative rows. Returns ``[...]``: 0 for a one-hot row, ``log n`` for a
      uniform one.
    """
    a = np.asarray(a, dtype=np.float64)
    return _shannon(a / np.maximum(a.sum(axis=-1, keepdims=True), EPS))


# ---------------------------------------------------------------------------------------------
# Wavelet coefficients, entropy per scale (eq. 4-5), reconstruction (eq. 11)


def default_level(n: int, wavelet: str = "db2") -> int:
    """Decomposition level used when none is given: pywt's maximum useful level for length ``n``
    (``floor(log2(n / (L - 1)))``), at least 1. The seed picks the maximum level of the shortest
    sequence; pass ``level`` explicitly to compare several lengths on one level."""
    w = wavelet if isinstance(wavelet, pywt.Wavelet) else pywt.Wavelet(wavelet)
    return max(1, pywt.dwt_max_level(n, w.dec_len))


def scale_names(level: int) -> list[str]:
    """Names of the coefficient arrays of a level-``level`` decomposition, in pywt order:
    ``["a{L}", "d{L}", ..., "d1"]`` (approximation, then details from coarse to fine)."""
    return [f"a{level}"] + [f"d{j}" for j in range(level, 0, -1)]


def wavelet_coefficients(x, wavelet="db2", level: int | None = None, mode: str = "symmetric"):
    """1-D DWT of each signal along the last axis (eq. 4): ``pywt.wavedec`` list
    ``[cA_L, cD_L, ..., cD_1]``, each ``[..., m_j]``. ``mode`` defaults to pywt's own default
    (``symmetric``), the transform the seed most plausibly used through PyWavelets (choice)."""
    x = np.asarray(x)
    level = default_level(x.shape[-1], wavelet) if level is None else int(level)
    return pywt.wavedec(x, wavelet, mode=mode, level=level, axis=-1)


def wavelet_entropy(x, wavelet="db2", level: int | None = None, mode: str = "symmetric",
                    normalize: bool = False) -> np.ndarray:
    """Wavelet entropy at each scale (eq. 5): ``H(s) = -sum_tau e log e`` with ``e = |W(s, tau)|^2``.

    Default (``normalize=False``): eq. 5 literally, on the raw coefficient energies (the
    "non-normalised Shannon entropy" of wavelet-packet practice; it depends on the signal's
    scale and is negative where ``e > 1``). ``normalize=True`` divides the energies of each scale
    by their sum first, giving a proper Shannon entropy in ``[0, log m_s]`` (choice left to the
    caller: the seed's eq. 5 has no normalisation although eq. 7 has one).

    Args:
      x: ``[..., n]`` signals (attention rows, float64 is used).
      wavelet, level, mode: as :func:`wavelet_coefficients` (default db2, maximum level).

    Returns:
      ``[..., level + 1]`` entropies in pywt order (see :func:`scale_names`).
    """
    coeffs = wavelet_coefficients(np.asarray(x, np.float64), wavelet, level, mode)
    out = []
    for c in coeffs:
        e = c**2
        if normalize:
            e = e / np.maximum(e.sum(axis=-1, keepdims=True), EPS)
        out.append(_shannon(e))
    return np.stack(out, axis=-1)


def reconstruction_error(maps, wavelet="db2", level: int | None = None,
                         mode: str = "symmetric") -> np.ndarray:
    """Relative reconstruction error of each map (eq. 11): ``||A - W^-1(W(A))||_F / ||A||_F``.

    ``W`` is the row-wise DWT of :func:`wavelet_coefficients`, ``W^-1`` pywt's ``waverec``. The
    transform runs in the maps' own float precision (float32 maps give errors near 1e-7, the order
    the seed reports; float64 maps give about 1e-16): for a perfect-reconstruction wavelet the
    value measures round-off, for a bank that is not PR it measures the loss.

    Args:
      maps: ``[..., n, n]`` (any ``[..., n]`` works: the norm is over the last two axes).
    Returns:
      ``[...]`` per map.
    """
    maps = np.asarray(maps)
    if not np.issubdtype(maps.dtype, np.floating):
        maps = maps.astype(np.float64)
    n = maps.shape[-1]
    coeffs = wavelet_coefficients(maps, wavelet, level, mode)
    rec = pywt.waverec(coeffs, wavelet, mode=mode, axis=-1)[..., :n]
    num = np.sqrt(np.sum((maps.astype(np.float64) - rec) ** 2, axis=(-2, -1)))
    den = np.sqrt(np.sum(maps.astype(np.float64) ** 2, axis=(-2, -1)))
    return num / np.maximum(den, EPS)


# ---------------------------------------------------------------------------------------------
# Position-spectrum correlation (eq. 8-9)


def pearson(x, y) -> np.ndarray:
    """Pearson correlation along the last axis (eq. 8): ``Cov(x, y) / (sigma_x sigma_y)``.

    NaN where ``sigma_x sigma_y <= EPS`` (a constant sample has no defined correlation).
    Returns ``[...]``.
    """
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    xc = x - x.mean(axis=-1, keepdims=True)
    yc = y - y.mean(axis=-1, keepdims=True)
    cov = (xc * yc).mean(axis=-1)
    den = np.sqrt((xc**2).mean(axis=-1) * (yc**2).mean(axis=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > EPS, cov / np.where(den > EPS, den, 1.0), np.nan)


def row_entropies(maps, nfft: int | None = None, window: str | None = "hann"):
    """Positional (eq. 6) and spectral (eq. 7) entropy of every row: two ``[..., n]`` arrays."""
    maps = np.asarray(maps, np.float64)
    _, power = psd(maps, nfft, window)
    return positional_entropy(maps), spectral_entropy(power)


def position_spectrum_correlation(maps, nfft: int | None = None,
                                  window: str | None = "hann") -> np.ndarray:
    """Per-head position-spectrum correlation rho(h) (eq. 8).

    The seed correlates ``H_p(h)`` and ``H_s(h)`` for one head, so they must vary over some
    sample: here the sample is every attention row of the head, i.e. all queries of all its maps
    (choice). The last three axes are one head's ``[batch, n, n]``.

    Args:
      maps: ``[..., batch, n, n]`` (e.g. ``[layers, heads, batch, n, n]``).
    Returns:
      ``[...]`` correlations (e.g. ``[layers, heads]``); NaN where an entropy is constant.
    """
    maps = np.asarray(maps, np.float64)
    if maps.ndim < 3:
        raise ValueError(f"maps must be [..., batch, n, n], got shape {maps.shape}")
    hp, hs = row_entropies(maps, nfft, window)
    lead = maps.shape[:-3]
    return pearson(hp.reshape(lead + (-1,)), hs.reshape(lead + (-1,)))


def layer_correlation(maps, nfft: int | None = None, window: str | None = "hann") -> np.ndarray:
    """Layer position-spectrum correlation rho_layer (eq. 9): mean of rho(h) over the heads.

    Heads whose rho is undefined (NaN) are left out of the mean; a layer with none defined is NaN.

    Args:
      maps: ``[layers, heads, batch, n, n]`` (more leading axes allowed before ``heads``).
    Returns:
      ``[layers]``.
    """
    rho = position_spectrum_correlation(maps, nfft, window)
    return _nanmean(rho, axis=-1)


def _nanmean(x, axis=-1):
    x = np.asarray(x, np.float64)
    count = np.sum(~np.isnan(x), axis=axis)
    total = np.nansum(x, axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


# ---------------------------------------------------------------------------------------------
# Scale sensitivity (eq. 10)


def sample_indices(n: int, alpha: float | None = None, m: int | None = None,
                   how: str = "uniform") -> np.ndarray:
    """Token positions kept in the seed's scaled input ``x_alpha``: ``m = floor(alpha n)`` of ``n``.

    The seed samples ``floor(alpha n)`` tokens without saying which (choice):

    * ``"uniform"`` (default): evenly spread, ``floor(k n / m)`` for k < m (every second token for
      alpha = 0.5 and even n, every fourth for 0.25), so the scaled input spans the same text;
    * ``"prefix"``: the first ``m`` tokens.

    Give ``alpha`` or ``m``. Returns an int ``[m]`` array; build the scaled input as
    ``x[..., idx]`` and run the model on it to get the maps for :func:`scale_sensitivity`.
    """
    if (alpha is None) == (m is None):
        raise ValueError("give exactly one of alpha and m")
    m = int(np.floor(alpha * n)) if m is None else int(m)
    if not 1 <= m <= n:
        raise ValueError(f"the scaled length must be in [1, {n}], got {m}")
    if how == "uniform":
        return (np.arange(m) * n) // m
    if how == "prefix":
        return np.arange(m)
    raise ValueError(f"how must be 'uniform' or 'prefix', got {how!r}")


def restrict_map(maps, idx) -> np.ndarray:
    """Rows and columns ``idx`` of each map, rows renormalised to sum 1: ``[..., m, m]``.

    For attention whose scores depend on token content only, this equals the attention the model
    computes on the sampled input ``x[idx]`` (softmax over a subset of keys = renormalised subset).
    """
    maps = np.asarray(maps, np.float64)
    sub = maps[..., idx, :][..., :, idx]
    return sub / np.maximum(sub.sum(axis=-1, keepdims=True), EPS)


def _cosine_rows(u: list, v: list) -> np.ndarray:
    uu = np.concatenate(u, axis=-1)
    vv = np.concatenate(v, axis=-1)
    num = np.sum(uu * vv, axis=-1)
    den = np.sqrt(np.sum(uu**2, axis=-1) * np.sum(vv**2, axis=-1))
    return num / np.maximum(den, EPS)


def _map_pair(maps, maps_scaled) -> tuple[np.ndarray, np.ndarray]:
    """``maps [..., n, n]`` and ``maps_scaled [..., m, m]`` as float64, checked to share their leading shape."""
    maps = np.asarray(maps, np.float64)
    maps_scaled = np.asarray(maps_scaled, np.float64)
    if maps.shape[:-2] != maps_scaled.shape[:-2]:
        raise ValueError(f"leading shapes differ: {maps.shape} vs {maps_scaled.shape}")
    return maps, maps_scaled


def scale_sensitivity(maps, maps_scaled, how: str = "uniform", wavelet="db2",
                      level: int | None = None, mode: str = "symmetric", index=None) -> np.ndarray:
    """Scale sensitivity ``S(alpha) = 1 - cos(W(x), W(x_alpha))`` of each map (eq. 10), the context
    reading (:func:`dyadic_scale_sensitivity` is the scale reading).

    ``maps`` are a head's maps for inputs of length ``n``, ``maps_scaled`` the same head's maps for
    the scaled inputs (``m = floor(alpha n)`` tokens picked by :func:`sample_indices` with the same
    ``how``). Eq. 10 needs coefficient vectors of one length, which the seed does not explain
    (choice): the original map is first restricted to the sampled tokens
    (:func:`restrict_map`), then both ``[m, m]`` maps are transformed row-wise (db2, level
    :func:`default_level` ``(m)``), the cosine is taken per row over all its coefficients and
    averaged over rows. S = 0 when the model's attention on the scaled input equals its attention
    on the same tokens in the full input (e.g. content-only attention); it grows when the pattern
    is tied to absolute token distances. With an orthogonal wavelet in ``periodization`` mode the
    cosine equals the cosine of the rows themselves (Parseval); pywt's ``symmetric`` mode is a
    redundant frame, so it differs slightly.

    Args:
      maps: ``[..., n, n]``; maps_scaled: ``[..., m, m]`` with the same leading shape.
      index: optional int ``[m]``: the positions of the full map that the scaled map's positions
        are (overrides ``how``), for scaled inputs not made by :func:`sample_indices` alone, e.g. a
        prepended CLS token kept at 0 followed by ``1 + sample_indices(n - 1, ...)``.
    Returns:
      ``[...]`` per map.
    """
    maps, maps_scaled = _map_pair(maps, maps_scaled)
    n, m = maps.shape[-1], maps_scaled.shape[-1]
    if index is None:
        idx = sample_indices(n, m=m, how=how)
    else:
        idx = np.asarray(index, np.int64)
        if idx.shape != (m,) or idx.min(initial=0) < 0 or idx.max(initial=0) >= n:
            raise ValueError(f"index must be {m} positions in [0, {n}), got {idx.tolist()}")
    level = default_level(m, wavelet) if level is None else level
    w_full = wavelet_coefficients(restrict_map(maps, idx), wavelet, level, mode)
    w_scaled = wavelet_coefficients(maps_scaled, wavelet, level, mode)
    return 1.0 - _cosine_rows(w_full, w_scaled).mean(axis=-1)


def dyadic_shift(n: int, m: int) -> int | None:
    """``s`` with ``m`` within one token of ``n / 2**s`` (alpha = 2**-s moves a pattern ``s`` dyadic
    levels; the token of slack admits odd lengths and a kept CLS token), or None."""
    for shift in range(0, max(n.bit_length(), 1)):
        if abs(n / (1 << shift) - m) <= 1:
            return shift
    return None


def dyadic_scale_sensitivity(maps, maps_scaled, how: str = "uniform", wavelet="db2", level: int | None = None,
                             mode: str = "periodization", index=None) -> np.ndarray:
    """Scale sensitivity (eq. 10) read as a statement about scale: ``S = 1 - cos`` between the
    levels of ``W(x_alpha)`` and the levels of ``W(x)`` ``s`` dyadic levels coarser, for
    ``alpha = 2**-s`` (``m`` within one token of ``n / 2**s``; 0.5 -> one level, 0.25 -> two).

    Sampling every ``2**s``-th token halves (quarters) every distance, so a head whose pattern is
    tied to the text's structure rather than to token counts shows on ``x_alpha`` at level ``j``
    what it showed on ``x`` at level ``j + s``. Row ``i`` of ``maps_scaled`` (query
    ``index[i]`` of the full input, :func:`sample_indices`) is decomposed to level ``L``
    (default :func:`default_level` ``(m)``), the full map's row of that query to level ``L + s``;
    the arrays ``[a, d_L .. d_1]`` of the scaled row are paired with ``[a, d_{L+s} .. d_{1+s}]`` of
    the full row (its ``s`` finest detail arrays, patterns narrower than the sampling step, have
    no counterpart and are left out), each pair cut to its shorter length, and the cosine is taken
    over all paired coefficients of the row, then averaged over rows. ``periodization`` (default)
    gives every level exactly the dyadic length, so the pairs align without cutting for even
    lengths. With ``haar``, S = 0 exactly for a map that is the 2**s-fold dilation of the scaled
    one, and for a previous-token head (the context reading, :func:`scale_sensitivity`, gives it
    S ~ 1: the previous token of a sampled token is not sampled).

    Args:
      maps: ``[..., n, n]``; maps_scaled: ``[..., m, m]``; index: as :func:`scale_sensitivity`.
    Returns:
      ``[...]`` per map.
    """
    maps, maps_scaled = _map_pair(maps, maps_scaled)
    n, m = maps.shape[-1], maps_scaled.shape[-1]
    shift = dyadic_shift(n, m)
    if shift is None:
        raise ValueError(f"the dyadic reading needs m ~ n / 2**s (alpha a power of 1/2); got n={n}, m={m}")
    idx = sample_indices(n, m=m, how=how) if index is None else np.asarray(index, np.int64)
    if idx.shape != (m,) or idx.min(initial=0) < 0 or idx.max(initial=0) >= n:
        raise ValueError(f"index must be {m} positions in [0, {n}), got {idx.tolist()}")
    level = default_level(m, wavelet) if level is None else int(level)
    w_full = wavelet_coefficients(maps[..., idx, :], wavelet, level + shift, mode)[: level + 1]
    w_scaled = wavelet_coefficients(maps_scaled, wavelet, level, mode)
    pairs = [(f[..., : min(f.shape[-1], g.shape[-1])], g[..., : min(f.shape[-1], g.shape[-1])])
             for f, g in zip(w_full, w_scaled)]
    return 1.0 - _cosine_rows([f for f, _ in pairs], [g for _, g in pairs]).mean(axis=-1)


# ---------------------------------------------------------------------------------------------
# Aggregation per head and tables per (layer, head)


def _as_map_list(maps, name: str) -> list[np.ndarray]:
    """``[..., n, n]`` array -> list of its ``[n, n]`` maps; a sequence of 2-D maps stays a list."""
    if not isinstance(maps, (list, tuple)) or (maps and np.ndim(maps[0]) < 2):
        arr = np.asarray(maps)
        if arr.ndim < 2 or arr.shape[-2] != arr.shape[-1]:
            raise ValueError(f"{name} must be [..., n, n], got shape {arr.shape}")
        return list(arr.reshape((-1,) + arr.shape[-2:]))
    out = [np.asarray(a) for a in maps]
    if not out:
        raise ValueError(f"{name} is empty")
    for a in out:
        if a.ndim != 2 or a.shape[0] != a.shape[1]:
            raise ValueError(f"{name} must hold square [n, n] maps, got shape {a.shape}")
    return out


def head_metrics(maps, scaled: Mapping[float, np.ndarray] | None = None, *, wavelet="db2",
                 level: int | None = None, mode: str = "symmetric", nfft: int | None = None,
                 normalize_wavelet_entropy: bool = False, how: str = "uniform",
                 scaled_index: Mapping[float, Sequence] | None = None,
                 scaled_level: int | None = None) -> dict[str, float]:
    """All metrics of one head, averaged over its rows (queries x maps).

    Args:
      maps: ``[..., n, n]`` the head's maps (e.g. ``[batch, n, n]``), or a sequence of square maps
        of different sizes (e.g. each example cropped to its own length); processed one map at a
        time, so memory stays at one ``[n, nfft/2+1]`` spectrum.
      scaled: optional ``{alpha: maps_alpha}`` for eq. 10, one scaled map per map (same leading
        shape ``[..., m, m]``, or a sequence aligned with ``maps``); adds
        ``scale_sensitivity_{alpha}`` (e.g. ``scale_sensitivity_0.5``), computed at
        ``scaled_level`` (default: the default level of the shortest scaled map).
      wavelet, level, mode: DWT settings for eq. 5, 10, 11 (default db2, the maximum level of the
        *shortest* map, as the seed chose its level for the shortest sequence).
      nfft: FFT length (default :func:`fft_length` of the *longest* map: one frequency grid).
      normalize_wavelet_entropy: see :func:`wavelet_entropy`.
      how: token sampling of the scaled inputs (:func:`sample_indices`).
      scaled_index: optional ``{alpha: [index per map]}``: the positions of each full map that its
        scaled map's positions are (see :func:`scale_sensitivity`; default from ``how``).

    Returns:
      ``band_low``, ``band_mid``, ``band_high`` (eq. 2), ``selectivity`` (eq. 3),
      ``positional_entropy`` (eq. 6), ``spectral_entropy`` (eq. 7), ``entropy_correlation``
      (rho(h), eq. 8, over the rows), ``wavelet_entropy_<scale>`` per scale (eq. 5, scale names
      from :func:`scale_names`), ``reconstruction_error`` (eq. 11, mean over maps) and the scale
      sensitivities in both readings: ``scale_sensitivity_<alpha>`` (the context reading,
      :func:`scale_sensitivity`) and ``scale_sensitivity_dyadic_<alpha>`` (the scale reading,
      :func:`dyadic_scale_sensitivity`, when every scaled map is about ``n / 2**s`` long): plain
      floats. Row means weight every row alike (a longer map has more rows).
    """
    flat = _as_map_list(maps, "maps")
    sizes = [a.shape[-1] for a in flat]
    level = default_level(min(sizes), wavelet) if level is None else int(level)
    nfft = fft_length(max(sizes)) if nfft is None else int(nfft)
    fractions, select, hp, hs, went, recon = [], [], [], [], [], []
    for a in flat:
        a64 = a.astype(np.float64)
        _, power = psd(a64, nfft)
        fractions.append(band_fractions(power))
        select.append(selectivity(power))
        hp.append(positional_entropy(a64))
        hs.append(spectral_entropy(power))
        went.append(wavelet_entropy(a64, wavelet, level, mode, normalize_wavelet_entropy))
        recon.append(reconstruction_error(a, wavelet, level, mode))
    fractions = np.concatenate(fractions)
    hp, hs = np.concatenate(hp), np.concatenate(hs)
    went = np.concatenate(went).mean(axis=0)
    out = {f"band_{name}": float(v) for name, v in zip(BAND_NAMES, fractions.mean(axis=0))}
    out["selectivity"] = float(np.concatenate(select).mean())
    out["positional_entropy"] = float(hp.mean())
    out["spectral_entropy"] = float(hs.mean())
    out["entropy_correlation"] = float(pearson(hp, hs))
    out.update({f"wavelet_entropy_{s}": float(v) for s, v in zip(scale_names(level), went)})
    out["reconstruction_error"] = float(np.mean(recon))
    for alpha, maps_alpha in (scaled or {}).items():
        small = _as_map_list(maps_alpha, f"scaled[{alpha}]")
        if len(small) != len(flat):
            raise ValueError(f"scaled[{alpha}] has {len(small)} maps for {len(flat)} maps")
        indices = (scaled_index or {}).get(alpha)
        lvl = default_level(min(a.shape[-1] for a in small), wavelet) if scaled_level is None else scaled_level
        s = [scale_sensitivity(a, b, how=how, wavelet=wavelet, level=lvl, mode=mode,
                               index=None if indices is None else indices[i])
             for i, (a, b) in enumerate(zip(flat, small))]
        out[f"scale_sensitivity_{alpha:g}"] = float(np.mean(s))
        if all(dyadic_shift(a.shape[-1], b.shape[-1]) is not None for a, b in zip(flat, small)):
            d = [dyadic_scale_sensitivity(a, b, how=how, wavelet=wavelet,
                                          index=None if indices is None else indices[i])
                 for i, (a, b) in enumerate(zip(flat, small))]
            out[f"scale_sensitivity_dyadic_{alpha:g}"] = float(np.mean(d))
    return out


def head_table(maps, scaled: Mapping[float, np.ndarray] | None = None, **kwargs) -> list[dict]:
    """One row per (layer, head): ``{"layer", "head", **head_metrics(...)}``.

    Args:
      maps: ``[layers, heads, ..., n, n]``.
      scaled: optional ``{alpha: [layers, heads, ..., m, m]}``.
      kwargs: passed to :func:`head_metrics`.
    """
    maps = np.asarray(maps)
    if maps.ndim < 4:
        raise ValueError(f"maps must be [layers, heads, ..., n, n], got shape {maps.shape}")
    rows = []
    for layer in range(maps.shape[0]):
        for head in range(maps.shape[1]):
            sub = {a: np.asarray(s)[layer, head] for a, s in (scaled or {}).items()}
            rows.append({"layer": layer, "head": head, **head_metrics(maps[layer, head], sub, **kwargs)})
    return rows


def layer_table(rows: Sequence[dict]) -> list[dict]:
    """Per-layer means over heads of :func:`head_table` rows; ``entropy_correlation`` is then
    rho_layer (eq. 9). NaN values are left out of the means. Adds ``heads`` (the count)."""
    layers: dict = {}
    for r in rows:
        layers.setdefault(r["layer"], []).append(r)
    out = []
    for layer, group in layers.items():
        keys = [k for k in group[0] if k not in ("layer", "head")]
        row = {"layer": layer, "heads": len(group)}
        row.update({k: float(_nanmean([g[k] for g in group])) for k in keys})
        out.append(row)
    return out


def format_table(rows: Sequence[dict], columns: Sequence[str] | None = None, digits: int = 4) -> str:
    """Markdown table of metric rows (``columns`` default: every key of the first row)."""
    if not rows:
        return ""
    columns = list(columns or rows[0].keys())

    def cell(v):
        return f"{v:.{digits}g}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join(lines)
