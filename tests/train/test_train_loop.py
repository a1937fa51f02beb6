"""The training loop: learning, exact resume, damaged checkpoints, early stopping, NaN guard."""

from __future__ import annotations

import logging
import shutil

import jax
import numpy as np
import pytest

import lra.train
from lra.checkpoint import CheckpointStore
from lra.metrics import read_metrics
from lra.provenance import software_versions
from lra.train import NonFiniteLossError, train_and_evaluate

from .conftest import assert_resumed_equals_uninterrupted, assert_trees_equal


@pytest.mark.slow
def test_tiny_config_learns(listops_config, tmp_path):
    config = listops_config(**{
        "num_train_steps": 40, "eval_every": 40, "checkpoint_every": 40, "learning_rate": 1e-2,
        "schedule": "constant", "batch_size": 16, "data.num_train": 32,
    })
    result = train_and_evaluate(config, tmp_path / "run")
    losses = [r["loss"] for r in read_metrics(tmp_path / "run") if r["split"] == "train"]
    assert len(losses) == 40
    assert np.mean(losses[-5:]) < 0.75 * np.mean(losses[:5]), losses
    summary = result.summary
    for key in ("test_accuracy", "best_val_accuracy", "steps_completed", "final_train_loss",
                "num_classes", "param_count", "wall_seconds", "devices"):
        assert key in summary, key
    assert summary["steps_completed"] == 40 and summary["num_classes"] == 10
    assert (tmp_path / "run" / "summary.json").exists()


def _checkout_at(monkeypatch, commit: str) -> None:
    """Make the training loop see the checkout at ``commit`` (as a worktree moved under a run)."""
    monkeypatch.setattr(lra.train, "software_versions", lambda: {**software_versions(), "wavspa_commit": commit})


def test_resume_after_kill_equals_uninterrupted_run(listops_config, tmp_path, caplog, monkeypatch):
    # Validation (and best-state saves) every step, checkpoints every 2: the resumed run redoes
    # steps whose best state the killed run had already saved.
    settings = {"num_train_steps": 7, "eval_every": 1, "checkpoint_every": 2}
    full = train_and_evaluate(listops_config(**settings), tmp_path / "full")
    assert "wavspa_commits" not in full.summary

    # Killed after step 5: checkpoints at 2 and 4 exist, step 5 is lost.
    _checkout_at(monkeypatch, "started-here")
    interrupted = train_and_evaluate(listops_config(**settings), tmp_path / "resumed", stop_after_steps=5)
    assert interrupted.summary["steps_completed"] == 5
    store = CheckpointStore(tmp_path / "resumed" / "checkpoints", keep=2)
    assert store.steps() == [2, 4]
    store.close()
    # The newest checkpoint is damaged (e.g. the machine died while writing): it is skipped.
    newest = tmp_path / "resumed" / "checkpoints" / "4" / "state"
    shutil.rmtree(newest)
    newest.mkdir()
    # The resumed command asks for another key implementation: the run keeps the one it started with
    # (a different one would change every dropout mask after the restart).
    other_prng = "threefry" if full.summary["config"]["prng_impl"] != "threefry" else "rbg"
    # ...and the checkout moved to another commit meanwhile: the run keeps the commit it started
    # with and lists both.
    _checkout_at(monkeypatch, "resumed-here")
    with caplog.at_level(logging.WARNING):
        resumed = train_and_evaluate(listops_config(**settings, prng_impl=other_prng), tmp_path / "resumed")
    assert resumed.summary["config"]["prng_impl"] == full.summary["config"]["prng_impl"]
    assert resumed.summary["versions"]["wavspa_commit"] == "started-here"
    assert resumed.summary["wavspa_commits"] == ["started-here", "resumed-here"]
    assert any("cannot be restored" in r.getMessage() for r in caplog.records)
    # The damaged step was set aside (kept for inspection), and a fresh step 4 was written.
    damaged = tmp_path / "resumed" / "checkpoints_damaged" / "4" / "state"
    assert damaged.is_dir() and not any(damaged.iterdir())
    store = CheckpointStore(tmp_path / "resumed" / "checkpoints", keep=2)
    assert store.steps() == [6, 7]
    store.close()

    assert_resumed_equals_uninterrupted(full, resumed)


