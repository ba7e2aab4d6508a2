"""Balloon kyphoplasty: inflatable tamps lift part of the lost height and leave a cavity.

Height, in two stages:

- **Kept in the end** (after the balloons are emptied and the cavity is filled with cement):
  ``RESTORED_FRACTION`` of the lost height, the clinical mean of Lieberman et al. (Spine
  2001;26:1631-1638: 47 % of the lost height regained, in the 70 % of bodies that gained any).
- **While the balloons are full**: more. When they are emptied, the front of the body sinks back
  by ``DEFLATION_LOSS_OF_HEIGHT`` of its height before treatment (Rotter et al., Eur Spine J
  2010;19:916-923, cadaveric: 11.7 % of the pre-operative anterior height). The model adds that
  sag back to the kept share to get the inflated lift (:func:`inflated_fraction`), so the
  two figures agree: inflate, lift; deflate, lose the sag; fill, keep 47 %.

The balloons are inflated with iodinated contrast, so they show on fluoroscopy; after they are
withdrawn the cavity they made fills with cement first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyvista as pv

from vp3d.pathology.fracture import Fracture, check_t, fracture_spine
from vp3d.anatomy.volume import Label, Volume

#: Share of the lost height kept after deflation and cement (Lieberman et al., Spine 2001).
RESTORED_FRACTION = 0.47
#: Anterior height lost on deflation, as a share of the body's height before treatment
#: (Rotter et al., Eur Spine J 2010, cadaveric kyphoplasty: 11.7 +/- 6.2 %).
DEFLATION_LOSS_OF_HEIGHT = 0.117
#: Largest fill of one balloon, mL (a 15 mm / 3 mL tamp inflated to about 4 mL;
#: Garfin et al., Spine 2001;26:1511-1515).
MAX_BALLOON_ML = 4.0
#: Balloon length along the needle, mm (15 mm tamp).
BALLOON_LENGTH_MM = 15.0
#: Dilute iodinated contrast in the balloon: about 1:1 in saline, mu at 60 keV (1/mm);
#: iodine's K-edge (33 keV) makes it far denser than water at fluoroscopy energies.
CONTRAST_MU_PER_MM = 0.12


@dataclass(frozen=True)
class Balloon:
    """A balloon at the end of a working cannula: its axis runs ``back`` from ``tip_mm``."""

    tip_mm: np.ndarray
    direction: np.ndarray  # unit, the needle's direction (towards the tip)
    fill_ml: float

    def __post_init__(self):
        v = self.fill_ml
        if not (isinstance(v, (int, float, np.floating)) and np.isfinite(v) and 0.0 <= v <= MAX_BALLOON_ML):
            raise ValueError(f"balloon fill_ml must be between 0 and {MAX_BALLOON_ML} mL, got {v!r}")

    @property
    def inflation(self) -> float:
        return self.fill_ml / MAX_BALLOON_ML

    @property
    def center_mm(self) -> np.ndarray:
        return np.asarray(self.tip_mm) - np.asarray(self.direction) * BALLOON_LENGTH_MM / 2

    def radii_mm(self) -> tuple[float, float]:
        """Half-length along the axis and radius across it, for the current fill."""
        half = BALLOON_LENGTH_MM / 2
        vol_mm3 = self.fill_ml * 1000.0
        # A prolate ellipsoid of fixed length: V = 4/3 pi a r^2.
        r = np.sqrt(3.0 * vol_mm3 / (4.0 * np.pi * half)) if vol_mm3 > 0 else 0.0
        return half, float(r)

    def distance(self, p: np.ndarray) -> np.ndarray:
        """Approximate signed distance (mm) of points to the balloon surface."""
        half, r = self.radii_mm()
        if r <= 0:
            return np.full(p.shape[:-1], np.inf)
        d = np.asarray(self.direction, float)
        q = p - self.center_mm
        s = q @ d
        radial = np.linalg.norm(q - s[..., None] * d, axis=-1)
        k = np.sqrt((s / half) ** 2 + (radial / r) ** 2)
        return (k - 1.0) * min(half, r)

    def mesh(self) -> pv.PolyData:
        """Closed surface of the inflated balloon (patient frame)."""
        half, r = self.radii_mm()
        sphere = pv.Sphere(radius=1.0, theta_resolution=32, phi_resolution=24)
        pts = sphere.points * np.array([r, r, half])
        # Rotate local z onto the needle direction.
        z = np.asarray(self.direction, float)
        x = np.cross(z, [0.0, 0.0, 1.0])
        if np.linalg.norm(x) < 1e-6:
            x = np.array([1.0, 0.0, 0.0])
        x /= np.linalg.norm(x)
        y = np.cross(z, x)
        sphere.points = pts @ np.array([x, y, z]) + self.center_mm
        return sphere


def inflated_fraction(height_loss: float) -> float:
    """Share of the lost height that full balloons hold up, for a body that lost ``height_loss``.

    The kept share (:data:`RESTORED_FRACTION`) plus the sag deflation gives back: Rotter's
    :data:`DEFLATION_LOSS_OF_HEIGHT` of the pre-operative height (``1 - height_loss`` of the
    intact height), expressed as a share of the lost height; never more than all of it.
    """
    loss = float(height_loss)
    if not (np.isfinite(loss) and 0.0 < loss < 1.0):
        raise ValueError(f"height_loss must be a fraction between 0 and 1 (exclusive), got {height_loss!r}")
    return min(1.0, RESTORED_FRACTION + DEFLATION_LOSS_OF_HEIGHT * (1.0 - loss) / loss)


def lift_fraction(height_loss: float, restore: float, inflation: float) -> float:
    """Share of the lost height restored: ``restore`` (0-1) of the kept share, plus, while the
    balloons are ``inflation`` (0-1) full, that share of the extra lift deflation takes back.

    Inflating with ``restore == inflation`` lifts in proportion to the fill up to
    :func:`inflated_fraction`; emptying the balloons afterwards (``restore`` 1, ``inflation``
    down to 0) settles at :data:`RESTORED_FRACTION`.
    """
    for name, v in (("restore", restore), ("inflation", inflation)):
        if not (isinstance(v, (int, float, np.floating)) and np.isfinite(v) and 0.0 <= v <= 1.0):
            raise ValueError(f"{name} must be between 0 and 1, got {v!r}")
    full = inflated_fraction(height_loss)
    return min(full, restore * RESTORED_FRACTION + inflation * (full - RESTORED_FRACTION))


def restored_t(fracture_t: float, balloons: list[Balloon], height_loss: float) -> float:
    """Collapse left while ``balloons`` are inflated in a body that lost ``height_loss``."""
    fracture_t = check_t(fracture_t)
    inflation = max((b.inflation for b in balloons), default=0.0)
    return fracture_t * (1.0 - lift_fraction(height_loss, inflation, inflation))


def reduce_fracture(spine, fracture: Fracture, fracture_t: float, balloons: list[Balloon]):
    """The intact ``spine`` fractured, then lifted by the inflated balloons (a new ``Spine``)."""
    return fracture_spine(spine, fracture, restored_t(fracture_t, balloons, fracture.height_loss))


def settled_spine(spine, fracture: Fracture):
    """The intact ``spine`` fractured and treated: balloons emptied, :data:`RESTORED_FRACTION` kept."""
    return fracture_spine(spine, fracture, 1.0 - RESTORED_FRACTION)


def cavity_mask(volume: Volume, balloons: list[Balloon]) -> np.ndarray:
    """Voxels the balloons pushed aside: trabecular bone inside any balloon."""
    if volume.labels is None:
        raise ValueError("the volume needs tissue labels to place a cavity")
    mask = np.zeros(volume.shape, bool)
    for b in balloons:
        half, r = b.radii_mm()
        if r <= 0:
            continue
        reach = max(half, r) + volume.spacing_mm
        lo = np.floor((b.center_mm - reach - volume.origin_mm) / volume.spacing_mm).astype(int)
        hi = np.ceil((b.center_mm + reach - volume.origin_mm) / volume.spacing_mm).astype(int) + 1
        lo, hi = np.maximum(lo, 0), np.minimum(hi, volume.shape)
        if np.any(hi <= lo):
            continue
        sl = tuple(slice(a, c) for a, c in zip(lo, hi))
        idx = np.stack(np.meshgrid(*[np.arange(a, c) for a, c in zip(lo, hi)], indexing="ij"), -1)
        inside = b.distance(volume.points_mm(idx)) < 0
        mask[sl] |= inside
    trabecular = np.isin(volume.labels, [Label.TRABECULAR_BONE, Label.CLEFT])
    return mask & trabecular


def with_cavity(volume: Volume, balloons: list[Balloon], *, contrast: bool = False) -> Volume:
    """A copy of ``volume`` where the cavity is fluid (or contrast while inflated)."""
    from vp3d.anatomy import attenuation
    mask = cavity_mask(volume, balloons)
    mu = volume.mu_per_mm.copy()
    mu[mask] = CONTRAST_MU_PER_MM if contrast else attenuation.mu_per_mm("soft_tissue")
    labels = volume.labels.copy()
    labels[mask] = Label.CLEFT  # no bone left to hold cement back
    return Volume(mu, volume.spacing_mm, volume.origin_mm, labels, surround=volume.surround)
