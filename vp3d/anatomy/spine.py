"""Vertebrae, discs, thecal sac and skin placed in one patient frame, and the density volume.

Patient frame (RAS, mm): +x the patient's right, +y anterior, +z cranial. L1's local frame
is the patient frame whatever range is built, so a level sits at the same place in every
scene. Each part keeps its signed-distance field sampled on its own grid: the mesh is that
field's zero contour and the density volume interpolates the same samples.
"""

from __future__ import annotations

import dataclasses
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pyvista as pv
from scipy import ndimage

from vp3d.anatomy import attenuation
from vp3d.anatomy.alignment import disc_frame, level_transforms, lower_in_upper
from vp3d.anatomy.body import VertebralBody
from vp3d.anatomy.trunk import Trunk
from vp3d.anatomy.vertebra import (
    Landmarks,
    basivertebral_vein,
    body_shape,
    lower_joints,
    vertebra_shape,
)
from vp3d.geometry.contour import contour_zero
from vp3d.anatomy.morphometry import LEVELS, LevelMorphometry, morphometry
from vp3d.checks import check_level, level_range
from vp3d.geometry.sdf import BAND_MM, Ellipsoid, Grid, Rod, RoundCone, Shape, Transformed, Union, sample_grid
from vp3d.anatomy.volume import Label, Volume

#: Cortical shell thickness, mm (vertebral body cortex about 0.4-1 mm thick:
#: Silva et al., J Bone Miner Res 1994;9:1563; Ritzel et al., JBMR 1997;12:89-95).
CORTICAL_SHELL_MM = 1.0
#: Subcutaneous fat under the skin of the back, mm (lumbar: typically 10-25 mm on CT).
SUBCUTANEOUS_FAT_MM = 15.0
#: Skin thickness over the back, mm (data/body.csv: skin_mm).
SKIN_MM = 2.0
#: Skin of the back to the spinous-process tips, mm.
SKIN_TO_SPINOUS_MM = 30.0
#: Gap left between a disc and the endplates so their surfaces never coincide on screen.
DISC_CLEARANCE_MM = 0.6
#: Spacing of each part's own field grid (meshes are its zero contour; the density volume
#: interpolates it trilinearly, which is near-exact for these smooth distance fields).
FIELD_SPACING_MM = 0.75
#: Default spacing of the density volume.
VOLUME_SPACING_MM = 0.5


@dataclass
class Part:
    """One anatomical part: its shape in a local frame and the placement in the patient."""

    name: str
    kind: str  # "vertebra" | "disc" | "nucleus" | "cord" | "skin"
    level: str | None
    shape: Shape
    transform: np.ndarray  # 4x4, local -> patient
    spacing_mm: float = FIELD_SPACING_MM
    #: Optional deformation of the local frame (a fracture): ``forward``/``inverse`` maps.
    deformation: object | None = None

    @cached_property
    def grid(self) -> Grid:
        lo, hi = self.shape.bounds()
        return Grid.around(lo, hi, self.spacing_mm, margin_mm=2.0 * self.spacing_mm + 1.0)

    @cached_property
    def field(self) -> np.ndarray:
        """Signed distance (mm) sampled on :attr:`grid`, clamped to the band."""
        return sample_grid(self.shape, self.grid)

    @cached_property
    def mesh(self) -> pv.PolyData:
        """Closed triangle mesh in the local frame (zero contour of :attr:`field`)."""
        return contour_zero(self.field, self.grid)

    def patient_mesh(self) -> pv.PolyData:
        """The mesh (deformed, if the part is) moved into the patient frame."""
        mesh = self.mesh
        if self.deformation is not None:
            mesh = mesh.copy()
            mesh.points = self.deformation.forward(mesh.points)
            mesh = mesh.compute_normals(auto_orient_normals=True, split_vertices=False)
        return mesh.transform(self.transform, inplace=False)

    def local_points(self, points_mm: np.ndarray) -> np.ndarray:
        """Patient points -> the part's undeformed local frame (where its field lives)."""
        inv = np.linalg.inv(self.transform)
        local = points_mm @ inv[:3, :3].T + inv[:3, 3]
        return self.deformation.inverse(local) if self.deformation is not None else local

    def patient_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """A box in the patient frame that holds the part (a fracture only shrinks it)."""
        lo, hi = Transformed(self.shape, self.transform).bounds()
        return lo, hi

    def distance_patient(self, points_mm: np.ndarray) -> np.ndarray:
        """Sampled field interpolated (trilinear) at patient-frame points, clamped to the band."""
        local = self.local_points(points_mm)
        idx = (local - np.asarray(self.grid.origin_mm)) / self.grid.spacing_mm
        coords = np.moveaxis(idx, -1, 0).reshape(3, -1)
        out = ndimage.map_coordinates(self.field, coords, order=1, mode="constant", cval=BAND_MM)
        return out.reshape(points_mm.shape[:-1])