@pytest.mark.parametrize("min_steps,stop", [
    # 1 + 2 < min_steps: stops at the first step >= 6 (the rule itself: test_early_stopping_replay.py)
    pytest.param(6, 6, marks=pytest.mark.slow),
    (0, 3),  # patience decides: step 3 is the first with 2 steps since the best (step 1)
])
def test_early_stopping_after_min_steps_and_patience(listops_config, tmp_path, min_steps, stop):
    # lr 1e-30 (0 is refused): the parameters do not move, so validation never improves after step 1.
    config = listops_config(**{
        "num_train_steps": 20, "eval_every": 1, "checkpoint_every": 5, "learning_rate": 1e-30,
        "min_steps": min_steps, "patience_fraction": 0.1,  # patience = 2 steps
    })
    summary = train_and_evaluate(config, tmp_path / "run").summary
    assert summary["stop_reason"] == "early_stopping"
    assert summary["steps_completed"] == stop
    assert summary["best_step"] == 1
    vals = [r["step"] for r in read_metrics(tmp_path / "run") if r["split"] == "val"]
    assert vals == list(range(1, stop + 1))


@pytest.mark.slow
def test_non_finite_loss_stops_and_keeps_last_good_checkpoint(listops_config, tmp_path):
    settings = {"num_train_steps": 8, "eval_every": 2, "checkpoint_every": 2}
    good = train_and_evaluate(listops_config(**settings), tmp_path / "run", stop_after_steps=2)
    with pytest.raises(NonFiniteLossError, match="checkpoint"):
        train_and_evaluate(listops_config(**settings, learning_rate=1e30, schedule="constant"),
                           tmp_path / "run")
    store = CheckpointStore(tmp_path / "run" / "checkpoints", keep=2)
    assert store.steps() == [2]
    state, loop = store.restore_latest(good.state)
    store.close()
    assert_trees_equal(state.params, good.state.params)


def _independent_accuracy(model, params, split: dict) -> float:
    """Test accuracy by a plain loop over the split's arrays (no pmap, no batching, no padding tail)."""
    correct = 0
    for i in range(len(split["targets"])):
        logits = model.apply({"params": params}, split["inputs"][i : i + 1].astype(np.int32),
                             split["lengths"][i : i + 1].astype(np.int32))
        correct += int(np.argmax(np.asarray(logits)[0]) == int(split["targets"][i]))
    return correct / len(split["targets"])


@pytest.mark.slow
def test_test_split_is_scored_on_the_best_state_and_on_the_final_state(listops_config, tmp_path):
    from lra.data import load_dataset
    from wavspa_flax import build_model

    # lr high enough that validation moves; eval every step so the best step is not the last one.
    config = listops_config(**{"num_train_steps": 8, "eval_every": 1, "checkpoint_every": 4,
                               "learning_rate": 3e-2, "schedule": "constant", "data.num_test": 40})
    result = train_and_evaluate(config, tmp_path / "run")
    summary = result.summary
    dataset = load_dataset(config)
    info = dataset.info
    model = build_model(config.model, vocab_size=info.vocab_size, num_classes=info.num_classes,
                        max_length=info.max_length, task_kind=info.kind)
    store = CheckpointStore(tmp_path / "run" / "best", keep=1)
    assert store.steps() == [summary["best_step"]]
    best_state, _ = store.restore_latest(result.state)
    store.close()
    test = dataset.splits["test"]
    assert summary["test_accuracy"] == pytest.approx(_independent_accuracy(model, best_state.params, test))
    assert summary["test_accuracy_final_state"] == pytest.approx(
        _independent_accuracy(model, result.state.params, test))
    assert summary["val_is_test"] is False and "note" not in summary
    for name in ("jax", "jaxlib", "flax", "optax", "orbax-checkpoint", "wavspa_commit"):
        assert summary["versions"][name] and summary["versions"][name] != "unknown", name


