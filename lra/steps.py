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
import numpy as np
import optax
from flax.training.train_state import TrainState
from jax import lax
from jax.sharding import Mesh, NamedSharding, PartitionSpec

AXIS = "batch"
Batch = dict[str, jax.Array]


def data_parallel(
    fn: Callable, devices: Sequence[jax.Device] | None = None, donate_argnums=()
) -> Callable:
    """The single place a per-device step becomes data-parallel (``jax.pmap`` over ``AXIS``)."""
    return jax.pmap(fn, axis_name=AXIS, devices=devices, donate_argnums=donate_argnums)


def replicate(tree: Any, devices: Sequence[jax.Device]) -> Any:
    """One copy of ``tree`` per device, laid out exactly like ``data_parallel`` outputs.

    The copies are placed with the sharding pmap gives its own outputs (a mesh over ``devices``
    named ``AXIS``), so feeding a step its previous output does not recompile it; building them on
    the host avoids the small per-leaf compilations of device-side replication.
    """
    sharding = NamedSharding(Mesh(np.asarray(devices), (AXIS,)), PartitionSpec(AXIS))
    count = len(devices)
    return jax.tree.map(
        lambda x: jax.device_put(np.broadcast_to(np.asarray(x), (count,) + np.shape(x)), sharding), tree
    )


def unreplicate(tree: Any) -> Any:
    """Device 0's copy of a replicated tree, as host numpy arrays (no device-side slicing)."""

    def first(x):
        shards = getattr(x, "addressable_shards", None)
        if shards:
            return np.asarray(shards[0].data)[0]
        return np.asarray(x)[0]

    return jax.tree.map(first, tree)


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


# The dropout (and init) key implementation is the config key ``prng_impl``. The names map to JAX's:
# 'threefry' is JAX's default (threefry2x32: the same stream on every backend, splittable with
# guarantees); 'rbg' draws its bits with the backend's random-bit generator keyed by threefry (its
# streams differ from threefry's and across backends: XLA:CPU and GPU/TPU give different masks);
# 'unsafe_rbg' also derives split/fold_in keys by that generator (cheapest; no guarantee that
# folded-in streams are independent). All three are deterministic on one backend, so a resumed run
# redraws exactly the masks it would have drawn.
PRNG_IMPLS = {"threefry": "threefry2x32", "rbg": "rbg", "unsafe_rbg": "unsafe_rbg"}
DEFAULT_PRNG_IMPL = "rbg"
RNG_IMPL = PRNG_IMPLS[DEFAULT_PRNG_IMPL]


def make_key(seed: int, prng_impl: str = DEFAULT_PRNG_IMPL) -> jax.Array:
    """A typed PRNG key of the ``prng_impl`` named in :data:`PRNG_IMPLS` (init and dropout alike)."""
    return jax.random.key(seed, impl=PRNG_IMPLS[prng_impl])


def train_step(state: TrainState, batch: Batch, dropout_key_data: jax.Array,
               accum_steps: int = 1, prng_impl: str = DEFAULT_PRNG_IMPL) -> tuple[TrainState, dict]:
    """One AdamW step on this device's shard of the global batch; call it under :func:`data_parallel`.

    ``dropout_key_data`` is ``jax.random.key_data`` of a :func:`make_key` key of ``prng_impl`` (raw
    uint32: [2] for threefry, [4] for the rbg kinds, so it replicates like any array). It is folded
    with the step and the device index, so each device and step draws its own dropout masks and a
    resumed run redraws exactly the masks it would have drawn.

    ``accum_steps`` > 1 (gradient accumulation): the shard ``[b, ...]`` is split into ``accum_steps``
    micro-batches of ``b / accum_steps`` run one after another (``lax.scan``: activation memory of
    one micro-batch) whose gradients are summed before the one update, so the update equals that
    of the whole batch (each micro-batch's loss is divided by the global weight of the whole step).
    """
    dropout_key = jax.random.wrap_key_data(dropout_key_data, impl=PRNG_IMPLS[prng_impl])
    key = jax.random.fold_in(jax.random.fold_in(dropout_key, state.step), lax.axis_index(AXIS))
    total_weight = jnp.maximum(lax.psum(jnp.sum(batch["weights"]), AXIS), 1e-9)

    def grads_and_sums(micro_batch, micro_key):
        def loss_fn(params):
            logits = state.apply_fn({"params": params}, micro_batch["inputs"], micro_batch["lengths"],
                                    train=True, rngs={"dropout": micro_key})
            sums = weighted_metrics(logits, micro_batch["targets"], micro_batch["weights"])
            return sums["loss_sum"] / total_weight, sums

        return jax.grad(loss_fn, has_aux=True)(state.params)

    if accum_steps == 1:
        grads, sums = grads_and_sums(batch, key)
    else:
        micro_batches = jax.tree.map(lambda x: x.reshape((accum_steps, -1) + x.shape[1:]), batch)

        def accumulate(carry, inputs):
            micro_batch, index = inputs
            grads, sums = grads_and_sums(micro_batch, jax.random.fold_in(key, index))
            return jax.tree.map(jnp.add, carry, (grads, sums)), None

        shapes = jax.eval_shape(grads_and_sums, jax.tree.map(lambda x: x[0], micro_batches), key)
        zeros = jax.tree.map(lambda x: jnp.zeros(x.shape, x.dtype), shapes)
        (grads, sums), _ = lax.scan(accumulate, zeros, (micro_batches, jnp.arange(accum_steps)))
    grads = lax.psum(grads, AXIS)
    new_state = state.apply_gradients(grads=grads)
    metrics = lax.psum(sums, AXIS)
    metrics["grad_norm"] = optax.tree.norm(grads)
    metrics["params_finite"] = jnp.all(
        jnp.stack([jnp.isfinite(p).all() for p in jax.tree.leaves(new_state.params)])
    ).astype(jnp.float32)
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
