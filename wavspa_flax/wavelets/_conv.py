"""Strided two-channel filtering kernels shared by the 1-D and 2-D transforms.

Both kernels are "shift and add": a length-L filter becomes L strided slices of the input, each
scaled by one tap (a scalar, or a per-channel vector broadcast along ``channel_axis``) and summed.
XLA fuses the whole sum into one loop over the output, so a level costs one read of the input
and one write per band, for any axis and any batch layout, with no transposes. The benchmark
(``scripts/bench_wavelets.py``) compares this against ``lax.conv_general_dilated``.
"""
from __future__ import annotations

from typing import Optional, Sequence

import jax.numpy as jnp
import numpy as np
from jax import lax


def taps(filt, ndim: int, channel_axis: Optional[int], dtype):
    """Per-tap multipliers of a filter, ready to broadcast against an ``ndim``-d signal.

    Args:
      filt: ``(L,)`` shared filter or ``(C, L)`` per-channel filters.
      ndim: rank of the signal.
      channel_axis: non-negative axis of size C of the signal (required for 2-D filters).
      dtype: computation dtype (numpy filters are cast to it; traced filters keep theirs).

    Returns:
      A list of L scalars or arrays shaped ``[1, ..., C (at channel_axis), ..., 1]``.
    """
    is_numpy = isinstance(filt, np.ndarray) or isinstance(filt, (list, tuple))
    arr = np.asarray(filt, dtype=np.float64) if is_numpy else jnp.asarray(filt)
    if arr.ndim == 1:
        if is_numpy:
            return [np.asarray(v, dtype=dtype) for v in arr]
        return [arr[j].astype(jnp.result_type(arr.dtype, dtype)) for j in range(arr.shape[0])]
    shape = [1] * ndim
    shape[channel_axis] = arr.shape[0]
    if is_numpy:
        return [np.asarray(arr[:, j].reshape(shape), dtype=dtype) for j in range(arr.shape[1])]
    cast = arr.astype(jnp.result_type(arr.dtype, dtype))
    return [cast[:, j].reshape(shape) for j in range(arr.shape[1])]


def _accumulate(total, tap, piece):
    term = piece * tap
    return term if total is None else total + term


def analysis(xe, filters: Sequence, start: int, count: int, axis: int, channel_axis: Optional[int]):
    """Convolve with each filter and keep every other sample.

    ``out_f[k] = sum_t f[L-1-t] * xe[start + 2k + t]`` for ``k < count`` (a full convolution of
    the extended signal with ``f``, sampled at the odd/even phase chosen by ``start``).

    Args:
      xe: extended signal, ``(..., >= start + 2*count + L - 2, ...)`` along ``axis``.
      filters: sequence of ``(L,)`` / ``(C, L)`` filters (typically dec_lo and dec_hi).
      start, count: first input sample and number of outputs.

    Returns:
      One array per filter, ``count`` long along ``axis``.
    """
    tap_lists = [taps(f, xe.ndim, channel_axis, xe.dtype) for f in filters]
    length = len(tap_lists[0])
    outs = [None] * len(filters)
    for t in range(length):
        piece = lax.slice_in_dim(xe, start + t, start + t + 2 * (count - 1) + 1, stride=2, axis=axis)
        for i, tl in enumerate(tap_lists):
            outs[i] = _accumulate(outs[i], tl[length - 1 - t], piece)
    return outs


def synthesis(bands: Sequence, filters: Sequence, shift: int, out_len: int, axis: int, channel_axis: Optional[int]):
    """Upsample by two, convolve, sum the bands and keep ``out_len`` samples.

    ``out[n] = sum_b sum_j g_b[j] * c_b[(n + shift - j) / 2]`` over ``j`` with ``n + shift - j``
    even, ``n < out_len``. Every index ``(n + shift - j) / 2`` must lie inside the bands (the
    caller extends them first where it needs wrap-around).

    Args:
      bands: coefficient arrays of equal shape (cA, cD).
      filters: the matching synthesis filters (rec_lo, rec_hi), ``(L,)`` or ``(C, L)``.
      shift: index offset (``L - 2`` for the pywt non-periodic modes).
      out_len: output length along ``axis``.
    """
    dtype = jnp.result_type(*[b.dtype for b in bands])
    tap_lists = [taps(f, bands[0].ndim, channel_axis, dtype) for f in filters]
    length = len(tap_lists[0])
    phases = []
    for r in (0, 1):
        count = (out_len - r + 1) // 2
        total = None
        for j in range(length):
            if (r + shift - j) % 2:
                continue
            q = (r + shift - j) // 2
            for band, tl in zip(bands, tap_lists):
                piece = lax.slice_in_dim(band, q, q + count, axis=axis)
                total = _accumulate(total, tl[j], piece)
        phases.append(total)
    return interleave(phases[0], phases[1], out_len, axis)


def interleave(even, odd, out_len: int, axis: int):
    """``out[2p] = even[p]``, ``out[2p+1] = odd[p]``, trimmed to ``out_len`` along ``axis``."""
    if odd.shape[axis] < even.shape[axis]:
        pad = [(0, 0)] * odd.ndim
        pad[axis] = (0, even.shape[axis] - odd.shape[axis])
        odd = jnp.pad(odd, pad)
    stacked = jnp.stack([even, odd], axis=axis + 1)
    shape = list(even.shape)
    shape[axis] = 2 * even.shape[axis]
    return lax.slice_in_dim(stacked.reshape(shape), 0, out_len, axis=axis)


def synthesis_index_range(shift: int, length: int):
    """Min and max of ``(r + shift - j) / 2`` over valid ``r in {0, 1}``, ``j < length``."""
    qs = [(r + shift - j) // 2 for r in (0, 1) for j in range(length) if (r + shift - j) % 2 == 0]
    return min(qs), max(qs)
