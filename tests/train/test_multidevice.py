"""Data parallelism: N devices give the same training as 1 device for the same global batch."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from lra.metrics import read_metrics
from lra.train import train_and_evaluate

DEVICE_COUNTS = [n for n in (2, 4) if n <= jax.local_device_count()]


@pytest.mark.multidevice
@pytest.mark.parametrize("num_devices", DEVICE_COUNTS)
def test_loss_curve_matches_single_device(listops_config, tmp_path, num_devices):
    settings = {"num_train_steps": 4, "eval_every": 4, "checkpoint_every": 4, "batch_size": 8,
                "eval_batch_size": 8, "model.dropout": 0.0, "model.attention_dropout": 0.0,
                "learning_rate": 1e-3, "schedule": "constant"}
    single = train_and_evaluate(listops_config(**settings), tmp_path / "one",
                                devices=jax.local_devices()[:1])
    multi = train_and_evaluate(listops_config(**settings), tmp_path / f"n{num_devices}",
                               devices=jax.local_devices()[:num_devices])
    assert multi.summary["devices"] == num_devices

    def curve(name):
        return [r["loss"] for r in read_metrics(tmp_path / name) if r["split"] == "train"]

    np.testing.assert_allclose(curve(f"n{num_devices}"), curve("one"), rtol=2e-5)
    for a, b in zip(jax.tree.leaves(single.state.params), jax.tree.leaves(multi.state.params)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-6)
    assert multi.summary["test_accuracy"] == pytest.approx(single.summary["test_accuracy"])


def test_global_batch_not_divisible_by_devices_fails_clearly(listops_config, tmp_path):
    config = listops_config(batch_size=5, eval_batch_size=5)
    with pytest.raises(ValueError, match=r"batch_size=5 is not divisible by the 2 local devices"):
        train_and_evaluate(config, tmp_path / "run", devices=jax.local_devices()[:2])
