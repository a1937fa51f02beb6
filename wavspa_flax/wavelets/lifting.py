"""Lifting-scheme wavelet transform (LiftWavSpA, paper section 3.4, eq. 7-9).

One level on a length-``n`` signal (``m = ceil(n/2)``; an odd signal gets one zero appended,
which the inverse removes again):

* split (eq. 7):    ``e_k = x_{2k}``, ``o_k = x_{2k+1}``
* predict (eq. 8):  ``d_k = o_k - sum_t p_t e_{k + t - (P-1)//2}``
* update (eq. 9):   ``s_k = e_k + sum_t u_t d_{k + t - U//2}``

with circular neighbours (indices mod ``m``), as in the official code. The defaults
``p = (1/2, 1/2)``, ``u = (1/4, 1/4)`` give ``d_k = o_k - (e_k + e_{k+1})/2`` and
``s_k = e_k + (d_{k-1} + d_k)/4``: the LeGall 5/3 lifting that every LiftWavSpA config of the
official code runs (fixed, 0 parameters, Table 8). The paper calls it the "lazy wavelet"; strictly
the lazy wavelet is the bare split and 5/3 adds the predict/update above. Like the official code
there is no normalisation of ``s``/``d``.

Levels recurse on ``s``: the output is ``[s_L, d_L, ..., d_1]`` (pywt order), band lengths
``ceil(n / 2^j)``. The inverse undoes the steps in reverse order (``e = s - U(d)``,
``o = d + P(e)``, interleave) and trims each level to the length the next detail band (or
``length``) says, so it is exact for every length and level - also where the official ``liftrec``
is not (odd intermediate lengths) - and for ANY predict/update weights: ``predict``/``update`` may
be learnable ``(P,)`` / ``(U,)`` arrays or ``(C, P)`` / ``(C, U)`` per channel (``channel_axis``).
"""
from __future__ import annotations

from collections.abc import Sequence

import jax.numpy as jnp
import numpy as np
from jax import lax

from wavspa_flax.wavelets import _conv
from wavspa_flax.wavelets.errors import (
    CoefficientShapeError,
    LevelError,
    check_floating,
    normalize_axis,
    validate_level,
    warn_level_above_maximum,
)
from wavspa_flax.wavelets.extension import extend

LEGALL_PREDICT = np.array([0.5, 0.5])
LEGALL_UPDATE = np.array([0.25, 0.25])


def lifting_max_level(length: int) -> int:
    """Number of halvings until one sample is left: ``ceil(log2(length))``."""
    level, n = 0, int(length)
    while n > 1:
        n = (n + 1) // 2
        level += 1
    return level


def lifting_band_lengths(length: int, level: int) -> list[int]:
    """``[len s_L, len d_L, ..., len d_1]`` of :func:`lifting_dec`."""
    sizes, n = [], int(length)
    for _ in range(level):
        n = (n + 1) // 2
        sizes.append(n)
    return [sizes[-1]] + sizes[::-1] if sizes else [int(length)]


def _check_level(level: int, length: int) -> int:
    """A non-negative int level for a non-empty signal. Above ``lifting_max_level`` the bands stay
    one sample long and the inverse stays exact (the odd sample is zero-padded, then trimmed), so
    such a level warns once (:class:`LevelWarning`) and is computed, like the filter-bank DWT."""
    maximum = lifting_max_level(length)
    level = validate_level(level, maximum)
    if level > 0 and length < 1:
        raise LevelError(f"lifting level={level} cannot be computed for an empty axis (length {length}).")
    if level > maximum:
        warn_level_above_maximum(level, maximum, length, None)
    return level


def _weights(weights, default: np.ndarray, name: str):
    if weights is None:
        return default
    shape = np.shape(weights)
    if len(shape) not in (1, 2) or shape[-1] < 1:
        raise ValueError(f"{name} weights must have shape (taps,) or (C, taps), got {shape}.")
    return weights


def _channel_axis(weights: Sequence, ndim: int, axis: int, channel_axis: int | None, shape) -> int | None:
    per_channel = [w for w in weights if np.ndim(w) == 2]
    if channel_axis is None:
        if per_channel:
            raise ValueError("per-channel lifting weights (C, taps) need channel_axis= (the axis of size C).")
        return None
    channel_axis = normalize_axis(channel_axis, ndim, "channel_axis")
    if channel_axis == axis:
        raise ValueError(f"channel_axis ({channel_axis}) must differ from the transformed axis ({axis}).")
    for w in per_channel:
        if np.shape(w)[0] not in (1, shape[channel_axis]):
            raise ValueError(
                f"per-channel lifting weights have {np.shape(w)[0]} rows but x has {shape[channel_axis]} "
                f"entries along channel_axis={channel_axis}."
            )
    return channel_axis


def _circular_filter(band, weights, offset: int, axis: int, channel_axis: int | None):
    """``out_k = sum_t w_t band[(k + t - offset) mod m]`` along ``axis`` (taps as in :mod:`_conv`)."""
    m = band.shape[axis]
    taps = _conv.taps(weights, band.ndim, channel_axis, band.dtype)
    left, right = offset, len(taps) - 1 - offset
    padded = band
    if left > 0 or right > 0:
        # Materialised wrap-around pads: XLA:CPU vectorises slices of a plain buffer, not of a concat.
        padded = lax.optimization_barrier(extend(band, max(left, 0), max(right, 0), "periodic", axis))
    total = None
    for t, tap in enumerate(taps):
        piece = lax.slice_in_dim(padded, t, t + m, axis=axis)
        total = piece * tap if total is None else total + piece * tap
    return total


