"""The periodization synthesis at band lengths where its filters wrap around (bands of at least
L/2 coefficients take the interior-plus-wrapped-edges path): ``idwt`` of pywt's coefficients
equals ``pywt.idwt``, and the round trip is exact, for even filter lengths 2..16."""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pywt

import wavspa_flax.wavelets as wl
from tests.wavelets.helpers import assert_close_f32, run_compiled

WAVELETS = ("haar", "db2", "db3", "db4", "sym8")


def _lengths(filter_length: int) -> tuple[int, ...]:
    """Signal lengths 2L, 2L+1 (odd: the last sample repeated), 2L+2 and 3L+2: bands of m >= L."""
    return (2 * filter_length, 2 * filter_length + 1, 2 * filter_length + 2, 3 * filter_length + 2)


def test_periodization_idwt_matches_pywt_where_the_filters_wrap():
    rng = np.random.default_rng(11)
    cases = [(name, n) for name in WAVELETS for n in _lengths(pywt.Wavelet(name).dec_len)]
    bands = {}
    for name, n in cases:
        x = rng.standard_normal((2, n))
        bands[(name, n)] = (x, *pywt.dwt(x, name, mode="periodization"))

    def run(coeffs):
        return {case: wl.idwt(ca, cd, case[0], mode="periodization") for case, (ca, cd) in coeffs.items()}

    inputs = {case: (jnp.asarray(ca, jnp.float32), jnp.asarray(cd, jnp.float32))
              for case, (_, ca, cd) in bands.items()}
    out = run_compiled(run, inputs)
    for (name, n), (x, ca, cd) in bands.items():
        what = f"{name} n={n}"
        expected = pywt.idwt(ca, cd, name, mode="periodization")
        assert_close_f32(out[(name, n)], expected, what)
        assert_close_f32(np.asarray(out[(name, n)])[:, :n], x, what + " round trip")
