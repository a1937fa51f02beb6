"""Measuring side by side: interleaved rounds, wall and CPU medians, the load other processes put
on the cores, and the hardware line of every section."""

from __future__ import annotations

import dataclasses
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import jax

from lra.provenance import hardware_description

OTHER_CORES_LIMIT = 0.25  # cores other processes may use before a table is marked as measured under load


@dataclasses.dataclass
class Timing:
    wall: list[float]
    cpu: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.wall)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu)

    @property
    def spread(self) -> str:
        return f"{min(self.wall):.3g}-{max(self.wall):.3g}"


def _busy_seconds() -> float | None:
    """CPU seconds all processes of the host have been busy (``/proc/stat``; None elsewhere)."""
    try:
        with open("/proc/stat") as handle:
            fields = [int(v) for v in handle.readline().split()[1:]]
    except (OSError, ValueError):  # pragma: no cover - not Linux
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _own_seconds() -> float:
    """CPU seconds of this process and its finished children (the peer's subprocess)."""
    return sum(os.times()[:4])


class LoadLog:
    """Load averages (1 min) sampled during a suite, and how much CPU other processes took.

    The load average counts this benchmark's own threads (about one per core while it runs), so
    the verdict uses the host's busy CPU time minus this process's: the cores other jobs held.
    """

    def __init__(self):
        self.samples: list[float] = []
        self.start_wall, self.start_busy, self.start_own = time.perf_counter(), _busy_seconds(), _own_seconds()
        self.sample()

    def sample(self) -> None:
        self.samples.append(os.getloadavg()[0])

    def other_cores(self) -> float | None:
        """Mean number of cores busy with other processes since the suite started."""
        busy = _busy_seconds()
        if busy is None or self.start_busy is None:
            return None
        wall = max(time.perf_counter() - self.start_wall, 1e-9)
        own = _own_seconds() - self.start_own
        return max(0.0, (busy - self.start_busy - own) / wall)

    def note(self) -> str:
        lo, hi = min(self.samples), max(self.samples)
        text = (f"load average (1 min) during the run: {lo:.2f}-{hi:.2f} (median "
                f"{statistics.median(self.samples):.2f}; this benchmark's own threads count)")
        others = self.other_cores()
        if others is not None:
            text += f"; other processes used {others:.2f} of {os.cpu_count()} cores"
            if others > OTHER_CORES_LIMIT:
                text += ("; **measured while other jobs shared the cores**: absolute times are inflated and "
                         "noisy, ratios were measured side by side in one interleaved run")
        return text


def interleaved(cases: dict[str, Callable[[], Any]], reps: int, loads: LoadLog,
                progress: bool = True) -> dict[str, Timing]:
    """Run every case once per round, ``reps`` rounds (cases already compiled and warmed up)."""
    out = {name: Timing([], []) for name in cases}
    for rep in range(reps):
        for name, fn in cases.items():
            start, cpu = time.perf_counter(), time.process_time()
            jax.block_until_ready(fn())
            out[name].wall.append(time.perf_counter() - start)
            out[name].cpu.append(time.process_time() - cpu)
        loads.sample()
        if progress:
            print(f"  round {rep + 1}/{reps} done, load {loads.samples[-1]:.2f}", flush=True)
    return out


def timed(fn, steps: int) -> float:
    start = time.perf_counter()
    out = None
    for _ in range(steps):
        out = fn()
    jax.block_until_ready(out)
    return (time.perf_counter() - start) / steps


def hardware() -> str:
    """The hardware line of a benchmark section: the devices and host, and the jax version."""
    return f"{hardware_description()}; jax {jax.__version__}"
