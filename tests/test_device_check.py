"""``scripts/device_check.py --dry-run``: the first-device script runs end to end on CPU (shapes shrunk)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from .conftest import FAST_COMPILE_XLA_FLAGS

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_device_check_dry_run_writes_every_part(tmp_path):
    out = tmp_path / "bench_gpu.md"
    # One device, as on a one-GPU machine (no forced host devices). It compiles as the whole suite
    # does (JAX_DISABLE_MOST_OPTIMIZATIONS inherited, FAST_COMPILE_XLA_FLAGS: tests/conftest.py). The
    # compile cache is shared.
    env = {**os.environ, "PYTHONPATH": str(REPO), "JAX_PLATFORMS": "cpu", "XLA_FLAGS": FAST_COMPILE_XLA_FLAGS,
           "JAX_COMPILATION_CACHE_DIR": str(REPO / ".pytest_cache" / "jax"),
           "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0.5"}
    done = subprocess.run(["bash", str(REPO / "scripts/device_check.sh"), "--dry-run", f"--out={out}"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=3000)
    assert done.returncode == 0, done.stderr[-3000:]
    text = out.read_text()
    for title in ("1. Matmul peak", "2. Preflight plan", "3. Table 8", "4. Efficiency", "5. Full attention",
                  "6. ListOps, 4 steps", "7. Dropout key implementations", "Hardware: 1 x cpu"):
        assert title in text, title
    assert "error:" not in text and "skipped" not in text, text
