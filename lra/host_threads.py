"""Thread headroom for several forced CPU devices (``--xla_force_host_platform_device_count``).

XLA:CPU runs every device of a ``pmap`` step on two shared thread pools (``XLAPjRtCpuClient`` and
the intra-op ``XLAEigen`` pool), each sized ``max(cores, device count)``: on a 2-core machine with
2 forced devices, 2 threads each. A device waiting in an all-reduce holds its thread until every
other device arrives, so a pool with no spare thread leaves the other devices' work queued behind
it; under load XLA then aborts the process (``rendezvous.cc``: "Termination timeout ... exceeded").
Sizing both pools ``2 * devices + 2`` (XLA reads ``PJRT_NPROC`` when the CPU client is created)
leaves a thread free for every device's work whatever the others hold. Real accelerators and a
single CPU device are not affected; a value the user set is kept.
"""

from __future__ import annotations

import os
import re
from collections.abc import MutableMapping

THREADS_VARIABLE = "PJRT_NPROC"
_FORCED_DEVICES = re.compile(r"--xla_force_host_platform_device_count=(\d+)")


def forced_device_count(xla_flags: str) -> int:
    """The last ``--xla_force_host_platform_device_count`` in ``xla_flags`` (1 if none)."""
    counts = _FORCED_DEVICES.findall(xla_flags)
    return int(counts[-1]) if counts else 1


def threads_for(devices: int, cores: int) -> int:
    """Pool size that keeps a thread free for each device while the others wait in a collective."""
    return max(cores, 2 * devices + 2)


def reserve_threads_for_forced_devices(environ: MutableMapping[str, str] = os.environ) -> int | None:
    """Sets ``PJRT_NPROC`` for several forced CPU devices unless ``PJRT_NPROC``/``NPROC`` is set.

    Returns the thread count set, or None when nothing was changed. Call it before JAX creates
    its CPU client (the first ``jax.devices()`` or computation); later calls have no effect on
    an existing client.
    """
    devices = forced_device_count(environ.get("XLA_FLAGS", ""))
    if devices <= 1 or THREADS_VARIABLE in environ or "NPROC" in environ:
        return None
    threads = threads_for(devices, os.cpu_count() or 1)
    environ[THREADS_VARIABLE] = str(threads)
    return threads
