"""One vertebra as a signed-distance shape built from its morphometry row.

Local frame: origin at the centre of the vertebral body, +x the patient's right, +y
anterior, +z cranial along the body's axis. The posterior arch is placed from the table:
the pedicles' medial walls bound the canal (interpedicular width), their axes follow the
published transverse and sagittal angles, the laminae close the canal at its published
depth, and the spinous and transverse processes reach their published lengths.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vp3d.anatomy.body import VertebralBody
from vp3d.anatomy.alignment import lower_in_upper
from vp3d.anatomy.morphometry import LEVELS, LevelMorphometry, morphometry
from vp3d.geometry.sdf import Rod, Shape, Subtract, Union, _unit

#: Facet joint space between the articular surfaces, mm (cartilage and synovial gap;
#: about 1-2 mm on CT in adults: Gellhorn et al., Nat Rev Rheumatol 2013;9:216-224).
FACET_GAP_MM = 1.2
#: Thickness of an articular process plate, mm.
FACET_PLATE_MM = 4.5
#: Smooth-union radius where processes join, mm (fillets, not anatomy).
JOIN_BLEND_MM = 2.0


@dataclass(frozen=True)
class Joint:
    """A facet joint: centre of the joint space and the unit normal of the lower
    vertebra's superior articular facet (pointing from it towards the partner)."""

    center_mm: np.ndarray
    normal: np.ndarray

    def moved(self, matrix: np.ndarray) -> "Joint":
        return Joint(matrix[:3, :3] @ self.center_mm + matrix[:3, 3], matrix[:3, :3] @ self.normal)


@dataclass
class Landmarks:
    """Named points of a vertebra in its local frame (mm); side index 0 = right, 1 = left."""

    pedicle_isthmus_mm: list[np.ndarray] = field(default_factory=list)
    pedicle_axis: list[np.ndarray] = field(default_factory=list)  # unit, pointing anteriorly
    pedicle_posterior_mm: list[np.ndarray] = field(default_factory=list)
    superior_joints: list[Joint] = field(default_factory=list)
    canal_center_mm: np.ndarray = field(default_factory=lambda: np.zeros(3))
    spinous_tip_mm: np.ndarray = field(default_factory=lambda: np.zeros(3))
    spinous_mid_mm: np.ndarray = field(default_factory=lambda: np.zeros(3))
    # The laminae's upper and lower edges on the midline, behind the canal (where the
    # ligamenta flava attach).
    lamina_top_mm: np.ndarray = field(default_factory=lambda: np.zeros(3))
    lamina_bottom_mm: np.ndarray = field(default_factory=lambda: np.zeros(3))
    # Basivertebral vein: from the foramen in the middle of the posterior wall into the body.
    basivertebral_vein_mm: tuple = ()
    #: The primitives the bone is the union of, each named by its anatomical part (see
    #: :data:`PART_KEYS`), for labelling the surface (``vp3d.anatomy.parts``).
    primitives: list["NamedPrimitive"] = field(default_factory=list)


#: Anatomical parts a vertebra's primitives belong to (``vp3d.anatomy.parts`` names them).
PART_KEYS = ("body", "pedicle", "lamina", "spinous", "transverse", "articular")


@dataclass(frozen=True)
class NamedPrimitive:
    """One primitive of a vertebra's union: its part, its side (0 right, 1 left, -1 midline)."""

    part: str
    side: int
    shape: Shape


SIDES = (1.0, -1.0)  # right (+x), left (-x)


def basivertebral_vein(marks: Landmarks) -> Rod:
    """The vein as a thin tapering tube (about 2.5 mm across at the foramen).

    The basivertebral veins drain the body through a foramen in the centre of its posterior
    wall into the anterior internal vertebral venous plexus (Gray's Anatomy, 41st ed.).
    """
    a, b = marks.basivertebral_vein_mm
    return Rod(a, b, (2.5, 1.5), (2.5, 1.5), side=[1.0, 0.0, 0.0])


def facet_inclination_deg(m: LevelMorphometry) -> float:
    """Facet plane angle to the transverse plane: about 60 deg thoracic, 90 deg lumbar.

    Panjabi et al., "Articular facets of the human spine", Spine 1993;18:1298-1310;
    T11-T12 are transitional.
    """
    return {"T11": 70.0, "T12": 80.0}.get(m.level, 60.0 if m.is_thoracic else 90.0)


