"""Vertebral compression fractures as one deformation of the anatomical model.

Genant's semi-quantitative grades (Genant et al., J Bone Miner Res 1993;8:1137-1148):
grade 1 (mild) 20-25 %, grade 2 (moderate) 25-40 %, grade 3 (severe) > 40 % loss of
vertebral height. Types: *wedge* (anterior height lost), *biconcave* (middle height lost,
endplates bowed in), *crush* (the whole body, posterior height too).

The deformation compresses the body towards its lower endplate: ``z' = zb + (z - zb) s(x, y)``
with ``s = 1 - t * loss(x, y)``. It maps mesh vertices forwards and volume samples backwards,
so the 3D view and the X-ray show the same collapse. The spine above the fracture follows
rigidly (the best rigid fit to the moved upper endplate rim), so the rest keeps its shape.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from vp3d.anatomy.alignment import centre_height_mm
from vp3d.anatomy.body import MEASURE_INSET_MM
from vp3d.anatomy.morphometry import LevelMorphometry
from vp3d.checks import check_grade, check_kind, check_level

#: Height loss used for each Genant grade (a value inside the grade's range).
GRADE_LOSS = {1: 0.225, 2: 0.33, 3: 0.50}
GRADE_RANGES = {1: (0.20, 0.25), 2: (0.25, 0.40), 3: (0.40, 0.80)}
#: Thickness of the band of compacted trabecular bone under the collapsed endplate, mm.
COMPACTION_BAND_MM = 6.0


@dataclass(frozen=True)
class Fracture:
    """A compression fracture of one level."""

    level: str
    grade: int = 2
    kind: str = "wedge"

    def __post_init__(self):
        object.__setattr__(self, "level", check_level(self.level))
        object.__setattr__(self, "grade", check_grade(self.grade))
        object.__setattr__(self, "kind", check_kind(self.kind))

    @property
    def height_loss(self) -> float:
        return GRADE_LOSS[self.grade]


def check_t(t: float) -> float:
    """Animation parameter: 0 intact, 1 fully collapsed."""
    if not (isinstance(t, (int, float, np.floating)) and np.isfinite(t) and 0.0 <= t <= 1.0):
        raise ValueError(f"fracture t must be between 0 and 1, got {t!r}")
    return float(t)


@dataclass(frozen=True)
class Deformation:
    """Compression of one vertebra in its local frame (see module docstring)."""

    morphometry: LevelMorphometry
    fracture: Fracture
    t: float

    @property
    def base_z_mm(self) -> float:
        return -centre_height_mm(self.morphometry) / 2 - 3.0  # just under the lower endplate

    def loss(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Fraction of height lost at (x, y), before scaling by ``t``."""
        m, f = self.morphometry, self.fracture.height_loss
        half_d, half_w = m.endplate_depth_mm / 2, m.endplate_width_mm / 2
        ya, yp = half_d - MEASURE_INSET_MM, -half_d + MEASURE_INSET_MM
        # Posterior elements keep their shape: fade out from the posterior wall to the pedicles.
        body = np.clip((y - (-half_d - 8.0)) / 8.0, 0.0, 1.0)
        if self.fracture.kind == "wedge":
            # Anterior loses f; the posterior wall is nearly spared (wedge ratio ~ 1 - f).
            a = np.clip((y - yp) / (ya - yp), 0.0, 1.2)
            return body * f * (0.06 + 0.94 * a)
        if self.fracture.kind == "crush":
            return body * f
        # Biconcave: the centre sinks; rims stay (a smooth dome of loss).
        r2 = (x / half_w) ** 2 + (y / half_d) ** 2
        # The loss is split between both endplates: the whole height at the centre drops by f.
        return body * f * np.clip(1.0 - r2 / 0.8, 0.0, 1.0) ** 1.5 / 0.97

    def scale(self, x, y):
        return 1.0 - self.t * self.loss(x, y)

    def _pivot(self, z: np.ndarray) -> tuple[float, np.ndarray]:
        """Height the compression is centred on, and which points it moves."""
        if self.fracture.kind == "biconcave":
            return 0.0, np.ones(z.shape, bool)  # both endplates bow in towards the middle
        zb = self.base_z_mm
        return zb, z > zb

    def forward(self, p: np.ndarray) -> np.ndarray:
        """Intact local points -> deformed local points."""
        p = np.array(p, dtype=float, copy=True)
        s = self.scale(p[..., 0], p[..., 1])
        zb, moved = self._pivot(p[..., 2])
        p[..., 2] = np.where(moved, zb + (p[..., 2] - zb) * s, p[..., 2])
        return p

    def inverse(self, p: np.ndarray) -> np.ndarray:
        """Deformed local points -> intact local points (``s`` depends on x, y only)."""
        p = np.array(p, dtype=float, copy=True)
        s = self.scale(p[..., 0], p[..., 1])
        zb, moved = self._pivot(p[..., 2])
        p[..., 2] = np.where(moved, zb + (p[..., 2] - zb) / s, p[..., 2])
        return p

    def compaction(self, p_deformed: np.ndarray) -> np.ndarray:
        """Density factor (>= 1) of trabecular bone at deformed local points.

        Bone squeezed into less height is denser: 1/s inside a band under the collapsed
        endplate(s), 1 elsewhere; the band shows as a sclerotic line on the radiograph.
        """
        s = self.scale(p_deformed[..., 0], p_deformed[..., 1])
        top = self.forward(np.stack([p_deformed[..., 0], p_deformed[..., 1],
                                     np.full(p_deformed.shape[:-1], centre_height_mm(self.morphometry) / 2)],
                                    axis=-1))[..., 2]
        band = np.abs(p_deformed[..., 2] - top) < COMPACTION_BAND_MM
        if self.fracture.kind == "biconcave":
            band |= np.abs(p_deformed[..., 2] + top) < COMPACTION_BAND_MM
        factor = np.where(band, 1.0 / s, 1.0)
        return factor

    def upper_endplate_motion(self) -> np.ndarray:
        """4x4 rigid motion (local frame) that carries the spine above along with the collapse."""
        m = self.morphometry
        h = centre_height_mm(m) / 2
        hd, hw = m.endplate_depth_mm / 2 - MEASURE_INSET_MM, m.endplate_width_mm / 2 - 4.0
        rim = np.array([[0, hd, h], [0, -hd, h], [hw, 0, h], [-hw, 0, h]], dtype=float)
        if self.fracture.kind == "biconcave":
            return np.eye(4)  # rims intact: the neighbours do not move
        return rigid_fit(rim, self.forward(rim))


