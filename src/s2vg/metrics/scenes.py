"""Procedural ground-truth scenes: exact colour and depth of every view of any parallel rig.

A scene is a set of textured *cards*: fronto-parallel planar objects (whole planes,
rectangles, discs, convex polygons, thin poles, sagging wires, ridges) at fixed depths,
each moving in its plane, seen by a camera that may translate over time. Rendering is a
painter's algorithm over the cards sorted far to near (exact z-order, since every card is
at one depth), vectorised over frames and pixels.

Sampling convention (what makes the truth match the project's warp exactly): every card
carries a texel grid equal to the pixel grid of the rig's *source* camera at its frame's
camera position. A view displaced by ``(bx, by)`` metres from the source shows at pixel
``(x, y)`` the texel ``(rint(x + f*bx/z), rint(y + f*by/z))`` of the card at depth ``z``,
offset by the card's integer frame shift ``rint(f*cam(t)/z - motion(t))``. A nearest-pixel
forward warp of the source view with its true depth (``s2vg.geometry.warp``) therefore
lands every source pixel exactly on the pixel of the view that shows the same texel: the
warped known pixels equal the true render, except where an occluder is itself hidden in
the source (a warp cannot know it), and the holes' true colours are known.

Textures are functions of absolute texel coordinates (hashed value noise, bricks,
stripes, checkers), so a render with a ``margin`` (wider than the frame, for outpainting)
has exactly the no-margin render as its centre crop, and a seed fixes everything.

Example::

    scene = make_scene("fence", height=256, width=448, seed=0)
    rig = scene_rig(scene, views=8, divergence_pct=3.0)
    shot = render_scene(scene, rig.positions, frames=16)
    shot.colors.shape  # (8, 16, 256, 448, 3)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from s2vg.config import SCENE_KINDS, RigConfig
from s2vg.errors import InputError, OptionError
from s2vg.geometry.rig import CameraRig, default_focal

_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


# ---------------------------------------------------------------- textures


def _hash01(ix: np.ndarray, iy: np.ndarray, seed: int) -> np.ndarray:
    """Uniform [0, 1) values from integer lattice coordinates (splitmix64 finaliser)."""
    with np.errstate(over="ignore"):
        x = (ix.astype(np.int64).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)) ^ (
            iy.astype(np.int64).astype(np.uint64) * np.uint64(0xC2B2AE3D27D4EB4F)
        )
        x = x ^ np.uint64((seed * 0x165667B19E3779F9 + 0x27D4EB2F165667C5) & 0xFFFFFFFFFFFFFFFF)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    return (x >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


def _value_noise(x: np.ndarray, y: np.ndarray, cell: float, seed: int) -> np.ndarray:
    """Smooth value noise in [0, 1] with lattice spacing ``cell`` texels; x ``(1, w)``, y ``(h, 1)``."""
    gx, gy = x / cell, y / cell
    ix, iy = np.floor(gx), np.floor(gy)
    fx, fy = gx - ix, gy - iy
    sx, sy = fx * fx * (3 - 2 * fx), fy * fy * (3 - 2 * fy)
    ix, iy = np.broadcast_arrays(ix, iy)
    h00, h10 = _hash01(ix, iy, seed), _hash01(ix + 1, iy, seed)
    h01, h11 = _hash01(ix, iy + 1, seed), _hash01(ix + 1, iy + 1, seed)
    top = h00 + (h10 - h00) * sx
    bottom = h01 + (h11 - h01) * sx
    return top + (bottom - top) * sy


def _fractal(x: np.ndarray, y: np.ndarray, cell: float, seed: int, octaves: int = 4) -> np.ndarray:
    """Sum of value-noise octaves (halving cell, halving weight), scaled to about [0, 1]."""
    total, norm, weight = 0.0, 0.0, 1.0
    for octave in range(octaves):
        total = total + weight * _value_noise(x, y, max(cell / 2**octave, 1.0), seed + 7919 * octave)
        norm += weight
        weight *= 0.5
    return total / norm


@dataclass(frozen=True)
class Texture:
    """A procedural colour pattern over texel coordinates.

    Attributes:
        pattern: ``"noise"`` (fractal noise through the palette), ``"bricks"``,
            ``"stripes"`` (diagonal) or ``"checker"``.
        palette: ``(k, 3)`` colours in [0, 1], k >= 2; the pattern picks and mixes them.
        scale: feature size in texels (noise cell, brick width, stripe period, checker cell).
        seed: seed of the hashed noise.
        grain: amplitude in [0, 1] of fine two-texel noise added everywhere (detail that a
            smooth fill cannot guess).
    """

    pattern: str
    palette: tuple[tuple[float, float, float], ...]
    scale: float
    seed: int
    grain: float = 0.06

    def evaluate(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Colours ``(h, w, 3)`` float32 in [0, 1] at texel coordinates x ``(1, w)``, y ``(h, 1)``."""
        pal = np.asarray(self.palette, np.float64)
        noise = _fractal(x, y, self.scale, self.seed)
        if self.pattern == "noise":
            value = noise
        elif self.pattern == "bricks":
            brick_h = self.scale / 2.2
            row = np.floor(y / brick_h)
            xo = x + (row % 2) * self.scale / 2
            col = np.floor(xo / self.scale)
            mortar = ((y - row * brick_h) < 2) | ((xo - col * self.scale) < 2)
            col_b, row_b = np.broadcast_arrays(col, row)
            tone = _hash01(col_b, row_b, self.seed)  # one tone per brick
            value = np.where(mortar, 0.0, 0.35 + 0.45 * tone + 0.2 * noise)
        elif self.pattern == "stripes":
            phase = (x * 0.8 + y * 0.6) / self.scale
            value = 0.65 * ((phase - np.floor(phase)) < 0.5) + 0.35 * noise
        elif self.pattern == "checker":
            parity = (np.floor(x / self.scale) + np.floor(y / self.scale)) % 2
            value = 0.6 * parity + 0.4 * noise
        else:
            raise OptionError(f"texture pattern must be noise, bricks, stripes or checker; got {self.pattern!r}")
        value = np.clip(np.broadcast_to(value, np.broadcast_shapes(x.shape, y.shape)), 0.0, 1.0)
        # Piecewise-linear palette lookup.
        pos = value * (len(pal) - 1)
        lo = np.minimum(np.floor(pos).astype(np.int64), len(pal) - 2)
        frac = (pos - lo)[..., None]
        colour = pal[lo] * (1 - frac) + pal[lo + 1] * frac
        if self.grain:
            colour = colour + self.grain * (_value_noise(x, y, 2.0, self.seed + 101)[..., None] - 0.5)
        return np.clip(colour, 0.0, 1.0).astype(np.float32)


