"""Signed-distance shapes: small primitives and the operations that combine them.

A shape answers ``distance(points)`` for points of shape ``(..., 3)`` in its own frame
(negative inside, zero on the surface) and ``bounds()`` (the box outside which it is
certainly positive). :func:`sample_grid` evaluates a shape on a regular grid and only
computes each primitive inside its own box, which keeps whole-vertebra fields cheap.
Distances are exact or close to exact within a few millimetres of the surface, which is
all the meshes (zero contour) and the cortical shell (a 1 mm band) need.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Distances beyond this band (mm) are only known to be at least this large.
BAND_MM = 6.0


def _unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    n = np.linalg.norm(v)
    if n == 0:
        raise ValueError("direction vector has zero length")
    return v / n


def _ellipsoid_distance(q: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """Near-exact distance to an axis-aligned ellipsoid (Quilez's k0*(k0-1)/k1 bound)."""
    k0 = np.sqrt(np.sum((q / radii) ** 2, axis=-1))
    k1 = np.sqrt(np.sum((q / radii**2) ** 2, axis=-1))
    with np.errstate(divide="ignore", invalid="ignore"):
        d = k0 * (k0 - 1.0) / k1
    return np.where(k1 > 1e-12, d, -np.min(radii))


class Shape:
    """Base class of signed-distance shapes."""

    def distance(self, p: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - abstract
        raise NotImplementedError

    # Operators keep shape trees readable: ``a | b``, ``a - b``, ``a & b``.
    def __or__(self, other: "Shape") -> "Shape":
        return Union([self, other])

    def __sub__(self, other: "Shape") -> "Shape":
        return Subtract(self, other)

    def __and__(self, other: "Shape") -> "Shape":
        return Intersect([self, other])


@dataclass
class Ellipsoid(Shape):
    """Axis-aligned ellipsoid with semi-axes ``radii_mm`` about ``center_mm``."""

    center_mm: np.ndarray
    radii_mm: np.ndarray

    def __post_init__(self):
        self.center_mm = np.asarray(self.center_mm, float)
        self.radii_mm = np.asarray(self.radii_mm, float)

    def distance(self, p):
        return _ellipsoid_distance(p - self.center_mm, self.radii_mm)

    def bounds(self):
        return self.center_mm - self.radii_mm, self.center_mm + self.radii_mm


@dataclass
class Rod(Shape):
    """Capsule from ``a`` to ``b`` with an elliptic, linearly tapering cross-section.

    ``width_mm`` is measured along ``side`` (made perpendicular to the axis) and
    ``height_mm`` along the third direction; each is a (start, end) pair. The ends are
    half-ellipsoids, so a process ends in a rounded tip rather than a cut.
    """

    a: np.ndarray
    b: np.ndarray
    width_mm: tuple[float, float]
    height_mm: tuple[float, float]
    side: np.ndarray = field(default_factory=lambda: np.array([1.0, 0.0, 0.0]))
    cap_mm: float | None = None

    def __post_init__(self):
        self.a = np.asarray(self.a, float)
        self.b = np.asarray(self.b, float)
        axis = self.b - self.a
        self.length_mm = float(np.linalg.norm(axis))
        self.axis = _unit(axis)
        side = np.asarray(self.side, float)
        side = side - np.dot(side, self.axis) * self.axis
        if np.linalg.norm(side) < 1e-6:  # side parallel to the axis: pick any normal
            side = np.cross(self.axis, [0.0, 0.0, 1.0])
            if np.linalg.norm(side) < 1e-6:
                side = np.cross(self.axis, [0.0, 1.0, 0.0])
        self.u = _unit(side)
        self.v = np.cross(self.axis, self.u)

    def distance(self, p):
        q = p - self.a
        s = q @ self.axis
        t = np.clip(s / self.length_mm, 0.0, 1.0)[..., None]
        ru = (self.width_mm[0] + (self.width_mm[1] - self.width_mm[0]) * t[..., 0]) / 2
        rv = (self.height_mm[0] + (self.height_mm[1] - self.height_mm[0]) * t[..., 0]) / 2
        rs = np.minimum(ru, rv) if self.cap_mm is None else np.full_like(ru, self.cap_mm)
        local = np.stack([s - t[..., 0] * self.length_mm, q @ self.u, q @ self.v], axis=-1)
        radii = np.stack([rs, ru, rv], axis=-1)
        k0 = np.sqrt(np.sum((local / radii) ** 2, axis=-1))
        k1 = np.sqrt(np.sum((local / radii**2) ** 2, axis=-1))
        with np.errstate(divide="ignore", invalid="ignore"):
            d = k0 * (k0 - 1.0) / k1
        return np.where(k1 > 1e-12, d, -np.minimum(ru, rv))

    def bounds(self):
        r = max(self.width_mm + self.height_mm) / 2
        if self.cap_mm is not None:
            r = max(r, self.cap_mm)
        lo = np.minimum(self.a, self.b) - r
        hi = np.maximum(self.a, self.b) + r
        return lo, hi


@dataclass
class RoundCone(Shape):
    """Exact capsule with radius ``r1`` at ``a`` and ``r2`` at ``b`` (Quilez's round cone)."""

    a: np.ndarray
    b: np.ndarray
    r1: float
    r2: float

    def __post_init__(self):
        self.a = np.asarray(self.a, float)
        self.b = np.asarray(self.b, float)

    def distance(self, p):
        ba = self.b - self.a
        l2 = float(ba @ ba)
        rr = self.r1 - self.r2
        a2 = l2 - rr * rr
        il2 = 1.0 / l2
        pa = p - self.a
        y = pa @ ba
        z = y - l2
        xv = pa * l2 - y[..., None] * ba
        x2 = np.sum(xv * xv, axis=-1)
        y2 = y * y * l2
        z2 = z * z * l2
        k = np.sign(rr) * rr * rr * x2
        out = np.sqrt(x2 * a2 * il2) + y * rr
        out = out * il2 - self.r1
        d_b = np.sqrt(x2 + z2) * il2 - self.r2
        d_a = np.sqrt(x2 + y2) * il2 - self.r1
        cond_b = np.sign(z) * a2 * z2 > k
        cond_a = np.sign(y) * a2 * y2 < k
        return np.where(cond_b, d_b, np.where(cond_a, d_a, out))

    def bounds(self):
        r = max(self.r1, self.r2)
        return np.minimum(self.a, self.b) - r, np.maximum(self.a, self.b) + r


@dataclass
class Union(Shape):
    """Union of children; ``blend_mm > 0`` fillets the joins (polynomial smooth minimum)."""

    children: list
    blend_mm: float = 0.0

    def distance(self, p):
        d = self.children[0].distance(p)
        for c in self.children[1:]:
            d = smooth_min(d, c.distance(p), self.blend_mm)
        return d

    def bounds(self):
        los, his = zip(*(c.bounds() for c in self.children))
        return np.min(los, axis=0) - self.blend_mm, np.max(his, axis=0) + self.blend_mm


@dataclass
class Intersect(Shape):
    """Intersection of children."""

    children: list

    def distance(self, p):
        d = self.children[0].distance(p)
        for c in self.children[1:]:
            d = np.maximum(d, c.distance(p))
        return d

    def bounds(self):
        los, his = zip(*(c.bounds() for c in self.children))
        return np.max(los, axis=0), np.min(his, axis=0)


@dataclass
class Subtract(Shape):
    """``base`` with ``cut`` removed; ``blend_mm > 0`` rounds the cut edges."""

    base: Shape
    cut: Shape
    blend_mm: float = 0.0

    def distance(self, p):
        return -smooth_min(-self.base.distance(p), self.cut.distance(p), self.blend_mm)

    def bounds(self):
        return self.base.bounds()


@dataclass
class Transformed(Shape):
    """A child shape placed by a rigid 4x4 ``matrix`` (child frame to this frame)."""

    child: Shape
    matrix: np.ndarray

    def __post_init__(self):
        self.matrix = np.asarray(self.matrix, float)
        self._inverse = np.linalg.inv(self.matrix)

    def distance(self, p):
        q = p @ self._inverse[:3, :3].T + self._inverse[:3, 3]
        return self.child.distance(q)

    def bounds(self):
        lo, hi = self.child.bounds()
        corners = np.array(np.meshgrid(*zip(lo, hi), indexing="ij")).reshape(3, -1).T
        moved = corners @ self.matrix[:3, :3].T + self.matrix[:3, 3]
        return moved.min(axis=0), moved.max(axis=0)


def smooth_min(a: np.ndarray, b: np.ndarray, k: float) -> np.ndarray:
    """Polynomial smooth minimum of two distance fields; plain minimum when ``k == 0``."""
    if k <= 0:
        return np.minimum(a, b)
    h = np.maximum(k - np.abs(a - b), 0.0) / k
    return np.minimum(a, b) - h * h * k * 0.25


@dataclass(frozen=True)
class Grid:
    """A regular grid: ``origin_mm + spacing_mm * (i, j, k)`` for ``shape`` points."""

    origin_mm: tuple[float, float, float]
    spacing_mm: float
    shape: tuple[int, int, int]

    @classmethod
    def around(cls, lo, hi, spacing_mm: float, margin_mm: float = 2.0) -> "Grid":
        """Smallest grid covering the box ``[lo, hi]`` plus a margin."""
        lo = np.asarray(lo, float) - margin_mm
        hi = np.asarray(hi, float) + margin_mm
        n = np.ceil((hi - lo) / spacing_mm).astype(int) + 1
        return cls(tuple(float(v) for v in lo), float(spacing_mm), tuple(int(v) for v in n))

    def axis(self, i: int) -> np.ndarray:
        return self.origin_mm[i] + self.spacing_mm * np.arange(self.shape[i])

    def points(self, sl=(slice(None),) * 3) -> np.ndarray:
        xs, ys, zs = (self.axis(i)[sl[i]] for i in range(3))
        return np.stack(np.meshgrid(xs, ys, zs, indexing="ij"), axis=-1)

    def block(self, lo, hi) -> tuple[slice, slice, slice] | None:
        """Index slices of the grid points inside ``[lo, hi]``, or None when empty."""
        o = np.asarray(self.origin_mm)
        i0 = np.maximum(np.floor((np.asarray(lo) - o) / self.spacing_mm).astype(int), 0)
        i1 = np.minimum(np.ceil((np.asarray(hi) - o) / self.spacing_mm).astype(int) + 1, self.shape)
        if np.any(i1 <= i0):
            return None
        return tuple(slice(int(a), int(b)) for a, b in zip(i0, i1))


def sample_grid(shape: Shape, grid: Grid, band_mm: float = BAND_MM) -> np.ndarray:
    """Evaluate ``shape`` on ``grid`` as float32, clamped to ``[-band, band]``.

    Each primitive is computed only inside its bounding box grown by ``band_mm``; elsewhere
    its distance is taken as ``band_mm``, which is exact for the sign and for every
    distance smaller than the band.
    """
    return np.clip(_sample(shape, grid, band_mm), -band_mm, band_mm).astype(np.float32)


def _sample(shape: Shape, grid: Grid, band: float) -> np.ndarray:
    if isinstance(shape, Union):
        d = _sample(shape.children[0], grid, band)
        for c in shape.children[1:]:
            d = smooth_min(d, _sample(c, grid, band), shape.blend_mm)
        return d
    if isinstance(shape, Intersect):
        d = _sample(shape.children[0], grid, band)
        for c in shape.children[1:]:
            d = np.maximum(d, _sample(c, grid, band))
        return d
    if isinstance(shape, Subtract):
        base = _sample(shape.base, grid, band)
        cut = _sample(shape.cut, grid, band)
        return -smooth_min(-base, cut, shape.blend_mm)
    out = np.full(grid.shape, band, dtype=np.float64)
    lo, hi = shape.bounds()
    sl = grid.block(np.asarray(lo) - band, np.asarray(hi) + band)
    if sl is not None:
        out[sl] = np.minimum(shape.distance(grid.points(sl)), band)
    return out
