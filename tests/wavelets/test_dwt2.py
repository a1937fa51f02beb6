"""Separable 2-D transform (the paper's fixed WavSpA: db2, level 1, sequence x hidden) vs pywt."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import pywt

import wavspa_flax.wavelets as wl
from tests.wavelets.helpers import assert_close_f32, level_warnings, run_compiled

# (wavelet, level, mode, axes, shape): the paper's case first, then odd sizes, 2 levels, other axes.
CASES = [
    ("db2", 1, "symmetric", (-2, -1), (2, 33, 16)),
    ("db2", 2, "zero", (-2, -1), (2, 17, 13)),
    ("haar", 1, "periodization", (-1, -2), (2, 7, 9)),
    ("bior2.2", 1, "reflect", (0, 2), (13, 2, 11)),
]


def test_wavedec2_and_waverec2_match_pywt_and_reconstruct():
    rng = np.random.default_rng(0)
    signals = [rng.standard_normal(shape).astype(np.float32) for *_, shape in CASES]

    def run(signals):
        out = []
        for (name, level, mode, axes, shape), x in zip(CASES, signals):
            coeffs = wl.wavedec2(x, name, level, axes=axes, mode=mode)
            sizes = tuple(shape[a] for a in axes)
            out.append((coeffs, wl.waverec2(coeffs, name, axes=axes, mode=mode, shape=sizes)))
        return out

    for (name, level, mode, axes, _), x, (coeffs, rec) in zip(CASES, signals,
                                                               run_compiled(run, [jnp.asarray(s) for s in signals])):
        what = f"{name} level {level} {mode} axes {axes}"
        ref = pywt.wavedec2(x.astype(np.float64), name, mode=mode, level=level, axes=axes)
        assert len(coeffs) == len(ref) == level + 1
        assert_close_f32(coeffs[0], ref[0], what + " cA")
        for ours, theirs in zip(coeffs[1:], ref[1:]):
            assert len(ours) == 3
            for label, a, b in zip("HVD", ours, theirs):
                assert_close_f32(a, b, f"{what} c{label}")
        rec_ref = pywt.waverec2(ref, name, mode=mode, axes=axes)  # pywt keeps the even-padded sizes
        assert_close_f32(rec, rec_ref[tuple(slice(s) for s in x.shape)], what + " waverec2")
        assert_close_f32(rec, x, what + " perfect reconstruction")


def test_wavedec2_default_level_and_errors():
    x = np.zeros((40, 9), np.float32)
    assert wl.max_level(9, "db2") == 1 and wl.max_level(40, "db2") == 3
    with level_warnings() as (records, _):  # the shorter axis limits the level, as in pywt (a warning)
        assert len(jax.eval_shape(lambda x: wl.wavedec2(x, "db2", 2), x)) == 3  # traced, not compiled
    assert len(records.messages()) == 1 and "maximum 1 for a signal of length 9" in records.messages()[0]
    with pytest.raises(ValueError, match="two different axes"):
        wl.wavedec2(x, "db2", 1, axes=(0, 0))
    with pytest.raises(ValueError, match="shared"):
        wl.dwt2(x, wl.FilterBank(*[np.ones((9, 4))] * 4))
