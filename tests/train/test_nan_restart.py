"""A stop on a non-finite loss that its error message's advice recovers from (``config.restart_from``).

A very large learning rate first drives the parameters to huge but finite values (saved in the
checkpoints), then the loss to NaN. Resuming from such a checkpoint with a sane learning rate
diverges again at once, so the message lists what was saved and how to restart; this module runs
that advice end to end.
"""

from __future__ import annotations

import math
import re

import jax
import numpy as np
import pytest

from lra import restart
from lra.config import validate
from lra.metrics import read_metrics
from lra.train import NonFiniteLossError, train_and_evaluate
from wavspa_flax.errors import ConfigError, UserError

DIVERGING = {"num_train_steps": 12, "eval_every": 1, "checkpoint_every": 1, "keep_checkpoints": 3,
             "learning_rate": 1e6, "schedule": "constant", "early_stopping": False}
SANE = {**DIVERGING, "learning_rate": 2e-3}


def _max_abs(params) -> float:
    return max(float(np.max(np.abs(np.asarray(leaf)))) for leaf in jax.tree.leaves(params))


def _diverge(listops_config, workdir) -> str:
    with pytest.raises(NonFiniteLossError) as caught:
        train_and_evaluate(listops_config(**DIVERGING), workdir)
    return str(caught.value)


@pytest.mark.slow
def test_advised_restart_from_init_trains_to_a_finite_end(listops_config, tmp_path):
    workdir = tmp_path / "run"
    message = _diverge(listops_config, workdir)
    steps = restart.checkpoint_steps(workdir / "checkpoints")
    assert steps, "the diverging run saved checkpoints before its loss became NaN"
    assert f"checkpoints at steps {steps}" in message
    assert "--config.restart_from=init" in message and "--config.learning_rate" in message
    # Only a lower learning rate: the newest checkpoint has already diverged, so this fails again.
    with pytest.raises(NonFiniteLossError):
        train_and_evaluate(listops_config(**SANE), workdir)
    # The advice: a lower learning rate and a restart from scratch.
    advised = re.search(r"--config\.restart_from=(\w+)", message).group(1)
    result = train_and_evaluate(listops_config(**SANE, restart_from=advised), workdir)
    assert result.summary["steps_completed"] == SANE["num_train_steps"]
    assert math.isfinite(result.summary["final_train_loss"]) and _max_abs(result.state.params) < 1e3
    assert restart.checkpoint_steps(workdir / "checkpoints_discarded")  # the diverged ones, set aside
    # Rerunning the same command (as after a preemption) resumes; it does not restart again.
    trained = len([r for r in read_metrics(workdir) if r["split"] == "train"])
    discarded = sorted(p.name for p in (workdir / "checkpoints_discarded").iterdir())
    again = train_and_evaluate(listops_config(**SANE, restart_from=advised), workdir)
    assert again.summary["steps_completed"] == SANE["num_train_steps"]
    assert len([r for r in read_metrics(workdir) if r["split"] == "train"]) == trained  # no step trained again
    assert sorted(p.name for p in (workdir / "checkpoints_discarded").iterdir()) == discarded


@pytest.mark.slow
def test_restart_from_a_step_discards_the_later_checkpoints(listops_config, tmp_path):
    workdir = tmp_path / "run"
    settings = {**SANE, "num_train_steps": 6, "keep_checkpoints": 10}
    train_and_evaluate(listops_config(**settings), workdir, stop_after_steps=4)
    assert restart.checkpoint_steps(workdir / "checkpoints") == [1, 2, 3, 4]
    with pytest.raises(UserError, match=r"saved steps: \[1, 2, 3, 4\]"):
        train_and_evaluate(listops_config(**settings, restart_from="9"), workdir)
    result = train_and_evaluate(listops_config(**settings, restart_from="2"), workdir, stop_after_steps=3)
    assert result.summary["steps_completed"] == 3
    assert restart.checkpoint_steps(workdir / "checkpoints") == [1, 2, 3]
    assert restart.checkpoint_steps(workdir / "checkpoints_discarded") == [3, 4]


@pytest.mark.parametrize("key, value", [("learning_rate", float("nan")), ("learning_rate", 0.0),
                                        ("learning_rate", -1e-3), ("learning_rate", float("inf")),
                                        ("weight_decay", float("nan")), ("grad_clip_norm", -1.0),
                                        ("restart_from", "latest")])
def test_non_finite_or_non_positive_hyperparameters_are_refused_up_front(listops_config, key, value):
    with pytest.raises(ConfigError, match=f"config.{key}"):
        validate(listops_config(**{key: value}))


def test_advice_names_what_exists(tmp_path):
    from etils import epath

    workdir = epath.Path(tmp_path)
    assert "no checkpoint was saved" in restart.advice(workdir)
    for step in (2, 4):
        (workdir / "checkpoints" / str(step)).mkdir(parents=True)
    (workdir / "best" / "2").mkdir(parents=True)
    text = restart.advice(workdir)
    assert "checkpoints at steps [2, 4]" in text and "best state from step 2" in text
    assert "--config.restart_from=best" in text and "--config.restart_from=2" in text
