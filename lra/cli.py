"""How the project's commands end: a user's mistake in one ``error:`` line, no traceback.

Every command (``lra.train``, ``lra.sweep``, ``lra.reproduce``) reports a
:class:`~wavspa_flax.errors.UserError` as ``error: <message>`` with exit status 1;
``WAVSPA_TRACEBACK=1`` re-raises it to show the traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import NoReturn

from wavspa_flax.errors import UserError

ERROR_FILE_ENV = "WAVSPA_ERROR_FILE"  # set by the sweep driver: the job's error line is also written there


def fail(message: str, error: BaseException | None = None) -> NoReturn:
    """End the command with ``error: <message>`` (or re-raise ``error`` with WAVSPA_TRACEBACK=1).

    With ``WAVSPA_ERROR_FILE`` set, the line is also written to that file, so whoever started the
    command reads this command's error even when other processes write the same log."""
    line = f"error: {message}"
    if os.environ.get(ERROR_FILE_ENV):
        try:
            with open(os.environ[ERROR_FILE_ENV], "w", encoding="utf-8") as file:
                file.write(line + "\n")
        except OSError:
            pass
    if error is not None and os.environ.get("WAVSPA_TRACEBACK"):
        raise error
    sys.exit(line)


class ArgumentParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` whose mistakes end in one ``error:`` line and status 1 (as every
    command of the project), instead of the usage block and status 2; ``--help`` is unchanged."""

    def error(self, message: str) -> NoReturn:
        fail(f"{message} (see {self.prog} --help)")


def run_main(main: Callable[[], int]) -> NoReturn:
    """``sys.exit(main())``, a UserError ending in one line."""
    try:
        code = main()
    except UserError as error:
        fail(str(error), error)
    sys.exit(code)
