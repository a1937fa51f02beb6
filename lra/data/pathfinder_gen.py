"""Offline Pathfinder generator (after `drewlinsley/pathfinder` snakes2, with LRA's settings).

One image (resolution R, antialias factor aa, margin m drawn per image, label drawn first):
  * a *paddle* (dash) is a straight line of `paddle_length` L px and width `thickness`. A path
    ("snake") follows the original's pivot geometry: pivot_{k+1} = pivot_k + (L + 2m) u_k and
    dash k+1 runs from pivot_{k+1} + m u_{k+1} to its head on the circle of radius L + m around
    pivot_{k+1}, so consecutive dashes are at most 2m apart. Candidate heads are about 1 px of arc
    apart, weighted by cos^2(|turn| * continuity) (turns up to 90 deg / continuity) and restricted
    to dashes that keep clear of the border, of the other paths and (by m) of the path's own
    earlier dashes. Where the original retries a dash 3 times and then redraws everything, a stuck
    path here undoes its last dashes (1, 2, 3, ... on repeated dead ends) within a budget.
  * two target paths of `contour_length` dashes: target 0 from a seed at least 2 * seed_distance
    from the border (where the canvas allows), target 1 from a seed seed_distance away from it.
    Deviation: target 0 is grown in full before target 1 (the original alternates); at LRA-32
    density with the spacing below, alternating growth fails about twice as often.
  * markers: discs of radius `marker_radius` on the origin tip of a random target o and on the
    terminal tip of target o (label 1) or of the other target (label 0), as in the original.
  * `num_distractors` distractor paths of `distractor_length` dashes from random free seeds
    (4 tries each; incomplete sets allowed, as in the original).
  * rendering: each layer is drawn with PIL on an aa-times supersampled canvas and
    Lanczos-downsampled; targets have intensity snake_contrast * paddle_contrast, distractors
    snake_contrast, markers 1; layers are max-composited and byte-scaled (min -> 0, max -> 255)
    as scipy's imsave did.

Deliberate deviation, so that the label is recoverable from the pixels: the pixels a path may
light (its *support*, every pixel whose centre lies within thickness/2 + 0.75 of a dash) are kept
more than `link_radius(m)` = 2m pixels (Chebyshev) from those of every other path, while the gaps
inside a path are at most that. Every image is then checked on its final pixels: lit pixels
(>= LIT_THRESHOLD), linked when at most link_radius(m) apart, must put both markers in one
component iff the label is 1; the rare image that fails is redrawn. The original keeps paths only
about a margin apart, comparable to its gaps, so its labels are not always recoverable this way.

Output is the release layout read by `lra.data.pathfinder`: `<root>/pathfinder<R>/<difficulty>/
imgs/<batch>/sample_<k>.png` (8-bit grey) and `metadata/<batch>.npy` as text lines with the 11
fields `imgs/<batch> sample_<k>.png <k> <label> <continuity> <contour_length> <distractor_length>
<paddle_length> <thickness> <margin> 1`. Image k is drawn with `image_rng(seed, params, k)`: the
set is deterministic and can be drawn in parallel processes.
"""
from __future__ import annotations

import math
import os
import random
from dataclasses import asdict, dataclass

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

from lra.data.pathfinder import PATHFINDER_DIFFICULTIES
from lra.data.generated import atomic_write_text, ensure_generated
from lra.data.pathfinder_paths import link_radius, place_paths

CONTOUR_LENGTHS = {"curv_baseline": 6, "curv_contour_length_9": 9, "curv_contour_length_14": 14}
LIT_THRESHOLD = 48          # uint8 grey level at or above which a pixel counts as drawn
IMAGES_PER_BATCH = 1000     # images per imgs/<batch>/ folder
CHUNK = 100                 # images per parallel work unit
PARALLEL_MIN_IMAGES = 2000  # smaller sets are drawn in-process (spawning workers costs seconds)


@dataclass(frozen=True)
class PathfinderParams:
    """Drawing parameters of one resolution/difficulty (LRA's table; see module docstring)."""

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


def _draw(res: int, aa: int, dashes, discs, width: int) -> np.ndarray:
    """Lines and discs drawn at aa x supersampling, Lanczos-downsampled: float [res, res] in [0, 1]."""
    img = Image.new("L", (res * aa, res * aa), 0)
    draw = ImageDraw.Draw(img)
    for a, b in dashes:
        draw.line([tuple(a * aa), tuple(b * aa)], fill=255, width=width)
    for c, r in discs:
        cx, cy = c * aa
        draw.ellipse([cx - r * aa, cy - r * aa, cx + r * aa, cy + r * aa], fill=255)
    return np.asarray(img.resize((res, res), Image.LANCZOS), np.float32) / 255.0


def render(p: PathfinderParams, targets: list, distractors: list, markers: list) -> np.ndarray:
    """uint8 [R, R] image: max-composite of targets, distractors (lists of dashes (tail, head))
    and marker discs, byte-scaled."""
    res, aa = p.resolution, p.antialias
    width = max(1, int(round(p.thickness * aa)))
    t = _draw(res, aa, [d for path in targets for d in path], [], width)
    d = _draw(res, aa, [x for path in distractors for x in path], [], width)
    mk = _draw(res, aa, [], [(c, p.marker_radius) for c in markers], width)
    img = np.maximum(np.maximum(t * (p.snake_contrast * p.paddle_contrast), d * p.snake_contrast), mk)
    lo, hi = float(img.min()), float(img.max())
    return np.clip((img - lo) * (255.0 / max(hi - lo, 1e-6)) + 0.5, 0, 255).astype(np.uint8)


