"""Two-channel filter banks: PyWavelets look-up, the QMF relation (paper eq. 4), level limits.

A :class:`FilterBank` holds the four filters of a two-channel filter bank in PyWavelets' storage
order and naming (``pywt.Wavelet(name).filter_bank``):

* ``dec_lo``, ``dec_hi``: analysis low-/high-pass, applied by convolution (see ``dwt``),
* ``rec_lo``, ``rec_hi``: synthesis low-/high-pass.

Each filter has shape ``(L,)`` (one bank shared by all channels) or ``(C, L)`` (one bank per
channel, used together with ``channel_axis`` in the transforms). All four have the same ``L``.
"""
from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import NamedTuple, Union

import jax.numpy as jnp
import numpy as np
import pywt

from wavspa_flax.wavelets.errors import FilterLengthError, UnknownWaveletError, unknown_wavelet_message


class FilterBank(NamedTuple):
    """Analysis and synthesis filters, each ``(L,)`` (shared) or ``(C, L)`` (per channel)."""

    dec_lo: object
    dec_hi: object
    rec_lo: object
    rec_hi: object


WaveletLike = Union[str, "pywt.Wavelet", FilterBank, Sequence]


@functools.cache
def _discrete_names() -> tuple:
    return tuple(pywt.wavelist(kind="discrete"))


@functools.cache
def _continuous_names() -> tuple:
    return tuple(pywt.wavelist(kind="continuous"))


@functools.cache
def _named_bank(name: str) -> FilterBank:
    if name not in _discrete_names():
        raise UnknownWaveletError(unknown_wavelet_message(name, _discrete_names(), _continuous_names()))
    arrays = [np.asarray(f, dtype=np.float64) for f in pywt.Wavelet(name).filter_bank]
    for a in arrays:
        a.setflags(write=False)
    return FilterBank(*arrays)


def filter_bank(wavelet: WaveletLike) -> FilterBank:
    """Return the :class:`FilterBank` of ``wavelet``.

    Args:
      wavelet: a name known to ``pywt.wavelist(kind='discrete')`` ('haar', 'db2', 'sym4',
        'coif1', 'bior2.2', 'rbio3.1', 'dmey', ...), a ``pywt.Wavelet``, a :class:`FilterBank`
        or any 4-sequence ``(dec_lo, dec_hi, rec_lo, rec_hi)``.

    Returns:
      A FilterBank. Named / pywt wavelets give read-only float64 numpy arrays of shape ``(L,)``;
      given arrays (numpy or jax, possibly traced) are passed through unchanged.

    Raises:
      UnknownWaveletError: unknown name (the message lists close matches and the families).
      FilterLengthError: the four filters differ in length or are not 1-D/2-D.
    """
    if isinstance(wavelet, str):
        return _named_bank(wavelet)
    if isinstance(wavelet, pywt.Wavelet):
        return _checked(FilterBank(*[np.asarray(f, np.float64) for f in wavelet.filter_bank]))
    if isinstance(wavelet, FilterBank):
        return _checked(wavelet)
    if isinstance(wavelet, (tuple, list)) and len(wavelet) == 4:
        return _checked(FilterBank(*wavelet))
    raise TypeError(
        f"wavelet must be a pywt name (str), a pywt.Wavelet, a FilterBank or a 4-sequence "
        f"(dec_lo, dec_hi, rec_lo, rec_hi); got {type(wavelet).__name__}."
    )


def _checked(bank: FilterBank) -> FilterBank:
    shapes = [tuple(np.shape(f)) for f in bank]
    if len(set(shapes)) != 1:
        raise FilterLengthError(
            f"the four filters of a FilterBank must have the same shape, got {dict(zip(bank._fields, shapes))}; "
            "zero-pad the shorter ones the way pywt does for biorthogonal wavelets."
        )
    if len(shapes[0]) not in (1, 2) or shapes[0][-1] < 1:
        raise FilterLengthError(
            f"FilterBank filters must have shape (L,) or (C, L) with L >= 1, got {shapes[0]}."
        )
    return bank


def bank_length(wavelet: WaveletLike) -> int:
    """Filter length ``L`` of a wavelet spec (last axis of its filters)."""
    return int(np.shape(filter_bank(wavelet).dec_lo)[-1])


def qmf_filter_bank(scaling_filter) -> FilterBank:
    """Orthogonal filter bank from one analysis low-pass filter (paper eq. 4, pywt convention).

    With ``h = scaling_filter`` (pywt's ``dec_lo`` order) of length ``L``:

    * ``dec_lo[k] = h[k]``
    * ``dec_hi[k] = (-1)^(k+1) h[L-1-k]``   (eq. 4: psi_j = (-1)^j phi_{-j}, up to pywt's shift)
    * ``rec_lo[k] = h[L-1-k]``
    * ``rec_hi[k] = (-1)^k h[k]``

    This reproduces ``pywt.Wavelet(name).filter_bank`` exactly for the orthogonal families
    (haar, db, sym, coif) and is the relation the official WavSpA code used. If ``h`` has unit
    norm and is orthogonal to its even shifts, the bank reconstructs perfectly.

    Args:
      scaling_filter: ``(..., L)`` array (any leading batch shape; ``(C, L)`` for per-channel
        banks). Differentiable.

    Returns:
      FilterBank with the shape of ``scaling_filter``: numpy arrays for numpy / list input
      (constants, no device work), jax arrays otherwise.
    """
    xp = np if isinstance(scaling_filter, (np.ndarray, list, tuple)) else jnp
    h = xp.asarray(scaling_filter)
    length = h.shape[-1]
    signs = xp.where(xp.arange(length) % 2 == 0, 1.0, -1.0).astype(h.dtype).reshape((1,) * (h.ndim - 1) + (length,))
    flipped = xp.flip(h, axis=-1)
    return FilterBank(dec_lo=h, dec_hi=-signs * flipped, rec_lo=flipped, rec_hi=signs * h)


def max_level(length: int, wavelet_or_filter_length) -> int:
    """Largest useful level, ``pywt.dwt_max_level`` semantics.

    ``floor(log2(length / (L - 1)))``, or 0 when ``length < L - 1``.

    Args:
      length: signal length ``n`` along the transformed axis.
      wavelet_or_filter_length: an int ``L >= 2`` or anything :func:`filter_bank` accepts.
    """
    if isinstance(wavelet_or_filter_length, (int, np.integer)) and not isinstance(wavelet_or_filter_length, bool):
        filter_length = int(wavelet_or_filter_length)
    else:
        filter_length = bank_length(wavelet_or_filter_length)
    if filter_length < 2:
        raise FilterLengthError(f"filter length must be >= 2 for a level limit, got {filter_length}.")
    length = int(length)
    if length < filter_length - 1:
        return 0
    return int(np.floor(np.log2(length / (filter_length - 1))))

