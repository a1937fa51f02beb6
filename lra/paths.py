"""Workdir paths: local directories and URIs (``gs://bucket/run``) through one path type.

Every path under a workdir is an ``etils.epath.Path``, the type orbax itself uses, so a URI
reaches the storage backend as written: ``pathlib.Path('gs://b/run')`` would collapse it to the
local folder ``gs:/b/run``, and so would ``epath.Path('gs://b/run').absolute()``. Only local
paths are made absolute. ``gs://`` needs ``gcsfs`` (``pip install -e ".[gcs]"``).
"""

from __future__ import annotations

import importlib.util
import os
import re

from etils import epath

from wavspa_flax.errors import ConfigError

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_COLLAPSED_URI = re.compile(r"^(gs|s3|az|hf):/[^/]")  # what pathlib makes of 'gs://b/...'


def is_remote(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a URI (``gs://...``) rather than a local path."""
    return bool(_URI.match(os.fspath(path)))


def workdir_path(path: str | os.PathLike) -> epath.Path:
    """``path`` as an ``epath.Path``: a URI unchanged, a local path made absolute."""
    text = os.fspath(path)
    if not text.strip():
        raise ConfigError("the workdir is empty (--workdir=); give a folder or URI, e.g. --workdir=runs/listops")
    if _COLLAPSED_URI.match(text):
        raise ConfigError(
            f"workdir {text!r} looks like a URI that lost a '/' (pathlib.Path('gs://b/run') "
            "gives 'gs:/b/run'); pass the URI as a string"
        )
    if is_remote(text):
        if text.startswith("gs://") and importlib.util.find_spec("gcsfs") is None:
            raise ConfigError(f"workdir {text!r} needs gcsfs: pip install -e \".[gcs]\" (or pip install gcsfs)")
        return epath.Path(text)
    return epath.Path(text).absolute()
