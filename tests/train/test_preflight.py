"""The preflight (``python -m lra.preflight``): compiled memory and FLOPs of a config, and the
accumulation it suggests, checked against steps compiled here independently."""

from __future__ import annotations

import functools
import subprocess
import sys

import jax
import pytest

from lra import preflight
from lra.bench.models import random_batch
from lra.data import task_info
from lra.steps import AXIS, make_key, replicate, train_step
from lra.train import create_train_state
from wavspa_flax import build_model

from .conftest import REPO, smoke_config, subprocess_env


def reference_peak(config, devices: list, accum_steps: int = 1) -> int:
    """Per-device arguments + outputs + temporaries - donated bytes of the loop's train step, compiled
    with ``jax.pmap`` over ``devices`` at the config's global batch."""
    info = task_info(config)
    model = build_model(config.model, vocab_size=info.vocab_size, num_classes=info.num_classes,
                        max_length=info.max_length, task_kind=info.kind)
    state = replicate(create_train_state(model, config, info, make_key(0)), devices)
    batch = random_batch(info, config.batch_size, len(devices))
    key = replicate(jax.random.key_data(make_key(1)), devices)
    step = jax.pmap(functools.partial(train_step, accum_steps=accum_steps), axis_name=AXIS, devices=devices,
                    donate_argnums=(0,))
    stats = step.lower(state, batch, key).compile().memory_analysis()
    return (stats.argument_size_in_bytes + stats.output_size_in_bytes + stats.temp_size_in_bytes
            - stats.alias_size_in_bytes)


@pytest.mark.slow
def test_peak_per_device_agrees_with_the_data_parallel_executable(tmp_path):
    config = smoke_config("listops", tmp_path, batch_size=8)
    devices = jax.local_devices()[:2]
    assert len(devices) == 2, "tests run with 2 forced CPU devices (tests/conftest.py)"
    plan = preflight.plan(config, devices=2)
    assert plan.per_device_batch == 4
    assert plan.params > 0 and plan.train_flops > 0 and plan.flops_exact
    # The preflight compiles one device at the per-device batch; the 2-device pmap program per device
    # adds only the all-reduces' buffers.
    assert plan.train.peak == pytest.approx(reference_peak(config, devices), rel=0.02)


@pytest.mark.slow
def test_the_suggested_accumulation_brings_the_peak_under_the_limit(tmp_path):
    config = smoke_config("listops", tmp_path, batch_size=8, max_length=256)
    device = jax.local_devices()[:1]
    peaks = {k: reference_peak(smoke_config("listops", tmp_path, batch_size=8, max_length=256,
                                            grad_accum_steps=k), device, k) for k in (1, 2, 4)}
    assert peaks[1] > peaks[2] > peaks[4]
    limit = peaks[2] - 1  # accumulation 2 misses by a byte: 4 is the smallest that fits
    change, memory = preflight.smallest_fit(config, 1, limit)
    assert change == {"grad_accum_steps": 4}
    assert memory.peak == pytest.approx(peaks[4], rel=0.02) and memory.peak <= limit


@pytest.mark.slow
def test_flops_count_the_chunked_loop_in_full(tmp_path):
    base = dict(batch_size=2, max_length=128)
    chunked = smoke_config("listops", tmp_path, **base, **{"model.attention.chunk_size": 32})
    compiled = preflight.compile_train(chunked, 2)
    assert preflight.has_loop(compiled)
    plain = smoke_config("listops", tmp_path, **base, **{"model.attention.chunk_size": 0})
    unchunked = preflight.compile_train(plain, 2)
    assert not preflight.has_loop(unchunked)
    flops, exact = preflight.counted_flops(chunked, 2, compiled)
    assert exact and flops == preflight.flops_of(unchunked) > preflight.flops_of(compiled)


def test_memory_sizes_parse():
    assert preflight.parse_bytes("40GiB") == 40 * 2 ** 30
    assert preflight.parse_bytes("16GB") == 16 * 10 ** 9
    assert preflight.parse_bytes("512") == 512


_COMMAND = [sys.executable, "-m", "lra.preflight", "--config=configs/listops.py:transformer",
            "--config.scale=smoke"]


@pytest.mark.slow
def test_command_prints_the_plan(tmp_path):
    ok = subprocess.run(_COMMAND + ["--device_memory=1GiB", "--peak_tflops=100"], cwd=REPO, env=subprocess_env(
        PYTHONPATH=str(REPO)), capture_output=True, text=True, timeout=600)
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert "parameters:" in ok.stdout and "fits 1 GiB: yes" in ok.stdout and "step time >=" in ok.stdout


@pytest.mark.slow  # a subprocess; the one-line error path itself: tests/test_cli.py
def test_bad_input_is_one_error_line(tmp_path):
    bad = subprocess.run(_COMMAND + ["--device_memory=lots"], cwd=REPO, env=subprocess_env(PYTHONPATH=str(REPO)),
                         capture_output=True, text=True, timeout=600)
    assert bad.returncode == 1 and bad.stderr.strip().splitlines() == [
        "error: --device_memory='lots': expected a size such as 40GiB, 16GB or 80G"]
