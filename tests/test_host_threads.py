"""Thread headroom for forced CPU devices (lra/host_threads.py)."""

import os
import subprocess
import sys
import textwrap

import pytest

from lra.host_threads import forced_device_count, reserve_threads_for_forced_devices, threads_for


def test_forced_device_count_reads_the_last_flag():
    assert forced_device_count("") == 1
    assert forced_device_count("--xla_dump_to=/tmp --xla_force_host_platform_device_count=4") == 4
    assert forced_device_count("--xla_force_host_platform_device_count=2 "
                               "--xla_force_host_platform_device_count=8") == 8


def test_threads_leave_one_free_per_device_beyond_the_waiting_ones():
    assert threads_for(2, cores=2) == 6
    assert threads_for(4, cores=2) == 10
    assert threads_for(2, cores=64) == 64


@pytest.mark.parametrize("environ, expected", [
    ({"XLA_FLAGS": "--xla_force_host_platform_device_count=2"}, "6"),
    ({"XLA_FLAGS": "--xla_force_host_platform_device_count=1"}, None),
    ({}, None),
    ({"XLA_FLAGS": "--xla_force_host_platform_device_count=2", "PJRT_NPROC": "3"}, "3"),
    ({"XLA_FLAGS": "--xla_force_host_platform_device_count=2", "NPROC": "3"}, None),
])
def test_reserve_sets_pjrt_nproc_only_for_several_forced_devices(environ, expected, monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    reserve_threads_for_forced_devices(environ)
    assert environ.get("PJRT_NPROC") == expected


def test_importing_lra_sizes_xla_thread_pools_in_a_fresh_process(tmp_path):
    """The XLA:CPU client created after `import lra` has 2 * devices + 2 intra-op threads."""
    probe = textwrap.dedent("""
        import os
        import lra  # noqa: F401  (sets PJRT_NPROC before the CPU client exists)
        import jax
        import jax.numpy as jnp
        jax.pmap(lambda x: jax.lax.psum(x, "i"), axis_name="i")(jnp.ones((4, 3))).block_until_ready()
        names = [open(f"/proc/self/task/{t}/comm").read().strip() for t in os.listdir("/proc/self/task")]
        print(sum(n.endswith("XLAEigen") for n in names))
    """)
    env = {k: v for k, v in os.environ.items() if k not in ("PJRT_NPROC", "NPROC")}
    env["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"
    env["JAX_PLATFORMS"] = "cpu"
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120,
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert out.returncode == 0, out.stderr[-2000:]
    assert int(out.stdout.split()[-1]) == max(os.cpu_count() or 1, 10)
