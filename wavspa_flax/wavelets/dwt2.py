"""Separable 2-D DWT over two axes (``pywt.dwt2`` / ``wavedec2`` and inverses).

The paper's fixed WavSpA (section 4.1, A.1, A.4) transforms a sequence ``X`` of shape
``(n, d)`` with a level-1 db2 wavelet over BOTH the sequence and the hidden axis. One level is
the 1-D :func:`~wavspa_flax.wavelets.dwt` along ``axes[0]`` and then along ``axes[1]``; the four
outputs are named as in pywt: ``cA`` (low/low), ``cH`` (detail along ``axes[0]``, approximation
along ``axes[1]``), ``cV`` (approximation along ``axes[0]``, detail along ``axes[1]``), ``cD``
(detail/detail). Coefficient list: ``[cA_n, (cH_n, cV_n, cD_n), ..., (cH_1, cV_1, cD_1)]``.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from wavspa_flax.wavelets.dwt import _dwt, _idwt, _prepare, _slice, resolve_level
from wavspa_flax.wavelets.errors import CoefficientShapeError, check_floating, normalize_axis
from wavspa_flax.wavelets.filters import WaveletLike, filter_bank, max_level


def _axes_pair(axes: Sequence[int], ndim: int) -> tuple[int, int]:
    if len(axes) != 2:
        raise ValueError(f"axes must name exactly two axes, got {axes!r}.")
    first, second = (normalize_axis(a, ndim, "axes") for a in axes)
    if first == second:
        raise ValueError(f"axes must be two different axes, got {axes!r}.")
    return first, second


def _check_shared(bank) -> None:
    if np.ndim(bank.dec_lo) != 1:
        raise ValueError("the 2-D transform takes a shared (L,) filter bank, not per-channel filters.")


def dwt2(x, wavelet: WaveletLike, axes: Sequence[int] = (-2, -1), mode: str = "symmetric"):
    """One level of the separable 2-D DWT (``pywt.dwt2``).

    Args:
      x: floating array with the two transformed axes ``(..., n0, ..., n1, ...)``.
      wavelet: pywt name / ``pywt.Wavelet`` / shared ``(L,)`` FilterBank.
      axes: the two axes (first transformed first, as in pywt).
      mode: extension mode.

    Returns:
      ``(cA, (cH, cV, cD))``, each with the per-axis lengths of the 1-D :func:`dwt`.
    """
    _check_shared(filter_bank(wavelet))
    first, second = _axes_pair(axes, np.ndim(x))
    x, bank, _, _ = _prepare(x, wavelet, first, mode, None)
    lo, hi = _dwt(x, bank, first, mode, None)
    ca, cv = _dwt(lo, bank, second, mode, None)
    ch, cd = _dwt(hi, bank, second, mode, None)
    return ca, (ch, cv, cd)


def idwt2(coeffs, wavelet: WaveletLike, axes: Sequence[int] = (-2, -1), mode: str = "symmetric"):
    """Inverse of :func:`dwt2` (``pywt.idwt2``): ``coeffs = (cA, (cH, cV, cD))``."""
    ca, (ch, cv, cd) = coeffs
    check_floating(ca, "cA")
    _check_shared(filter_bank(wavelet))
    first, second = _axes_pair(axes, np.ndim(ca))
    ca, bank, _, _ = _prepare(ca, wavelet, first, mode, None)
    shapes = {tuple(np.shape(c)) for c in (ca, ch, cv, cd)}
    if len(shapes) != 1:
        raise CoefficientShapeError(f"cA, cH, cV, cD must have the same shape, got {sorted(shapes)}.")
    lo = _idwt(ca, cv.astype(ca.dtype), bank, second, mode, None)
    hi = _idwt(ch.astype(ca.dtype), cd.astype(ca.dtype), bank, second, mode, None)
    return _idwt(lo, hi, bank, first, mode, None)


def wavedec2(
    x, wavelet: WaveletLike, level: int | None = None, axes: Sequence[int] = (-2, -1), mode: str = "symmetric"
) -> list:
    """Multi-level separable 2-D DWT (``pywt.wavedec2``).

    Args:
      x: floating array; ``axes`` name the two transformed axes.
      level: >= 0; None = the smaller ``max_level`` of the two axes (pywt default). Above it a
        :class:`LevelWarning` is emitted once per key and the transform is computed, as in pywt.

    Returns:
      ``[cA_n, (cH_n, cV_n, cD_n), ..., (cH_1, cV_1, cD_1)]``.
    """
    check_floating(x)
    ndim = np.ndim(x)
    first, second = _axes_pair(axes, ndim)
    length = int(np.shape(filter_bank(wavelet).dec_lo)[-1])
    sizes = (np.shape(x)[first], np.shape(x)[second])
    order = np.argsort([max_level(s, length) for s in sizes], kind="stable")
    level = resolve_level(level, sizes[order[0]], length, mode, other_lengths=(sizes[order[1]],))
    details = []
    approx = x
    for _ in range(level):
        approx, bands = dwt2(approx, wavelet, (first, second), mode)
        details.append(bands)
    return [approx] + details[::-1]


def waverec2(
    coeffs: Sequence,
    wavelet: WaveletLike,
    axes: Sequence[int] = (-2, -1),
    mode: str = "symmetric",
    shape: Sequence[int] | None = None,
):
    """Inverse of :func:`wavedec2` (``pywt.waverec2``).

    Like pywt, a reconstructed approximation one sample longer than the next detail bands is
    cut to their shape. ``shape`` (the lengths along ``axes``) trims the final output, e.g. to
    the original odd sizes.
    """
    if not isinstance(coeffs, (list, tuple)) or len(coeffs) < 1:
        raise CoefficientShapeError("coeffs must be a non-empty list [cA_n, (cH_n, cV_n, cD_n), ...].")
    approx = coeffs[0]
    check_floating(approx, "coeffs[0]")
    first, second = _axes_pair(axes, np.ndim(approx))
    for i, bands in enumerate(coeffs[1:], start=1):
        if not isinstance(bands, (tuple, list)) or len(bands) != 3:
            raise CoefficientShapeError(f"coeffs[{i}] must be a (cH, cV, cD) tuple.")
        target = np.shape(bands[0])
        for ax in (first, second):
            if approx.shape[ax] == target[ax] + 1:
                approx = _slice(approx, target[ax], ax)
            elif approx.shape[ax] != target[ax]:
                raise CoefficientShapeError(
                    f"coeffs[{i}] bands have length {target[ax]} along axis {ax}, but the approximation "
                    f"reconstructed from the coarser levels has {approx.shape[ax]}."
                )
        approx = idwt2((approx, tuple(bands)), wavelet, (first, second), mode)
    if shape is not None:
        if len(shape) != 2:
            raise ValueError(f"shape must give the two output lengths along axes, got {shape!r}.")
        for ax, size in zip((first, second), shape):
            if not 0 < int(size) <= approx.shape[ax]:
                raise ValueError(f"shape entry {size} must be in 1..{approx.shape[ax]} for axis {ax}.")
            approx = _slice(approx, int(size), ax)
    return approx
