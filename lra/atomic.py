"""Files written whole or not at all: a reader never sees half of one.

Locally a file is written to a temporary file in the same folder, flushed to disk, and renamed
over the target (``os.replace`` is atomic on POSIX file systems): a kill, a crash or a full disk
leaves either the old file or the new one, never a prefix. On an object store (``gs://``) an
object upload is already all-or-nothing (GCS makes an object visible only once its upload
completes), so the text is written in one request.
"""

from __future__ import annotations

import contextlib
import os
import tempfile

from etils import epath

from lra.paths import is_remote


def write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> None:
    """Replace ``path``'s content with ``text`` atomically (see the module docstring)."""
    if is_remote(path):
        epath.Path(path).write_text(text, encoding=encoding)
        return
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    try:
        os.fchmod(handle, 0o666 & ~_umask())  # mkstemp's 0600 would make the file private
        with os.fdopen(handle, "w", encoding=encoding) as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
