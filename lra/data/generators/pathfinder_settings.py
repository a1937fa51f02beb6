"""LRA's Pathfinder settings: the difficulties (release folders, contour lengths), the resolutions
and the drawing parameters of each (after `drewlinsley/pathfinder` snakes2 with LRA's values).

Plain Python: the task module (:mod:`lra.data.pathfinder`) reads the difficulties and resolutions
from here without importing the generator.
"""
from __future__ import annotations

from dataclasses import dataclass

# Difficulty names -> release folder names (contour length 6 / 9 / 14).
PATHFINDER_DIFFICULTIES = {
    "easy": "curv_baseline",
    "intermediate": "curv_contour_length_9",
    "hard": "curv_contour_length_14",
}
PATHFINDER_RESOLUTIONS = (32, 64, 128)
CONTOUR_LENGTHS = {"curv_baseline": 6, "curv_contour_length_9": 9, "curv_contour_length_14": 14}

@dataclass(frozen=True)
class PathfinderParams:
    """Drawing parameters of one resolution/difficulty (LRA's table; the geometry is in :mod:`.pathfinder`)."""

    resolution: int
    padding: int
    antialias: int
    margins: tuple
    seed_distance: float
    marker_radius: float
    paddle_length: float
    thickness: float
    continuity: float
    snake_contrast: float
    paddle_contrast: float
    contour_length: int
    distractor_length: int
    num_distractors: int


# resolution -> (padding, antialias, margins, seed_distance, marker_radius, paddle_length,
#                thickness, continuity, snake_contrast, paddle_contrast, distractor budget)
_LRA_SETTINGS = {
    32: (1, 2, (1,), 7, 1.5, 2, 0.5, 1.0, 2.0, 0.75, 20),
    64: (1, 2, (1,), 12, 2.5, 5, 1.0, 1.8, 0.8, 1.0, 22),
    128: (1, 2, (2, 3), 20, 3.0, 5, 1.5, 1.8, 0.9, 1.0, 35),
}


def lra_params(resolution: int, difficulty: str) -> PathfinderParams:
    """LRA's parameters for a resolution (32, 64, 128) and difficulty folder or name.

    distractor_length = contour_length // 3 and num_distractors = budget // distractor_length,
    recomputed per difficulty (the original's choice here is not recorded).
    """
    folder = PATHFINDER_DIFFICULTIES.get(difficulty, difficulty)
    contour = CONTOUR_LENGTHS[folder]
    pad, aa, margins, seed_d, marker, length, thick, cont, snake_c, paddle_c, budget = _LRA_SETTINGS[resolution]
    dlen = contour // 3
    return PathfinderParams(resolution, pad, aa, margins, seed_d, marker, length, thick, cont, snake_c,
                            paddle_c, contour, dlen, budget // dlen)
