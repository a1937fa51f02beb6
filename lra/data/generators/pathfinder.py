"""Offline Pathfinder generator (after `drewlinsley/pathfinder` snakes2, with LRA's settings).

One image (resolution R, antialias factor aa, margin m drawn per image, label drawn first):
  * a *paddle* (dash) is a straight line of `paddle_length` L px and width `thickness`. A path
    ("snake") follows the original's pivot geometry: pivot_{k+1} = pivot_k + (L + 2m) u_k and
    dash k+1 runs from pivot_{k+1} + m u_{k+1} to its head on the circle of radius L + m around
    pivot_{k+1}, so consecutive dashes are at most 2m apart. Candidate heads are about 1 px of arc
    apart, weighted by cos^2(|turn| * continuity) (turns up to 90 deg / continuity) and restricted
    to dashes that keep clear of the border, of the other paths and (by m) of the path's own
    earlier dashes, and (deviation, below) whose pixels link to the previous dash's. Where the
    original retries a dash 3 times and then redraws everything, a stuck path here undoes its
    last dashes (1, 2, 3, ... on repeated dead ends) within a budget.
  * two target paths of `contour_length` dashes: target 0 from a seed at least 2 * seed_distance
    from the border (where the canvas allows), target 1 from a seed seed_distance away from it.
    Deviation: target 0 is grown in full before target 1 (the original alternates): at LRA-32
    density alternating growth fails more often.
  * markers: discs of radius `marker_radius` on the origin tip of a random target o and on the
    terminal tip of target o (label 1) or of the other target (label 0), as in the original.
  * `num_distractors` distractor paths of `distractor_length` dashes from random free seeds
    (4 tries each; incomplete sets allowed, as in the original).
  * rendering: each layer is drawn with PIL on an aa-times supersampled canvas and
    Lanczos-downsampled; targets have intensity snake_contrast * paddle_contrast, distractors
    snake_contrast, markers 1; layers are max-composited and byte-scaled (min -> 0, max -> 255)
    as scipy's imsave did.

Deliberate deviation, so that the label is recoverable from the pixels:
  * two drawn pixels (>= LIT_THRESHOLD) are *linked* when dx^2 + dy^2 <= (2m)^2 + 1
    (`link_kernel`; at m = 1: the 8 neighbours, 2 along an axis and the knight's moves, but not
    (2, 2)). A dash's *support* is the set of pixels it lights drawn alone, rendered as in the
    image (sub-pixel position, supersampling, Lanczos, the contrast of its layer) at the darkest
    byte-scaling an image can have (its maximum is at least 1, a marker centre).
  * inside a path: a dash's support must be linked to the previous dash's. Consecutive dashes
    are at most 2m apart, so this only drops candidates whose pixels happen to fall a little
    too far apart (counted at LRA-32 over 100 easy and 100 hard images: 7% of the straight-on
    candidates, 6% at the smallest turn, 2% at the next, under 0.5% beyond).
  * between paths: no pixel of a support may be linked to the support of another path or marker.
    The clearance is the link rule itself, the smallest that still tells paths apart.
  * every image is checked on its final pixels: both markers in one linked component iff the
    label is 1, and no component holding pixels of two paths (those a path lights drawn alone,
    byte-scaled as the image; this catches two paths' spill adding up between them). An image
    that fails is redrawn.
The original keeps paddles only about a margin apart (masks dilated by m), closer than its own
gaps (up to 2m), so no linking rule recovers all its labels from the pixels.

Why link 5 (the largest squared distance between linked pixels; it sets both the clearance
between paths and the widest gap allowed inside a path): it is the smallest rule that bridges the
gaps of the original's geometry. With link 4 a straight junction whose pixels sit a knight's move
apart is no longer allowed (fewer straight runs), with link 2 nearly none is and hard images need
many placement redraws; a wider rule keeps paths further apart and places fewer distractors.
The measurements behind the choice (distractors placed, redraws, straight junctions per rule)
are in results/pathfinder_distractors.md (`python scripts/measure_pathfinder.py`).

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
from dataclasses import asdict

import numpy as np
from PIL import Image
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from lra.data.generated import atomic_write_text, ensure_generated
from lra.data.generators.pathfinder_paths import LIT_THRESHOLD, draw, link_kernel, place_paths
from lra.data.generators.pathfinder_settings import PATHFINDER_DIFFICULTIES, PathfinderParams, lra_params

IMAGES_PER_BATCH = 1000     # images per imgs/<batch>/ folder
CHUNK = 100                 # images per parallel work unit
PARALLEL_MIN_IMAGES = 2000  # smaller sets are drawn in-process (spawning workers costs seconds)


def _byte_scale(img: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """float -> uint8 with lo -> 0 and hi -> 255, as scipy's imsave did."""
    return np.clip((img - lo) * (255.0 / max(hi - lo, 1e-6)) + 0.5, 0, 255).astype(np.uint8)


def _render(p: PathfinderParams, targets: list, distractors: list, markers: list) -> tuple[np.ndarray, float, float]:
    """(uint8 image, lo, hi): see render; lo and hi are the float levels mapped to 0 and 255."""
    res, aa = p.resolution, p.antialias
    width = max(1, int(round(p.thickness * aa)))
    t = draw(res, aa, [d for path in targets for d in path], [], width)
    d = draw(res, aa, [x for path in distractors for x in path], [], width)
    mk = draw(res, aa, [], [(c, p.marker_radius) for c in markers], width)
    img = np.maximum(np.maximum(t * (p.snake_contrast * p.paddle_contrast), d * p.snake_contrast), mk)
    lo, hi = float(img.min()), float(img.max())
    return _byte_scale(img, lo, hi), lo, hi


