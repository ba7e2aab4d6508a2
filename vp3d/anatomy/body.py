"""The vertebral body as a signed-distance shape.

An extruded cross-section (ellipse with a concave posterior wall; narrowed anteriorly into
a heart shape for thoracic levels) between two slightly concave endplates, with a waist
and rounded rims. Heights are exact at the points where they are measured: on the midline,
``MEASURE_INSET_MM`` inside the anterior and posterior cortex.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vp3d.geometry.sdf import Shape, _ellipsoid_distance, smooth_min

#: Heights are defined (and measured) this far inside the anterior / posterior wall.
MEASURE_INSET_MM = 3.0


@dataclass
class VertebralBody(Shape):
    """Vertebral body centred on the origin, +y anterior, +z cranial."""

    width_mm: float
    depth_mm: float
    anterior_height_mm: float
    posterior_height_mm: float
    posterior_concavity_mm: float = 2.5
    heart_taper: float = 0.0
    waist_mm: float = 1.0
    endplate_concavity_mm: float = 1.0
    rim_round_mm: float = 1.5

    def __post_init__(self):
        d, n = self.depth_mm, self.posterior_concavity_mm
        self.semi_x = self.width_mm / 2
        self.semi_y = (d + n) / 2
        self.center_y = (d / 2) - self.semi_y  # ellipse spans [-d/2 - n, d/2]
        self.notch_radius = 0.32 * self.width_mm
        self.y_anterior = d / 2 - MEASURE_INSET_MM
        self.y_posterior = -d / 2 + MEASURE_INSET_MM

    # -- pieces ---------------------------------------------------------------------
    def height_at(self, y: np.ndarray) -> np.ndarray:
        """Rim-to-rim height (mm) at antero-posterior position ``y``: linear wedge."""
        f = (y - self.y_posterior) / (self.y_anterior - self.y_posterior)
        return self.posterior_height_mm + (self.anterior_height_mm - self.posterior_height_mm) * f

    def profile_distance(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """2-D distance to the axial cross-section outline (negative inside)."""
        v = (y - self.center_y) / self.semi_y
        scale = 1.0 - self.heart_taper * np.clip(v, 0.0, 1.0) ** 2
        q = np.stack([x / scale, y - self.center_y], axis=-1)
        d = _ellipsoid_distance(q, np.array([self.semi_x, self.semi_y])) * scale
        # The smooth cut rounds the notch by about blend/4: start it that much further back.
        blend = 1.0
        notch_c = -self.depth_mm / 2 - self.notch_radius - blend / 4
        notch = np.hypot(x, y - notch_c) - self.notch_radius
        return -smooth_min(-d, notch, blend)

    def endplate_dip(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Depth (mm) of the endplate's central concavity; zero towards the rim."""
        rn2 = (x / self.semi_x) ** 2 + ((y - self.center_y) / self.semi_y) ** 2
        return self.endplate_concavity_mm * np.clip(1.0 - rn2 / 0.55, 0.0, 1.0) ** 2

    # -- Shape ----------------------------------------------------------------------
    def distance(self, p):
        x, y, z = p[..., 0], p[..., 1], p[..., 2]
        half = self.height_at(y) / 2
        dz = np.abs(z) - (half - self.endplate_dip(x, y))
        waist = self.waist_mm * np.clip(1.0 - (z / half) ** 2, 0.0, 1.0) ** 2
        d2 = self.profile_distance(x, y) + waist
        r = self.rim_round_mm
        qa, qb = d2 + r, dz + r
        outside = np.hypot(np.maximum(qa, 0.0), np.maximum(qb, 0.0))
        return outside + np.minimum(np.maximum(qa, qb), 0.0) - r

    def bounds(self):
        h = max(self.anterior_height_mm, self.posterior_height_mm) / 2 + 2.0
        lo = np.array([-self.semi_x, self.center_y - self.semi_y, -h])
        hi = np.array([self.semi_x, self.depth_mm / 2, h])
        return lo - 0.5, hi + 0.5
