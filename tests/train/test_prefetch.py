"""Batches prefetched to the devices: the same batches in the same order, and the same training run."""

from __future__ import annotations

import jax
import numpy as np

from lra.data.prefetch import device_batches
from lra.train import train_and_evaluate

from .conftest import assert_trees_equal


def _host_batches(count: int, devices: int):
    rng = np.random.default_rng(0)
    return [{"inputs": rng.integers(0, 9, (devices, 3, 5)).astype(np.int32),
             "weights": rng.random((devices, 3)).astype(np.float32)} for _ in range(count)]


def test_prefetched_batches_are_the_host_batches_on_the_devices():
    devices = jax.local_devices()[:2]
    batches = _host_batches(5, len(devices))
    fetched = list(device_batches(iter(batches), devices, slice(0, len(devices)), size=2))
    assert len(fetched) == 5
    for host, dev in zip(batches, fetched):
        for name in host:
            assert isinstance(dev[name], jax.Array)
            assert {s.device for s in dev[name].addressable_shards} == set(devices)
            np.testing.assert_array_equal(np.asarray(dev[name]), host[name])


def test_a_run_with_prefetching_ends_with_the_same_parameters(listops_config, tmp_path):
    settings = {"num_train_steps": 4, "eval_every": 4, "checkpoint_every": 4}
    plain = train_and_evaluate(listops_config(prefetch_batches=0, **settings), tmp_path / "plain")
    ahead = train_and_evaluate(listops_config(prefetch_batches=2, **settings), tmp_path / "ahead")
    assert_trees_equal(plain.state.params, ahead.state.params)
    assert plain.summary["test_accuracy"] == ahead.summary["test_accuracy"]