def components(lit: np.ndarray, radius: int) -> np.ndarray:
    """int [R, R] component ids of lit pixels, linking pixels within Chebyshev distance `radius`
    (0 = unlit). Doubles the grid and dilates each pixel by `radius` fine cells: two squares of
    half-width radius centred 2d apart touch iff d <= radius."""
    fine = np.zeros((lit.shape[0] * 2, lit.shape[1] * 2), bool)
    fine[::2, ::2] = lit
    grown = ndimage.binary_dilation(fine, np.ones((2 * radius + 1, 2 * radius + 1), bool))
    labels, _ = ndimage.label(grown, np.ones((3, 3), bool))
    return np.where(lit, labels[::2, ::2], 0)


def label_from_pixels(image: np.ndarray, markers: list[np.ndarray], margin: int) -> int | None:
    """1 if the two marker centres are connected through drawn pixels, 0 if not, None if a marker
    centre pixel is not drawn."""
    comp = components(image >= LIT_THRESHOLD, link_radius(margin))
    ids = [comp[int(c[1]), int(c[0])] for c in markers]
    if 0 in ids:
        return None
    return int(ids[0] == ids[1])


def generate_image(p: PathfinderParams, rng: np.random.Generator, max_tries: int = 200) -> tuple[np.ndarray, int, int, dict]:
    """(uint8 image [R, R], label, margin, debug) for one sample; debug holds the dashes of each
    path and the marker centres. Retries until the drawn pixels agree with the label."""
    label = int(rng.integers(2))
    rnd = random.Random(int(rng.integers(1 << 62)))
    for _ in range(max_tries):
        placed = place_paths(p, label, rnd)
        if placed is None:
            continue
        m, targets, distractors, markers = placed
        image = render(p, targets, distractors, markers)
        if label_from_pixels(image, markers, m) != label:
            continue
        return image, label, m, dict(targets=targets, distractors=distractors, markers=markers)
    raise RuntimeError(f"pathfinder generator: no valid image in {max_tries} tries ({p})")


def metadata_line(batch: int, k: int, label: int, p: PathfinderParams, margin: int) -> str:
    """The 11-field metadata row of the release."""
    return (f"imgs/{batch} sample_{k}.png {k} {label} {p.continuity} {p.contour_length} "
            f"{p.distractor_length} {p.paddle_length} {p.thickness} {margin} 1")


def image_rng(seed: int, p: PathfinderParams, k: int) -> np.random.Generator:
    """The generator of image k of a set: seeded by (seed, resolution, contour length, k)."""
    return np.random.default_rng([seed, p.resolution, p.contour_length, k])


def _draw_images(p: PathfinderParams, seed: int, folder: str, batch: int, start: int, stop: int) -> list[str]:
    """Draws images start..stop-1 (global indices) of one batch folder; returns metadata lines."""
    lines = []
    for k in range(start, stop):
        image, label, margin, _ = generate_image(p, image_rng(seed, p, k))
        j = k - batch * IMAGES_PER_BATCH
        Image.fromarray(image, mode="L").save(os.path.join(folder, "imgs", str(batch), f"sample_{j}.png"))
        lines.append(metadata_line(batch, j, label, p, margin) + "\n")
    return lines


def generate_pathfinder(root: str, seed: int, resolution: int, difficulty: str, num_images: int,
                        workers: int | None = None) -> str:
    """Writes `num_images` images in the release layout under `<root>/pathfinder<R>/<difficulty>`
    (skipped if already generated with these parameters). workers: processes (default: all CPUs
    for sets of PARALLEL_MIN_IMAGES or more). Returns the difficulty folder."""
    import shutil
    from concurrent.futures import ProcessPoolExecutor
    import multiprocessing

    p = lra_params(resolution, difficulty)
    folder_name = PATHFINDER_DIFFICULTIES.get(difficulty, difficulty)
    folder = os.path.join(root, f"pathfinder{resolution}", folder_name)
    params = dict(kind="pathfinder", version=2, seed=seed, num_images=num_images, **asdict(p))
    if workers is None:
        workers = (os.cpu_count() or 1) if num_images >= PARALLEL_MIN_IMAGES else 1

    def write(folder: str) -> None:
        for sub in ("imgs", "metadata"):
            shutil.rmtree(os.path.join(folder, sub), ignore_errors=True)
        os.makedirs(os.path.join(folder, "metadata"))
        jobs = []  # (batch, start, stop) chunks of at most CHUNK images
        for batch in range(max(1, math.ceil(num_images / IMAGES_PER_BATCH))):
            os.makedirs(os.path.join(folder, "imgs", str(batch)))
            lo, hi = batch * IMAGES_PER_BATCH, min(num_images, (batch + 1) * IMAGES_PER_BATCH)
            jobs += [(batch, a, min(a + CHUNK, hi)) for a in range(lo, hi, CHUNK)]
        if workers > 1:
            ctx = multiprocessing.get_context("spawn")  # no fork of a process that may hold JAX threads
            with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
                results = list(pool.map(_draw_images, *zip(*[(p, seed, folder, b, a, z) for b, a, z in jobs])))
        else:
            results = [_draw_images(p, seed, folder, b, a, z) for b, a, z in jobs]
        per_batch: dict[int, list[str]] = {}
        for (batch, _, _), lines in zip(jobs, results):
            per_batch.setdefault(batch, []).extend(lines)
        for batch, lines in per_batch.items():
            atomic_write_text(os.path.join(folder, "metadata", f"{batch}.npy"), "".join(lines))

    ensure_generated(folder, params, ["metadata"], write)
    return folder