def body_shape(m: LevelMorphometry) -> VertebralBody:
    """The body of one level (kidney-shaped lumbar, heart-shaped thoracic)."""
    return VertebralBody(
        width_mm=m.endplate_width_mm,
        depth_mm=m.endplate_depth_mm,
        anterior_height_mm=m.body_anterior_height_mm,
        posterior_height_mm=m.body_posterior_height_mm,
        posterior_concavity_mm=3.0 if not m.is_thoracic else 1.5,
        heart_taper=0.28 if m.is_thoracic else 0.0,
        waist_mm=1.0 if m.is_thoracic else 1.5,
        endplate_concavity_mm=1.0 if m.is_thoracic else 1.5,
    )


def pedicle_geometry(m: LevelMorphometry, side: float):
    """Isthmus centre, anterior-pointing unit axis and posterior end of one pedicle."""
    t, s = np.radians(m.pedicle_transverse_angle_deg), np.radians(m.pedicle_sagittal_angle_deg)
    axis = np.array([-side * np.sin(t) * np.cos(s), np.cos(t) * np.cos(s), -np.sin(s)])
    z = m.body_posterior_height_mm / 2 - m.pedicle_height_mm / 2 - 1.0
    isthmus = np.array([side * (m.canal_width_mm + m.pedicle_width_mm) / 2,
                        -m.endplate_depth_mm / 2 - 0.4 * m.canal_depth_mm, z])
    back = 0.45 * m.canal_depth_mm / axis[1]
    return isthmus, axis, isthmus - back * axis


def superior_joint(m: LevelMorphometry, side: float) -> Joint:
    """Joint centre and facet normal of this level's superior articular process."""
    _, _, post = pedicle_geometry(m, side)
    beta = np.radians(m.facet_angle_deg)
    gamma = np.radians(facet_inclination_deg(m))
    horizontal = np.array([-side * np.cos(beta), -np.sin(beta)])
    normal = np.array([*(horizontal * np.sin(gamma)), np.cos(gamma)])
    lift = 8.0 if not m.is_thoracic else 4.5
    center = np.array([post[0] + side * 1.5, post[1] - 2.0, m.body_posterior_height_mm / 2 + lift])
    return Joint(center, _unit(normal))


def _facet_plate(joint: Joint, towards: float, m: LevelMorphometry) -> Rod:
    """Articular process on one side of a joint (``towards`` -1: SAP, +1: IAP).

    A rounded pad whose broad face is the articular surface, facing the partner across the
    joint space, and which narrows away from the joint where it merges with the arch.
    """
    n = joint.normal * towards  # from the joint into this process
    up = _unit(np.array([0.0, 0.0, 1.0]) - n[2] * n)
    along = np.cross(n, up)
    thick = FACET_PLATE_MM if m.is_thoracic else FACET_PLATE_MM + 2.5
    half_h = 7.5 if not m.is_thoracic else 5.5
    half_w = 7.0 if not m.is_thoracic else 5.5
    cap = 1.5
    face = joint.center_mm + n * (FACET_GAP_MM / 2 + cap)
    back = face + n * (thick - 2 * cap)
    return Rod(face, back, (2 * half_w, 1.3 * half_w), (2 * half_h, 1.4 * half_h), side=along,
               cap_mm=cap)


#: How far a thoracic lamina leans back from its top edge, degrees, and how far below the
#: next lamina's top edge it reaches, mm: thoracic laminae are broad and overlap from above
#: like tiles (Gray's Anatomy, 41st ed. 2016, thoracic vertebrae); both figures are the
#: model's approximation of that description, not measurements.
SHINGLE_TILT_DEG = 20.0
SHINGLE_OVERLAP_MM = 3.0


