"""Exceptions and argument checks shared by the wavelet modules.

Every check raises with a message that names the offending argument, the value received and how
to fix it. The exception classes subclass the builtin ones callers would expect (``ValueError`` /
``TypeError``), so ``except ValueError`` keeps working; the argument errors are also
:class:`~wavspa_flax.errors.ConfigError` (a wrong wavelet name or level in a config is the user's
to fix, reported in one line by the command line).
"""
from __future__ import annotations

import difflib
import warnings
from collections.abc import Sequence

import jax.numpy as jnp
import numpy as np

from wavspa_flax.errors import ConfigError


class UnknownWaveletError(ConfigError):
    """A wavelet name that ``pywt.wavelist(kind='discrete')`` does not know."""


class LevelError(ConfigError):
    """A decomposition level that cannot be computed: not an int, negative, or a level whose
    input would be empty (or of length 1 in a mode that needs two samples)."""


class LevelWarning(UserWarning):
    """A level above ``max_level``: computed anyway, as pywt does (every coefficient then sees the
    boundary extension). Emitted once per (length, filter length, level) per process."""


class FilterLengthError(ConfigError):
    """A filter of unusable length (odd lattice length, unequal bank lengths, ...)."""


class ModeError(ConfigError):
    """An unknown signal-extension mode."""


class InputDtypeError(TypeError):
    """A non-floating input to a transform."""


class CoefficientShapeError(ValueError):
    """Coefficient bands whose shapes cannot come from one decomposition."""


def unknown_wavelet_message(name: str, discrete: Sequence[str], continuous: Sequence[str]) -> str:
    """The message for an unknown wavelet name: close matches, the families, and the fix."""
    if name in continuous:
        return (
            f"wavelet={name!r} is a continuous wavelet in PyWavelets; only discrete wavelets "
            "(with a filter bank) can be used for the DWT. Use a name from "
            "pywt.wavelist(kind='discrete'), e.g. 'db2', 'sym4', 'coif1', 'bior2.2', or pass a "
            "FilterBank."
        )
    close = difflib.get_close_matches(str(name), list(discrete), n=3, cutoff=0.6)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    families = sorted({w.rstrip("0123456789.") for w in discrete})
    return (
        f"unknown wavelet name {name!r}.{hint} Known discrete families: {', '.join(families)} "
        "(haar, db1-db38, sym2-sym20, coif1-coif17, bior*/rbio* e.g. 'bior2.2', dmey); the full "
        "list is pywt.wavelist(kind='discrete'). Alternatively pass a FilterBank / pywt.Wavelet / "
        "4-sequence (dec_lo, dec_hi, rec_lo, rec_hi)."
    )


def check_floating(x, name: str = "x") -> None:
    """Raise ``InputDtypeError`` unless ``x`` has a floating dtype."""
    dtype = jnp.asarray(x).dtype if not hasattr(x, "dtype") else x.dtype
    if not jnp.issubdtype(dtype, jnp.floating):
        raise InputDtypeError(
            f"{name} has dtype {dtype}; wavelet transforms need a floating input. "
            f"Convert it first, e.g. {name}.astype(jnp.float32)."
        )


# (length, filter length, level) keys already warned about: once per process, not per call or trace.
_WARNED_LEVELS: set = set()


def warn_level_above_maximum(level: int, maximum: int, length: int, filter_length: int | None) -> None:
    """Emit :class:`LevelWarning` for ``level > maximum``, once per key (``filter_length`` None: lifting)."""
    key = (int(length), filter_length, int(level))
    if key in _WARNED_LEVELS:
        return
    _WARNED_LEVELS.add(key)
    if filter_length is None:
        message = (
            f"lifting level={level} is above the maximum {maximum} for a signal of length {length}: the "
            "extra levels transform a single sample. Computing it anyway (the inverse is still exact); "
            f"use level <= {maximum} to avoid this."
        )
    else:
        message = (
            f"level={level} is above the maximum {maximum} for a signal of length {length} and filters of "
            f"length {filter_length} (pywt.dwt_max_level: floor(log2(n / (L - 1)))): every coefficient "
            "sees the boundary extension. Computing it anyway, as pywt does (the inverse is still exact); "
            f"use level <= {maximum}, level=None for the maximum, or a longer signal / shorter wavelet "
            "to avoid this."
        )
    # stacklevel 4: the caller of wavedec / wavedec2 / lifting_dec / the support masks.
    warnings.warn(message, LevelWarning, stacklevel=4)


def validate_level(level, maximum: int) -> int:
    """``level`` as an int; raise :class:`LevelError` unless it is a non-negative int."""
    if isinstance(level, bool) or not isinstance(level, (int, np.integer)):
        raise LevelError(f"level must be an int, got {level!r} ({type(level).__name__}).")
    level = int(level)
    if level < 0:
        raise LevelError(f"level={level} is negative; use 0 <= level <= {maximum}.")
    return level


def normalize_axis(axis: int, ndim: int, name: str = "axis") -> int:
    """Map a possibly negative axis into ``0..ndim-1`` or raise a clear ``ValueError``."""
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name}={axis} is out of range for an input with {ndim} dimensions.")
    return axis % ndim
