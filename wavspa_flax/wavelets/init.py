"""Initial values for the learnable wavelet parameters (paper section 4.1, A.5 Table 11).

* :func:`init_scaling_filters` - AdaWavSpA (direct parametrisation, section 3.2): one scaling
  filter per hidden channel, ``(C, L)``, initialised from a wavelet (the paper: db20 -> L=40 or
  db8 -> L=16; the official code derives the name as ``db{L/2}``), from N(0, 0.02) or from the
  damped cosine ``cos(t) / (t + 1)`` (Table 11 ablations).
* :func:`init_lattice_angles` - OrthoWavSpA (section 3.3): ``(C, L/2)`` angles, from a wavelet's
  exact lattice factorisation or uniform in ``[0, 2 pi)`` (the official code's init).
* :func:`init_lifting_weights` - learnable lifting variant: LeGall 5/3 predict/update taps.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from wavspa_flax.wavelets.errors import FilterLengthError
from wavspa_flax.wavelets.filters import filter_bank
from wavspa_flax.wavelets.lattice import check_lattice_length, lattice_angles
from wavspa_flax.wavelets.lifting import LEGALL_PREDICT, LEGALL_UPDATE

SCALING_INITS = ("wavelet", "gaussian", "damped_cos")
LATTICE_INITS = ("wavelet", "uniform")
GAUSSIAN_STD = 0.02


def _default_wavelet(length: int) -> str:
    if length % 2:
        raise FilterLengthError(
            f"no default Daubechies wavelet for odd length {length} (db{{k}} has length 2k); pass wavelet= "
            "or an even length."
        )
    return "haar" if length == 2 else f"db{length // 2}"


def _need_key(key, kind: str):
    if key is None:
        raise ValueError(f"init kind {kind!r} is random: pass key=jax.random.PRNGKey(...).")
    return key


def init_scaling_filters(
    kind: str,
    num_channels: int,
    length: int,
    key: jax.Array | None = None,
    wavelet: str | None = None,
    dtype=jnp.float32,
):
    """Per-channel analysis low-pass filters (pywt ``dec_lo`` order) for AdaWavSpA.

    Args:
      kind: 'wavelet' (``wavelet``'s ``dec_lo``, default ``db{length/2}``, in every channel),
        'gaussian' (i.i.d. N(0, 0.02^2), needs ``key``) or 'damped_cos'
        (``cos(t) / (t + 1)``, ``t = 0..L-1``, in every channel).
      num_channels: C.
      length: L (must equal the wavelet's filter length for 'wavelet').

    Returns:
      ``(C, L)`` array; feed it to :func:`qmf_filter_bank` (eq. 4).
    """
    if kind not in SCALING_INITS:
        raise ValueError(f"scaling-filter init kind={kind!r} is unknown; use one of {SCALING_INITS}.")
    if kind == "wavelet":
        name = wavelet or _default_wavelet(length)
        h = np.asarray(filter_bank(name).dec_lo)
        if h.shape[-1] != length:
            raise FilterLengthError(
                f"wavelet {name!r} has filters of length {h.shape[-1]}, but length={length} was asked "
                f"for; use length={h.shape[-1]} or a wavelet of length {length} (db{length // 2})."
            )
        return jnp.asarray(np.tile(h, (num_channels, 1)), dtype)
    if kind == "gaussian":
        return GAUSSIAN_STD * jax.random.normal(_need_key(key, kind), (num_channels, length), dtype)
    t = np.arange(length, dtype=np.float64)
    return jnp.asarray(np.tile(np.cos(t) / (t + 1.0), (num_channels, 1)), dtype)


def init_lattice_angles(
    kind: str,
    num_channels: int,
    length: int,
    key: jax.Array | None = None,
    wavelet: str | None = None,
    dtype=jnp.float32,
):
    """Per-channel lattice angles ``(C, L/2)`` for OrthoWavSpA.

    Args:
      kind: 'wavelet' (exact angles of ``wavelet``, default ``db{L/2}``: db8 for L=16) or
        'uniform' (U[0, 2 pi), the official code's init; needs ``key``).
      length: the even filter length L.
    """
    check_lattice_length(length)
    if kind not in LATTICE_INITS:
        raise ValueError(f"lattice init kind={kind!r} is unknown; use one of {LATTICE_INITS}.")
    if kind == "uniform":
        return jax.random.uniform(_need_key(key, kind), (num_channels, length // 2), dtype, 0.0, 2 * np.pi)
    name = wavelet or _default_wavelet(length)
    angles = lattice_angles(name)
    if 2 * angles.shape[0] != length:
        raise FilterLengthError(f"wavelet {name!r} has length {2 * angles.shape[0]}, not length={length}.")
    return jnp.asarray(np.tile(angles, (num_channels, 1)), dtype)


def init_lifting_weights(
    num_channels: int | None = None, predict_length: int = 2, update_length: int = 2, dtype=jnp.float32
) -> tuple[jax.Array, jax.Array]:
    """LeGall 5/3 predict/update taps (1/2, 1/2) and (1/4, 1/4), centred in longer filters.

    Args:
      num_channels: None for shared ``(P,)``/``(U,)`` weights, else ``(C, P)``/``(C, U)``.
      predict_length, update_length: even numbers of taps (>= 2); the extra taps start at 0.

    Returns:
      ``(predict, update)`` for :func:`lifting_dec` / :func:`lifting_rec`.
    """
    out = []
    for size, base, name in ((predict_length, LEGALL_PREDICT, "predict"), (update_length, LEGALL_UPDATE, "update")):
        if size < 2 or size % 2:
            raise FilterLengthError(f"{name}_length must be even and >= 2 (centred taps), got {size}.")
        taps = np.zeros(size)
        taps[size // 2 - 1 : size // 2 + 1] = base
        if num_channels is not None:
            taps = np.tile(taps, (num_channels, 1))
        out.append(jnp.asarray(taps, dtype))
    return out[0], out[1]
