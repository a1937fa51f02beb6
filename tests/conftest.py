"""Test-wide setup.

Unless the caller already chose (``.ci/run`` reruns the ``multidevice`` tests with 4), JAX sees
2 forced CPU devices, so the pmap tests run in the normal suite without being skipped.

Unless the caller already chose, every program compiles without XLA's optimisations
(``JAX_DISABLE_MOST_OPTIMIZATIONS=1``: backend level 0, no expensive LLVM passes; and XLA:CPU's classic
fusion emitters: ``FAST_COMPILE_XLA_FLAGS`` below), in this process
and in the ``lra.train`` / ``lra.bench`` subprocesses the tests start (they inherit the
environment). The tests' models are tiny, so compiling is most of their time: the training, sweep
and benchmark tests ran 22% faster (334 -> 259 s for five of those files, side by side on 2 cores),
and the numerics differ from optimised programs by float rounding only. ``.ci/run`` reruns the
multi-device tests with ``JAX_DISABLE_MOST_OPTIMIZATIONS=0``, so the pmap path is also checked
as users compile it.
"""
import os

if "--xla_force_host_platform_device_count" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=2"
    ).strip()
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("JAX_DISABLE_MOST_OPTIMIZATIONS", "1")
# With the optimisations off, XLA:CPU's classic (elemental) fusion emitters also compile the tests'
# tiny programs faster than its MLIR ones: `lra.bench --suite table8` at the tests' size took 41 s
# with the default emitters and 27-30 s with these, measured one after the other on 2 cores
# (2026-12-07). Subprocesses that set their own XLA_FLAGS add FAST_COMPILE_XLA_FLAGS.
FAST_COMPILE_XLA_FLAGS = (
    "--xla_cpu_use_fusion_emitters=false" if os.environ["JAX_DISABLE_MOST_OPTIMIZATIONS"] == "1" else ""
)
if FAST_COMPILE_XLA_FLAGS and FAST_COMPILE_XLA_FLAGS not in os.environ["XLA_FLAGS"]:
    os.environ["XLA_FLAGS"] += " " + FAST_COMPILE_XLA_FLAGS

# Spare threads for the forced devices' collectives (lra/host_threads.py); `import lra` does the
# same, but a test may create the CPU client before it imports lra.
from lra.host_threads import reserve_threads_for_forced_devices  # noqa: E402

reserve_threads_for_forced_devices()

import jax  # noqa: E402  (after XLA_FLAGS is set)

# Reuse compiled programs across tests (and across local runs): the training tests compile the
# same smoke-scale steps several times (an interrupted run, its resumption, ...).
jax.config.update(
    "jax_compilation_cache_dir",
    os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".pytest_cache", "jax"),
)
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
# Implicit rank promotion ([n] + [m, n]) hides shape bugs; the code broadcasts explicitly (as nanodo).
jax.config.update("jax_numpy_rank_promotion", "raise")
