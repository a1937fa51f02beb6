"""Locating the LRA release on disk.

`tar xvf lra_release.gz` gives `lra_release/lra_release/...`; users may point data.dir at any of
the three levels, or at an S4-style data folder (`listops/`, `aan/`, `pathfinder/pathfinder32/`).
"""
from __future__ import annotations

import os

from lra.data.errors import DataError, missing_data_error
from lra.data.generated import MANIFEST

# release subfolder -> alternative names (S4's data README layout)
_ALIASES = {
    "listops-1000": ["listops"],
    "tsv_data": ["aan"],
}


def resolve_release_dir(task: str, root: str, subdir: str, required_files: list[str],
                        allow_generated: bool = False) -> str:
    """The folder `subdir` (e.g. 'listops-1000') under root that holds every required file.

    A folder our generators wrote (it holds their manifest) is not the release and is skipped
    unless ``allow_generated`` (LEGO, which has no release), so a table never labels generated
    data as the release's."""
    candidates = []
    for name in [subdir] + _ALIASES.get(subdir, []):
        for prefix in ("", "lra_release", os.path.join("lra_release", "lra_release")):
            candidates.append(os.path.join(root, prefix, name))
        if subdir.startswith("pathfinder"):
            candidates.append(os.path.join(root, "pathfinder", name))
    generated = []
    for cand in candidates:
        if all(os.path.exists(os.path.join(cand, f)) for f in required_files):
            if allow_generated or not os.path.exists(os.path.join(cand, MANIFEST)):
                return cand
            generated.append(cand)
    expected = (f"{subdir}/{{{','.join(required_files)}}}" if len(required_files) > 1
                else f"{subdir}/{required_files[0]}")
    error = missing_data_error(task, expected, root)
    if generated:
        error = DataError(f"{error} ({generated[0]} holds generated data, not the release: use "
                          "data.source=generate to train on it)")
    raise error
