"""Stopping cleanly on SIGTERM (preemption of TPU VMs and cloud GPUs) and Ctrl-C.

:class:`PreemptionGuard` turns the signals into a request the training loop polls after every
step; the loop then saves a checkpoint at that step and returns, so rerunning the same command
resumes exactly (the data position and dropout keys are functions of the step).

With several processes (a pod) every process must stop at the same step, since all take part in
the checkpoint. That agreement is JAX's preemption service
(:func:`jax.experimental.multihost_utils.reached_preemption_sync_point`): the distributed runtime
hears SIGTERM itself, tells the other processes in the background and names the step at which all
stop; polling it costs no collective per step. Ctrl-C on one process is passed to that service as
a SIGTERM to itself.
"""

from __future__ import annotations

import os
import signal
import threading

import jax

SIGNALS = (signal.SIGTERM, signal.SIGINT)


class PreemptionGuard:
    """Context manager: while active, SIGTERM/SIGINT set :attr:`signal_number` instead of killing."""

    def __init__(self):
        self.signal_number: int | None = None
        self._previous: dict = {}
        self._several = jax.process_count() > 1

    def _handle(self, signum, frame):
        del frame
        self.signal_number = signum
        if self._several:  # the runtime's preemption notifier hears SIGTERM, and tells the others
            os.kill(os.getpid(), signal.SIGTERM)

    def __enter__(self) -> PreemptionGuard:
        if threading.current_thread() is threading.main_thread():  # signal handlers: main thread only
            # With several processes SIGTERM stays with the runtime's preemption notifier.
            for sig in (signal.SIGINT,) if self._several else SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def stop_requested(self, step: int) -> bool:
        """True at the step where the run stops: at once with one process; with several, at the
        step all processes agreed on after any of them was signalled."""
        if not self._several:
            return self.signal_number is not None
        from jax.experimental import multihost_utils

        if not multihost_utils.reached_preemption_sync_point(step):
            return False
        self.signal_number = self.signal_number or signal.SIGTERM
        return True
