"""``lra.cli``: a user's mistake ends in one ``error:`` line with status 1; ``WAVSPA_TRACEBACK=1``
re-raises it; other exceptions are never swallowed."""

from __future__ import annotations

import pytest

from lra.cli import run_main
from wavspa_flax.errors import ConfigError


def _raises(error):
    def main():
        raise error

    return main


def test_user_error_is_one_line_and_status_1(monkeypatch):
    monkeypatch.delenv("WAVSPA_TRACEBACK", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        run_main(_raises(ConfigError("config.x = 3 must be even")))
    # sys.exit(str) prints the string to stderr and exits with status 1.
    assert exit_info.value.code == "error: config.x = 3 must be even"


def test_traceback_variable_reraises_the_error(monkeypatch):
    monkeypatch.setenv("WAVSPA_TRACEBACK", "1")
    error = ConfigError("config.x = 3 must be even")
    with pytest.raises(ConfigError) as raised:
        run_main(_raises(error))
    assert raised.value is error


def test_exit_code_and_other_errors_pass_through(monkeypatch):
    monkeypatch.delenv("WAVSPA_TRACEBACK", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        run_main(lambda: 3)
    assert exit_info.value.code == 3
    with pytest.raises(KeyError):  # a bug, not a user's mistake: its traceback is shown
        run_main(_raises(KeyError("x")))


def test_preemption_guard_turns_sigterm_into_a_request_and_restores_the_handler():
    import os
    import signal

    from lra.preemption import PreemptionGuard

    before = signal.getsignal(signal.SIGTERM)
    with PreemptionGuard() as guard:
        assert not guard.stop_requested(0)
        os.kill(os.getpid(), signal.SIGTERM)
        assert guard.stop_requested(1) and guard.signal_number == signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) == before