@dataclass
class Vertebra(Part):
    """A vertebra with its morphometry and landmarks (local frame: body centre origin)."""

    morphometry: LevelMorphometry | None = None
    landmarks: Landmarks = field(default_factory=Landmarks)


def build_vertebra(level: str, spacing_mm: float = FIELD_SPACING_MM) -> Vertebra:
    """One vertebra in its local frame (origin at the body's centre, +z along its axis).

    Raises ``ValueError`` naming the valid levels when ``level`` is unknown.
    """
    level = check_level(level)
    _check_spacing(spacing_mm)
    m = morphometry(level)
    shape, marks = vertebra_shape(m, lower_joints(level))
    return Vertebra(level, "vertebra", level, shape, np.eye(4), spacing_mm,
                    morphometry=m, landmarks=marks)


def _check_spacing(spacing_mm: float) -> None:
    if not (np.isfinite(spacing_mm) and 0.2 <= spacing_mm <= 4.0):
        raise ValueError(f"spacing_mm must be between 0.2 and 4.0 mm, got {spacing_mm!r}")


@dataclass
class DiscShape(Shape):
    """Intervertebral disc in its mid-plane frame: the space between two endplates.

    The outline is the mean of the two bodies' outlines; the disc fills every point
    within it between the bodies, so it meets the (concave) endplates exactly.
    """

    outline: VertebralBody  # the smaller endplate's outline
    half_height_mm: float
    upper: Shape  # upper body, in the disc frame
    lower: Shape

    def distance(self, p):
        outline = self.outline.profile_distance(p[..., 0], p[..., 1])
        prism = np.maximum(outline, np.abs(p[..., 2]) - self.half_height_mm)
        bodies = np.minimum(self.upper.distance(p), self.lower.distance(p))
        return np.maximum(prism, DISC_CLEARANCE_MM - bodies)

    def bounds(self):
        lo, hi = self.outline.bounds()
        lo[2], hi[2] = -self.half_height_mm, self.half_height_mm
        return lo, hi


def _disc(up: LevelMorphometry, lo: LevelMorphometry) -> tuple[DiscShape, Ellipsoid]:
    frame = disc_frame(up)  # disc -> upper
    to_disc = np.linalg.inv(frame)
    upper_body = Transformed(body_shape(up), to_disc)
    lower_body = Transformed(body_shape(lo), to_disc @ lower_in_upper(up, lo))
    # The disc lies within the smaller endplate's outline (no lip over its rim).
    a, b = body_shape(up), body_shape(lo)
    outline = a if up.endplate_width_mm <= lo.endplate_width_mm else b
    depth_extra = max(a.endplate_concavity_mm, b.endplate_concavity_mm)
    half = up.disc_height_mm / 2 + depth_extra + abs(up.segmental_angle_deg) * 0.4 + 1.0
    disc = DiscShape(outline, half, upper_body, lower_body)
    width = min(up.endplate_width_mm, lo.endplate_width_mm)
    depth = min(up.endplate_depth_mm, lo.endplate_depth_mm)
    nucleus = Ellipsoid([0.0, -0.08 * depth, 0.0],
                        [0.25 * width, 0.22 * depth, 0.3 * up.disc_height_mm])
    return disc, nucleus


