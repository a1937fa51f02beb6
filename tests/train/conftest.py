"""Shared helpers for the training tests: smoke-scale configs on generated or fixture data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lra.config import load_config

REPO = Path(__file__).resolve().parents[2]


def subprocess_env(**extra) -> dict:
    """The environment of a ``python -m lra.train`` subprocess: this one's (CPU, device count) plus
    the suite's persistent compile cache, so repeated compilations are read back."""
    return dict(os.environ, JAX_PLATFORMS="cpu", JAX_COMPILATION_CACHE_DIR=str(REPO / ".pytest_cache" / "jax"),
                JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0.5", **extra)


def smoke_config(task: str, tmp_path: Path, variant: str = "transformer", **overrides):
    """``configs/<task>.py:<variant>`` at smoke scale, data under ``tmp_path``, no progress bar."""
    values = {"scale": "smoke", "progress_bar": False, "data.dir": str(tmp_path / "data")}
    if task in ("listops", "pathfinder", "lego"):
        values["data.source"] = "generate"
    values.update(overrides)
    return load_config(f"{REPO}/configs/{task}.py:{variant}", values)


@pytest.fixture
def listops_config(tmp_path):
    def make(**overrides):
        return smoke_config("listops", tmp_path, **overrides)

    return make
