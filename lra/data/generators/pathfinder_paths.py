"""Path placement for the Pathfinder generator: bitset occupancy, dash geometry, path growth.

Maps are Python ints used as bitsets over a padded grid (row stride W), so "does this dash hit
anything" is one shift and one AND. Dash tails are snapped to a 1/QUANT px grid and directions
are integer degrees, so the pixel stamps of a dash (its support, its zone and its self-crossing
guard) are computed once per (sub-pixel offset, direction, layer) and reused; the support is the
dash rendered alone in a small window, which shifts the drawing by whole pixels and so gives the
pixels it lights in place (the original rounds candidate heads to integer supersampled pixels).

Geometry and rules are described in :mod:`lra.data.generators.pathfinder`; `place_paths` is the entry point.
"""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

from lra.data.generators.pathfinder_settings import PathfinderParams

LIT_THRESHOLD = 48          # uint8 grey level at or above which a pixel counts as drawn


def link_radius(margin: int) -> int:
    """Largest Chebyshev distance at which two drawn pixels are linked (see link_kernel)."""
    return 2 * margin


def link_kernel(margin: int) -> np.ndarray:
    """bool [2r+1, 2r+1], r = link_radius(margin): the offsets (dy, dx) at which two drawn pixels
    are linked, dx^2 + dy^2 <= (2m)^2 + 1. Consecutive dashes of a path are at most 2m apart
    (end to end, on a straight stretch); at m = 1 their drawn pixels are then mostly 1 or 2 apart
    along an axis with a sideways step of at most 1, seldom (2, 2) (_extend drops a candidate
    whose pixels do not link to the last dash's; trade-off measured in results/pathfinder_distractors.md)."""
    r = link_radius(margin)
    k = np.arange(-r, r + 1)
    return k[:, None] ** 2 + k[None, :] ** 2 <= (2 * margin) ** 2 + 1


def draw(res: int, aa: int, dashes, discs, width: int) -> np.ndarray:
    """Lines and discs drawn at aa x supersampling, Lanczos-downsampled: float [res, res] in [0, 1]."""
    img = Image.new("L", (res * aa, res * aa), 0)
    pen = ImageDraw.Draw(img)
    for a, b in dashes:
        pen.line([tuple(a * aa), tuple(b * aa)], fill=255, width=width)
    for c, r in discs:
        cx, cy = c * aa
        pen.ellipse([cx - r * aa, cy - r * aa, cx + r * aa, cy + r * aa], fill=255)
    return np.asarray(img.resize((res, res), Image.LANCZOS), np.float32) / 255.0


QUANT = 4
_COS = [math.cos(math.radians(d)) for d in range(360)]
_SIN = [math.sin(math.radians(d)) for d in range(360)]


def _mask_to_bits(mask: np.ndarray) -> int:
    """bool [h, W] (row-major, row stride W) -> int with bit y*W + x set for True pixels."""
    packed = np.packbits(mask.reshape(-1), bitorder="little")
    return int.from_bytes(packed.tobytes(), "little")


def _chebyshev_dilate(mask: np.ndarray, size: int) -> np.ndarray:
    out = mask.copy()
    for axis in (0, 1):
        src = out.copy()
        for k in range(1, size + 1):
            if axis == 0:
                out[:-k] |= src[k:]
                out[k:] |= src[:-k]
            else:
                out[:, :-k] |= src[:, k:]
                out[:, k:] |= src[:, :-k]
    return out


