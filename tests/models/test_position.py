"""Position encodings: the Fourier-feature kernel identity (Theorem 3) and RoPE's relative property."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from tests.models.helpers import key
from wavspa_flax.position import AddPosition, apply_rope, frequencies, sinusoidal_table


def test_sinusoidal_inner_product_depends_only_on_the_offset():
    d, n = 16, 64
    pe = sinusoidal_table(n, d).astype(np.float64)
    gram = pe @ pe.T
    # Theorem 3: <pe(x), pe(y)> = sum_i cos(w_i (x - y)), a function of x - y only.
    offsets = np.arange(n)[:, None] - np.arange(n)[None, :]
    kernel = np.cos(offsets[..., None] * frequencies(d // 2, d)).sum(-1)
    np.testing.assert_allclose(gram, kernel, atol=2e-5)
    for shift in (1, 7, 20):
        np.testing.assert_allclose(np.diag(gram, shift), np.full(n - shift, gram[0, shift]), atol=2e-5)
    np.testing.assert_allclose(np.diag(gram), d / 2, atol=2e-5)  # |pe(x)|^2 = d/2 for every x


def test_sinusoidal_table_is_the_lra_formula():
    """``pe[p, 2i] = sin(p / 10000^(2i/d))``, ``pe[p, 2i+1] = cos(...)``, written out here."""
    d, n = 8, 6
    expected = np.zeros((n, d))
    for p in range(n):
        for i in range(d // 2):
            angle = p / 10000.0 ** (2 * i / d)
            expected[p, 2 * i], expected[p, 2 * i + 1] = np.sin(angle), np.cos(angle)
    np.testing.assert_allclose(sinusoidal_table(n, d), expected, atol=1e-6)
    # Two hand values: position 1, feature 2 is sin(10000^(-1/4)) = sin(0.1); feature 3 its cos.
    np.testing.assert_allclose(sinusoidal_table(2, 8)[1, 2:4], [np.sin(0.1), np.cos(0.1)], atol=1e-7)


def test_rope_rotates_by_the_position_times_the_frequency():
    """Position p rotates the pair (x_i, x_{i+dh/2}) by the angle ``p / 10000^(2i/dh)``."""
    n, dh = 3, 4
    x = np.zeros((1, n, 1, dh), np.float32)
    x[..., 0] = 1.0  # the unit vector of pair 0 (rotated by p), nothing in pair 1
    x[..., 1] = 1.0  # the unit vector of pair 1 (rotated by p / 100)
    out = np.asarray(apply_rope(jnp.asarray(x)))[0, :, 0]
    for p in range(n):
        np.testing.assert_allclose(out[p], [np.cos(p), np.cos(p / 100), np.sin(p), np.sin(p / 100)], atol=1e-6)


def test_rope_scores_depend_only_on_the_offset():
    n, dh = 12, 8
    rng = np.random.default_rng(0)
    q_vec, k_vec = rng.normal(size=(2, dh)).astype(np.float32)
    # The same content at every position: rotated scores must be a function of i - j only.
    q = jnp.asarray(np.broadcast_to(q_vec, (1, n, 1, dh)))
    k = jnp.asarray(np.broadcast_to(k_vec, (1, n, 1, dh)))
    scores = np.einsum("qd,kd->qk", np.asarray(apply_rope(q))[0, :, 0], np.asarray(apply_rope(k))[0, :, 0])
    for shift in range(-n + 1, n):
        diagonal = np.diag(scores, shift)
        np.testing.assert_allclose(diagonal, diagonal[0], atol=1e-5)
    assert np.abs(scores[0, 1] - scores[0, 5]) > 1e-3  # but it does depend on the offset
    np.testing.assert_allclose(np.diag(scores), q_vec @ k_vec, atol=1e-5)  # offset 0: no rotation
    norms = np.linalg.norm(np.asarray(apply_rope(q)), axis=-1)
    np.testing.assert_allclose(norms, np.linalg.norm(q_vec), rtol=1e-5)  # rotations keep norms


def test_position_modules_add_the_right_table():
    x = jnp.zeros((2, 5, 6))
    sin = AddPosition("sinusoidal", 9).apply({}, x)
    np.testing.assert_allclose(np.asarray(sin[1]), sinusoidal_table(5, 6), atol=1e-7)
    module = AddPosition("learned", 9)
    params = module.init(key(), x)
    assert params["params"]["pos_embedding"].shape == (9, 6)
    np.testing.assert_allclose(np.asarray(module.apply(params, x)[0]),
                               np.asarray(params["params"]["pos_embedding"][:5]))
    for kind in ("rope", "none"):
        np.testing.assert_array_equal(np.asarray(AddPosition(kind, 9).apply({}, x)), 0.0)
