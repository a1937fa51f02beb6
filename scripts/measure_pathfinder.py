"""Placed distractors, redraws and time per image of the offline Pathfinder generator.

For each difficulty, images 0..N-1 of a set are drawn as `generate_pathfinder` draws them
(`generate_image(params, image_rng(seed, params, k))`), in this one process, and counted:
  placed     distractor paths in the image (out of the difficulty's budget): mean, mean for
             label 0 / label 1 (they should agree: a difference is a cue a model could use), and
             % of images with none
  redraws    attempts thrown away per image: placement (the paths did not fit), check (the drawn
             pixels failed the label check, or linked two paths: "of them merged")
  failures   images for which generate_image gave up (RuntimeError after its max_tries)
  straight   % of junctions (between consecutive dashes) where a path runs straight on, over all
             paths, and over the targets of label-0 / label-1 images (they should agree too)
  ms/image   process CPU time per image, including the first images' stamp-cache misses

--link-sq lists what-if link rules, measured on --sweep-images images: the largest squared
distance between two drawn pixels that count as linked (8 = Chebyshev 2; 5 = the generator's rule;
4; 2 = the 8 neighbours), used both by the label check and for the spacing of paths (the two are
one rule). Usage:

    python scripts/measure_pathfinder.py --images 300 --link-sq 8,5,4,2 --sweep-images 60 \\
        --out results/pathfinder_distractors.md
"""
from __future__ import annotations

import argparse
import datetime
import os
import sys
import time

import numpy as np

from lra.provenance import hardware_description, software_versions

DIFFICULTIES = ("easy", "intermediate", "hard")


def measure(resolution: int, images: int, seed: int, link_sq: int | None = None) -> list[dict]:
    """One row per difficulty (see the module docstring). link_sq: a what-if link rule."""
    from lra.data.generators import pathfinder as gen
    from lra.data.generators import pathfinder_paths as paths

    if link_sq is not None:
        def kernel(margin: int) -> np.ndarray:
            r = paths.link_radius(margin)
            k = np.arange(-r, r + 1)
            return k[:, None] ** 2 + k[None, :] ** 2 <= link_sq

        paths.link_kernel = gen.link_kernel = kernel
        paths._STAMPS.clear()
    calls = {"attempts": 0, "placement": 0}
    place = gen.place_paths

    def counting_place(*args):
        calls["attempts"] += 1
        placed = place(*args)
        calls["placement"] += placed is None
        return placed

    gen.place_paths = counting_place
    rows = []
    try:
        for difficulty in DIFFICULTIES:
            p = gen.lra_params(resolution, difficulty)
            calls.update(attempts=0, placement=0)
            placed, labels, failures, merged = [], [], 0, None
            straight = {"all": [], 0: [], 1: []}  # per junction: 1 if the path runs straight on
            start = time.process_time()
            for k in range(images):
                try:
                    _, label, _, debug = gen.generate_image(p, gen.image_rng(seed, p, k))
                except RuntimeError:
                    failures += 1
                    continue
                placed.append(len(debug["distractors"]))
                labels.append(label)
                for i, path in enumerate(debug["targets"] + debug["distractors"]):
                    runs = straight_runs(path)
                    straight["all"] += runs
                    if i < 2:
                        straight[label] += runs
                merged = (merged or 0) + debug["redraws"]["merged"]
            seconds = time.process_time() - start
            placed_a, labels_a = np.array(placed), np.array(labels)
            ok = len(placed)
            rows.append(dict(
                difficulty=difficulty, budget=p.num_distractors, images=images, link_sq=link_sq,
                mean=float(placed_a.mean()) if ok else float("nan"),
                mean_label=[float(placed_a[labels_a == c].mean()) if (labels_a == c).any() else float("nan")
                            for c in (0, 1)],
                none_pct=100.0 * float((placed_a == 0).mean()) if ok else float("nan"),
                placement_redraws=calls["placement"] / images,
                check_redraws=(calls["attempts"] - calls["placement"] - ok) / images,
                straight_pct=percent(straight["all"]),
                target_straight_pct=[percent(straight[c]) for c in (0, 1)],
                merged_redraws=None if merged is None else merged / images, failures=failures,
                ms=1000.0 * seconds / images))
    finally:
        gen.place_paths = place
    return rows


