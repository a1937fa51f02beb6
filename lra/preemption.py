"""Stopping cleanly on SIGTERM (preemption of TPU VMs and cloud GPUs) and Ctrl-C.

:class:`PreemptionGuard` turns the signals into a request the training loop polls after every
step; the loop then saves a checkpoint at that step and returns, so rerunning the same command
resumes exactly (the data position and dropout keys are functions of the step). With several
processes (a pod) the request is agreed on by all of them (any process signalled stops all at the
same step), since every process must take part in the checkpoint.
"""

from __future__ import annotations

import signal
import threading

import jax
import numpy as np

SIGNALS = (signal.SIGTERM, signal.SIGINT)


class PreemptionGuard:
    """Context manager: while active, SIGTERM/SIGINT set :attr:`signal_number` instead of killing."""

    def __init__(self):
        self.signal_number: int | None = None
        self._previous: dict = {}

    def _handle(self, signum, frame):
        del frame
        self.signal_number = signum

    def __enter__(self) -> PreemptionGuard:
        if threading.current_thread() is threading.main_thread():  # signal handlers: main thread only
            for sig in SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def stop_requested(self) -> bool:
        """True once any process has been signalled (a collective with several processes)."""
        local = self.signal_number is not None
        if jax.process_count() == 1:
            return local
        from jax.experimental import multihost_utils

        return bool(np.any(multihost_utils.process_allgather(np.int32(local))))

