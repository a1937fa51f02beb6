"""Shared helpers for the wavelet tests: pywt banks, tolerances, grouping by filter length."""
from __future__ import annotations

import collections
import contextlib
import warnings

import jax
import numpy as np
import pywt

from wavspa_flax.wavelets import FilterBank, LevelWarning
from wavspa_flax.wavelets import errors as wavelet_errors

DISCRETE = tuple(pywt.wavelist(kind="discrete"))
# pywt's own dmey round trip is inexact (about 2e-2): it is a truncated approximation of the Meyer
# wavelet. It is exempt from every perfect-reconstruction check, as in pywt.
INEXACT = ("dmey",)


def filter_length(name: str) -> int:
    return pywt.Wavelet(name).dec_len


def names_by_length(names) -> dict:
    """{L: [names with filter length L]} in pywt's listing order."""
    groups = collections.defaultdict(list)
    for name in names:
        groups[filter_length(name)].append(name)
    return dict(sorted(groups.items()))


def stacked_bank(names) -> FilterBank:
    """Per-channel FilterBank (C, L): channel c holds the pywt bank of names[c]."""
    banks = [pywt.Wavelet(n).filter_bank for n in names]
    return FilterBank(*[np.stack([np.asarray(b[i], np.float64) for b in banks]) for i in range(4)])


def assert_close_f32(actual, expected, what: str = "", rel: float = 1e-5):
    """float32 agreement: |actual - expected| <= rel * max(1, max|expected|)."""
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    scale = max(1.0, float(np.max(np.abs(expected))) if expected.size else 1.0)
    err = float(np.max(np.abs(actual - expected))) if expected.size else 0.0
    assert err <= rel * scale, f"{what}: max error {err:.3g} > {rel:g} * {scale:.3g}"


def compile_fast(fn, *args):
    """``jax.jit(fn)`` compiled for the shapes of ``args`` without LLVM optimisation.

    Test arrays are tiny, so run time does not matter, while XLA:CPU's optimising backend takes
    most of the test time (about 3x less compile time at level 0). Numerics are unaffected beyond
    float rounding. The result accepts arguments of the same shapes and dtypes.
    """
    return jax.jit(fn).lower(*args).compile(compiler_options={"xla_backend_optimization_level": 0})


def run_compiled(fn, *args):
    """``jax.jit(fn)(*args)`` through :func:`compile_fast`."""
    return compile_fast(fn, *args)(*args)


@contextlib.contextmanager
def level_warnings():
    """Record every :class:`LevelWarning` with the once-per-process key set emptied (restored after).

    Yields ``(records, keys)``: the LevelWarnings emitted inside the block and the live key set.
    """
    keys = wavelet_errors._WARNED_LEVELS
    saved = set(keys)
    keys.clear()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            records = _LevelRecords(caught)
            yield records, keys
    finally:
        keys.update(saved)


class _LevelRecords:
    """The LevelWarnings among the recorded warnings (pywt's own UserWarnings are left out)."""

    def __init__(self, caught):
        self._caught = caught

    def messages(self):
        return [str(w.message) for w in self._caught if issubclass(w.category, LevelWarning)]
