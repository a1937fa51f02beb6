"""Signal extension (boundary) modes, with PyWavelets' semantics (``pywt.Modes``).

Each mode extends a length-``n`` signal by ``left`` / ``right`` samples. Every extended sample is
a fixed linear combination of at most three input samples, so the extension is stored as static
numpy (index, weight) pairs and applied with a gather: it is jit-able, differentiable and costs
only the pad width. Large pads (wider than the signal) follow numpy's iterated reflection, as
``pywt.pad`` and pywt's C code do.

Modes (x = x_0 .. x_{n-1}):

=============== ==========================================================================
zero            ... 0 0 | x_0 .. x_{n-1} | 0 0 ...
constant        ... x_0 x_0 | x_0 .. x_{n-1} | x_{n-1} x_{n-1} ...      (numpy 'edge')
symmetric       ... x_1 x_0 | x_0 .. x_{n-1} | x_{n-1} x_{n-2} ...     (half-sample)
reflect         ... x_2 x_1 | x_0 .. x_{n-1} | x_{n-2} x_{n-3} ...     (whole-sample)
periodic        ... x_{n-2} x_{n-1} | x_0 .. x_{n-1} | x_0 x_1 ...     (numpy 'wrap')
smooth          first-order (linear) extrapolation from the two edge samples
antisymmetric   symmetric with the sign flipped on every other reflected copy
antireflect     2 x_0 - (reflect), numpy 'reflect' with reflect_type='odd'
periodization   periodic after repeating x_{n-1} once when n is odd; the DWT keeps
                exactly ceil(n/2) coefficients (see ``dwt``)
=============== ==========================================================================
"""
from __future__ import annotations

import functools

import jax.numpy as jnp
import numpy as np
from jax import lax

from wavspa_flax.wavelets.errors import ModeError

MODES = (
    "zero",
    "constant",
    "symmetric",
    "periodic",
    "smooth",
    "periodization",
    "reflect",
    "antisymmetric",
    "antireflect",
)

_NUMPY_INDEX_MODES = {"constant": "edge", "symmetric": "symmetric", "reflect": "reflect", "periodic": "wrap"}

# (indices (K, w), weights (K, w)) for one side: pad[i] = sum_k weights[k, i] * x[indices[k, i]].
Terms = tuple[np.ndarray, np.ndarray]


def check_mode(mode: str) -> str:
    """Return ``mode`` if pywt knows it, else raise :class:`ModeError`."""
    if mode not in MODES:
        raise ModeError(f"mode={mode!r} is not a signal-extension mode; use one of {', '.join(MODES)}.")
    return mode


def check_min_length(n: int, mode: str) -> None:
    """pywt refuses ``reflect``/``antireflect`` for signals of length 1; so do we."""
    if n < 1:
        raise ValueError(f"cannot transform an empty axis (length {n}).")
    if n < 2 and mode in ("reflect", "antireflect"):
        raise ValueError(
            f"mode={mode!r} needs a signal of length >= 2 along the transformed axis (got {n}); "
            "use 'symmetric' or 'zero' for length-1 signals."
        )


def _split(full_idx: np.ndarray, full_w: np.ndarray, left: int, n: int) -> tuple[Terms, Terms]:
    return (
        (full_idx[:, :left], full_w[:, :left]),
        (full_idx[:, left + n :], full_w[:, left + n :]),
    )


def _dense_terms(operator: np.ndarray, left: int, n: int) -> tuple[Terms, Terms]:
    """Sparse (<= 3 terms) form of a dense extension operator of shape (n, n + left + right)."""
    width = operator.shape[1]
    nonzero = [np.flatnonzero(operator[:, j]) for j in range(width)]
    k = max(1, max(len(z) for z in nonzero))
    idx = np.zeros((k, width), np.int64)
    w = np.zeros((k, width), np.float64)
    for j, rows in enumerate(nonzero):
        idx[: len(rows), j] = rows
        w[: len(rows), j] = operator[rows, j]
    return _split(idx, w, left, n)


@functools.cache
def extension_terms(n: int, left: int, right: int, mode: str) -> tuple[Terms, Terms]:
    """Static (indices, weights) of the left and right pads of a length-``n`` signal.

    ``periodization`` here means: repeat the last sample when ``n`` is odd, then wrap; the
    repeated sample is the first entry of the right pad.
    """
    check_mode(mode)
    base = np.arange(n)
    if mode == "zero":
        idx = np.pad(base, (left, right), mode="edge")[None]
        w = np.ones_like(idx, np.float64)
        w[:, :left] = 0.0
        w[:, left + n :] = 0.0
        return _split(idx, w, left, n)
    if mode in _NUMPY_INDEX_MODES:
        idx = np.pad(base, (left, right), mode=_NUMPY_INDEX_MODES[mode])[None]
        return _split(idx, np.ones_like(idx, np.float64), left, n)
    if mode == "periodization":
        even = np.concatenate([base, base[-1:]]) if n % 2 else base
        idx = np.pad(even, (left, right), mode="wrap")[None]
        return _split(idx, np.ones_like(idx, np.float64), left, n)
    if mode == "antisymmetric":
        virtual = np.arange(-left, n + right)
        folded = np.mod(virtual, 2 * n)
        idx = np.where(folded < n, folded, 2 * n - 1 - folded)[None]
        w = np.where(folded < n, 1.0, -1.0)[None]
        return _split(idx, w, left, n)
    if mode == "smooth":
        return _dense_terms(_smooth_operator(n, left, right), left, n)
    if mode == "antireflect":
        return _dense_terms(_antireflect_operator(n, left, right), left, n)
    raise AssertionError(mode)


