"""The `data` sub-config of every task, and the static facts about each task (`TaskInfo`).

`default_data_config(task)` defines every key a user may override (ml_collections rejects unknown
keys on the command line). Keys common to all tasks:

  source        'release' | 'tfds' | 'generate'  (default: generate for listops/pathfinder/lego,
                tfds for text/image, release for retrieval)
  dir           release root (the unpacked `lra_release/`), tfds data_dir, or where generated data
                are written. Empty -> `./data/<task>` (`./data/tfds` for tfds tasks).
  cache_dir     where tokenised arrays are cached. Empty -> `<dir>/_wavspa_cache`.
  use_cache     False: tokenise into memory on every load.
  limit_train / limit_eval   keep only the first k examples of train / of val and test (0 = all).
  generator_seed             seed of the offline generators (the data set is a fixed artefact,
                             independent of the training seed).
  num_train / num_val / num_test   generator sizes (ignored for release/tfds data).
"""
from __future__ import annotations

from typing import NamedTuple

import ml_collections

TASKS = ("listops", "text", "retrieval", "image", "pathfinder", "lego")

# Pathfinder difficulty names -> release folder names (contour length 6 / 9 / 14).
PATHFINDER_DIFFICULTIES = {
    "easy": "curv_baseline",
    "intermediate": "curv_contour_length_9",
    "hard": "curv_contour_length_14",
}
PATHFINDER_RESOLUTIONS = (32, 64, 128)


class TaskInfo(NamedTuple):
    """Static description of a task, what the model builder needs.

    kind: 'classification' (one label per sequence), 'dual' (retrieval pairs, inputs [.., 2, n]) or
    'token' (one label per position, LEGO).
    """

    name: str
    kind: str
    vocab_size: int
    num_classes: int
    max_length: int


def _common(source: str, num_train: int, num_val: int, num_test: int) -> dict:
    return dict(
        source=source,
        dir="",
        cache_dir="",
        use_cache=True,
        limit_train=0,
        limit_eval=0,
        generator_seed=0,
        num_train=num_train,
        num_val=num_val,
        num_test=num_test,
    )


def default_data_config(task: str) -> ml_collections.ConfigDict:
    """The `data` sub-config for `task`, with every key defined (see module docstring)."""
    if task == "listops":
        d = _common("generate", 2000, 200, 200)
        # Generator (LRA: max_depth 10, max_args 10, kept iff min_tokens < length < max_tokens,
        # length counting operators, digits and ']' but not the parentheses).
        d.update(min_tokens=500, max_tokens=2000, max_depth=10, max_args=10)
    elif task == "text":
        d = _common("tfds", 0, 0, 0)
        # LRA validates IMDb on its test split (there is no official val split).
        d.update(download=False, val_split="test")
    elif task == "retrieval":
        d = _common("release", 0, 0, 0)
    elif task == "image":
        d = _common("tfds", 0, 0, 0)
        # Validation = the last val_percent % of the tfds train split (LRA: train[:90%]/train[90%:]).
        # grayscale: 'tf' = tf.image.rgb_to_grayscale as in LRA, 'pil' = PIL 'L' (S4).
        d.update(download=False, val_percent=10, grayscale="tf")
    elif task == "pathfinder":
        d = _common("generate", 400, 50, 50)
        # Release split: ordered slices of the metadata rows, [0, 1-val-test) / val / test (LRA).
        d.update(resolution=32, difficulty="hard", val_fraction=0.1, test_fraction=0.1)
    elif task == "lego":
        d = _common("generate", 10000, 1000, 1000)
        # Chains of num_vars variables; train supervises the first num_train_vars of each chain,
        # val/test every variable (the extrapolation split of the paper's Fig. 3).
        d.update(num_vars=20, num_train_vars=14)
    else:
        raise ValueError(f"unknown task {task!r}; expected one of {TASKS}")
    return ml_collections.ConfigDict(d)


def default_max_length(task: str, data_config: ml_collections.ConfigDict | None = None) -> int:
    """A sensible `config.max_length` for `task` (LRA/WavSpA values; LEGO: 5 tokens a clause)."""
    data_config = data_config or default_data_config(task)
    if task == "pathfinder":
        return int(data_config.resolution) ** 2
    if task == "lego":
        from lra.data.lego import TOKENS_PER_CLAUSE

        return TOKENS_PER_CLAUSE * int(data_config.num_vars)
    return {"listops": 2000, "text": 4096, "retrieval": 4000, "image": 1024}[task]


def pathfinder_folder(difficulty: str) -> str:
    """Release folder name for a difficulty ('easy'|'intermediate'|'hard' or the folder name)."""
    if difficulty in PATHFINDER_DIFFICULTIES:
        return PATHFINDER_DIFFICULTIES[difficulty]
    if difficulty in PATHFINDER_DIFFICULTIES.values():
        return difficulty
    raise ValueError(
        f"data.difficulty={difficulty!r}: expected one of {sorted(PATHFINDER_DIFFICULTIES)} "
        f"or a folder name {sorted(PATHFINDER_DIFFICULTIES.values())}"
    )
