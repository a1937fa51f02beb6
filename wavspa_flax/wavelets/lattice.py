"""Orthogonal lattice parametrisation of scaling filters (OrthoWavSpA, paper section 3.3, eq. 5-6).

A filter of even length ``L = 2K`` is built from ``K`` angles. Start from the unit vector
``e_0`` (length L) and, for each angle ``theta_i`` in turn:

1. replace every sample pair ``(c[2p], c[2p+1])`` by
   ``(sin t * c[2p] + cos t * c[2p+1],  cos t * c[2p] - sin t * c[2p+1])`` (a 2x2 reflection),
2. shift the vector right by one sample (cyclically),

and undo the last shift at the end. After one step the filter is ``[sin t1, cos t1]`` as in
eq. 6; every later step lengthens it by two taps (an up-shifted rotation, eq. 5). This is the
construction of the official WavSpA code (``parametrized_wavelet``), vectorised over any leading
batch shape of angles, so ``lowpass=False`` reproduces its filters for the same angles.

Properties, for ANY angles (tested): unit norm and orthogonality to even shifts,
``sum_k h_k h_{k+2m} = delta_m``, so :func:`~wavspa_flax.wavelets.qmf_filter_bank` gives a
perfect-reconstruction bank. The tap sum, however, is ``sin S + cos S`` with ``S`` the sum of
the angles (the even and odd tap sums rotate by each angle), which equals ``sqrt(2)`` - a proper
low-pass scaling filter with a zero-mean wavelet - iff ``S = pi/4 (mod 2 pi)``. The official code
does not enforce it. With ``lowpass=True`` (default) the K raw angles stay the parameters (Table 8
counts L/2 per channel) and are mapped onto that constraint by subtracting the mean excess,
``theta_i - (S - pi/4) / K``; the map is linear, so gradients flow to every raw angle.

:func:`lattice_angles` factorises a known orthogonal wavelet exactly (peeling one lattice stage
at a time), so e.g. db8 (L=16) initialises an OrthoWavSpA layer.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from wavspa_flax.wavelets.errors import FilterLengthError, UnknownWaveletError
from wavspa_flax.wavelets.filters import FilterBank, filter_bank, qmf_filter_bank


def project_lowpass(angles):
    """Shift every angle by the same amount so that they sum to pi/4 (sum of taps = sqrt 2)."""
    angles = jnp.asarray(angles)
    excess = jnp.sum(angles, axis=-1, keepdims=True) - jnp.pi / 4
    return angles - excess / angles.shape[-1]


def _build(angles, xp):
    """The lattice recursion with array module ``xp`` (jax.numpy, or numpy for float64 checks).

    The vector is kept at its support: before stage i (0-based) it holds 2i taps; the shift of
    the previous stage is a leading zero (it never wraps before the last stage, whose shift the
    construction undoes) and one trailing zero completes the last pair.
    """
    num = angles.shape[-1]
    batch = angles.shape[:-1]
    vector = xp.ones(batch + (1,), angles.dtype)
    sin, cos = xp.sin(angles), xp.cos(angles)
    for i in range(num):
        pad = [(0, 0)] * len(batch) + [(0 if i == 0 else 1, 1)]
        vector = xp.pad(vector, pad)
        s, c = sin[..., i : i + 1], cos[..., i : i + 1]
        even, odd = vector[..., 0::2], vector[..., 1::2]  # pairwise 2x2 reflection
        vector = xp.stack([s * even + c * odd, c * even - s * odd], axis=-1).reshape(batch + (2 * i + 2,))
    return vector


def lattice_scaling_filter(angles, lowpass: bool = True):
    """Orthogonal scaling filter (pywt ``dec_lo`` order) from ``K`` lattice angles (eq. 5-6).

    Args:
      angles: ``(..., K)`` real angles (radians); ``(C, K)`` for one filter per channel.
      lowpass: map the angles onto ``sum = pi/4`` first (see module docstring), so that the
        filter also sums to ``sqrt(2)``; False gives the official code's raw filter.

    Returns:
      ``(..., 2K)`` filter ``h`` with ``||h|| = 1`` and ``sum_k h_k h_{k+2m} = 0`` (m != 0).
    """
    angles = jnp.asarray(angles)
    if not jnp.issubdtype(angles.dtype, jnp.floating):
        angles = angles.astype(jnp.float32)
    if angles.ndim < 1 or angles.shape[-1] < 1:
        raise FilterLengthError(f"angles must have shape (..., K) with K >= 1, got {angles.shape}.")
    return _lattice_jit(angles, bool(lowpass))


@functools.partial(jax.jit, static_argnums=1)
def _lattice_jit(angles, lowpass: bool):
    # jitted so that eager calls compile one small program instead of one per operation
    return _build(project_lowpass(angles) if lowpass else angles, jnp)


def lattice_filter_bank(angles, lowpass: bool = True) -> FilterBank:
    """:func:`qmf_filter_bank` of :func:`lattice_scaling_filter`: a PR bank for any angles."""
    return qmf_filter_bank(lattice_scaling_filter(angles, lowpass))


def check_lattice_length(length: int) -> int:
    """Lattice filters have even length ``2K``; raise :class:`FilterLengthError` otherwise."""
    if isinstance(length, bool) or int(length) != length or length < 2 or int(length) % 2:
        raise FilterLengthError(
            f"lattice (OrthoWavSpA) filters need an even length L >= 2 (L/2 angles), got {length}; "
            "the paper uses L=16."
        )
    return int(length)


def _factorise(h: np.ndarray) -> np.ndarray:
    """Angles whose lattice filter (``lowpass=False``) is ``h``; float64, raises if impossible."""
    length = h.shape[0]
    num = length // 2
    angles = np.zeros(num)
    current = h.astype(np.float64).copy()
    for stage in range(num - 1, 0, -1):
        active = 2 * (stage + 1)  # support of the current vector: [0, active)
        first, last = current[0:2], current[active - 2 : active]
        # The inverse stage (the reflection is an involution) must zero c[0] and c[active-1]:
        # sin*c0 + cos*c1 = 0 and cos*c[-2] - sin*c[-1] = 0; use the better conditioned pair.
        if np.hypot(*first) >= np.hypot(*last):
            theta = np.arctan2(-first[1], first[0])
        else:
            theta = np.arctan2(last[0], last[1])
        s, c = np.sin(theta), np.cos(theta)
        pairs = current.reshape(-1, 2)
        current = np.stack([s * pairs[:, 0] + c * pairs[:, 1], c * pairs[:, 0] - s * pairs[:, 1]], -1).reshape(-1)
        current = np.roll(current, -1)
        angles[stage] = theta
    angles[0] = np.arctan2(current[0], current[1])
    return angles


@functools.cache
def _named_angles(name: str) -> np.ndarray:
    bank = filter_bank(name)
    h = np.asarray(bank.dec_lo, np.float64)
    qmf = qmf_filter_bank(h)
    if not all(np.allclose(np.asarray(a), np.asarray(b), atol=1e-10) for a, b in zip(qmf, bank)):
        raise UnknownWaveletError(
            f"wavelet {name!r} is not orthogonal (its filter bank is not the QMF bank of its dec_lo), "
            "so it has no lattice angles; use an orthogonal family: haar, db*, sym*, coif*."
        )
    check_lattice_length(h.shape[0])
    angles = _factorise(h)
    rebuilt = _build(angles, np)
    error = float(np.max(np.abs(rebuilt - h)))
    if error > 1e-8:
        raise UnknownWaveletError(
            f"wavelet {name!r} has no exact lattice factorisation (rebuilt filter error {error:.1e}); "
            "its taps are not exactly orthogonal (dmey is a truncated approximation). Use haar, db*, "
            "sym* or coif*."
        )
    excess = angles.sum() - np.pi / 4
    turns = np.round(excess / (2 * np.pi))
    if abs(excess - 2 * np.pi * turns) > 1e-8:
        raise UnknownWaveletError(f"wavelet {name!r} does not sum to sqrt(2); it is not a low-pass scaling filter.")
    angles[0] -= 2 * np.pi * turns  # angles now sum to exactly pi/4: lowpass=True leaves them unchanged
    angles.setflags(write=False)
    return angles


def lattice_angles(wavelet_name: str) -> np.ndarray:
    """Lattice angles reproducing a known orthogonal wavelet's ``dec_lo`` exactly.

    Obtained by exact factorisation (stage by stage, in float64) and normalised to sum to
    ``pi/4``, so ``lattice_scaling_filter(lattice_angles(name))`` (either ``lowpass`` setting)
    equals ``pywt.Wavelet(name).dec_lo`` to float64 rounding (tested to 1e-12 in float64 for
    every orthogonal pywt wavelet but dmey, and to 1e-5 in float32 for haar, db2/4/8, sym4/8,
    coif2).

    Args:
      wavelet_name: an orthogonal pywt wavelet: 'haar', 'db1'..'db38', 'sym2'..'sym20',
        'coif1'..'coif17'.

    Returns:
      float64 array of shape ``(L/2,)``.

    Raises:
      UnknownWaveletError: unknown, biorthogonal or inexact (dmey) wavelets.
    """
    if not isinstance(wavelet_name, str):
        raise TypeError(f"wavelet_name must be a pywt name (str), got {type(wavelet_name).__name__}.")
    return _named_angles(wavelet_name).copy()