def _smooth_operator(n: int, left: int, right: int) -> np.ndarray:
    """Dense (n, n+left+right) operator of pywt's 'smooth' (linear extrapolation)."""
    op = np.zeros((n, n + left + right))
    op[np.arange(n), left + np.arange(n)] = 1.0
    for k in range(1, left + 1):  # k samples before x_0
        op[0, left - k] += 1.0 + (k if n > 1 else 0)
        if n > 1:
            op[1, left - k] -= k
    for k in range(1, right + 1):  # k samples after x_{n-1}
        op[n - 1, left + n - 1 + k] += 1.0 + (k if n > 1 else 0)
        if n > 1:
            op[n - 2, left + n - 1 + k] -= k
    return op


def _antireflect_operator(n: int, left: int, right: int) -> np.ndarray:
    """Dense operator of numpy's odd reflection; short signals use numpy itself on the basis."""
    if left <= n - 1 and right <= n - 1:
        op = np.zeros((n, n + left + right))
        op[np.arange(n), left + np.arange(n)] = 1.0
        for k in range(1, left + 1):
            op[0, left - k] += 2.0
            op[k, left - k] -= 1.0
        for k in range(1, right + 1):
            op[n - 1, left + n - 1 + k] += 2.0
            op[n - 1 - k, left + n - 1 + k] -= 1.0
        return op
    # Pads wider than the signal (n small): iterate numpy's odd reflection on the identity basis.
    return np.pad(np.eye(n), ((0, 0), (left, right)), mode="reflect", reflect_type="odd")


def _runs(indices: np.ndarray):
    """Split an index vector into maximal runs of step +1 or -1: [(start, stop, step), ...]."""
    runs = []
    i = 0
    while i < len(indices):
        j = i + 1
        step = int(indices[j] - indices[i]) if j < len(indices) else 1
        if step not in (1, -1):
            step = 1
        while j < len(indices) and indices[j] - indices[j - 1] == step:
            j += 1
        runs.append((int(indices[i]), int(indices[j - 1]), step))
        i = j
    return runs


def gather_runs(x, indices: np.ndarray, axis: int):
    """``jnp.take(x, indices, axis)`` for static indices, as slices (+ reversals) and a concat.

    Slices fuse into the consumer loop on XLA:CPU where a gather may not.
    """
    pieces = []
    for first, last, step in _runs(np.asarray(indices)):
        lo, hi = min(first, last), max(first, last)
        piece = lax.slice_in_dim(x, lo, hi + 1, axis=axis)
        pieces.append(lax.rev(piece, (axis,)) if step == -1 and hi > lo else piece)
    return pieces[0] if len(pieces) == 1 else jnp.concatenate(pieces, axis=axis)


def _apply_terms(x, terms: Terms, axis: int, absolute: bool):
    idx, w = terms
    width = idx.shape[1]
    if width == 0:
        shape = list(x.shape)
        shape[axis] = 0
        return jnp.zeros(shape, x.dtype)
    bshape = [1] * x.ndim
    bshape[axis] = width
    out = None
    for k in range(idx.shape[0]):
        weights = np.abs(w[k]) if absolute else w[k]
        if not np.any(weights):
            continue
        gathered = gather_runs(x, idx[k], axis)
        term = gathered if np.all(weights == 1.0) else gathered * jnp.asarray(weights.reshape(bshape), x.dtype)
        out = term if out is None else out + term
    if out is None:
        shape = list(x.shape)
        shape[axis] = width
        out = jnp.zeros(shape, x.dtype)
    return out


def extend(x, left: int, right: int, mode: str, axis: int, absolute: bool = False):
    """Extend ``x`` along ``axis`` by ``left``/``right`` samples with a pywt mode.

    Args:
      x: array ``(..., n, ...)``.
      left, right: pad widths (>= 0, may exceed ``n``).
      mode: one of :data:`MODES`.
      axis: non-negative axis of ``x``.
      absolute: use ``|weights|`` (for support masks: no cancellation in signed modes).

    Returns:
      ``(..., left + n' + right, ...)`` with ``n' = n`` (``n + 1`` for odd ``n`` in
      'periodization', whose repeated sample is counted in ``right``).
    """
    n = x.shape[axis]
    left_terms, right_terms = extension_terms(n, int(left), int(right), mode)
    parts = [_apply_terms(x, left_terms, axis, absolute), x, _apply_terms(x, right_terms, axis, absolute)]
    parts = [p for p in parts if p.shape[axis] > 0]
    return parts[0] if len(parts) == 1 else jnp.concatenate(parts, axis=axis)
