"""``lra.steps``: the gradient, its norm and the update of one data-parallel train step, against a
float64 NumPy computation of the whole batch on one device (a linear classifier, whose
cross-entropy gradient has a closed form), for 1 and 2 devices and gradient accumulation."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax.training.train_state import TrainState

from lra.steps import data_parallel, eval_step, make_key, replicate, train_step, unreplicate

B, F, C = 8, 5, 3


def _linear(variables, inputs, lengths, train=False, rngs=None):
    """logits = x W + b (``lengths``, ``train``, ``rngs`` unused: the step's model interface)."""
    del lengths, train, rngs
    params = variables["params"]
    return inputs @ params["w"] + params["b"][None, :]


def _problem(seed=0):
    rng = np.random.default_rng(seed)
    params = {"w": rng.normal(size=(F, C)).astype(np.float32), "b": rng.normal(size=C).astype(np.float32)}
    batch = {
        "inputs": rng.normal(size=(B, F)).astype(np.float32),
        "lengths": np.full(B, F, np.int32),
        "targets": rng.integers(0, C, B).astype(np.int32),
        # Unequal weights, a zero (a padding example): micro-batch and device weights differ.
        "weights": np.array([1, 0, 1, 1, 0.5, 1, 2, 1], np.float32),
    }
    return params, batch


def _reference(params, batch):
    """Weighted mean cross-entropy of the whole batch, its gradient and norm, in float64."""
    x, y, w = (np.asarray(batch[k], np.float64) for k in ("inputs", "targets", "weights"))
    y = y.astype(int)
    logits = x @ params["w"].astype(np.float64) + params["b"].astype(np.float64)
    logits -= logits.max(-1, keepdims=True)
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    loss = -(w * np.log(probs[np.arange(B), y])).sum() / w.sum()
    delta = (probs - np.eye(C)[y]) * w[:, None] / w.sum()  # d loss / d logits
    grads = {"w": x.T @ delta, "b": delta.sum(0)}
    norm = np.sqrt(sum((g ** 2).sum() for g in grads.values()))
    return loss, grads, norm


def _step(params, batch, num_devices, accum_steps):
    devices = jax.local_devices()[:num_devices]
    state = TrainState.create(apply_fn=_linear, params=jax.tree.map(jnp.asarray, params), tx=optax.sgd(1.0))
    sharded = {k: v.reshape((num_devices, -1) + v.shape[1:]) for k, v in batch.items()}
    step = data_parallel(lambda s, b, k: train_step(s, b, k, accum_steps=accum_steps), devices)
    new_state, metrics = step(replicate(state, devices), sharded,
                              replicate(jax.random.key_data(make_key(0)), devices))
    return unreplicate(new_state), unreplicate(metrics)


@pytest.mark.parametrize("num_devices,accum_steps", [(1, 1), (2, 1), (1, 2), (2, 2), (1, 4)])
def test_train_step_update_and_grad_norm_are_the_whole_batch_gradient(num_devices, accum_steps):
    if num_devices > jax.local_device_count():
        pytest.skip(f"needs {num_devices} devices")
    params, batch = _problem()
    loss, grads, norm = _reference(params, batch)
    new_state, metrics = _step(params, batch, num_devices, accum_steps)
    # SGD with learning rate 1: the update is minus the gradient the step applied.
    for name in ("w", "b"):
        applied = params[name].astype(np.float64) - np.asarray(new_state.params[name], np.float64)
        np.testing.assert_allclose(applied, grads[name], rtol=1e-5, atol=1e-6, err_msg=name)
    np.testing.assert_allclose(float(metrics["grad_norm"]), norm, rtol=1e-5)
    np.testing.assert_allclose(float(metrics["loss_sum"]) / float(metrics["weight_sum"]), loss, rtol=1e-5)
    assert float(metrics["weight_sum"]) == float(batch["weights"].sum())
    assert float(metrics["params_finite"]) == 1.0 and int(new_state.step) == 1


def test_eval_step_sums_over_devices_with_zero_weight_padding():
    params, batch = _problem(1)
    logits = batch["inputs"].astype(np.float64) @ params["w"] + params["b"]
    correct = (logits.argmax(-1) == batch["targets"]) * batch["weights"]
    devices = jax.local_devices()[:min(2, jax.local_device_count())]
    n = len(devices)
    sharded = {k: v.reshape((n, -1) + v.shape[1:]) for k, v in batch.items()}
    step = data_parallel(lambda p, b: eval_step(p, b, _linear), devices)
    sums = unreplicate(step(replicate(jax.tree.map(jnp.asarray, params), devices), sharded))
    assert float(sums["correct_sum"]) == pytest.approx(correct.sum())
    assert float(sums["weight_sum"]) == pytest.approx(batch["weights"].sum())
