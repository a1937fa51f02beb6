"""Metrics of learned wavelet filters (AdaWavSpA / OrthoWavSpA), per hidden channel.

Input: scaling filters ``h [channels, L]`` (or any ``[..., L]``) in pywt ``dec_lo`` order, as
AdaWavSpA stores them. For OrthoWavSpA, build them from the learned angles first with
``wavspa_flax.wavelets.lattice_scaling_filter(angles)``. The high-pass is derived by the QMF
relation of the WavSpA paper (eq. 4), ``wavspa_flax.wavelets.qmf_filter_bank``.

Symmetry follows the WavSpA paper, appendix A.7 / Fig. 4.
"""
from __future__ import annotations

import numpy as np

from wavspa_flax.wavelets.filters import qmf_filter_bank

EPS = 1e-10


def highpass(h) -> np.ndarray:
    """Analysis high-pass of each scaling filter (QMF relation, eq. 4; pywt ``dec_hi``): ``[..., L]``."""
    return np.asarray(qmf_filter_bank(np.asarray(h, np.float64)).dec_hi)


def symmetry(h, of: str = "scaling") -> np.ndarray:
    """Asymmetry measure of A.7: ``sum_k |u_k - u_{L-1-k}|`` with ``u = f / ||f||_2``.

    A.7 takes the l1 distance between the unit-normalised wavelet and its "transpose" (its time
    reverse, for a 1-D filter) and states that a perfectly symmetric wavelet scores 0 and that
    symlets score closer to 0 than Daubechies wavelets. Which filter "wavelet" means is not
    spelled out (choice): by default ``of="scaling"``, the learned scaling (low-pass) filter
    itself, the only reading under which both statements hold. The QMF high-pass of an even-length
    filter with a symmetric low-pass is antisymmetric, so ``of="wavelet"`` (the high-pass) never
    reaches 0 (Haar: 2 sqrt 2) and equals ``sum_k |u_k + u_{L-1-k}|`` of the scaling filter.
    Reference values (scaling filter): haar 0, db2 sqrt 6 ~ 2.449, db20 ~ 5.735 (the Fig. 4
    initialisation line), sym20 ~ 2.585.

    Args:
      h: ``[..., L]`` scaling filters (pywt ``dec_lo`` order).
      of: ``"scaling"`` or ``"wavelet"``.
    Returns:
      ``[...]`` (one value per channel). Invariant to the filter's scale and to reversal.
    """
    if of == "scaling":
        f = np.asarray(h, np.float64)
    elif of == "wavelet":
        f = highpass(h)
    else:
        raise ValueError(f"of must be 'scaling' or 'wavelet', got {of!r}")
    u = f / np.maximum(np.linalg.norm(f, axis=-1, keepdims=True), EPS)
    return np.abs(u - u[..., ::-1]).sum(axis=-1)


def frequency_grid(num: int = 256) -> np.ndarray:
    """``num`` angular frequencies evenly spaced on ``[0, pi]`` (radians per sample)."""
    return np.linspace(0.0, np.pi, num)


def frequency_response(h, num: int = 256):
    """Magnitude responses of the low- and high-pass analysis filters of each channel.

    ``|H(e^{iw})| = |sum_k h_k e^{-i w k}|`` on :func:`frequency_grid` ``(num)``; the high-pass is
    :func:`highpass` (QMF). For an orthonormal filter, ``|H_lo|^2 + |H_hi|^2 = 2`` at every ``w``,
    ``|H_lo(0)| = |sum h|`` (``sqrt 2`` for a proper low-pass) and ``|H_lo(pi)| = 0``.

    Args:
      h: ``[..., L]`` scaling filters.
    Returns:
      ``(omega [num], low [..., num], high [..., num])``.
    """
    h = np.asarray(h, np.float64)
    omega = frequency_grid(num)
    basis = np.exp(-1j * np.outer(np.arange(h.shape[-1]), omega))  # [L, num]
    return omega, np.abs(h @ basis), np.abs(highpass(h) @ basis)


def relative_change(h, h0) -> np.ndarray:
    """Distance moved from the initial filters: ``||h - h0||_2 / ||h0||_2`` per channel.

    Args:
      h: ``[..., L]`` learned filters; h0: initial filters, broadcastable (e.g. one ``[L]``
        wavelet such as pywt's db20 ``dec_lo`` shared by all channels).
    Returns:
      ``[...]``.
    """
    h = np.asarray(h, np.float64)
    h0 = np.broadcast_to(np.asarray(h0, np.float64), h.shape)
    return np.linalg.norm(h - h0, axis=-1) / np.maximum(np.linalg.norm(h0, axis=-1), EPS)
