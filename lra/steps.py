"""Per-device train and eval steps, and the one place they are made data-parallel.

The steps are written once for one device with a named batch axis (``AXIS``): gradients and
metrics are reduced with ``lax.psum`` over it. :func:`data_parallel` wraps them with ``jax.pmap``;
moving to ``jax.shard_map`` later touches only that function.

Losses are exact global means whatever the device count: each device divides its weighted loss
sum by the psum of all weights, and the gradients are psum-ed, so 1, 2 or 4 devices give the same
update for the same global batch (up to float summation order).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax.training import train_state
from jax import lax

AXIS = "batch"
Batch = dict[str, jax.Array]


class TrainState(train_state.TrainState):
    """Flax TrainState: ``step``, ``params``, ``opt_state`` (checkpointed), ``apply_fn``, ``tx``."""


def data_parallel(
    fn: Callable, devices: Sequence[jax.Device] | None = None, donate_argnums=()
) -> Callable:
    """The single place a per-device step becomes data-parallel (``jax.pmap`` over ``AXIS``)."""
    return jax.pmap(fn, axis_name=AXIS, devices=devices, donate_argnums=donate_argnums)


def weighted_metrics(logits: jax.Array, targets: jax.Array, weights: jax.Array) -> dict[str, jax.Array]:
    """Sums over one device's batch: cross-entropy, correct predictions, weight.

    logits [..., C], targets [...] int, weights [...] float (0 = not counted). Works for one
    label per example ([B]) and per token ([B, n]).
    """
    losses = optax.softmax_cross_entropy_with_integer_labels(logits.astype(jnp.float32), targets)
    correct = (jnp.argmax(logits, axis=-1) == targets).astype(jnp.float32)
    return {
        "loss_sum": jnp.sum(losses * weights),
        "correct_sum": jnp.sum(correct * weights),
        "weight_sum": jnp.sum(weights),
    }


def train_step(state: TrainState, batch: Batch, dropout_key: jax.Array) -> tuple[TrainState, dict]:
    """One AdamW step on this device's shard of the global batch; call it under :func:`data_parallel`.

    The dropout key is folded with the step and the device index, so each device and step draws
    its own dropout masks and a resumed run redraws exactly the masks it would have drawn.
    """
    key = jax.random.fold_in(jax.random.fold_in(dropout_key, state.step), lax.axis_index(AXIS))
    total_weight = jnp.maximum(lax.psum(jnp.sum(batch["weights"]), AXIS), 1e-9)

    def loss_fn(params):
        logits = state.apply_fn(
            {"params": params}, batch["inputs"], batch["lengths"], train=True, rngs={"dropout": key}
        )
        sums = weighted_metrics(logits, batch["targets"], batch["weights"])
        return sums["loss_sum"] / total_weight, sums

    grads, sums = jax.grad(loss_fn, has_aux=True)(state.params)
    grads = lax.psum(grads, AXIS)
    new_state = state.apply_gradients(grads=grads)
    metrics = lax.psum(sums, AXIS)
    metrics["grad_norm"] = optax.global_norm(grads)
    return new_state, metrics


def eval_step(params: Any, batch: Batch, apply_fn: Callable, num_index_buckets: int = 0) -> dict:
    """Metric sums over the global eval batch (padding examples have weight 0).

    With ``num_index_buckets`` > 0 and a ``target_index`` in the batch (LEGO: the chain position
    of each supervised token), also per-position correct/weight sums [num_index_buckets].
    """
    logits = apply_fn({"params": params}, batch["inputs"], batch["lengths"], train=False)
    sums = weighted_metrics(logits, batch["targets"], batch["weights"])
    if num_index_buckets and "target_index" in batch:
        onehot = jax.nn.one_hot(batch["target_index"], num_index_buckets) * batch["weights"][..., None]
        correct = (jnp.argmax(logits, axis=-1) == batch["targets"]).astype(jnp.float32)
        reduce_axes = tuple(range(onehot.ndim - 1))
        sums["index_correct"] = jnp.sum(onehot * correct[..., None], axis=reduce_axes)
        sums["index_weight"] = jnp.sum(onehot, axis=reduce_axes)
    return lax.psum(sums, AXIS)
