"""Every task config builds its model and trains one step at smoke scale (generated or fixture
data), the command line rejects unknown keys, and the scale presets resolve as documented."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest
import tensorflow_datasets as tfds

from lra import config as lra_config
from lra.data import load_dataset, task_info
from lra.metrics import read_metrics
from lra.steps import make_key
from lra.train import create_train_state, train_and_evaluate
from wavspa_flax import build_model
from wavspa_flax.errors import ConfigError

from .conftest import REPO, smoke_config, subprocess_env

TASKS = ("listops", "text", "retrieval", "image", "pathfinder", "lego")


def _write_retrieval_release(root: Path, rows_per_split: int = 8) -> None:
    """A tiny ``lra_release/tsv_data`` in the AAN format: label, id1, id2, text1, text2, no header."""
    tsv = root / "tsv_data"
    tsv.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for split in ("train", "eval", "test"):
        lines = []
        for i in range(rows_per_split):
            label = float(i % 2)
            text1 = " ".join(rng.choice(["graph", "parse", "neural", "tree"], 6))
            text2 = " ".join(rng.choice(["model", "corpus", "tag", "speech"], 9))
            lines.append(f"{label}\tP{i:02d}-1\tP{i:02d}-2\t{text1}\t{text2}")
        (tsv / f"new_aan_pairs.{split}.tsv").write_text("\n".join(lines) + "\n")


# One real training step per task, each through a different attention and space (every pair is
# traced at every scale in test_config_grid.py; here they really run, on real-format data).
TASK_VARIANTS = {"listops": "performer,ada", "text": "linformer,fixed", "retrieval": "longformer,ortho",
                 "image": "linear,lift", "pathfinder": "transformer,fourier", "lego": "performer,fourier_forward"}


def _first_step_loss(config) -> float:
    """The weighted mean cross-entropy of the initial model on train batch 0, by a plain forward
    (no pmap, no step function) and NumPy float64: what step 1 must report (dropout off)."""
    model = build_model(config.model, vocab_size=task_info(config).vocab_size,
                        num_classes=task_info(config).num_classes, max_length=task_info(config).max_length,
                        task_kind=task_info(config).kind)
    state = create_train_state(model, config, task_info(config), jax.random.split(make_key(config.seed))[0])
    batch = {k: v[0] for k, v in next(load_dataset(config).train_batches(config.batch_size, 1, config.seed)).items()}
    logits = np.asarray(jax.jit(model.apply)({"params": state.params}, batch["inputs"], batch["lengths"]), np.float64)
    log_probs = logits - logits.max(-1, keepdims=True)
    log_probs -= np.log(np.exp(log_probs).sum(-1, keepdims=True))
    picked = np.take_along_axis(log_probs, batch["targets"][..., None].astype(int), -1)[..., 0]
    return float(-(picked * batch["weights"]).sum() / batch["weights"].sum())


@pytest.mark.slow
@pytest.mark.parametrize("task", TASKS)
def test_task_config_trains_one_step_at_smoke_scale(task, tmp_path):
    overrides = {"num_train_steps": 1, "eval_every": 1, "checkpoint_every": 1, "model.dropout": 0.0,
                 "model.attention_dropout": 0.0}
    if task == "retrieval":
        _write_retrieval_release(tmp_path / "data")
    config = smoke_config(task, tmp_path, variant=TASK_VARIANTS[task], **overrides)
    with tfds.testing.mock_data(num_examples=8) if task in ("text", "image") else contextlib.nullcontext():
        summary = train_and_evaluate(config, tmp_path / "run").summary
        expected_loss = _first_step_loss(config)
    assert summary["steps_completed"] == 1 and summary["variant"] == TASK_VARIANTS[task]
    num_classes = {"retrieval": 2, "text": 2, "pathfinder": 2, "lego": 2}.get(task, 10)
    assert summary["num_classes"] == num_classes
    # Step 1's loss is the initial model's loss on batch 0 (weights, per-token targets, devices).
    assert summary["final_train_loss"] == pytest.approx(expected_loss, rel=1e-4, abs=1e-5)
    # Accuracies are fractions of whole examples (or tokens) of the split actually evaluated.
    records = [r for r in read_metrics(tmp_path / "run") if r["split"] in ("val", "test")]
    for record in records:
        assert record["examples"] > 0 and 0.0 <= record["accuracy"] <= 1.0
        assert record["accuracy"] * record["examples"] == pytest.approx(round(record["accuracy"] * record["examples"]))
    assert summary["test_accuracy"] == next(r for r in records if r["split"] == "test")["accuracy"]
    assert summary["val_is_test"] == (task == "text")


@pytest.mark.parametrize(
    "variant", ["transformer", "performer,ada", "linformer,fixed", "longformer,ortho", "linear,lift",
                "transformer,fourier", "performer,fourier_forward", "performer,linear",
                "wavelet_mixing", "fnet"])
def test_every_variant_name_builds_a_config(variant):
    config = lra_config.load_config(f"{REPO}/configs/listops.py:{variant}", {"scale": "smoke"})
    assert config.variant == variant
    assert config.model.num_layers == 1  # smoke preset applied


def test_scale_presets_yield_to_command_line_overrides():
    paper = lra_config.load_config(f"{REPO}/configs/text.py:performer,ada")
    assert (paper.batch_size, paper.model.num_layers, paper.model.space.wavelet_length) == (128, 6, 16)
    small = lra_config.load_config(f"{REPO}/configs/text.py:performer,ada",
                                   {"scale": "small", "batch_size": 8})
    assert small.batch_size == 8  # user override beats the preset's 32
    assert small.model.num_layers == 2 and small.max_length == 1024  # preset applied


def test_unknown_keys_and_variants_fail_clearly():
    with pytest.raises(ConfigError, match="model.no_such_field"):
        lra_config.load_config(f"{REPO}/configs/listops.py", {"model.no_such_field": 1})
    with pytest.raises(ValueError, match="unknown attention 'perfromer'"):
        lra_config.load_config(f"{REPO}/configs/listops.py:perfromer,ada")
    with pytest.raises(ValueError, match="unknown space 'wavlet'"):
        lra_config.load_config(f"{REPO}/configs/listops.py:performer,wavlet")


@pytest.mark.parametrize("args,message", [
    (["--config={config}/listops.py:transformer", "--config.model.no_such_field=3"],
     "error: unknown config key 'model.no_such_field'"),
    (["--config={config}/listops.py:perfromer,ada"], "error: config argument 'perfromer,ada': unknown attention "
     "'perfromer' (did you mean 'performer'"),
    (["--config={config}/listops.py:transformer,fixed", "--config.model.space.layout=stacked"],
     "error: config.model.space.layout = 'stacked' is not valid"),
])
@pytest.mark.slow
def test_command_line_mistakes_end_in_one_line_without_traceback(tmp_path, args, message):
    result = subprocess.run(
        [sys.executable, "-m", "lra.train", *[a.format(config=REPO / "configs") for a in args],
         f"--workdir={tmp_path}", "--config.data.dir=" + str(tmp_path / "data")],
        capture_output=True, text=True, cwd=REPO, env=subprocess_env(), timeout=120,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith(message), result.stderr[-2000:]
