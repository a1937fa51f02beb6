"""Levels above ``max_level``: computed like pywt (which only warns), one LevelWarning per
(length, filter length, level) per process; only levels that cannot be computed raise."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import pywt

import wavspa_flax.wavelets as wl
from tests.wavelets.helpers import assert_close_f32, level_warnings, run_compiled
from tests.wavelets.test_dwt_properties import _pywt_support
from tests.wavelets.test_lifting import _reference_lifting

# A spread of lengths 1..70: shorter than every filter, around L - 1, and the ListOps smoke case
# (65 tokens with a length-40 AdaWavSpA filter, which used to raise at level 1).
SPREAD = (1, 2, 3, 4, 5, 7, 9, 12, 16, 21, 26, 33, 40, 47, 55, 65, 70)
NAMES = ("db2", "db8", "db20")


def _cases():
    """(wavelet, mode, n, level): every pywt mode per wavelet, lengths rotating over SPREAD, level
    max+1 or max+2 (max+2 runs the max+1 recursion and one more level)."""
    cases = []
    for a, name in enumerate(NAMES):
        length = pywt.Wavelet(name).dec_len
        for b, mode in enumerate(wl.MODES):
            n = SPREAD[(5 * a + 2 * b) % len(SPREAD)]
            n = max(n, 2) if mode in ("reflect", "antireflect") else n  # pywt refuses length 1 there
            cases.append((name, mode, n, wl.max_level(n, length) + 1 + b % 2))
    cases.append(("db20", "periodization", 65, 1))
    return cases


@pytest.mark.slow
def test_levels_above_maximum_match_pywt_and_reconstruct():
    """Coefficients equal pywt.wavedec's (which warns), waverec equals pywt.waverec, and its first
    n samples (what ``length=n`` returns) are x, for 28 (wavelet, mode, n, level) cases in one jit."""
    cases = _cases()
    rng = np.random.default_rng(0)
    signals = {case: rng.standard_normal((2, case[2])).astype(np.float32) for case in cases}

    def run(signals):
        out = {}
        for (name, mode, n, level), x in signals.items():
            coeffs = wl.wavedec(x, name, level, mode=mode)
            out[(name, mode, n, level)] = (coeffs, wl.waverec(coeffs, name, mode=mode))
        return out

    with level_warnings() as (records, _):
        out = run_compiled(run, {case: jnp.asarray(x) for case, x in signals.items()})
    assert len(records.messages()) == len(set((n, pywt.Wavelet(w).dec_len, lv) for w, _, n, lv in cases))
    assert {n for _, _, n, _ in cases} >= {1, 2, 65, 70} and len({n for _, _, n, _ in cases}) >= 12
    for case, (coeffs, rec_pywt_len) in out.items():
        name, mode, n, level = case
        x = signals[case].astype(np.float64)
        with pytest.warns(UserWarning, match="too high"):  # pywt itself only warns
            ref = pywt.wavedec(x, name, mode=mode, level=level)
        what = f"{name} {mode} n={n} level={level}"
        assert len(coeffs) == len(ref) == level + 1, what
        for band, (ours, theirs) in enumerate(zip(coeffs, ref)):
            assert_close_f32(ours, theirs, f"{what} band {band}")
        assert_close_f32(rec_pywt_len, pywt.waverec(ref, name, mode=mode), what + " waverec")
        assert_close_f32(np.asarray(rec_pywt_len)[:, :n], x, what + " perfect reconstruction")  # == length=n


def test_wavedec2_above_maximum_matches_pywt_and_reconstructs():
    cases = [("db2", 2, "symmetric", (40, 9)), ("db4", 2, "periodization", (5, 11)), ("haar", 3, "zero", (3, 6))]
    rng = np.random.default_rng(1)
    signals = [rng.standard_normal((2,) + shape).astype(np.float32) for *_, shape in cases]

    def run(signals):
        out = []
        for (name, level, mode, shape), x in zip(cases, signals):
            coeffs = wl.wavedec2(x, name, level, mode=mode)
            out.append((coeffs, wl.waverec2(coeffs, name, mode=mode, shape=shape)))
        return out

    with level_warnings() as (records, _):
        out = run_compiled(run, [jnp.asarray(s) for s in signals])
    assert len(records.messages()) == len(cases)
    for (name, level, mode, _), x, (coeffs, rec) in zip(cases, signals, out):
        with pytest.warns(UserWarning, match="too high"):
            ref = pywt.wavedec2(x.astype(np.float64), name, mode=mode, level=level)
        assert len(coeffs) == len(ref) == level + 1
        assert_close_f32(coeffs[0], ref[0], f"{name} cA")
        for ours, theirs in zip(coeffs[1:], ref[1:]):
            for label, a, b in zip("HVD", ours, theirs):
                assert_close_f32(a, b, f"{name} {mode} level {level} c{label}")
        assert_close_f32(rec, x, f"{name} {mode} level {level} perfect reconstruction")


def test_support_masks_above_maximum_match_brute_force_support():
    """Masks at levels 1-2 for signals shorter than the filter (max_level 0) vs the Jacobian of
    pywt.wavedec with a random bank of the same length."""
    rng = np.random.default_rng(2)
    cases = [(9, 8, 2, "periodization"), (9, 8, 2, "symmetric"), (5, 4, 2, "zero"), (13, 16, 1, "reflect")]
    masks = {n: np.stack([np.arange(n) < 2, np.arange(n) >= n - 1, rng.random(n) < 0.4]) for n, *_ in cases}
    with level_warnings():
        ours = run_compiled(lambda m: [wl.coefficient_support_masks(m[n], length, level, mode=mode)
                                       for n, length, level, mode in cases],
                            {n: jnp.asarray(m) for n, m in masks.items()})
        for (n, length, level, mode), mine in zip(cases, ours):
            assert wl.max_level(n, length) < level
            support = _pywt_support(n, level, mode, length, rng)
            for band, (got, reach) in enumerate(zip(mine, support)):
                expected = (masks[n].astype(int) @ reach.astype(int)) > 0
                np.testing.assert_array_equal(np.asarray(got), expected, err_msg=f"n={n} L={length} {mode} band {band}")


def test_lifting_above_maximum_matches_reference_inverts_and_masks():
    """Lifting zero-pads to even length, so above ceil(log2 n) the bands stay one sample long and
    the transform stays exact: loop reference, inverse and support masks at max+1 and max+2."""
    rng = np.random.default_rng(3)
    cases = [(n, wl.lifting_max_level(n) + extra) for n in (1, 2, 3, 5, 8) for extra in (1, 2)]
    signals = {n: rng.standard_normal((2, n)).astype(np.float32) for n, _ in cases}
    masks = {n: np.stack([np.arange(n) < 1, np.arange(n) >= n - 1]) for n, _ in cases}

    def run(signals, masks):
        out = {}
        for n, level in cases:
            coeffs = wl.lifting_dec(signals[n], level)
            out[(n, level)] = (coeffs, wl.lifting_rec(coeffs, length=n), wl.lifting_support_masks(masks[n], level))
        return out

    with level_warnings() as (records, _):
        out = run_compiled(run, {n: jnp.asarray(s) for n, s in signals.items()},
                           {n: jnp.asarray(m) for n, m in masks.items()})
    assert len(records.messages()) == len(cases)
    p, u = rng.uniform(0.5, 1.5, 2), rng.uniform(0.5, 1.5, 2)
    for (n, level), (coeffs, rec, band_masks) in out.items():
        assert [c.shape[-1] for c in coeffs] == wl.lifting_band_lengths(n, level)
        for row in range(2):
            for ours, ref in zip(coeffs, _reference_lifting(signals[n][row], level)):
                assert_close_f32(ours[row], ref, f"n={n} level={level}")
        assert_close_f32(rec, signals[n], f"n={n} level={level} inverse")
        jacobian = [np.stack(b) for b in zip(*[_reference_lifting(np.eye(n)[i], level, p, u) for i in range(n)])]
        for band, (got, jac) in enumerate(zip(band_masks, jacobian)):
            expected = (masks[n].astype(int) @ (np.abs(jac) > 1e-12).astype(int)) > 0
            np.testing.assert_array_equal(np.asarray(got), expected, err_msg=f"n={n} level={level} band {band}")


def test_level_warning_is_emitted_once_per_length_filter_and_level():
    """The warning is emitted while tracing (jax.eval_shape: no compilation), once per key
    across calls, traces and the functions sharing a level check."""
    trace = lambda fn, *shapes: jax.eval_shape(fn, *(jax.ShapeDtypeStruct(s, jnp.float32) for s in shapes))  # noqa: E731
    with level_warnings() as (records, keys):
        trace(lambda x: wl.wavedec(x, "db20", 1, mode="periodization"), (2, 65))
        trace(lambda x: wl.wavedec(x, "db20", 1, mode="periodization"), (3, 65))  # another trace, same key
        trace(lambda x: wl.wavedec(x, "db20", 1, mode="periodization"), (2, 65))
        trace(lambda m: wl.coefficient_support_masks(m, 40, 1, mode="periodization"), (1, 65))  # same key
        assert len(records.messages()) == 1
        assert ("level=1 is above the maximum 0 for a signal of length 65 and filters of length 40"
                in records.messages()[0])
        trace(lambda x: wl.wavedec(x, "db20", 2, mode="periodization"), (2, 65))  # new level
        trace(lambda x: wl.wavedec(x, "db20", 1), (2, 64))  # new length
        trace(lambda x: wl.wavedec(x, "db8", 3), (2, 65))  # new filter length (max_level(65, 16) = 2)
        trace(lambda x: wl.wavedec(x, "db8", 2), (2, 65))  # at the maximum: silent
        trace(lambda x: wl.wavedec2(x, "db2", 2), (40, 9))  # 2-D: the shorter axis (9) is the key
        trace(lambda x: wl.lifting_dec(x, 4), (2, 8))  # lifting maximum for 8 samples: 3
        trace(lambda x: wl.lifting_dec(x, 4), (5, 8))
        trace(lambda m: wl.lifting_support_masks(m, 4), (1, 8))  # same lifting key
        assert keys == {(65, 40, 1), (65, 40, 2), (64, 40, 1), (65, 16, 3), (9, 4, 2), (8, None, 4)}
        assert len(records.messages()) == len(keys)
        assert "lifting level=4 is above the maximum 3 for a signal of length 8" in records.messages()[-1]
    assert issubclass(wl.LevelWarning, UserWarning)


@pytest.mark.parametrize("call", [
    lambda: wl.wavedec(np.zeros((2, 64), np.float32), "db2", -1),
    lambda: wl.wavedec(np.zeros((2, 64), np.float32), "db2", 1.0),
    lambda: wl.wavedec(np.zeros((2, 64), np.float32), "db2", True),
    lambda: wl.wavedec(np.zeros((2, 2), np.float32), "haar", 2, mode="reflect"),  # level 2 sees 1 sample
    lambda: wl.wavedec(np.zeros((2, 2), np.float32), "haar", 3, mode="antireflect"),
    lambda: wl.wavedec(np.zeros((2, 0), np.float32), "db2", 1),  # empty bands
    lambda: wl.wavedec2(np.zeros((40, 2), np.float32), "haar", 2, mode="reflect"),
    lambda: wl.wavedec2(np.zeros((2, 40), np.float32), "haar", -2),
    lambda: wl.coefficient_support_masks(np.ones((1, 2), bool), 2, 2, mode="reflect"),
    lambda: wl.coefficient_support_masks(np.ones((1, 9), bool), 4, "2"),
    lambda: wl.lifting_dec(np.zeros((2, 8), np.float32), -1),
    lambda: wl.lifting_dec(np.zeros((2, 8), np.float32), 2.0),
    lambda: wl.lifting_dec(np.zeros((2, 0), np.float32), 1),
    lambda: wl.lifting_support_masks(np.ones((1, 8), bool), -3),
], ids=["negative", "float", "bool", "reflect-1-sample", "antireflect-1-sample", "empty", "2d-reflect",
        "2d-negative", "masks-reflect", "masks-str", "lifting-negative", "lifting-float", "lifting-empty",
        "lifting-masks-negative"])
def test_levels_that_cannot_be_computed_still_raise(call):
    with level_warnings() as (records, _):
        with pytest.raises(wl.LevelError):
            call()
    assert records.messages() == []  # raised before any warning


def test_reflect_length_one_raises_in_pywt_too():
    with pytest.raises(ValueError, match="greater than 1"), pytest.warns(UserWarning, match="too high"):
        pywt.wavedec(np.zeros(2), "haar", mode="reflect", level=2)
    with pytest.raises(wl.LevelError, match="level 2 would transform 1 sample"):
        wl.wavedec(np.zeros((1, 2), np.float32), "haar", 2, mode="reflect")
