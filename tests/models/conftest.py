"""Every test here compiles its programs without XLA's optimisations (``jax_disable_most_optimizations``:
LLVM level 0, no expensive passes). The arrays are tiny, so compiling, not running, is most of a
test's time, and level 0 compiles about 2x faster, the op-by-op (eager) programs included. The
numerics differ from optimised programs by float rounding only; the flag is restored after each
test, so other directories' tests compile as usual."""

from __future__ import annotations

import jax
import pytest


@pytest.fixture(autouse=True)
def _compile_without_optimisations():
    previous = jax.config.values["jax_disable_most_optimizations"]
    jax.config.update("jax_disable_most_optimizations", True)
    try:
        yield
    finally:
        jax.config.update("jax_disable_most_optimizations", previous)