def rigid_fit(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Least-squares rigid transform taking points ``a`` onto ``b`` (Kabsch)."""
    ca, cb = a.mean(axis=0), b.mean(axis=0)
    u, _, vt = np.linalg.svd((a - ca).T @ (b - cb))
    d = np.sign(np.linalg.det(vt.T @ u.T))
    r = vt.T @ np.diag([1.0, 1.0, d]) @ u.T
    out = np.eye(4)
    out[:3, :3] = r
    out[:3, 3] = cb - r @ ca
    return out


def deform_patient_points(points_mm: np.ndarray, vertebra_transform: np.ndarray,
                          deformation: Deformation) -> np.ndarray:
    """Move patient-frame points of the fractured vertebra's mesh (any resolution)."""
    inv = np.linalg.inv(vertebra_transform)
    local = points_mm @ inv[:3, :3].T + inv[:3, 3]
    moved = deformation.forward(local)
    return moved @ vertebra_transform[:3, :3].T + vertebra_transform[:3, 3]


def collapse_motion(spine, fracture: Fracture, t: float) -> tuple[Deformation, np.ndarray]:
    """The deformation of the broken level and the patient-frame rigid motion of all above.

    Cheap (microseconds): what an animation needs per frame.
    """
    t = check_t(t)
    v = spine.vertebrae[fracture.level]
    deform = Deformation(v.morphometry, fracture, t)
    motion = v.transform @ deform.upper_endplate_motion() @ np.linalg.inv(v.transform)
    return deform, motion


def fracture_spine(spine, fracture: Fracture, t: float = 1.0):
    """A copy of ``spine`` with ``fracture`` applied at collapse ``t`` (0 intact, 1 final).

    The fractured vertebra gets the deformation (mesh forwards, field backwards); every part
    above it moves rigidly with its upper endplate. Raises ``ValueError`` when the level is
    not in the spine or a parameter is out of range.
    """
    t = check_t(t)
    if fracture.level not in spine.levels:
        raise ValueError(f"level {fracture.level} is not in this spine ({spine.levels[0]}-{spine.levels[-1]})")
    deform, motion = collapse_motion(spine, fracture, t)
    i = spine.levels.index(fracture.level)
    above = set(spine.levels[:i])
    vertebrae = {}
    for lv, part in spine.vertebrae.items():
        if lv == fracture.level:
            vertebrae[lv] = _replaced(part, deformation=deform)
        elif lv in above:
            vertebrae[lv] = _replaced(part, transform=motion @ part.transform)
        else:
            vertebrae[lv] = part
    discs = [_replaced(d, transform=motion @ d.transform) if d.level in above else d
             for d in spine.discs]
    nuclei = [_replaced(d, transform=motion @ d.transform) if d.level in above else d
              for d in spine.nuclei]
    ligaments = [_replaced(d, transform=motion @ d.transform) if d.level in above else d
                 for d in spine.ligaments]
    return dataclasses.replace(spine, vertebrae=vertebrae, discs=discs, nuclei=nuclei,
                               ligaments=ligaments, fracture=fracture, fracture_t=t)


def _replaced(part, **changes):
    """``dataclasses.replace`` keeping the part's sampled field and its grid: they live in the
    part's own undeformed frame, so a new placement or deformation does not change them (and
    sampling them again costs a fraction of a second per vertebra)."""
    new = dataclasses.replace(part, **changes)
    for name in ("grid", "field"):
        if name in vars(part):
            vars(new)[name] = vars(part)[name]
    return new
