"""Where the needle tip is: the tissue there, how deep in the body, past the front wall or not.

Pure functions of the model's spine and volume and a point or a needle line (patient mm).
"""

from __future__ import annotations

import numpy as np

from vp3d.anatomy.volume import Label
from vp3d.needle.path import Trajectory
from vp3d.practice.aim import line_depths

#: Each tissue label in words (a noun, as in "the tip is in fat").
TISSUE_WORDS = {
    Label.AIR: "air (outside the patient)", Label.SOFT_TISSUE: "soft tissue", Label.FAT: "fat",
    Label.CORTICAL_BONE: "cortical bone", Label.TRABECULAR_BONE: "trabecular bone",
    Label.DISC: "intervertebral disc", Label.CANAL: "spinal canal", Label.VEIN: "basivertebral vein",
    Label.CLEFT: "fracture cleft", Label.SKIN: "skin", Label.MUSCLE: "muscle",
    Label.LUNG: "lung, through the pleura", Label.TRUNK_BONE: "rib or pelvic bone",
    Label.BLOOD: "a great vessel (aorta or vena cava) or the heart",
    Label.ORGAN: "an organ (liver, kidney or bowel)", Label.GAS: "gas in the bowel",
    Label.LIGAMENT: "ligament between the laminae", Label.CARTILAGE: "costal cartilage",
    Label.TRUNK_MARROW: "sacrum"}
#: Words for a tip where the volume holds no labels (outside both of its boxes).
OUTSIDE_WORDS = "outside the imaged box"


def label_at(volume, point_mm) -> Label | None:
    """The tissue label at ``point_mm`` (the fine box, else the trunk around it), or None."""
    point = np.asarray(point_mm, float)
    for vol in (volume, getattr(volume, "surround", None)):
        if vol is None or vol.labels is None:
            continue
        idx = np.round((point - vol.origin_mm) / vol.spacing_mm).astype(int)
        if np.all(idx >= 0) and np.all(idx < np.array(vol.shape)):
            return Label(int(vol.labels[tuple(idx)]))
    return None


def tissue_words(label: Label | None) -> str:
    """The tissue of ``label`` as a noun ("fat"), or where the tip is when there is none."""
    if label is None:
        return OUTSIDE_WORDS
    return TISSUE_WORDS.get(label, "unknown tissue")


def tip_place(label: Label | None) -> str:
    """Where the tip is, as a phrase after "the tip is": "in fat", "outside the imaged box"."""
    return OUTSIDE_WORDS if label is None else f"in {tissue_words(label)}"


def body_depth_fraction(vertebra, point_mm) -> float:
    """Position front-to-back in ``vertebra``'s body: 0 posterior wall, 1 anterior wall."""
    inv = np.linalg.inv(vertebra.transform)
    local = inv[:3, :3] @ np.asarray(point_mm, float) + inv[:3, 3]
    depth = vertebra.morphometry.endplate_depth_mm
    return float((local[1] + depth / 2) / depth)


def front_wall_depth_mm(vertebra, trajectory: Trajectory, max_depth_mm: float) -> float | None:
    """Depth where the needle line leaves ``vertebra``'s body through its front wall, or None.

    The line's last stretch inside the body (the level's bone in front of the posterior
    wall) ends at the anterior or anterolateral cortex when that exit lies in the front half
    of the body and faces forwards rather than up or down (an exit through an endplate, into
    the disc, is not a front-wall exit).
    """
    v = vertebra
    inv = np.linalg.inv(v.transform)
    s = line_depths(max_depth_mm)
    points = trajectory.skin_entry_mm[None, :] + s[:, None] * trajectory.direction[None, :]
    local = points @ inv[:3, :3].T + inv[:3, 3]
    in_body = (v.distance_patient(points) < 0) & (local[:, 1] > -v.morphometry.endplate_depth_mm / 2)
    last = int(np.nonzero(in_body)[0][-1]) if in_body.any() else None
    if last is None or last + 1 >= len(s) or local[last, 1] <= 0:
        return None
    mid = 0.5 * (points[last] + points[last + 1])
    h = 0.5  # the surface normal from central differences of the bone's distance field
    grad = np.array([v.distance_patient(np.stack([mid + h * e, mid - h * e])) @ (1.0, -1.0)
                     for e in np.eye(3)])
    normal = inv[:3, :3] @ grad
    if normal[1] > 0 and abs(normal[2]) < max(abs(normal[0]), normal[1]):
        return float(0.5 * (s[last] + s[last + 1]))
    return None
