"""How the project's commands end: a user's mistake in one ``error:`` line, no traceback.

Every command (``lra.train``, ``lra.sweep``, ``lra.reproduce``) reports a
:class:`~wavspa_flax.errors.UserError` as ``error: <message>`` with exit status 1;
``WAVSPA_TRACEBACK=1`` re-raises it to show the traceback.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import NoReturn

from wavspa_flax.errors import UserError


def fail(message: str, error: BaseException | None = None) -> NoReturn:
    """End the command with ``error: <message>`` (or re-raise ``error`` with WAVSPA_TRACEBACK=1)."""
    if error is not None and os.environ.get("WAVSPA_TRACEBACK"):
        raise error
    sys.exit(f"error: {message}")


def run_main(main: Callable[[], int]) -> NoReturn:
    """``sys.exit(main())``, a UserError ending in one line."""
    try:
        code = main()
    except UserError as error:
        fail(str(error), error)
    sys.exit(code)
