"""Strided two-channel filtering kernels shared by the 1-D and 2-D transforms.

Both kernels are "shift and add": a length-L filter becomes L strided slices of the input, each
scaled by one tap (a scalar, or a per-channel vector broadcast along ``channel_axis``) and summed.
XLA fuses the whole sum into one loop over the output, so a level costs one read of the input
and one write per band, for any axis and any batch layout, with no transposes. The benchmark
``python -m lra.bench --suite kernels`` compares this against grouped/polyphase
``lax.conv_general_dilated`` and FFT filtering: on XLA:CPU shift-and-add was 5-30x faster at
(8, 4096, 256) (``results/bench_wavelets_cpu.md``).

Gradients are custom (``jax.custom_vjp``): the adjoint of the strided analysis is a synthesis
with the flipped filters and vice versa, so the backward pass runs the same vectorised kernels.
(Autodiff would transpose every strided slice into an interior-padded full-size array and sum
those, which XLA:CPU evaluates element by element: about 8x slower than the forward pass.)
Filter gradients are one reduction per tap; they are skipped for constant (numpy) filters.
"""
from __future__ import annotations

import functools
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax


def taps(filt, ndim: int, channel_axis: int | None, dtype):
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
    # The taps as the rows of an (L, C) array that XLA materialises row-major. A column of the
    # (C, L) array is strided: fused into the filtering loop, XLA gathers it element by element and
    # the loop does not vectorise (measured: learned filters 2-3x slower than constant ones). A
    # transpose, even behind an optimisation barrier, is not enough: layout assignment makes it a
    # column-major bitcast and the gather stays in every consumer. The product with the identity
    # is exact and XLA emits dots row-major.
    arr = arr.astype(jnp.result_type(arr.dtype, dtype))
    rows = jnp.einsum("cl,lm->mc", arr, jnp.eye(arr.shape[1], dtype=arr.dtype), precision=lax.Precision.HIGHEST)
    return [rows[j].reshape(shape) for j in range(arr.shape[1])]


def _accumulate(total, tap, piece):
    term = piece * tap
    return term if total is None else total + term


def _analysis_impl(xe, filters: Sequence, start: int, count: int, axis: int, channel_axis: int | None):
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


def _synthesis_impl(bands: Sequence, filters: Sequence, shift: int, out_len: int, axis: int, channel_axis: int | None):
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


# --- custom gradients ---------------------------------------------------------------------------


def _is_constant(filt) -> bool:
    return isinstance(filt, (np.ndarray, list, tuple))


def _as_arrays(filters: Sequence, dtype):
    """Filters as jax arrays; constants are cast to the signal dtype (no float64 promotion)."""
    return tuple(jnp.asarray(np.asarray(f), dtype) if _is_constant(f) else jnp.asarray(f) for f in filters)


def _zero_extend(x, left: int, right: int, axis: int):
    """Zero-pad along ``axis`` and materialise (slices of a plain buffer vectorise on XLA:CPU)."""
    if left == 0 and right == 0:
        return x
    pad = [(0, 0)] * x.ndim
    pad[axis] = (left, right)
    return lax.optimization_barrier(jnp.pad(x, pad))


# Outputs per block of the filter-gradient sums (see _filter_grads).
GRAD_BLOCK = 16


def _filter_grads(signal, cotangents, filters, start: int, axis: int, channel_axis: int | None):
    """``d f[L-1-t] = sum cot * signal[start + 2k + t]`` over all axes but the channel axis.

    Each tap's sum runs in two stages. The ``count`` outputs along ``axis`` are cut into blocks of
    ``T = GRAD_BLOCK``; an elementwise loop fusion adds ``cot[Ta + r] * signal[start + t + 2(Ta + r)]``
    over the ``T`` offsets ``r`` of every block ``a`` (strided slices, vectorised like the
    filtering itself), and a plain reduction sums the ``count / T`` block sums. A product of two
    strided slices reduced directly (one ``jnp.sum`` per tap) is left to XLA:CPU's reduction
    kernels, which materialise every slice first and run several times slower (measured 6x at
    (8, 2048, 256), L = 16). The block sums also round less than one long sum.
    """
    length = filters[0].shape[-1]
    count = cotangents[0].shape[axis]
    block = max(1, min(GRAD_BLOCK, count))
    blocks = -(-count // block)
    padded = block * blocks
    # zero-pad the cotangents to whole blocks; the signal to every index the padded blocks read
    cotangents = [_zero_extend(c, 0, padded - count, axis) for c in cotangents]
    need = start + length + 2 * padded - 2
    signal = _zero_extend(signal, 0, max(0, need - signal.shape[axis]), axis)
    span = lambda first, stride, x: lax.slice_in_dim(  # noqa: E731
        x, first, first + stride * (blocks - 1) + 1, stride=stride, axis=axis)
    per_tap = [[] for _ in filters]
    for t in range(length):
        for i, cot in enumerate(cotangents):
            total = None
            for r in range(block):
                total = _accumulate(total, span(r, block, cot), span(start + t + 2 * r, 2 * block, signal))
            per_tap[i].append(total)
    grads = []
    tap_axis = axis + 1  # the taps next to the blocks: each block's rows stay in cache for all taps
    for sums, filt in zip(per_tap, filters):
        stacked = jnp.stack(sums, axis=tap_axis)
        if filt.ndim == 2:
            channel = channel_axis + (1 if channel_axis > axis else 0)
            grad = jnp.sum(stacked, axis=tuple(a for a in range(stacked.ndim) if a not in (tap_axis, channel)))
            if channel > tap_axis:
                grad = jnp.transpose(grad)  # (C, L)
            if filt.shape[0] == 1:
                grad = jnp.sum(grad, axis=0, keepdims=True)
        else:
            grad = jnp.sum(stacked, axis=tuple(a for a in range(stacked.ndim) if a != tap_axis))
        grads.append(jnp.flip(grad, axis=-1).astype(filt.dtype))
    return tuple(grads)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3, 4, 5, 6))
