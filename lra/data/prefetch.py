"""Training batches put on the devices ahead of the step that uses them.

The loop's batches are host numpy arrays ``[D, B/D, ...]``; handed to a ``jax.pmap`` step as they
are, each step starts with its host-to-device copy. :func:`device_batches` keeps ``size`` batches
already on the devices (``flax.jax_utils.prefetch_to_device``: the copy of batch s+1 overlaps the
computation of step s; JAX's asynchronous dispatch overlaps the host's gathering of the next batch
with the device's step). The batches, their order and so every result are unchanged (tested).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import jax
from flax import jax_utils

from lra.steps import AXIS


def device_batches(batches: Iterator[dict], devices: Sequence[jax.Device], rows: slice,
                   size: int = 2) -> Iterator[dict]:
    """This process's rows (``rows``) of each global batch, ``size`` batches ahead on its devices
    (laid out as the data-parallel step takes them); ``size`` 0: host arrays, fetched by the step.

    With several processes the host arrays are handed over as before (prefetching there is not
    tested yet: the multi-process test did not finish on the loaded test machine)."""
    local_devices = [d for d in devices if d.process_index == jax.process_index()]
    local = ({k: v[rows] for k, v in batch.items()} for batch in batches)
    if size <= 0 or jax.process_count() > 1:
        return local
    return jax_utils.prefetch_to_device(local, size, local_devices, axis_name=AXIS)
