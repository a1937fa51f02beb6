"""Learning-rate schedules and the optimiser of the LRA / WavSpA training scripts."""

from __future__ import annotations

import jax.numpy as jnp
import ml_collections
import optax


def learning_rate_schedule(config: ml_collections.ConfigDict) -> optax.Schedule:
    """The schedule named by ``config.schedule``.

    - ``rsqrt``: ``lr * min(1, step / warmup) * rsqrt(max(step, warmup))``, the LRA
      ``constant * linear_warmup * rsqrt_decay`` (ListOps, Text, Retrieval).
    - ``cosine``: linear warmup, then a cosine that restarts every ``cosine_cycle_steps``
      (the LRA image tasks' ``constant * linear_warmup * cosine_decay``).
    - ``constant``: linear warmup, then ``lr``.
    """
    base = float(config.learning_rate)
    warmup = max(int(config.warmup_steps), 1)
    cycle = int(config.cosine_cycle_steps) or int(config.num_train_steps)

    def schedule(step):
        step = jnp.asarray(step, jnp.float32)
        warm = jnp.minimum(1.0, step / warmup)
        if config.schedule == "rsqrt":
            return base * warm * jnp.sqrt(1.0 / jnp.maximum(step, warmup))
        if config.schedule == "cosine":
            progress = jnp.mod(jnp.maximum(step - warmup, 0.0) / cycle, 1.0)
            return base * warm * 0.5 * (1.0 + jnp.cos(jnp.pi * progress))
        if config.schedule == "constant":
            return base * warm
        raise ValueError(f"config.schedule={config.schedule!r}; expected rsqrt, cosine or constant")

    return schedule


def make_optimizer(config: ml_collections.ConfigDict) -> optax.GradientTransformation:
    """AdamW(b1=0.9, b2=0.98, eps=1e-9) with decoupled weight decay, optional global-norm clip."""
    adamw = optax.adamw(
        learning_rate_schedule(config),
        b1=0.9,
        b2=0.98,
        eps=1e-9,
        weight_decay=float(config.weight_decay),
    )
    if config.grad_clip_norm:
        return optax.chain(optax.clip_by_global_norm(float(config.grad_clip_norm)), adamw)
    return adamw
