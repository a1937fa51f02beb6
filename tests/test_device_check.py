"""``scripts/device_check.py --dry-run``: the first-device script runs end to end on CPU (shapes shrunk)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from .train.conftest import subprocess_env

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_device_check_dry_run_writes_every_part(tmp_path):
    out = tmp_path / "bench_gpu.md"
    # One device, as on a one-GPU machine (no forced host devices). It compiles as the whole suite
    # does (JAX_DISABLE_MOST_OPTIMIZATIONS inherited, FAST_COMPILE_XLA_FLAGS added: tests/conftest.py)
    # and shares its compile cache.
    env = subprocess_env(PYTHONPATH=str(REPO), XLA_FLAGS="")
    done = subprocess.run(["bash", str(REPO / "scripts/device_check.sh"), "--dry-run", f"--out={out}"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=3000)
    assert done.returncode == 0, done.stderr[-3000:]
    text = out.read_text()
    for title in ("1. Matmul peak", "2. Preflight plan", "3. Table 8", "4. Efficiency", "5. Full attention",
                  "6. ListOps, 4 steps", "7. Dropout key implementations", "Hardware: 1 x cpu"):
        assert title in text, title
    assert "error:" not in text and "skipped" not in text, text