def _split(x, axis: int):
    n = x.shape[axis]
    if n % 2:
        pad = [(0, 0)] * x.ndim
        pad[axis] = (0, 1)
        x = jnp.pad(x, pad)
        n += 1
    even = lax.slice_in_dim(x, 0, n - 1, stride=2, axis=axis)
    odd = lax.slice_in_dim(x, 1, n, stride=2, axis=axis)
    return even, odd


def _forward(x, level, predict, update, axis, channel_axis, sign: float = -1.0, binary: bool = False):
    """Shared forward recursion (``sign=+1``, ``binary``: support-mask propagation)."""
    p_off, u_off = (np.shape(predict)[-1] - 1) // 2, np.shape(update)[-1] // 2
    details = []
    approx = x
    for _ in range(level):
        even, odd = _split(approx, axis)
        detail = odd + sign * _circular_filter(even, predict, p_off, axis, channel_axis)
        approx = even + _circular_filter(detail, update, u_off, axis, channel_axis)
        if binary:
            detail, approx = (jnp.minimum(b, 1.0) for b in (detail, approx))
        details.append(detail)
    return [approx] + details[::-1]


def lifting_dec(
    x,
    level: int,
    axis: int = -1,
    predict=None,
    update=None,
    channel_axis: int | None = None,
) -> list:
    """Multi-level lifting decomposition (eq. 7-9).

    Args:
      x: floating array ``(..., n, ...)``.
      level: >= 0 (the paper uses 3); above ``ceil(log2(n))`` a :class:`LevelWarning` (once per
        key) and bands of one sample.
      axis: transformed axis.
      predict: ``(P,)`` or ``(C, P)`` predict weights; None = LeGall ``(1/2, 1/2)``.
      update: ``(U,)`` or ``(C, U)`` update weights; None = LeGall ``(1/4, 1/4)``.
      channel_axis: axis of size C for per-channel weights.

    Returns:
      ``[s_L, d_L, ..., d_1]``, band ``j`` of length ``ceil(n / 2^j)``.
    """
    check_floating(x)
    x = jnp.asarray(x)
    axis = normalize_axis(axis, x.ndim)
    predict = _weights(predict, LEGALL_PREDICT, "predict")
    update = _weights(update, LEGALL_UPDATE, "update")
    channel_axis = _channel_axis((predict, update), x.ndim, axis, channel_axis, x.shape)
    level = _check_level(level, x.shape[axis])
    return _forward(x, level, predict, update, axis, channel_axis)


def lifting_rec(
    coeffs: Sequence,
    axis: int = -1,
    predict=None,
    update=None,
    channel_axis: int | None = None,
    length: int | None = None,
):
    """Exact inverse of :func:`lifting_dec` (for any weights, lengths and levels).

    Args:
      coeffs: ``[s_L, d_L, ..., d_1]``.
      predict, update, channel_axis: the same as for the decomposition.
      length: original length (default ``2 * len(d_1)``, i.e. the even-padded length).

    Returns:
      ``(..., length, ...)``.
    """
    if not isinstance(coeffs, (list, tuple)) or len(coeffs) < 1:
        raise CoefficientShapeError("coeffs must be a non-empty list [s_L, d_L, ..., d_1].")
    check_floating(coeffs[0], "coeffs[0]")
    approx = jnp.asarray(coeffs[0])
    axis = normalize_axis(axis, approx.ndim)
    predict = _weights(predict, LEGALL_PREDICT, "predict")
    update = _weights(update, LEGALL_UPDATE, "update")
    channel_axis = _channel_axis((predict, update), approx.ndim, axis, channel_axis, approx.shape)
    p_off, u_off = (np.shape(predict)[-1] - 1) // 2, np.shape(update)[-1] // 2
    details = [jnp.asarray(d) for d in coeffs[1:]]
    for i, detail in enumerate(details):
        if detail.shape != approx.shape:
            raise CoefficientShapeError(
                f"coeffs[{i + 1}] has shape {detail.shape} but the approximation at that level has "
                f"{approx.shape}; lifting bands of one level have equal shapes."
            )
        detail = detail.astype(approx.dtype)
        even = approx - _circular_filter(detail, update, u_off, axis, channel_axis)
        odd = detail + _circular_filter(even, predict, p_off, axis, channel_axis)
        target = details[i + 1].shape[axis] if i + 1 < len(details) else (length or 2 * detail.shape[axis])
        if not 2 * detail.shape[axis] - 1 <= target <= 2 * detail.shape[axis]:
            raise CoefficientShapeError(
                f"cannot reconstruct {target} samples from bands of length {detail.shape[axis]} "
                "(need 2m-1 or 2m); check the band order [s_L, d_L, ..., d_1] and length=."
            )
        approx = _conv.interleave(even, odd, target, axis)
    return approx


def lifting_support_masks(mask, level: int, axis: int = -1, predict_length: int = 2, update_length: int = 2) -> list:
    """Boolean band masks aligned with :func:`lifting_dec`'s output.

    True where the coefficient's support (through the circular predict/update neighbourhoods of
    every level) contains a True input position; the zero appended to odd lengths is never
    True. Computed by lifting the 0/1 mask with all-ones weights and a plus sign.

    Args:
      mask: boolean (or 0/1) array ``(..., n, ...)``.
      level, axis: as in :func:`lifting_dec`.
      predict_length, update_length: numbers of predict/update taps (2 and 2 for LeGall 5/3).

    Returns:
      ``[m_s_L, m_d_L, ..., m_d_1]`` boolean arrays.
    """
    m = jnp.asarray(mask).astype(jnp.float32)
    axis = normalize_axis(axis, m.ndim)
    level = _check_level(level, m.shape[axis])
    bands = _forward(m, level, np.ones(int(predict_length)), np.ones(int(update_length)), axis, None, sign=1.0,
                     binary=True)
    return [b > 0 for b in bands]