def vertebra_shape(m: LevelMorphometry, lower_joints: list[Joint]) -> tuple[Shape, Landmarks]:
    """Signed-distance shape of one vertebra and its landmarks.

    ``lower_joints`` are the facet joints with the vertebra below (right, left), in this
    vertebra's frame; the inferior articular processes are built to meet them.
    """
    D, Cd, Cw = m.endplate_depth_mm, m.canal_depth_mm, m.canal_width_mm
    Hp = m.body_posterior_height_mm
    lumbar = not m.is_thoracic
    marks = Landmarks(canal_center_mm=np.array([0.0, -D / 2 - Cd / 2, 0.0]),
                      basivertebral_vein_mm=(np.array([0.0, -D / 2 - 1.0, 0.0]),
                                             np.array([0.0, -D / 2 + 0.3 * D, 0.0])))
    lamina_t = 6.0 if lumbar else 5.0
    lamina_h = 0.65 * Hp
    z_lam = Hp / 2 - 3.0 - lamina_h / 2
    y_lam = -D / 2 - Cd - lamina_t / 2 + 0.5
    marks.lamina_top_mm = np.array([0.0, y_lam, z_lam + lamina_h / 2 - 1.5])
    marks.lamina_bottom_mm = np.array([0.0, y_lam, z_lam - lamina_h / 2 + 1.5])
    # Thoracic laminae are tiled like a roof: each reaches down behind the top of the one
    # below, its lower edge leaning back. Kept: the top edge; the plate turns back about it.
    # T12 meets L1's taller lumbar lamina with lumbar-type joints: it is not tiled over it.
    shingled = m.is_thoracic and m.level != "T12"
    tilt = np.radians(SHINGLE_TILT_DEG if shingled else 0.0)
    # Tops of successive laminae are a body and a disc apart; a tiled one reaches past that.
    shingle_h = (Hp + m.disc_height_mm + SHINGLE_OVERLAP_MM) / np.cos(tilt) if shingled else lamina_h
    lean = np.array([0.0, -np.sin(tilt), -np.cos(tilt)])  # from the top edge down the plate
    lam_shift = np.array([0.0, 0.0, lamina_h / 2]) + lean * shingle_h / 2  # plate centre - z_lam line
    if shingled:
        bottom = np.array([0.0, y_lam, z_lam + lamina_h / 2]) + lean * shingle_h
        marks.lamina_bottom_mm = bottom + np.array([0.0, lamina_t / 2, 1.5])  # its front face, low
    arch: list[Shape] = []

    def add(part: str, side: int, shape: Shape) -> Shape:
        arch.append(shape)
        marks.primitives.append(NamedPrimitive(part, side, shape))
        return shape

    for k, side in enumerate(SIDES):
        isthmus, axis, post = pedicle_geometry(m, side)
        marks.pedicle_isthmus_mm.append(isthmus)
        marks.pedicle_axis.append(axis)
        marks.pedicle_posterior_mm.append(post)
        front = isthmus + axis * (0.4 * Cd + 7.0)
        pw, ph = m.pedicle_width_mm, m.pedicle_height_mm
        add("pedicle", k, Rod(post - axis * 2.0, front, (pw, pw), (ph, ph), side=[1.0, 0.0, 0.0]))
        # Articular pillar (pars) joining pedicle, lamina and the articular processes.
        pillar_lo = np.array([post[0], post[1] - 1.0, z_lam + 1.0])
        pillar_hi = np.array([post[0], post[1] - 1.0, isthmus[2] + ph / 2 - 1.0])
        # The pars interarticularis, counted with the lamina.
        add("lamina", k, Rod(pillar_lo, pillar_hi, (pw + 2.0, pw + 1.0), (8.0, 8.0), side=[1, 0, 0]))
        # Lamina: from the pillar to the midline behind the canal.
        lam_out = np.array([post[0] * 0.9, post[1] - 1.5, z_lam]) + lam_shift
        lam_mid = np.array([0.0, y_lam, z_lam]) + lam_shift
        add("lamina", k, Rod(lam_out, lam_mid, (lamina_t, lamina_t), (shingle_h, shingle_h),
                             side=np.cross(-lean, lam_mid - lam_out), cap_mm=lamina_t / 2))
        # Transverse process: lateral (lumbar) or posterolateral and up (thoracic).
        half_span = m.transverse_process_span_mm / 2
        reach = half_span - abs(post[0])
        if lumbar:
            tip = np.array([side * (half_span - 2.0), post[1] + 2.0, isthmus[2]])
            add("transverse", k, Rod([post[0], post[1], isthmus[2]], tip, (5.0, 3.5), (11.0, 7.0),
                                     side=[0, 1.0, 0]))
        else:
            tip = np.array([side * (half_span - 4.0), post[1] - 0.45 * reach, isthmus[2] + 3.0])
            add("transverse", k, Rod([post[0], post[1], isthmus[2]], tip, (7.0, 8.0), (10.0, 10.0),
                                     side=[0, 1.0, 0]))
        # Superior articular process: plate on the lower side of the joint above.
        joint = superior_joint(m, side)
        marks.superior_joints.append(joint)
        sap = _facet_plate(joint, -1.0, m)
        add("articular", k, sap)
        # Connectors end behind their plate (away from the joint) so they never cross it.
        add("articular", k, Rod(pillar_hi + [0, 0, -2.0], sap.b,
                                (6.0, 5.0), (8.0, 8.0), side=[1, 0, 0]))
        # Inferior articular process: plate on the upper side of the joint below.
        iap = _facet_plate(lower_joints[k], +1.0, m)
        add("articular", k, iap)
        root = np.array([post[0] * 0.75, post[1] - 2.5, z_lam - lamina_h / 2 + 4.0])
        add("articular", k, Rod(root, iap.b, (6.0, 5.0), (8.0, 8.0), side=[1, 0, 0]))

    # Spinous process: from the lamina junction, inclined caudally by the table's angle.
    psi = np.radians(m.spinous_process_inclination_deg)
    direction = np.array([0.0, -np.cos(psi), -np.sin(psi)])
    base = np.array([0.0, -D / 2 - Cd, z_lam + 0.1 * lamina_h])
    tip = base + direction * m.spinous_process_length_mm
    marks.spinous_tip_mm = tip
    marks.spinous_mid_mm = base + direction * (m.spinous_process_length_mm / 2)
    heights = (0.7 * Hp, 0.55 * Hp) if lumbar else (10.0, 7.0)
    cap = 3.5
    add("spinous", -1, Rod(base - direction * 3.0, tip - direction * cap, (5.0, 6.5), heights,
                           side=[1.0, 0, 0], cap_mm=cap))

    body = body_shape(m)
    marks.primitives.insert(0, NamedPrimitive("body", -1, body))
    bone: Shape = Union([body, Union(arch, JOIN_BLEND_MM)], JOIN_BLEND_MM)
    bone = Subtract(bone, _rib_facets(m, body))
    canal = Rod([0.0, -D / 2 - Cd / 2, -80.0], [0.0, -D / 2 - Cd / 2, 80.0], (Cw, Cw), (Cd, Cd),
                side=[1.0, 0, 0], cap_mm=1.0)
    return Subtract(bone, canal), marks


