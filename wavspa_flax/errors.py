"""Errors that report a user's mistake (a config key, a name, a value) in one line.

``lra.train.cli`` ends the command with ``error: <message>`` for any :class:`UserError`, without a
traceback (``WAVSPA_TRACEBACK=1`` shows it). Every message names the key or file and the fix.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class UserError(Exception):
    """A mistake in what the user asked for; its message says what to change."""


class ConfigError(UserError, ValueError):
    """An unknown config key or name, or a value the code cannot run with."""


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the close matches of ``name`` in ``choices``, else ``''``."""
    close = difflib.get_close_matches(str(name), [str(c) for c in choices], n=3, cutoff=0.6)
    return f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
