"""Kernels of position-embedding tables: ``K[i, j] = <P_i, P_j>`` and how shift-invariant it is.

For the sinusoidal table, ``<P_i, P_j> = sum_m cos(w_m (i - j))`` depends on ``i - j`` only: a
stationary kernel whose spectrum has a line at each table frequency ``w_m`` (the Fourier-feature
view of "Unifying Position Embeddings, NTK and Fourier Features", Theorem 3 / eq. 9-10). A learned
table need not be; these functions measure how far it is.

Offsets are ``delta = i - j`` in ``-(n-1) .. n-1``.
"""
from __future__ import annotations

import numpy as np

from lra.analysis.head_spectra import EPS, fft_length, hann_window


def position_kernel(table) -> np.ndarray:
    """``K = P P^T``: ``[..., n, n]`` from a table ``P [..., n, d]`` (float64)."""
    p = np.asarray(table, np.float64)
    return p @ np.swapaxes(p, -1, -2)


def offsets(n: int) -> np.ndarray:
    """``[2n - 1]`` offsets ``i - j`` from ``-(n-1)`` to ``n-1``."""
    return np.arange(-(n - 1), n)


def offset_average(kernel) -> np.ndarray:
    """Shift-invariant part of a kernel: the mean of ``K[i, j]`` over each diagonal ``i - j = delta``.

    Args:
      kernel: ``[..., n, n]``.
    Returns:
      ``[..., 2n - 1]``, entry ``delta + n - 1`` for offset ``delta`` (see :func:`offsets`); the two
      extreme offsets are single entries.
    """
    k = np.asarray(kernel, np.float64)
    n = k.shape[-1]
    # np.diagonal(offset=o) is K[i, i + o], i.e. delta = i - j = -o
    return np.stack([np.diagonal(k, offset=-d, axis1=-2, axis2=-1).mean(axis=-1)
                     for d in offsets(n)], axis=-1)


def toeplitz_projection(kernel) -> np.ndarray:
    """``T[i, j] = offset_average(K)[i - j]``: the nearest Toeplitz matrix to ``K`` in the Frobenius
    norm (an orthogonal projection). ``[..., n, n]``."""
    k = np.asarray(kernel, np.float64)
    n = k.shape[-1]
    avg = offset_average(k)
    index = np.arange(n)[:, None] - np.arange(n)[None, :] + n - 1
    return avg[..., index]


def toeplitz_fraction(kernel) -> np.ndarray:
    """Fraction of the kernel's energy in its Toeplitz projection: ``||T||_F^2 / ||K||_F^2``.

    Since ``T`` is an orthogonal projection, this equals ``1 - ||K - T||_F^2 / ||K||_F^2``: 1 for a
    kernel of ``i - j`` only, smaller the more ``K`` depends on absolute positions. Note that any
    diagonal-dominant kernel scores well above 0 (the identity is Toeplitz): an i.i.d. Gaussian
    table ``[n, d]`` gives about ``(d + 2) / (d + 2 + n)``. Returns ``[...]``.
    """
    k = np.asarray(kernel, np.float64)
    t = toeplitz_projection(k)
    return np.sum(t**2, axis=(-2, -1)) / np.maximum(np.sum(k**2, axis=(-2, -1)), EPS)


def shift_invariance(table) -> np.ndarray:
    """Shift invariance of a position table ``P [..., n, d]``: :func:`toeplitz_fraction` of its
    kernel. The sinusoidal table gives 1 up to float round-off (its kernel is exactly Toeplitz, so
    there are no edge effects for this measure). Returns ``[...]``."""
    return toeplitz_fraction(position_kernel(table))


def kernel_spectrum(table, nfft: int | None = None, window: str | None = "hann"):
    """Spectrum of the shift-invariant part ``k(delta)`` of a table's kernel.

    ``k`` (:func:`offset_average`, even in ``delta`` because ``K`` is symmetric) is multiplied by a
    Hann window of length ``2n - 1`` centred on ``delta = 0`` (:func:`hann_window`), laid out
    circularly (``delta = 0`` first) in ``nfft`` samples (default :func:`fft_length` ``(2n - 1)``)
    and transformed; the result is real. Each term ``cos(w delta)`` of a sinusoidal kernel gives a
    peak at ``omega = w`` (by Bochner, the spectral measure of a stationary kernel).

    Args:
      table: ``[..., n, d]`` position table.
      window: ``"hann"`` or ``None``.
    Returns:
      ``(omega [nfft/2 + 1], spectrum [..., nfft/2 + 1])``: angular frequency in radians per token
      on ``[0, pi]`` (directly comparable with the table's ``w_m``), real spectrum.
    """
    k = offset_average(position_kernel(table))
    length = k.shape[-1]  # 2n - 1
    n = (length + 1) // 2
    nfft = fft_length(length) if nfft is None else int(nfft)
    if nfft < length:
        raise ValueError(f"nfft must be >= 2n - 1 = {length}, got {nfft}")
    if window == "hann":
        k = k * hann_window(length)
    elif window is not None:
        raise ValueError(f"window must be 'hann' or None, got {window!r}")
    seq = np.zeros(k.shape[:-1] + (nfft,))
    seq[..., :n] = k[..., n - 1 :]  # delta = 0 .. n-1
    seq[..., nfft - (n - 1) :] = k[..., : n - 1]  # delta = -(n-1) .. -1
    spectrum = np.fft.rfft(seq, axis=-1).real
    omega = 2 * np.pi * np.arange(nfft // 2 + 1) / nfft
    return omega, spectrum