def _analysis_core(xe, filters, start, count, axis, channel_axis, constant_filters):
    return tuple(_analysis_impl(xe, filters, start, count, axis, channel_axis))


def _analysis_fwd(xe, filters, start, count, axis, channel_axis, constant_filters):
    return _analysis_core(xe, filters, start, count, axis, channel_axis, constant_filters), (xe, filters)


def _analysis_bwd(start, count, axis, channel_axis, constant_filters, residuals, cotangents):
    xe, filters = residuals
    length = filters[0].shape[-1]
    size = xe.shape[axis]
    cotangents = tuple(c.astype(xe.dtype) for c in cotangents)
    # d xe[i] = sum_b sum_j f_b[L-1-j] cot_b[(i - start - j) / 2]: a synthesis with flipped filters
    left = (start + length - 1) // 2
    right = max(0, (size - 1 - start) // 2 - (count - 1))
    extended = tuple(_zero_extend(c, left, right, axis) for c in cotangents)
    flipped = tuple(jnp.flip(f, axis=-1) for f in filters)
    d_xe = _synthesis_impl(extended, flipped, 2 * left - start, size, axis, channel_axis).astype(xe.dtype)
    if constant_filters:
        d_filters = tuple(jnp.zeros_like(f) for f in filters)
    else:
        d_filters = _filter_grads(xe, cotangents, filters, start, axis, channel_axis)
    return d_xe, d_filters


_analysis_core.defvjp(_analysis_fwd, _analysis_bwd)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3, 4, 5, 6))
def _synthesis_core(bands, filters, shift, out_len, axis, channel_axis, constant_filters):
    return _synthesis_impl(bands, filters, shift, out_len, axis, channel_axis)


def _synthesis_fwd(bands, filters, shift, out_len, axis, channel_axis, constant_filters):
    return _synthesis_core(bands, filters, shift, out_len, axis, channel_axis, constant_filters), (bands, filters)


def _synthesis_bwd(shift, out_len, axis, channel_axis, constant_filters, residuals, cotangent):
    bands, filters = residuals
    length = filters[0].shape[-1]
    count = bands[0].shape[axis]
    cotangent = cotangent.astype(bands[0].dtype)
    # d c_b[k] = sum_j g_b[j] cot[2k + j - shift]: an analysis with flipped filters
    left = max(shift, 0)
    start = left - shift
    right = max(0, start + 2 * (count - 1) + length - left - out_len)
    extended = _zero_extend(cotangent, left, right, axis)
    flipped = tuple(jnp.flip(f, axis=-1) for f in filters)
    d_bands = tuple(d.astype(b.dtype)
                    for d, b in zip(_analysis_impl(extended, flipped, start, count, axis, channel_axis), bands))
    if constant_filters:
        d_filters = tuple(jnp.zeros_like(f) for f in filters)
    else:
        # d g_b[j] = sum_k c_b[k] cot[2k + j - shift] = (analysis-style tap sums, unflipped)
        d_filters = tuple(jnp.flip(g, axis=-1)
                          for g in _filter_grads(extended, bands, filters, start, axis, channel_axis))
    return d_bands, d_filters


_synthesis_core.defvjp(_synthesis_fwd, _synthesis_bwd)


def analysis(xe, filters: Sequence, start: int, count: int, axis: int, channel_axis: int | None):
    """Strided analysis filtering with a custom gradient; the contract of :func:`_analysis_impl`."""
    constant = all(_is_constant(f) for f in filters)
    return list(_analysis_core(xe, _as_arrays(filters, xe.dtype), start, count, axis, channel_axis, constant))


def synthesis(bands: Sequence, filters: Sequence, shift: int, out_len: int, axis: int, channel_axis: int | None):
    """Upsample-and-filter synthesis with a custom gradient; the contract of :func:`_synthesis_impl`."""
    dtype = jnp.result_type(*[b.dtype for b in bands])
    bands = tuple(b.astype(dtype) for b in bands)
    constant = all(_is_constant(f) for f in filters)
    return _synthesis_core(bands, _as_arrays(filters, dtype), shift, out_len, axis, channel_axis, constant)