# ---------------------------------------------------------------- shapes


@dataclass(frozen=True)
class Shape:
    """Where a card is opaque, in its own texel coordinates (source pixels at frame 0).

    Attributes:
        kind: ``"plane"`` (everywhere), ``"rect"`` (x0, y0, x1, y1; half-open),
            ``"ellipse"`` (cx, cy, rx, ry), ``"polygon"`` (x0, y0, x1, y1, ... of a convex
            polygon in either winding), ``"ridge"`` (y0, amplitude, wavelength, phase:
            everything below ``y0 + a*sin(2*pi*x/wavelength + phase)``), ``"wire"``
            (x0, x1, y0, sag, thickness: a parabola from (x0, y0) to (x1, y0) hanging
            ``sag`` lower in the middle).
        params: the numbers above, in texels.
    """

    kind: str
    params: tuple[float, ...] = ()

    def mask(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``(h, w)`` bool coverage at texel coordinates x ``(1, w)``, y ``(h, 1)``."""
        p = self.params
        shape = np.broadcast_shapes(x.shape, y.shape)
        if self.kind == "plane":
            return np.ones(shape, bool)
        if self.kind == "rect":
            return np.broadcast_to((x >= p[0]) & (x < p[2]), shape) & np.broadcast_to((y >= p[1]) & (y < p[3]), shape)
        if self.kind == "ellipse":
            return ((x - p[0]) / p[2]) ** 2 + ((y - p[1]) / p[3]) ** 2 <= 1.0
        if self.kind == "polygon":
            pts = np.asarray(p, np.float64).reshape(-1, 2)
            area = np.sum(pts[:, 0] * np.roll(pts[:, 1], -1) - np.roll(pts[:, 0], -1) * pts[:, 1])
            inside = np.ones(shape, bool)
            for (ax, ay), (bx, by) in zip(pts, np.roll(pts, -1, axis=0)):
                cross = (bx - ax) * (y - ay) - (by - ay) * (x - ax)
                inside &= (cross * np.sign(area)) >= 0
            return inside
        if self.kind == "ridge":
            return y >= p[0] + p[1] * np.sin(2 * np.pi * x / p[2] + p[3])
        if self.kind == "wire":
            x0, x1, y0, sag, thick = p
            u = (x - 0.5 * (x0 + x1)) / (0.5 * (x1 - x0))
            curve = y0 + sag * (1.0 - u * u)
            return np.broadcast_to((x >= x0) & (x < x1), shape) & (np.abs(y - curve) <= 0.5 * thick)
        raise OptionError(f"shape kind must be plane, rect, ellipse, polygon, ridge or wire; got {self.kind!r}")


@dataclass(frozen=True)
class Card:
    """One fronto-parallel textured object.

    Attributes:
        name: label (reports, debugging).
        depth_m: depth in metres (stored as a float32 value, so the warp reads it exactly).
        shapes: union of shapes where the card is opaque.
        texture: its colours.
        velocity: (vx, vy) in texels per frame, in the card's plane.
        wobble: (ax, ay, period): a sinusoidal motion of amplitude (ax, ay) texels and
            ``period`` frames added to the drift.
    """

    name: str
    depth_m: float
    shapes: tuple[Shape, ...]
    texture: Texture
    velocity: tuple[float, float] = (0.0, 0.0)
    wobble: tuple[float, float, float] = (0.0, 0.0, 16.0)

    def motion(self, t: np.ndarray) -> np.ndarray:
        """``(T, 2)`` displacement in texels of the card at frames ``t``."""
        ax, ay, period = self.wobble
        phase = 2 * np.pi * t / period
        return np.stack([self.velocity[0] * t + ax * np.sin(phase), self.velocity[1] * t + ay * np.sin(phase)], axis=-1)

    def canvas(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Coverage ``(h, w)`` bool and colours ``(h, w, 3)`` float32 at texel coordinates."""
        cover = np.zeros(np.broadcast_shapes(x.shape, y.shape), bool)
        for shape in self.shapes:
            cover |= shape.mask(x, y)
        return cover, self.texture.evaluate(x, y)


@dataclass(frozen=True)
class Scene:
    """A deterministic scene for one frame size.

    Attributes:
        kind, seed: what :func:`make_scene` was asked for.
        height, width: frame size in pixels; texel units are pixels of this size.
        focal: focal length in pixels (``default_focal(width)``).
        cards: the objects; the first is the background plane (covers everything).
        camera_velocity: (x, y) metres per frame of the whole rig (a camera pan).
    """

    kind: str
    seed: int
    height: int
    width: int
    focal: float
    cards: tuple[Card, ...]
    camera_velocity: tuple[float, float] = (0.0, 0.0)

    @property
    def nearest_depth(self) -> float:
        return float(min(card.depth_m for card in self.cards))

    @property
    def farthest_depth(self) -> float:
        return float(max(card.depth_m for card in self.cards))


# ---------------------------------------------------------------- scene kinds


def _z(depth: float) -> float:
    """Depth rounded to float32, so the warp (which reads float32 depth) sees the same value."""
    return float(np.float32(depth))


def _palette(rng: np.random.Generator, hue: float, spread: float, k: int = 3) -> tuple[tuple[float, float, float], ...]:
    """k colours around ``hue`` (0-1) from dark to light, with some hue drift."""
    import colorsys

    out = []
    for i in range(k):
        h = (hue + spread * (rng.random() - 0.5)) % 1.0
        s = 0.35 + 0.5 * rng.random()
        v = 0.25 + 0.7 * i / max(k - 1, 1)
        out.append(tuple(float(c) for c in colorsys.hsv_to_rgb(h, s, v)))
    return tuple(out)


def _tex(rng: np.random.Generator, pattern: str, hue: float, scale: float, spread: float = 0.15) -> Texture:
    return Texture(pattern, _palette(rng, hue, spread), float(scale), int(rng.integers(0, 2**31)))


def make_scene(kind: str, *, height: int = 256, width: int = 448, seed: int = 0) -> Scene:
    """Build one of the :data:`SCENE_KINDS` for frames of ``height`` x ``width``.

    Sizes, positions and speeds are fractions of the frame, so a kind looks the same at
    any resolution; depths are in metres (nearest card 1.2-2 m, background 8-30 m).

    - ``cards``: a brick wall, two textured cards (one touching the left border) and a
      moving disc in front; static camera.
    - ``pan``: the camera translates right over a landscape: far hills with a wavy
      ridge, houses and trees at mid depth, a near object moving the other way.
    - ``fence``: thin structures: poles two to four pixels wide and sagging wires in
      front of a striped wall, with a car-like card driving behind them.
    - ``crossing``: discs, triangles and boxes at five depths crossing each other in
      different directions, with vertical motion; slow pan.
    - ``terraces``: stepped ground (horizontal bands, each nearer and lower), a far sky,
      a walking figure; panning camera; the ground touches three borders.
    - ``border``: large near content cut by the left and right frame borders (the side a
      right view reveals), behind it a wall and a moving box.
    - ``occluder``: static camera; a textured card at 1 m crossing a textured wall at
      6 m fast (12 px a frame at 448 wide), so every background pixel a new view needs
      was seen a few frames earlier or later (exact temporal recovery is possible).
    - ``pan-reveal``: the camera translates right past a near box and a pole in front of
      a textured far wall; the background revealed beside them in a new view was seen
      by earlier or later frames of the source.

    Raises:
        OptionError: unknown kind or a frame smaller than 16 x 16.
    """
    if kind not in SCENE_KINDS:
        raise OptionError(f"scene kind must be one of {', '.join(SCENE_KINDS)}; got {kind!r}")
    if not (isinstance(height, int) and isinstance(width, int)) or height < 16 or width < 16:
        raise OptionError(f"scene size must be integers of at least 16 x 16 pixels; got {height!r} x {width!r}")
    rng = np.random.default_rng([seed, SCENE_KINDS.index(kind)])
    W, H = float(width), float(height)
    cards: list[Card] = []
    cam = (0.0, 0.0)
    u = W / 448.0  # texel scale relative to the default width

    def rand(lo: float, hi: float) -> float:
        return float(lo + (hi - lo) * rng.random())

    if kind == "cards":
        cards.append(Card("wall", _z(10.0), (Shape("plane"),), _tex(rng, "bricks", rand(0, 1), 40 * u)))
        cards.append(Card("card-left", _z(4.5), (Shape("rect", (-0.2 * W, 0.15 * H, 0.22 * W, 0.75 * H)),), _tex(rng, "checker", rand(0, 1), 14 * u)))
        cards.append(
            Card("card-mid", _z(3.0), (Shape("rect", (0.42 * W, 0.3 * H, 0.62 * W, 0.9 * H)),), _tex(rng, "stripes", rand(0, 1), 12 * u), velocity=(1.5 * u, 0.0))
        )
        cards.append(
            Card("disc", _z(1.6), (Shape("ellipse", (0.75 * W, 0.45 * H, 0.09 * W, 0.09 * W)),), _tex(rng, "noise", rand(0, 1), 10 * u),
                 velocity=(-2.5 * u, 0.0), wobble=(0.0, 6 * u, 12.0))
        )
    elif kind == "pan":
        cam = (0.012, 0.0)
        cards.append(Card("sky", _z(30.0), (Shape("plane"),), _tex(rng, "noise", 0.58, 60 * u, 0.05)))
        cards.append(Card("hills", _z(12.0), (Shape("ridge", (0.45 * H, 0.06 * H, 0.5 * W, rand(0, 6))),), _tex(rng, "noise", 0.3, 24 * u)))
        for i in range(5):
            x0 = rand(-0.1, 1.1) * W
            cards.append(
                Card(f"house{i}", _z(rand(4.0, 7.0)), (Shape("rect", (x0, rand(0.35, 0.5) * H, x0 + rand(0.08, 0.16) * W, 1.2 * H)),),
                     _tex(rng, "bricks", rand(0, 1), 16 * u))
            )
        for i in range(3):
            cx = rand(0.0, 1.0) * W
            cards.append(
                Card(f"tree{i}", _z(rand(2.5, 3.5)),
                     (Shape("ellipse", (cx, 0.45 * H, 0.06 * W, 0.12 * H)), Shape("rect", (cx - 0.01 * W, 0.5 * H, cx + 0.01 * W, 1.2 * H))),
                     _tex(rng, "noise", 0.33, 6 * u, 0.1))
            )
        cards.append(
            Card("walker", _z(1.8), (Shape("rect", (0.55 * W, 0.5 * H, 0.66 * W, 1.1 * H)), Shape("ellipse", (0.605 * W, 0.44 * H, 0.035 * W, 0.06 * H))),
                 _tex(rng, "stripes", rand(0, 1), 8 * u), velocity=(-2.0 * u, 0.0), wobble=(0.0, 2 * u, 6.0))
        )
    elif kind == "fence":
        cam = (0.004, 0.0)
        cards.append(Card("wall", _z(8.0), (Shape("plane"),), _tex(rng, "stripes", rand(0, 1), 22 * u)))
        cards.append(
            Card("car", _z(5.0), (Shape("rect", (0.05 * W, 0.55 * H, 0.4 * W, 0.8 * H)), Shape("rect", (0.12 * W, 0.42 * H, 0.32 * W, 0.56 * H))),
                 _tex(rng, "noise", rand(0, 1), 8 * u), velocity=(3.0 * u, 0.0))
        )
        poles = []
        for i in range(7):
            x = (i + 0.5) / 7 * W + rand(-0.03, 0.03) * W
            poles.append(Shape("rect", (x, -0.1 * H, x + max(2.0, round(rand(2, 4) * u)), 1.1 * H)))
        cards.append(Card("poles", _z(2.0), tuple(poles), _tex(rng, "noise", rand(0, 1), 4 * u)))
        wires = tuple(Shape("wire", (-0.2 * W, 1.2 * W, y * H, 0.08 * H, max(1.0, 1.5 * u))) for y in (0.12, 0.2, 0.3))
        cards.append(Card("wires", _z(2.3), wires, Texture("noise", ((0.05, 0.05, 0.05), (0.25, 0.25, 0.25)), 4.0, 3, 0.0)))
    elif kind == "crossing":
        cam = (0.003, 0.0)
        cards.append(Card("backdrop", _z(9.0), (Shape("plane"),), _tex(rng, "checker", rand(0, 1), 26 * u)))
        specs = [
            ("disc-a", 6.0, "ellipse", (0.2, 0.35), (2.0, 0.3)),
            ("box-b", 4.0, "rect", (0.8, 0.6), (-2.5, -0.4)),
            ("tri-c", 3.0, "polygon", (0.3, 0.7), (3.0, -0.5)),
            ("disc-d", 2.0, "ellipse", (0.85, 0.3), (-3.5, 0.6)),
            ("tri-e", 1.4, "polygon", (0.5, 0.5), (1.0, 0.0)),
        ]
        for name, depth, shape_kind, (fx, fy), (vx, vy) in specs:
            cx, cy, r = fx * W, fy * H, rand(0.06, 0.1) * W
            if shape_kind == "ellipse":
                shape = Shape("ellipse", (cx, cy, r, r * rand(0.7, 1.2)))
            elif shape_kind == "rect":
                shape = Shape("rect", (cx - r, cy - 0.8 * r, cx + r, cy + 0.8 * r))
            else:
                shape = Shape("polygon", (cx, cy - r, cx + r, cy + 0.8 * r, cx - r, cy + 0.8 * r))
            pattern = ("noise", "bricks", "stripes", "checker")[int(rng.integers(0, 4))]
            cards.append(Card(name, _z(depth), (shape,), _tex(rng, pattern, rand(0, 1), 9 * u), velocity=(vx * u, vy * u), wobble=(0.0, 3 * u, 10.0)))
    elif kind == "terraces":
        cam = (0.01, 0.0)
        cards.append(Card("sky", _z(30.0), (Shape("plane"),), _tex(rng, "noise", 0.6, 50 * u, 0.05)))
        steps = 7
        ground_hue = rand(0.05, 0.15)
        for i in range(steps):
            depth = 8.0 * (1.5 / 8.0) ** (i / (steps - 1))  # 8 m at the horizon to 1.5 m at the bottom
            top = (0.42 + 0.58 * i / steps) * H
            cards.append(Card(f"step{i}", _z(depth), (Shape("rect", (-10 * W, top, 11 * W, 3 * H)),), _tex(rng, "noise", ground_hue, 12 * u)))
        cards.append(
            Card("figure", _z(3.2), (Shape("rect", (0.3 * W, 0.4 * H, 0.37 * W, 0.72 * H)), Shape("ellipse", (0.335 * W, 0.35 * H, 0.028 * W, 0.05 * H))),
                 _tex(rng, "stripes", rand(0, 1), 6 * u), velocity=(2.5 * u, 0.0), wobble=(0.0, 1.5 * u, 5.0))
        )
    elif kind == "border":
        cards.append(Card("wall", _z(9.0), (Shape("plane"),), _tex(rng, "bricks", rand(0, 1), 30 * u)))
        cards.append(Card("box", _z(4.0), (Shape("rect", (0.35 * W, 0.35 * H, 0.5 * W, 0.65 * H)),), _tex(rng, "checker", rand(0, 1), 10 * u), velocity=(2.0 * u, 0.5 * u)))
        cards.append(Card("right-pillar", _z(1.3), (Shape("rect", (0.82 * W, -0.2 * H, 1.5 * W, 1.2 * H)),), _tex(rng, "stripes", rand(0, 1), 14 * u)))
        cards.append(Card("left-post", _z(2.2), (Shape("ellipse", (0.0, 0.6 * H, 0.12 * W, 0.3 * H)),), _tex(rng, "noise", rand(0, 1), 8 * u), wobble=(4 * u, 0.0, 16.0)))
    elif kind == "occluder":
        cards.append(Card("wall", _z(6.0), (Shape("plane"),), _tex(rng, "noise", rand(0, 1), 10 * u, 0.3)))
        cards.append(
            Card("card", _z(1.0), (Shape("rect", (0.1 * W, 0.2 * H, 0.32 * W, 0.8 * H)),), _tex(rng, "checker", rand(0, 1), 9 * u),
                 velocity=(12.0 * u, 0.0))
        )
    elif kind == "pan-reveal":
        cam = (0.02, 0.0)
        cards.append(Card("wall", _z(8.0), (Shape("plane"),), _tex(rng, "bricks", rand(0, 1), 20 * u)))
        cards.append(Card("box", _z(1.5), (Shape("rect", (0.45 * W, 0.3 * H, 0.65 * W, 0.75 * H)),), _tex(rng, "stripes", rand(0, 1), 8 * u)))
        cards.append(Card("pole", _z(2.0), (Shape("rect", (0.2 * W, -0.1 * H, 0.24 * W, 1.1 * H)),), _tex(rng, "noise", rand(0, 1), 5 * u)))
    return Scene(kind=kind, seed=int(seed), height=height, width=width, focal=default_focal(width), cards=tuple(cards), camera_velocity=cam)


def scene_rig(scene: Scene, *, views: int = 2, mode: str = "left2right", divergence_pct: float = 3.0) -> CameraRig:
    """A rig whose outer views see the scene's nearest card ``divergence_pct`` % of the width apart.

    Args:
        views: V, source included; defaults to 2 (a stereo pair).
        mode: ``left2right``, ``right2left`` or ``middle2leftright`` (see :class:`RigConfig`).
        divergence_pct: disparity of the nearest card between the outer views, in percent
            of the width; defaults to 3.
    """
    if not math.isfinite(divergence_pct) or divergence_pct <= 0:
        raise OptionError(f"divergence must be a positive percent of the width; got {divergence_pct!r}")
    baseline = divergence_pct / 100.0 * scene.width * scene.nearest_depth / scene.focal
    return CameraRig.from_config(RigConfig(mode=mode, views=views, baseline=baseline, focal=scene.focal), scene.height, scene.width)


# ---------------------------------------------------------------- rendering


@dataclass(frozen=True, eq=False)
class RenderedScene:
    """True colours and depth of every view and frame, and the exact motion of every pixel.

    Attributes:
        colors: ``(V, T, H', W', 3)`` float32 in [0, 1], H' = H + 2*margin, W' likewise.
        depth: ``(V, T, H', W')`` float32 metres.
        ids: ``(V, T, H', W')`` int16 index of the visible card in ``scene.cards``.
        shifts: ``(N, T, 2)`` int64 integer texel shift (x, y) of each card per frame; a
            card's pixel at frame t was at ``+ (shifts[t] - shifts[t-1])`` at frame t-1.
        positions: ``(V, 3)`` float64 view positions relative to the source camera.
        margin: extra pixels rendered on every side of the frame.
        scene: what was rendered.
    """

    colors: np.ndarray
    depth: np.ndarray
    ids: np.ndarray
    shifts: np.ndarray
    positions: np.ndarray
    margin: int
    scene: Scene = field(repr=False)

    @property
    def views(self) -> int:
        return int(self.colors.shape[0])

    @property
    def frames(self) -> int:
        return int(self.colors.shape[1])

    def crop(self) -> "RenderedScene":
        """The same render without the margin (exactly a ``margin=0`` render)."""
        m = self.margin
        if m == 0:
            return self
        inner = (slice(None), slice(None), slice(m, -m), slice(m, -m))
        return RenderedScene(self.colors[inner], self.depth[inner], self.ids[inner], self.shifts, self.positions, 0, self.scene)

    def backward_flow(self, view: int) -> np.ndarray:
        """``(T, H', W', 2)`` float32 (dx, dy): where each pixel's surface point was one frame earlier.

        Exact for the renderer's texel motion; frame 0 holds zeros.
        """
        ids = self.ids[view].astype(np.int64)
        step = np.zeros_like(self.shifts)
        step[:, 1:] = self.shifts[:, 1:] - self.shifts[:, :-1]
        t_index = np.arange(self.frames)[:, None, None]
        return step[ids, t_index].astype(np.float32)

    def flow_valid(self, view: int) -> np.ndarray:
        """``(T, H', W')`` bool: the point was visible (same card, inside the frame) one frame earlier.

        Where it is True, ``colors[view, t-1]`` at ``pixel + backward_flow`` equals
        ``colors[view, t]`` exactly. Frame 0 is all False.
        """
        flow = self.backward_flow(view).astype(np.int64)
        t, h, w = self.ids.shape[1:]
        ys, xs = np.mgrid[0:h, 0:w]
        px, py = xs[None] + flow[..., 0], ys[None] + flow[..., 1]
        inside = (px >= 0) & (px < w) & (py >= 0) & (py < h)
        prev = np.zeros_like(self.ids[view])
        prev[1:] = self.ids[view, :-1][np.arange(t - 1)[:, None, None], py[1:].clip(0, h - 1), px[1:].clip(0, w - 1)]
        valid = inside & (prev == self.ids[view])
        valid[0] = False
        return valid


def _camera_path(scene: Scene, frames: int) -> np.ndarray:
    """``(T, 2)`` source camera position (x, y) in metres at each frame."""
    return np.arange(frames, dtype=np.float64)[:, None] * np.asarray(scene.camera_velocity, np.float64)[None]


def render_scene(
    scene: Scene,
    positions: np.ndarray | CameraRig,
    frames: int,
    *,
    margin: int = 0,
) -> RenderedScene:
    """Render every view and frame of ``scene`` (painter's algorithm, far to near).

    Args:
        scene: from :func:`make_scene`.
        positions: ``(V, 3)`` (or ``(V, 2)``) view positions in metres relative to the
            source camera (z ignored: the cameras are parallel), or a :class:`CameraRig`
            (its ``positions``; its focal and size must be the scene's).
        frames: number of frames T >= 1.
        margin: pixels rendered beyond the frame on every side, >= 0; defaults to 0.

    Returns:
        :class:`RenderedScene` with ``colors (V, T, H + 2*margin, W + 2*margin, 3)``.
    """
    if isinstance(positions, CameraRig):
        if (positions.height, positions.width) != (scene.height, scene.width) or positions.focal != scene.focal:
            raise InputError(
                f"rig is {positions.height}x{positions.width} with focal {positions.focal:g} but the scene is "
                f"{scene.height}x{scene.width} with focal {scene.focal:g}; build the rig with scene_rig()"
            )
        positions = positions.positions
    pos = np.asarray(positions, np.float64)
    if pos.ndim != 2 or pos.shape[1] not in (2, 3) or pos.shape[0] < 1 or not np.isfinite(pos).all():
        raise InputError(f"view positions must be a finite (V, 3) array; got shape {pos.shape}")
    if not isinstance(frames, int) or frames < 1:
        raise OptionError(f"frames must be an integer >= 1; got {frames!r}")
    if not isinstance(margin, int) or margin < 0:
        raise OptionError(f"margin must be an integer >= 0 pixels; got {margin!r}")
    v_count, f = pos.shape[0], scene.focal
    h2, w2 = scene.height + 2 * margin, scene.width + 2 * margin
    xs = np.arange(-margin, scene.width + margin, dtype=np.float64)
    ys = np.arange(-margin, scene.height + margin, dtype=np.float64)
    cam = _camera_path(scene, frames)
    t_index = np.arange(frames, dtype=np.float64)

    colors = np.zeros((v_count, frames, h2, w2, 3), np.float32)
    depth = np.zeros((v_count, frames, h2, w2), np.float32)
    ids = np.full((v_count, frames, h2, w2), -1, np.int16)
    shifts = np.zeros((len(scene.cards), frames, 2), np.int64)
    order = sorted(range(len(scene.cards)), key=lambda k: -scene.cards[k].depth_m)
    for k in order:
        card = scene.cards[k]
        z = np.float64(np.float32(card.depth_m))
        # Texel of each view's pixel column/row in the source camera's grid (per view), then
        # the card's integer shift per frame: the two roundings keep views warp-consistent.
        cols_v = np.rint(xs[None] + (f * pos[:, 0:1]) / z).astype(np.int64)  # (V, W')
        rows_v = np.rint(ys[None] + (f * pos[:, 1:2]) / z).astype(np.int64)  # (V, H')
        shift = np.rint(f * cam / z - card.motion(t_index)).astype(np.int64)  # (T, 2)
        shifts[k] = shift
        x0 = int(cols_v.min() + shift[:, 0].min())
        x1 = int(cols_v.max() + shift[:, 0].max())
        y0 = int(rows_v.min() + shift[:, 1].min())
        y1 = int(rows_v.max() + shift[:, 1].max())
        cover, tex = card.canvas(np.arange(x0, x1 + 1, dtype=np.float64)[None], np.arange(y0, y1 + 1, dtype=np.float64)[:, None])
        cw = x1 - x0 + 1
        cover_flat, tex_flat = cover.reshape(-1), tex.reshape(-1, 3)
        for v in range(v_count):
            cols = cols_v[v][None] + shift[:, 0:1] - x0  # (T, W')
            rows = rows_v[v][None] + shift[:, 1:2] - y0  # (T, H')
            idx = rows[:, :, None] * cw + cols[:, None, :]  # (T, H', W')
            hit = cover_flat[idx]
            colors[v][hit] = tex_flat[idx[hit]]
            depth[v][hit] = z
            ids[v][hit] = k
    if (ids < 0).any():
        raise InputError(f"scene {scene.kind!r} leaves pixels uncovered; its first card must be a plane")
    return RenderedScene(colors, depth, ids, shifts, np.concatenate([pos[:, :2], np.zeros((v_count, 1))], axis=1), margin, scene)