def straight_runs(path) -> list[int]:
    """1 for each junction of a path (list of dashes (tail, head)) where it runs straight on
    (turn under 1 degree), else 0."""
    out = []
    for (a0, b0), (a1, b1) in zip(path, path[1:]):
        u, v = np.asarray(b0) - np.asarray(a0), np.asarray(b1) - np.asarray(a1)
        cos = float(u @ v) / float(np.linalg.norm(u) * np.linalg.norm(v))
        out.append(int(cos > np.cos(np.radians(1.0))))
    return out


def percent(flags: list[int]) -> float:
    return 100.0 * float(np.mean(flags)) if flags else float("nan")


def cells(row: dict) -> list[str]:
    lo, hi = row["mean_label"]
    merged = "-" if row["merged_redraws"] is None else f"{row['merged_redraws']:.2f}"
    t0, t1 = row["target_straight_pct"]
    return [f"{row['mean']:.2f}", f"{lo:.2f} / {hi:.2f}", f"{row['none_pct']:.1f}",
            f"{row['placement_redraws']:.2f}", f"{row['check_redraws']:.2f}", merged, str(row["failures"]),
            f"{row['straight_pct']:.1f}", f"{t0:.1f} / {t1:.1f}", f"{row['ms']:.1f}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=300, help="images per difficulty")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--resolution", type=int, default=32)
    parser.add_argument("--link-sq", default="", help="comma-separated what-if link rules (squared distances)")
    parser.add_argument("--sweep-images", type=int, default=100, help="images per difficulty for --link-sq")
    parser.add_argument("--out", default=None, help="also write the tables (markdown) here")
    args = parser.parse_args()

    when = datetime.datetime.now().isoformat(timespec="seconds")
    after = measure(args.resolution, args.images, args.seed)
    sweep = [row for sq in args.link_sq.split(",") if sq.strip()
             for row in measure(args.resolution, args.sweep_images, args.seed, int(sq))]

    head = ["placed (mean)", "label 0 / 1", "% none", "placement redraws", "check redraws", "of them merged",
            "failures", "% straight", "targets: label 0 / 1", "ms/image"]
    tree = f"commit {software_versions()['wavspa_commit']}"
    lines = [
        "# Pathfinder generator: placed distractors per difficulty",
        "",
        f"- command: `python {' '.join(sys.argv)}`",
        f"- date: {when}; hardware: {hardware_description()}; load average at start "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; one process",
        f"- resolution {args.resolution}, seed {args.seed}, images 0..{args.images - 1} of each difficulty "
        "(as `generate_pathfinder` draws them); counts as in `scripts/measure_pathfinder.py`'s docstring "
        "(redraws: attempts thrown away per image)",
        "- why the link rule is what it is: the spacing trade-off in the `lra.data.generators.pathfinder` docstring",
        "",
    ]
    lines += [f"## {tree}", "", "| difficulty | budget | " + " | ".join(head) + " |",
              "| --- | ---: |" + " ---: |" * len(head)]
    lines += [f"| {a['difficulty']} | {a['budget']} | " + " | ".join(cells(a)) + " |" for a in after]
    if sweep:
        lines += ["", f"## What-if link rules ({tree}, {args.sweep_images} images per difficulty)", "",
                  "link: the largest squared distance at which two drawn pixels count as linked; the same "
                  "rule sets the spacing of paths (8 = Chebyshev 2; 5 = the generator's rule).", "",
                  "| link | difficulty | " + " | ".join(head) + " |",
                  "| ---: | --- |" + " ---: |" * len(head)]
        for row in sweep:
            lines.append(f"| {row['link_sq']} | {row['difficulty']} | " + " | ".join(cells(row)) + " |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
