"""Test-wide setup.

Unless the caller already chose (``.ci/run`` reruns the ``multidevice`` tests with 4), JAX sees
2 forced CPU devices, so the pmap tests run in the normal suite without being skipped.
"""
import os

if "--xla_force_host_platform_device_count" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=2"
    ).strip()
os.environ.setdefault("JAX_PLATFORMS", "cpu")