@dataclass
class TorsoShape(Shape):
    """Trunk as an elliptic cylinder whose back follows the spinous-process line."""

    back_y_mm: np.ndarray  # posterior skin y at ...
    z_mm: np.ndarray  # ... these heights (increasing)
    half_width_mm: float = 165.0
    depth_mm: float = 230.0
    z_range_mm: tuple[float, float] = (-200.0, 200.0)
    round_mm: float = 40.0

    def distance(self, p):
        x, y, z = p[..., 0], p[..., 1], p[..., 2]
        back = np.interp(z, self.z_mm, self.back_y_mm)
        cy = back + self.depth_mm / 2
        q = np.stack([x, y - cy], axis=-1)
        from vp3d.geometry.sdf import _ellipsoid_distance

        d2 = _ellipsoid_distance(q, np.array([self.half_width_mm, self.depth_mm / 2]))
        zc = (self.z_range_mm[0] + self.z_range_mm[1]) / 2
        dz = np.abs(z - zc) - (self.z_range_mm[1] - self.z_range_mm[0]) / 2
        r = self.round_mm
        qa, qb = d2 + r, dz + r
        return np.hypot(np.maximum(qa, 0), np.maximum(qb, 0)) + np.minimum(np.maximum(qa, qb), 0) - r

    def back_y(self, z):
        """y of the skin of the back on the midline at height ``z``."""
        return np.interp(z, self.z_mm, self.back_y_mm)

    def back_surface_y(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        """y of the skin of the back at (x, z), within the torso's straight part."""
        b = self.depth_mm / 2
        cy = np.interp(z, self.z_mm, self.back_y_mm) + b
        return cy - b * np.sqrt(np.clip(1.0 - (x / self.half_width_mm) ** 2, 0.0, 1.0))

    def bounds(self):
        lo = np.array([-self.half_width_mm, self.back_y_mm.min(), self.z_range_mm[0]])
        hi = np.array([self.half_width_mm, self.back_y_mm.max() + self.depth_mm, self.z_range_mm[1]])
        return lo, hi


@dataclass
class Spine:
    """A range of levels assembled in the patient frame, with discs, thecal sac and skin."""

    levels: list[str]
    vertebrae: dict[str, Vertebra]
    discs: list[Part]
    nuclei: list[Part]
    cord: Part
    skin: Part
    fracture: object | None = None  # vp3d.pathology.fracture.Fracture applied to this spine, if any
    fracture_t: float = 0.0
    #: Ligamenta flava and interspinous ligaments, one part per pair of levels.
    ligaments: list[Part] = field(default_factory=list)

    @property
    def parts(self) -> list[Part]:
        """Every part, cranial to caudal: vertebrae and discs interleaved, then cord, skin."""
        out: list[Part] = []
        for i, lv in enumerate(self.levels):
            out.append(self.vertebrae[lv])
            if i < len(self.discs):
                out += [self.discs[i], self.nuclei[i]]
        return out + self.ligaments + [self.cord, self.skin]

    def bone_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        los, his = zip(*(v.patient_bounds() for v in self.vertebrae.values()))
        return np.min(los, axis=0), np.max(his, axis=0)

    def density_volume(self, spacing_mm: float = VOLUME_SPACING_MM,
                       bone_quality: str = "normal", margin_mm: float = 15.0) -> Volume:
        """Sample attenuation (1/mm at 60 keV) and tissue labels on a regular grid.

        The box spans the bones plus ``margin_mm`` sideways and in front, and reaches back
        past the skin of the back so a needle's whole path is inside it.
        """
        _check_spacing(spacing_mm)
        mu_of = attenuation.label_mu_per_mm(bone_quality)
        lo, hi = self.bone_bounds()
        lo, hi = lo - margin_mm, hi + margin_mm
        lo[1] = min(lo[1], self.skin.shape.back_y_mm.min() - 10.0)
        grid = Grid.around(lo, hi, spacing_mm, margin_mm=0.0)
        # Whole coarse voxels of the surround must tile the box exactly (no seam between them).
        ratio = max(1, round(SURROUND_SPACING_MM / spacing_mm))
        shape = tuple(int(np.ceil(n / ratio) * ratio) for n in grid.shape)
        grid = Grid(grid.origin_mm, grid.spacing_mm, shape)
        labels = np.full(grid.shape, Label.AIR, dtype=np.uint8)
        _paint_torso(labels, grid, self.skin.shape)
        trunk = Trunk(self.skin.shape)
        trunk.paint_grid(labels, grid.axis(0), grid.axis(1), grid.axis(2))
        # Each part's field on the grid (the interpolation runs outside the GIL: in parallel),
        # then painted in order: ligaments, sac and discs, bone last.
        soft = [*self.ligaments, self.cord, *self.discs]
        bones = list(self.vertebrae.values())
        with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
            blocks = list(pool.map(lambda part: _block(grid, part), soft + bones))
        soft_labels = ([Label.LIGAMENT] * len(self.ligaments) + [Label.CANAL]
                       + [Label.DISC] * len(self.discs))
        for label, block in zip(soft_labels, blocks):
            _paint(labels, block, lambda d: d < 0, label)
        for v, block in zip(bones, blocks[len(soft):]):
            _paint_bone(labels, grid, v, block)
        mu = _mu_lut(mu_of)[labels]
        for v in self.vertebrae.values():
            if v.deformation is not None:
                _compact(mu, labels, grid, v, mu_of)
        fine_w = _blend_weights(grid.shape, spacing_mm, ratio * spacing_mm)
        for axis, w in enumerate(fine_w):  # the box's outer band fades into the surround
            mu *= w.reshape([-1 if a == axis else 1 for a in range(3)])
        surround = _surround(self.skin.shape, grid, mu_of, trunk)
        return Volume(mu, spacing_mm, np.array(grid.origin_mm), labels, surround=surround)


def _mu_lut(mu_of) -> np.ndarray:
    """Attenuation per label value, to turn a label volume into ``mu_per_mm`` by indexing."""
    lut = np.zeros(256, dtype=np.float32)
    for lab, mu in mu_of.items():
        lut[int(lab)] = mu
    return lut


#: Spacing of the coarse trunk volume around the fine box, mm.
SURROUND_SPACING_MM = 2.0
#: How far the X-ray's trunk reaches beyond the fine box, mm (more than a 230 mm field's
#: half-width at the patient plus the torso's rounded ends).
TRUNK_BEYOND_MM = 150.0
#: Width of the band inside the fine box's faces where it fades into the surround, mm.
BLEND_MM = 8.0


def _blend_weights(shape, spacing_mm: float, coarse_mm: float) -> list[np.ndarray]:
    """Per-axis weights of the fine box's voxels at ``spacing_mm`` (or of the surround's voxels
    that tile the box, at ``coarse_mm``): 0 within half a coarse voxel of a face, rising
    linearly to 1 at ``BLEND_MM`` further in.

    The fine box carries the product of the three, the surround inside the box one minus it.
    The ramp starts and ends on coarse voxel centres, so the coarse image of the band is exact
    and the two add up to the whole tissue: no seam at the box's edges in any projection.
    """
    out = []
    for n in shape:
        centre = (np.arange(n) + 0.5) * spacing_mm  # voxel centres from the box face
        depth = np.minimum(centre, n * spacing_mm - centre)
        out.append(np.clip((depth - coarse_mm / 2) / BLEND_MM, 0.0, 1.0).astype(np.float32))
    return out


def _surround(torso: TorsoShape, fine: Grid, mu_of, trunk: Trunk) -> Volume:
    """The rest of the trunk at 2 mm (skin, fat under the back, the trunk's organs, ribs,
    lungs and pelvis, air), zero in the box.

    Lateral and oblique rays cross 30 cm of trunk; without it they would see only the box.
    """
    h = fine.spacing_mm
    step = h * max(1, round(SURROUND_SPACING_MM / h))
    box_lo = np.asarray(fine.origin_mm) - h / 2  # faces of the fine box
    box_hi = box_lo + h * np.asarray(fine.shape)
    # The trunk goes on past the ends of the 3-D skin, beyond any field of view centred in the
    # box: no end of the body shows on an image.
    z0, z1 = torso.z_range_mm
    torso = dataclasses.replace(torso, z_range_mm=(min(z0, box_lo[2] - TRUNK_BEYOND_MM),
                                                   max(z1, box_hi[2] + TRUNK_BEYOND_MM)))
    lo, hi = torso.bounds()
    lo, hi = np.minimum(lo, box_lo), np.maximum(hi, box_hi)
    # Coarse voxel faces fall on the box faces: origin = box face + half a coarse voxel.
    n_lo = np.ceil((box_lo - (lo - 4.0)) / step).astype(int)
    n_hi = np.ceil(((hi + 4.0) - box_hi) / step).astype(int)
    inner = np.round((box_hi - box_lo) / step).astype(int)
    origin = box_lo - n_lo * step + step / 2
    grid = Grid(tuple(origin), float(step), tuple(int(v) for v in n_lo + inner + n_hi))
    labels = np.full(grid.shape, Label.AIR, dtype=np.uint8)
    xs, ys, zs = grid.axis(0), grid.axis(1), grid.axis(2)
    for k, z in enumerate(zs):
        X, Y = np.meshgrid(xs, ys, indexing="ij")
        d = torso.distance(np.stack([X, Y, np.full_like(X, z)], axis=-1))
        sl = labels[:, :, k]
        sl[d < 0] = Label.SOFT_TISSUE
        back = np.interp(z, torso.z_mm, torso.back_y_mm)
        sl[(d < 0) & (d > -SUBCUTANEOUS_FAT_MM) & (Y < back + 40.0)] = Label.FAT
        sl[(d < 0) & (d > -SKIN_MM)] = Label.SKIN
    trunk.paint(labels, xs, ys, zs)
    mu = _mu_lut(mu_of)[labels]
    # Leave the fine box to the fine volume (exactly the coarse voxels that tile it), except
    # for the band inside its faces where the two blend (see _blend_weights).
    wx, wy, wz = _blend_weights(tuple(int(n) for n in inner), float(step), float(step))
    box = tuple(slice(int(a), int(a + n)) for a, n in zip(n_lo, inner))
    mu[box] *= 1.0 - wx[:, None, None] * wy[None, :, None] * wz[None, None, :]
    return Volume(mu, float(step), np.array(grid.origin_mm), labels)


def _block(grid: Grid, part: Part):
    """Part's field interpolated on the patient grid, inside the part's box only."""
    lo, hi = part.patient_bounds()
    sl = grid.block(lo, hi)
    if sl is None:
        return None, None
    if part.deformation is not None:
        return sl, part.distance_patient(grid.points(sl))
    inv = np.linalg.inv(part.transform)
    # Continuous index in the part grid is affine in the patient index: build it by
    # broadcasting three axes instead of materialising every point.
    a = inv[:3, :3] * grid.spacing_mm / part.grid.spacing_mm
    b = (inv[:3, :3] @ np.asarray(grid.origin_mm) + inv[:3, 3]
         - np.asarray(part.grid.origin_mm)) / part.grid.spacing_mm
    ii, jj, kk = (np.arange(s.start, s.stop, dtype=np.float32) for s in sl)
    coords = np.empty((3,) + tuple(len(v) for v in (ii, jj, kk)), dtype=np.float32)
    for r in range(3):
        coords[r] = (a[r, 0] * ii[:, None, None] + a[r, 1] * jj[None, :, None]
                     + a[r, 2] * kk[None, None, :] + b[r])
    d = ndimage.map_coordinates(part.field, coords, order=1, mode="constant", cval=BAND_MM)
    return sl, d


def _paint(labels, block, where, label):
    sl, d = block
    if sl is not None:
        view = labels[sl]
        view[where(d)] = label


def _paint_bone(labels, grid, part, block):
    sl, d = block
    if sl is not None:
        view = labels[sl]
        view[d < 0] = Label.CORTICAL_BONE
        view[d < -CORTICAL_SHELL_MM] = Label.TRABECULAR_BONE
        if part.deformation is not None:
            _paint_fracture(view, grid.points(sl), part, d < 0)
    if isinstance(part, Vertebra) and part.landmarks.basivertebral_vein_mm:
        vein = Transformed(basivertebral_vein(part.landmarks), part.transform)
        vs = grid.block(*vein.bounds())
        if vs is not None:
            labels[vs][vein.distance(grid.points(vs)) < 0] = Label.VEIN


def _compact(mu, labels, grid, part, mu_of) -> None:
    """Denser trabecular bone where the fracture squeezed it (bone fraction / s)."""
    sl = grid.block(*part.patient_bounds())
    if sl is None:
        return
    trab = labels[sl] == Label.TRABECULAR_BONE
    pts = grid.points(sl)[trab]
    inv = np.linalg.inv(part.transform)
    factor = part.deformation.compaction(pts @ inv[:3, :3].T + inv[:3, 3])
    marrow = mu_of[Label.SOFT_TISSUE]
    block = mu[sl]
    # Scale the bone part of the mixture, not the marrow: mu = marrow + (mu_t - marrow) * k.
    block[trab] = marrow + (block[trab] - marrow) * factor


def _paint_fracture(view: np.ndarray, pts: np.ndarray, part: Part, own: np.ndarray) -> None:
    """Broken upper endplate over the most collapsed zone (a cortical gap towards the disc)
    and, for severe fractures, a fluid cleft under it."""
    deform = part.deformation
    if deform.t <= 0:
        return
    inv = np.linalg.inv(part.transform)
    local = pts @ inv[:3, :3].T + inv[:3, 3]
    intact = deform.inverse(local)
    loss = deform.loss(local[..., 0], local[..., 1])
    crushed = (loss > 0.8 * deform.fracture.height_loss) & own
    # Only the upper endplate over the most collapsed zone breaks (not the walls).
    h = (part.morphometry.body_anterior_height_mm + part.morphometry.body_posterior_height_mm) / 4
    endplate = intact[..., 2] > h - 3.0
    view[crushed & endplate & (view == Label.CORTICAL_BONE)] = Label.CLEFT
    if deform.fracture.grade >= 3:
        slab = np.abs(intact[..., 2] - 0.45 * h) < 1.0
        view[crushed & slab & (view == Label.TRABECULAR_BONE)] = Label.CLEFT


def _paint_torso(labels, grid, torso: TorsoShape):
    """Soft tissue inside the skin, air behind it, and a subcutaneous fat layer.

    Uses the torso's exact back surface ``y(x, z)``: the box never reaches the torso's
    sides or ends, only its back.
    """
    xs, ys, zs = grid.axis(0), grid.axis(1), grid.axis(2)
    back = torso.back_surface_y(xs[:, None], zs[None, :])[:, None, :]  # (nx, 1, nz)
    y = ys[None, :, None]
    labels[...] = Label.SOFT_TISSUE
    labels[np.broadcast_to(y < back, labels.shape)] = Label.AIR
    fat = (y >= back) & (y < back + SUBCUTANEOUS_FAT_MM)
    labels[np.broadcast_to(fat, labels.shape)] = Label.FAT
    skin = (y >= back) & (y < back + SKIN_MM)
    labels[np.broadcast_to(skin, labels.shape)] = Label.SKIN


def build_spine(top: str = "T10", bottom: str = "L5",
                spacing_mm: float = FIELD_SPACING_MM) -> Spine:
    """Assemble the levels ``top``..``bottom`` with discs, thecal sac and skin.

    Raises ``ValueError`` naming the valid levels for an unknown level, or when ``top`` is
    caudal to ``bottom``.
    """
    levels = level_range(top, bottom)
    _check_spacing(spacing_mm)
    placed = level_transforms()
    vertebrae = {}
    for lv in levels:
        v = build_vertebra(lv, spacing_mm)
        v.transform = placed[lv]
        vertebrae[lv] = v
    discs, nuclei = [], []
    for up, lo in zip(levels, levels[1:]):
        disc, nucleus = _disc(morphometry(up), morphometry(lo))
        t = placed[up] @ disc_frame(morphometry(up))
        # Discs are smooth and carry no fine detail: a coarser field keeps them light.
        discs.append(Part(f"disc {up}-{lo}", "disc", up, disc, t, max(spacing_mm, 1.25)))
        nuclei.append(Part(f"nucleus {up}-{lo}", "nucleus", up, nucleus, t, spacing_mm))
    cord = Part("cord", "cord", None, _thecal_sac(levels, placed), np.eye(4), spacing_mm)
    skin = Part("skin", "skin", None, _torso(vertebrae), np.eye(4), 4.0)
    ligaments = [Part(f"ligaments {up}-{lo}", "ligament", up, _ligaments(vertebrae[up], vertebrae[lo]),
                      np.eye(4), max(spacing_mm, 1.0)) for up, lo in zip(levels, levels[1:])]
    return Spine(levels, vertebrae, discs, nuclei, cord, skin, ligaments=ligaments)


#: Ligamentum flavum thickness, mm (a few millimetres in the adult lumbar spine, thickest there:
#: Gray's Anatomy, 41st ed. 2016, ligaments of the vertebral arches), and how far it reaches past
#: the canal's edges toward the facet joints on each side (a modelling choice).
LIGAMENTUM_FLAVUM_MM = 3.5
FLAVUM_PAST_CANAL_MM = 4.0
#: Interspinous ligament thickness across, mm (a thin sagittal sheet between the processes).
INTERSPINOUS_MM = 3.0


def _ligaments(upper: Vertebra, lower: Vertebra) -> Shape:
    """The ligamentum flavum between two laminae and the interspinous ligament between the
    two spinous processes: the soft roof of the canal between the bony arches."""

    def patient(v: Vertebra, point: np.ndarray) -> np.ndarray:
        return v.transform[:3, :3] @ point + v.transform[:3, 3]

    a_low, a_mid = patient(upper, upper.landmarks.lamina_bottom_mm), patient(upper, upper.landmarks.spinous_mid_mm)
    b_top, b_mid = patient(lower, lower.landmarks.lamina_top_mm), patient(lower, lower.landmarks.spinous_mid_mm)
    width = min(upper.morphometry.canal_width_mm, lower.morphometry.canal_width_mm) + 2 * FLAVUM_PAST_CANAL_MM
    flavum = Rod(a_low, b_top, (width, width), (LIGAMENTUM_FLAVUM_MM, LIGAMENTUM_FLAVUM_MM),
                 side=[1.0, 0.0, 0.0])
    tall = float(np.linalg.norm((a_low - a_mid)[1:])) + 4.0
    interspinous = Rod(0.5 * (a_low + a_mid), 0.5 * (b_top + b_mid), (INTERSPINOUS_MM, INTERSPINOUS_MM),
                       (tall, tall), side=[1.0, 0.0, 0.0])
    return Union([flavum, interspinous])


def _thecal_sac(levels: list[str], placed: dict[str, np.ndarray]) -> Shape:
    """Thecal sac as a chain of round cones through the canal centres, one level beyond."""
    i0, i1 = LEVELS.index(levels[0]), LEVELS.index(levels[-1])
    span = LEVELS[max(i0 - 1, 0): min(i1 + 2, len(LEVELS))]
    pts, radii = [], []
    for lv in span:
        m = morphometry(lv)
        c = np.array([0.0, -m.endplate_depth_mm / 2 - m.canal_depth_mm / 2, 0.0])
        pts.append(placed[lv][:3, :3] @ c + placed[lv][:3, 3])
        radii.append(0.42 * min(m.canal_width_mm, m.canal_depth_mm))
    # Trim to half a level beyond the built range so the sac ends just past the bones.
    first = 1 if span[0] != levels[0] else 0
    last = len(span) - 2 if span[-1] != levels[-1] else len(span) - 1
    a = pts[first] + 0.5 * (pts[first - 1] - pts[first]) if first else pts[0]
    b = pts[last] + 0.5 * (pts[last + 1] - pts[last]) if last < len(span) - 1 else pts[-1]
    chain = [a] + pts[first:last + 1] + [b]
    rad = [radii[first]] + radii[first:last + 1] + [radii[last]]
    cones = [RoundCone(p, q, r1, r2) for p, q, r1, r2 in zip(chain, chain[1:], rad, rad[1:])
             if np.linalg.norm(q - p) > 1e-6]
    return Union(cones)


def _torso(vertebrae: dict[str, Vertebra]) -> TorsoShape:
    tips = np.array([v.transform[:3, :3] @ v.landmarks.spinous_tip_mm + v.transform[:3, 3]
                     for v in vertebrae.values()])
    order = np.argsort(tips[:, 2])
    z = tips[order, 2]
    back = tips[order, 1] - SKIN_TO_SPINOUS_MM
    # Smooth the back line a little so the skin does not follow every process.
    if len(back) >= 3:
        back = np.convolve(np.pad(back, 1, mode="edge"), np.ones(3) / 3, mode="valid")
    lo, hi = zip(*(v.patient_bounds() for v in vertebrae.values()))
    zr = (float(np.min(np.array(lo)[:, 2])) - 60.0, float(np.max(np.array(hi)[:, 2])) + 60.0)
    return TorsoShape(back, z, z_range_mm=zr)
