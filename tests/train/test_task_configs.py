"""Every task config builds its model and trains one step at smoke scale (generated or fixture
data), the command line rejects unknown keys, and the scale presets resolve as documented."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow_datasets as tfds

from lra import config as lra_config
from lra.metrics import read_metrics
from lra.train import train_and_evaluate
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


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.slow
def test_task_config_trains_one_step_at_smoke_scale(task, tmp_path):
    overrides = {"num_train_steps": 1, "eval_every": 1, "checkpoint_every": 1}
    if task == "retrieval":
        _write_retrieval_release(tmp_path / "data")
    config = smoke_config(task, tmp_path, variant=TASK_VARIANTS[task], **overrides)
    if task in ("text", "image"):
        with tfds.testing.mock_data(num_examples=8):
            summary = train_and_evaluate(config, tmp_path / "run").summary
    else:
        summary = train_and_evaluate(config, tmp_path / "run").summary
    assert summary["steps_completed"] == 1 and summary["variant"] == TASK_VARIANTS[task]
    num_classes = {"retrieval": 2, "text": 2, "pathfinder": 2, "lego": 2}.get(task, 10)
    assert summary["num_classes"] == num_classes
    # One step from the initial parameters: the train loss is near the uniform-guess loss log C.
    assert abs(summary["final_train_loss"] - np.log(num_classes)) < 1.0, summary["final_train_loss"]
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