class _Stamps:
    """Per (parameters, margin): grid geometry, turn table and a cache of dash stamps.

    A dash with tail (x0 + qx/QUANT, y0 + qy/QUANT) in direction deg, drawn in layer `kind`
    (0 target, 1 distractor), has stamps (support, zone, self_zone) relative to pixel (x0, y0);
    shifting by y0 * W + x0 places them on the canvas.
      support   the pixels the dash lights when drawn alone: it is rendered as in the image (same
                sub-pixel position, supersampling, Lanczos, layer contrast) and a pixel counts if
                it reaches (LIT_THRESHOLD - 0.5) / 255, the byte-scaled threshold for the darkest
                possible image (its maximum is at least 1, the centre of a marker disc)
      zone      support dilated by link_kernel(m): other paths keep out, so no pixel they
                light is linked to one this dash lights
      self_zone support dilated by m: the path's own later dashes keep out (but the next one)
    """

    def __init__(self, p: PathfinderParams, m: int):
        self.p, self.m, self.R = p, m, p.resolution
        self.L = p.paddle_length
        self.sep = link_radius(m)
        self.link = link_kernel(m)
        self.aa = p.antialias
        self.width = max(1, int(round(p.thickness * p.antialias)))
        self.contrast = (p.snake_contrast * p.paddle_contrast, p.snake_contrast)
        self.lit_level = (LIT_THRESHOLD - 0.5) / 255
        # a dash or disc lights pixels within about 1.5 px of it; 3 px covers the Lanczos kernel
        reach = max(self.L, p.marker_radius) + 3
        self.P = int(math.ceil(reach)) + self.sep + m + 1       # grid padding and stamp half-width
        self.W = self.R + 2 * self.P
        self.H = self.R + 2 * self.P
        n = max(8, int(math.ceil(2 * math.pi * (self.L + m))))  # ~1 px of arc between heads
        step = max(1, round(360 / n))
        turns = [k * step for k in range(-(180 // step), 180 // step + 1) if abs(k * step) * p.continuity < 90]
        self.turns = turns
        self.turn_weights = [math.cos(math.radians(t * p.continuity)) ** 2 for t in turns]
        self._dash: dict[tuple[int, int, int, int], tuple[int, int, int]] = {}
        inner = np.zeros((self.H, self.W), bool)
        pad = p.padding
        inner[self.P + pad: self.P + self.R - pad, self.P + pad: self.P + self.R - pad] = True
        self.blocked = _mask_to_bits(~inner)

    def _window_bits(self, mask: np.ndarray) -> int:
        """[2P+1, 2P+1] mask around (x0, y0) -> stamp bits (bit (dy+P)*W + dx+P)."""
        grid = np.zeros((2 * self.P + 1, self.W), bool)
        grid[:, : 2 * self.P + 1] = mask
        return _mask_to_bits(grid)

    def _render(self, dashes, discs) -> np.ndarray:
        """float [2P+1, 2P+1]: the shapes (window coordinates) drawn in the stamp window. The
        window sits at an integer pixel offset, which moves the supersampled drawing by whole
        fine pixels (an even number for aa = 2), so it renders as it does in place."""
        return draw(2 * self.P + 1, self.aa, dashes, discs, self.width)

    def _lit(self, level: np.ndarray, contrast: float) -> np.ndarray:
        """bool [2P+1, 2P+1]: the pixels of a rendered window that count as drawn at `contrast`."""
        lit = level * contrast >= self.lit_level
        if lit[[0, -1]].any() or lit[:, [0, -1]].any():
            raise AssertionError("pathfinder stamp window too small")  # P is computed too small
        return lit

    def dash(self, qx: int, qy: int, deg: int, kind: int) -> tuple[int, int, int]:
        key = (qx, qy, deg, kind)
        hit = self._dash.get(key)
        if hit is None:
            tail = np.array([self.P + qx / QUANT, self.P + qy / QUANT])
            head = tail + np.array([self.L * _COS[deg], self.L * _SIN[deg]])
            level = self._render([(tail, head)], [])
            for k, contrast in enumerate(self.contrast):  # both layers from one drawing
                support = self._lit(level, contrast)
                self._dash[(qx, qy, deg, k)] = (
                    self._window_bits(support), self._window_bits(ndimage.binary_dilation(support, self.link)),
                    self._window_bits(_chebyshev_dilate(support, self.m)))
            hit = self._dash[key]
        return hit

    def disc(self, cx: float, cy: float, radius: float) -> tuple[int, int]:
        """(support, zone) bits on the canvas of a marker disc of `radius` at (cx, cy)."""
        x0, y0 = int(math.floor(cx)), int(math.floor(cy))
        support = self._lit(self._render([], [(np.array([self.P + cx - x0, self.P + cy - y0]), radius)]), 1.0)
        shift = y0 * self.W + x0
        return (self._window_bits(support) << shift,
                self._window_bits(ndimage.binary_dilation(support, self.link)) << shift)

    def to_array(self, bits: int) -> np.ndarray:
        """Canvas bitset -> bool [R, R]."""
        raw = np.frombuffer(bits.to_bytes((self.H * self.W + 7) // 8 + 1, "little"), np.uint8)
        flat = np.unpackbits(raw, bitorder="little")[: self.H * self.W]
        return flat.reshape(self.H, self.W)[self.P: self.P + self.R, self.P: self.P + self.R].astype(bool)


_STAMPS: dict[tuple, _Stamps] = {}


def _stamps(p: PathfinderParams, m: int) -> _Stamps:
    # the stamps do not depend on the path lengths and counts: difficulties share them
    key = (replace(p, contour_length=0, distractor_length=0, num_distractors=0), m)
    if key not in _STAMPS:
        _STAMPS[key] = _Stamps(p, m)
    return _STAMPS[key]


class _Path:
    """One path: dashes (tail, head) with direction (degrees) and pivot after each, their zone and
    self-zone bits, so the last dash can be undone exactly; plus marker zones."""

    def __init__(self, path_id: int):
        self.id = path_id
        self.dashes: list[tuple[np.ndarray, np.ndarray]] = []
        self.degs: list[int] = []
        self.pivots: list[tuple[float, float]] = []
        self.zones: list[int] = []
        self.self_zones: list[int] = []
        self.marker_zones: list[int] = []
        self.zone = 0       # OR of zones and marker zones
        self.self_zone = 0  # OR of self zones but the last dash's
        self.longest = 0    # most dashes reached so far
        self.stuck = 0      # dead ends met since then (more dashes are undone each time)

    @property
    def origin(self) -> np.ndarray:
        return self.dashes[0][0]

    @property
    def terminal(self) -> np.ndarray:
        return self.dashes[-1][1]

    def push(self, tail, head, deg: int, pivot, zone: int, self_zone: int) -> None:
        if self.self_zones:
            self.self_zone |= self.self_zones[-1]
        self.dashes.append((np.array(tail), np.array(head)))
        self.degs.append(deg)
        self.pivots.append(pivot)
        self.zones.append(zone)
        self.self_zones.append(self_zone)
        self.zone |= zone

    def pop(self) -> None:
        for stack in (self.dashes, self.degs, self.pivots, self.zones, self.self_zones):
            stack.pop()
        self.zone = 0
        for z in self.zones + self.marker_zones:
            self.zone |= z
        self.self_zone = 0
        for z in self.self_zones[:-1]:
            self.self_zone |= z


class _Canvas:
    """The paths placed so far on one image (bitset occupancy, see _Stamps)."""

    def __init__(self, p: PathfinderParams, margin: int, rnd):
        self.p, self.m, self.rnd = p, margin, rnd
        self.st = _stamps(p, margin)
        self.paths: dict[int, _Path] = {}

    def forbidden(self, path_id: int) -> int:
        """Bits where path_id may not put support: the border and other paths' zones."""
        bits = self.st.blocked
        for pid, path in self.paths.items():
            if pid != path_id:
                bits |= path.zone
        return bits

    def remove(self, path_id: int) -> None:
        self.paths.pop(path_id, None)

    def _place(self, tx: float, ty: float, deg: int, forbidden: int, kind: int):
        """Snaps a dash tail to the 1/QUANT grid; (qx, qy, deg, shift, stamps) or None on a clash.
        kind: 0 for a target path, 1 for a distractor (their layers have different contrasts)."""
        qx, qy = int(tx * QUANT + 0.5), int(ty * QUANT + 0.5)  # coordinates are positive
        x0, y0 = qx // QUANT, qy // QUANT
        r = self.p.resolution
        if x0 >= r or y0 >= r or tx < 0 or ty < 0:
            return None
        stamps = self.st.dash(qx - x0 * QUANT, qy - y0 * QUANT, deg, kind)
        shift = y0 * self.st.W + x0
        if (stamps[0] << shift) & forbidden:
            return None
        return qx, qy, deg, shift, stamps

    def commit(self, path: _Path, placed, pivot=None) -> None:
        """Appends a placed dash to `path` (pivot None: the first dash, pivot behind its head)."""
        qx, qy, deg, shift, (_, zone, self_zone) = placed
        tail = (qx / QUANT, qy / QUANT)
        L = self.st.L
        head = (tail[0] + L * _COS[deg], tail[1] + L * _SIN[deg])
        if pivot is None:
            back = L + self.m
            pivot = (head[0] - back * _COS[deg], head[1] - back * _SIN[deg])
        path.push(tail, head, deg, pivot, zone << shift, self_zone << shift)


def _first_dash(canvas: _Canvas, path: _Path, tail) -> bool:
    """Gives an empty `path` its first dash from `tail`, in a random free integer direction."""
    forbidden = canvas.forbidden(path.id)
    offset = canvas.rnd.randrange(15)
    options = []
    kind = int(path.id >= 2)
    for deg in range(offset, 360, 15):
        placed = canvas._place(tail[0], tail[1], deg, forbidden, kind)
        if placed is not None:
            options.append(placed)
    if not options:
        return False
    canvas.commit(path, options[canvas.rnd.randrange(len(options))])
    return True


def _start_path(canvas: _Canvas, path_id: int, tail) -> _Path | None:
    """A new path (registered on the canvas) whose first dash starts at `tail`, or None."""
    path = _Path(path_id)
    if not _first_dash(canvas, path, tail):
        return None
    canvas.paths[path_id] = path
    return path


def _extend(canvas: _Canvas, path: _Path) -> bool:
    """Adds one dash: candidate heads on the circle of radius L + m around the next pivot,
    weighted by the cos^2 turning kernel, among the dashes that keep clear and whose support is
    linked to the last dash's (so that no gap inside a path is wider than the link rule)."""
    st, m = canvas.st, canvas.m
    theta = path.degs[-1]
    px, py = path.pivots[-1]
    step = st.L + 2 * m
    px, py = px + step * _COS[theta], py + step * _SIN[theta]
    forbidden = canvas.forbidden(path.id) | path.self_zone
    linked = path.zones[-1]  # the last dash's support dilated by the link kernel
    options, total = [], 0.0
    place, kind = canvas._place, int(path.id >= 2)
    for turn, w in zip(st.turns, st.turn_weights):
        deg = (theta + turn) % 360
        placed = place(px + m * _COS[deg], py + m * _SIN[deg], deg, forbidden, kind)
        if placed is not None and (placed[4][0] << placed[3]) & linked:
            total += w
            options.append((total, placed))
    if not options:
        return False
    x = canvas.rnd.random() * total
    for cum, placed in options:  # noqa: B007 - `placed` is the chosen option, used after the break
        if x < cum:
            break
    canvas.commit(path, placed, (px, py))
    return True


def _grow(canvas: _Canvas, path: _Path, budget: list[int]) -> bool:
    """One more dash for `path`; when stuck, undoes its last dashes (1, then more on repeated
    dead ends; a stuck first dash is turned) and regrows, one unit of budget[0] per dead end."""
    while not _extend(canvas, path):
        if budget[0] <= 0:
            return False
        budget[0] -= 1
        path.stuck += 1
        if len(path.dashes) == 1:
            tail = path.origin
            path.pop()
            if not _first_dash(canvas, path, tail):
                return False
            continue
        for _ in range(min(1 + path.stuck // 2, len(path.dashes) - 1)):
            path.pop()
    if len(path.dashes) > path.longest:
        path.longest, path.stuck = len(path.dashes), 0
    return True


BACKTRACK_BUDGET = 30            # dead ends a target path may back out of
DISTRACTOR_BACKTRACK_BUDGET = 3
TARGET_RESTARTS = 3             # fresh starts of the second target


def _grow_full(canvas: _Canvas, path: _Path, length: int, budget: int) -> bool:
    """Grows `path` to `length` dashes (with up to `budget` dead ends)."""
    left = [budget]
    while len(path.dashes) < length:
        if not _grow(canvas, path, left):
            return False
    return True


def _free_point(canvas: _Canvas, path_id: int, edge: float):
    """A random point at least `edge` from the border, outside other paths' zones; None when
    less than 1% of the canvas is free (the original's stopping rule)."""
    r = canvas.p.resolution
    free = ~canvas.st.to_array(canvas.forbidden(path_id))
    e = int(math.ceil(edge))
    if e > 0:
        free[:e] = free[-e:] = False
        free[:, :e] = free[:, -e:] = False
    ys, xs = np.nonzero(free)
    if len(ys) < 0.01 * r * r:
        return None
    k = canvas.rnd.randrange(len(ys))
    return (xs[k] + canvas.rnd.random(), ys[k] + canvas.rnd.random())


def _place_marker(canvas: _Canvas, owner: int, centre) -> bool:
    """Claims a marker disc at centre for path `owner` if it stays inside and clear."""
    st, p = canvas.st, canvas.p
    cx, cy = float(centre[0]), float(centre[1])
    r = p.marker_radius
    if not (r <= cx <= p.resolution - r and r <= cy <= p.resolution - r):
        return False
    support, zone = st.disc(cx, cy, r)
    if support & canvas.forbidden(owner):
        return False
    path = canvas.paths[owner]
    path.marker_zones.append(zone)
    path.zone |= zone
    return True


def _grow_targets(canvas: _Canvas, label: int):
    """The two target paths and their markers: (paths, marker centres) or None.

    Target 0 starts at least 2 * seed_distance from the border (where the canvas allows) and is
    grown in full; target 1 starts seed_distance from target 0's origin and is grown in the space
    left (up to TARGET_RESTARTS fresh starts). The first marker sits on the origin tip of target o
    (claimed when that path starts), the second on the terminal tip of target o (label 1) or of
    the other target (label 0); if that end comes too close to another path it is regrown.
    """
    p, rnd = canvas.p, canvas.rnd
    edge = min(2 * p.seed_distance, p.resolution / 2 - 2)
    o = rnd.randrange(2)
    end_owner = o if label else 1 - o
    tail0 = _free_point(canvas, 0, edge)
    path0 = _start_path(canvas, 0, tail0) if tail0 is not None else None
    if path0 is None or (o == 0 and not _place_marker(canvas, 0, path0.origin)):
        return None
    if not _grow_full(canvas, path0, p.contour_length, BACKTRACK_BUDGET):
        return None
    path1 = None
    for _ in range(TARGET_RESTARTS):
        deg = rnd.randrange(360)
        tail1 = (tail0[0] + p.seed_distance * _COS[deg], tail0[1] + p.seed_distance * _SIN[deg])
        path1 = _start_path(canvas, 1, tail1)
        if (path1 is not None and (o == 0 or _place_marker(canvas, 1, path1.origin))
                and _grow_full(canvas, path1, p.contour_length, BACKTRACK_BUDGET)):
            break
        canvas.remove(1)
        path1 = None
    if path1 is None:
        return None
    paths = [path0, path1]
    end = paths[end_owner]
    for _ in range(BACKTRACK_BUDGET):
        if _place_marker(canvas, end_owner, end.terminal):
            return paths, [paths[o].origin, end.terminal]
        end.pop()
        if not _grow_full(canvas, end, p.contour_length, 3):
            return None
    return None


def _add_distractors(canvas: _Canvas) -> list[_Path]:
    """Up to num_distractors paths of distractor_length dashes from random free seeds."""
    p = canvas.p
    out = []
    for j in range(p.num_distractors):
        path_id = 2 + j
        for _ in range(4):
            tail = _free_point(canvas, path_id, p.padding + 1)
            if tail is None:
                return out
            path = _start_path(canvas, path_id, tail)
            if path is not None and _grow_full(canvas, path, p.distractor_length, DISTRACTOR_BACKTRACK_BUDGET):
                out.append(path)
                break
            canvas.remove(path_id)
    return out


def place_paths(p: PathfinderParams, label: int, rnd):
    """One attempt at an image's paths: (margin, targets, distractors, marker centres) or None.

    rnd: a random.Random. Paths are lists of dashes (tail, head) in pixel coordinates (x, y).
    """
    m = p.margins[rnd.randrange(len(p.margins))]
    canvas = _Canvas(p, m, rnd)
    grown = _grow_targets(canvas, label)
    if grown is None:
        return None
    targets, markers = grown
    distractors = _add_distractors(canvas)
    return m, [t.dashes for t in targets], [d.dashes for d in distractors], markers
