"""What a number was measured on: the hardware line and the software versions every result states."""

from __future__ import annotations

import functools
import importlib.metadata
import os
import platform
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@functools.cache
def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (else the processor or machine type)."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            return next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), model)
    except OSError:
        return model


def ram_gib() -> float:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30
    except (ValueError, OSError, AttributeError):  # pragma: no cover
        return float("nan")


def hardware_description(devices: list | None = None) -> str:
    """The devices used and their host, e.g. ``'2 x cpu (cpu), 1 process; host Intel Xeon ... (x86_64),
    2 CPU cores, 8 GiB RAM'`` (``devices`` defaults to every device JAX sees)."""
    import jax

    devices = list(devices or jax.devices())
    processes = jax.process_count()
    return (f"{len(devices)} x {devices[0].device_kind} ({devices[0].platform}), {processes} "
            f"process{'es' if processes > 1 else ''}; host {cpu_model()} ({platform.machine()}), "
            f"{os.cpu_count()} CPU cores, {ram_gib():.0f} GiB RAM")


@functools.cache
def software_versions() -> dict[str, str]:
    """Versions of the libraries behind a number, and this checkout's git commit (or 'unknown')."""
    versions = {}
    for name in ("jax", "jaxlib", "flax", "optax", "orbax-checkpoint"):
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "unknown"
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True,
                                timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        versions["wavspa_commit"] = commit + ("+uncommitted" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        versions["wavspa_commit"] = "unknown"
    return versions