def render(p: PathfinderParams, targets: list, distractors: list, markers: list) -> np.ndarray:
    """uint8 [R, R] image: max-composite of targets, distractors (lists of dashes (tail, head))
    and marker discs, byte-scaled."""
    return _render(p, targets, distractors, markers)[0]


def components(lit: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """int [H, W] component ids (from 1) of lit pixels, two lit pixels being linked when their
    offset (dy, dx) is set in `kernel` (odd square, symmetric, as link_kernel); 0 = unlit."""
    h, w = lit.shape
    index = np.full((h, w), -1)
    ys, xs = np.nonzero(lit)
    index[ys, xs] = np.arange(len(ys))
    r = kernel.shape[0] // 2
    rows, cols = [], []
    for dy, dx in zip(*np.nonzero(kernel)):
        dy, dx = int(dy) - r, int(dx) - r
        if (dy, dx) <= (0, 0):  # each pair once
            continue
        a = index[max(0, -dy): h - max(0, dy), max(0, -dx): w - max(0, dx)]
        b = index[max(0, dy): h + min(0, dy), max(0, dx): w + min(0, dx)]
        both = (a >= 0) & (b >= 0)
        rows.append(a[both])
        cols.append(b[both])
    n = len(ys)
    rows, cols = np.concatenate(rows + [np.zeros(0, int)]), np.concatenate(cols + [np.zeros(0, int)])
    _, ids = connected_components(coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n)), directed=False)
    out = np.zeros((h, w), int)
    out[ys, xs] = ids + 1
    return out


def label_from_pixels(image: np.ndarray, markers: list[np.ndarray], margin: int) -> int | None:
    """1 if the two marker centres are connected through drawn pixels (linked as
    link_kernel(margin)), 0 if not, None if a marker centre pixel is not drawn."""
    comp = components(image >= LIT_THRESHOLD, link_kernel(margin))
    ids = [comp[int(c[1]), int(c[0])] for c in markers]
    if 0 in ids:
        return None
    return int(ids[0] == ids[1])


def paths_apart(p: PathfinderParams, image: np.ndarray, targets: list, distractors: list, markers: list,
                margin: int, lo: float, hi: float) -> bool:
    """True if no component of the image's lit pixels (linked as link_kernel(margin)) holds
    pixels of two different paths, a path's pixels being those it lights when drawn alone (with
    the marker discs on its tips), byte-scaled by the image's (lo, hi)."""
    res, aa = p.resolution, p.antialias
    width = max(1, int(round(p.thickness * aa)))
    comp = components(image >= LIT_THRESHOLD, link_kernel(margin))
    seen: set[int] = set()
    for kind, paths in ((0, targets), (1, distractors)):
        contrast = p.snake_contrast * (p.paddle_contrast if kind == 0 else 1.0)
        for path in paths:
            tips = (path[0][0], path[-1][1])
            discs = [(c, p.marker_radius) for c in markers if kind == 0 and any(np.array_equal(c, t) for t in tips)]
            alone = np.maximum(draw(res, aa, path, [], width) * contrast, draw(res, aa, [], discs, width))
            ids = set(np.unique(comp[_byte_scale(alone, lo, hi) >= LIT_THRESHOLD]).tolist()) - {0}
            if ids & seen:
                return False
            seen |= ids
    return True


def generate_image(p: PathfinderParams, rng: np.random.Generator,
                   max_tries: int = 200) -> tuple[np.ndarray, int, int, dict]:
    """(uint8 image [R, R], label, margin, debug) for one sample; debug holds the dashes of each
    path, the marker centres and the redraws that preceded the image by cause (placement: the
    paths did not fit; label: the markers' connectivity disagreed with the label; merged: two
    paths' pixels linked). Redraws until the drawn pixels agree with the label and keep the
    paths apart."""
    label = int(rng.integers(2))
    rnd = random.Random(int(rng.integers(1 << 62)))
    redraws = dict(placement=0, label=0, merged=0)
    for _ in range(max_tries):
        placed = place_paths(p, label, rnd)
        if placed is None:
            redraws["placement"] += 1
            continue
        m, targets, distractors, markers = placed
        image, lo, hi = _render(p, targets, distractors, markers)
        if label_from_pixels(image, markers, m) != label:
            redraws["label"] += 1
            continue
        if not paths_apart(p, image, targets, distractors, markers, m, lo, hi):
            redraws["merged"] += 1
            continue
        return image, label, m, dict(targets=targets, distractors=distractors, markers=markers, redraws=redraws)
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
    import multiprocessing
    import shutil
    from concurrent.futures import ProcessPoolExecutor

    p = lra_params(resolution, difficulty)
    folder_name = PATHFINDER_DIFFICULTIES.get(difficulty, difficulty)
    folder = os.path.join(root, f"pathfinder{resolution}", folder_name)
    params = dict(kind="pathfinder", version=3, seed=seed, num_images=num_images, **asdict(p))
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