@pytest.mark.slow
def test_logged_learning_rate_is_the_one_the_step_applied(listops_config, tmp_path):
    # optax applies schedule(count) with count = steps done before the update: step s uses s - 1.
    base, warmup = 0.05, 3
    config = listops_config(**{"num_train_steps": 5, "log_every": 1, "learning_rate": base,
                               "schedule": "rsqrt", "warmup_steps": warmup})
    train_and_evaluate(config, tmp_path / "run")
    logged = {r["step"]: r["learning_rate"] for r in read_metrics(tmp_path / "run") if r["split"] == "train"}
    for step, lr in logged.items():
        count = step - 1
        expected = base * min(1.0, count / warmup) / np.sqrt(max(count, warmup))
        assert lr == pytest.approx(expected, rel=1e-6), step
    assert sorted(logged) == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("accum", [2, 4])
@pytest.mark.slow
def test_gradient_accumulation_equals_one_large_batch(listops_config, tmp_path, accum):
    settings = {"num_train_steps": 4, "eval_every": 4, "checkpoint_every": 4, "batch_size": 16,
                "model.dropout": 0.0, "model.attention_dropout": 0.0, "learning_rate": 1e-3, "schedule": "constant",
                "log_every": 1}
    whole = train_and_evaluate(listops_config(**settings), tmp_path / "whole")
    micro = train_and_evaluate(listops_config(**settings, grad_accum_steps=accum), tmp_path / "micro")

    def curve(name):
        return [r["loss"] for r in read_metrics(tmp_path / name) if r["split"] == "train"]

    np.testing.assert_allclose(curve("micro"), curve("whole"), rtol=2e-5)
    for a, b in zip(jax.tree.leaves(whole.state.params), jax.tree.leaves(micro.state.params)):
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=1e-4, atol=1e-6)
    assert int(micro.state.step) == 4  # one optimiser update per step, whatever the micro-batches


def test_gradient_accumulation_must_divide_the_per_device_batch(listops_config, tmp_path):
    from wavspa_flax.errors import ConfigError

    with pytest.raises(ConfigError, match="grad_accum_steps = 3 must divide the per-device batch 2"):
        train_and_evaluate(listops_config(batch_size=4, grad_accum_steps=3), tmp_path / "run")


@pytest.mark.slow
def test_lego_pipeline_learns_short_chains(tmp_path):
    """Two-variable chains (``a=+1; b=-a``: the literal clause and one hop), every position
    supervised: the per-position accuracy the Fig. 3 table reads must go well above chance."""
    from .conftest import smoke_config

    config = smoke_config("lego", tmp_path, **{
        "data.num_vars": 2, "data.num_train_vars": 2, "max_length": 10, "data.num_train": 4000,
        "data.num_val": 200, "data.num_test": 200, "num_train_steps": 800, "eval_every": 800,
        "checkpoint_every": 800, "log_every": 100, "batch_size": 32, "eval_batch_size": 100,
        "learning_rate": 3e-3, "schedule": "constant", "warmup_steps": 50, "model.num_layers": 2,
        "model.emb_dim": 32, "model.qkv_dim": 32, "model.mlp_dim": 64, "model.num_heads": 4,
        "model.dropout": 0.0, "model.attention_dropout": 0.0})
    summary = train_and_evaluate(config, tmp_path / "run").summary
    assert len(summary["test_accuracy_by_index"]) == 2
    assert min(summary["test_accuracy_by_index"]) > 0.9, summary["test_accuracy_by_index"]