def _rib_facets(m: LevelMorphometry, body: VertebralBody) -> Shape:
    """Shallow dimples where the ribs articulate (costal facets) on thoracic bodies."""
    from vp3d.geometry.sdf import Ellipsoid

    if not m.is_thoracic:
        return Ellipsoid([0.0, 0.0, 500.0], [1.0, 1.0, 1.0])  # nothing to cut
    n = m.index + 1  # T1 -> 1
    half = min(m.body_anterior_height_mm, m.body_posterior_height_mm) / 2
    zs = []
    if n <= 10:
        zs.append(half - 2.0)  # superior (demi)facet
    if n <= 9:
        zs.append(-half + 2.0)  # inferior demifacet
    if n >= 11:
        zs.append(0.0)  # single full facet on T11, T12
    radius, depth = 4.0, 1.2
    cuts = []
    for side in SIDES:
        y = -m.endplate_depth_mm / 2 + 0.3 * m.endplate_depth_mm
        for z in zs:
            direction = _unit([side, -0.35, 0.0])
            start = np.array([side * body.semi_x * 0.4, y, z])
            ts = np.arange(0.0, 40.0, 0.25)
            pts = start + ts[:, None] * direction
            d = body.distance(pts)
            t_hit = ts[np.argmax(d >= radius - depth)]
            cuts.append(Ellipsoid(start + t_hit * direction, [radius] * 3))
    return Union(cuts)


def lower_joints(level: str) -> list[Joint]:
    """The facet joints with the level below, in ``level``'s frame (L5: a virtual S1 like L5)."""
    m = morphometry(level)
    i = LEVELS.index(level)
    below = morphometry(LEVELS[i + 1]) if i + 1 < len(LEVELS) else m
    to_upper = lower_in_upper(m, below)
    return [superior_joint(below, side).moved(to_upper) for side in SIDES]
