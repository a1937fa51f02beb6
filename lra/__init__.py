"""Long Range Arena tasks, data, training, sweeps, reproduction, analysis and benchmarks."""

from lra.host_threads import reserve_threads_for_forced_devices

# Before any JAX backend exists: forced CPU devices need spare threads (see lra/host_threads.py).
reserve_threads_for_forced_devices()
