"""Anatomical parts of a vertebra's surface: which part each mesh point belongs to, and where
to pin each part's name.

A vertebra's bone is a union of primitives, each built for one part (``Landmarks.primitives``
of :func:`vp3d.anatomy.vertebra.vertebra_shape`). A surface point belongs to the part whose
primitive has the smallest signed distance there (the one it lies deepest in, or nearest to),
judged in the vertebra's undeformed local frame, so the labels of a fractured vertebra's mesh
are those of the intact one (same points, moved).

The articular pillar (pars interarticularis) is counted with the lamina, the short struts from
the arch to the articular plates with the articular processes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vp3d.anatomy.alignment import level_transforms
from vp3d.anatomy.vertebra import PART_KEYS

#: Plain clinical names of the parts, in the order of :data:`PART_KEYS` (the label values).
PART_NAMES: tuple[str, ...] = (
    "Vertebral body",
    "Pedicle",
    "Lamina",
    "Spinous process",
    "Transverse process",
    "Articular process (facet joint)",
)
#: Names of the soft parts shown beside the bone (their meshes are parts of their own).
DISC_NAME = "Intervertebral disc"
CORD_NAME = "Thecal sac (spinal cord, nerves)"
SIDE_NAMES = ("right", "left")

#: Direction (local frame, before the side's sign on x) in which each part's name is pinned:
#: the surface point straight out from the part's centre that way (anterolateral wall of the
#: body, lateral face of the pedicle, back of the lamina, side of the spinous process, tip of
#: the transverse process, upper lateral face of the superior articular process).
_ANCHOR_DIRECTIONS = {
    "body": (1.0, 0.7, 0.0),
    "pedicle": (1.0, 0.0, -0.35),
    "lamina": (0.35, -1.0, 0.0),
    "spinous": (1.0, -0.5, 0.0),
    "transverse": (1.0, 0.0, 0.15),
    "articular": (1.0, -0.3, 0.8),
}


@dataclass(frozen=True)
class Anchor:
    """Where to pin one part's name: a vertex of the labelled mesh (patient frame, mm)."""

    part: int  # index into PART_NAMES
    side: str  # "right" or "left" (midline parts have one anchor per side)
    index: int  # vertex index in the labelled points
    point_mm: np.ndarray

    @property
    def name(self) -> str:
        return PART_NAMES[self.part]


def placed_vertebra(level: str):
    """The vertebra of ``level`` placed in the patient frame every scene uses (L1 at the origin).

    Raises ``ValueError`` naming the valid levels when ``level`` is unknown.
    """
    from vp3d.anatomy.spine import build_vertebra

    vertebra = build_vertebra(level)
    vertebra.transform = level_transforms()[vertebra.level]
    return vertebra


def _vertebra(vertebra):
    if isinstance(vertebra, str):
        return placed_vertebra(vertebra)
    primitives = getattr(getattr(vertebra, "landmarks", None), "primitives", None)
    if not primitives:
        raise ValueError(f"expected a vertebra built by vp3d.anatomy (or a level name), got {vertebra!r}")
    return vertebra


def _points(points_patient) -> np.ndarray:
    points = np.asarray(points_patient, dtype=float)
    if points.ndim != 2 or points.shape[1] != 3:
        raise ValueError(f"points must be an (n, 3) array, got shape {points.shape}")
    if not np.isfinite(points).all():
        raise ValueError("points must be finite")
    return points


def _local(vertebra, points: np.ndarray) -> np.ndarray:
    return vertebra.local_points(points) if len(points) else points.copy()


def label_vertebra_points(vertebra, points_patient) -> np.ndarray:
    """Part of each point on a vertebra's surface, as indices into :data:`PART_NAMES`.

    ``vertebra`` is a :class:`vp3d.anatomy.Vertebra` (its ``transform`` maps local to patient,
    its deformation, if any, is undone) or a level name (placed as in every scene, see
    :func:`placed_vertebra`); ``points_patient`` is ``(n, 3)`` in the patient frame (mm).
    Raises ``ValueError`` for an unknown level or malformed points.

    Examples
    --------
    >>> import numpy as np
    >>> from vp3d.anatomy.parts import PART_NAMES, label_vertebra_points
    >>> [PART_NAMES[i] for i in label_vertebra_points("L1", np.array([[0.0, 0.0, 0.0]]))]
    ['Vertebral body']
    """
    vertebra = _vertebra(vertebra)
    points = _points(points_patient)
    return _labels_local(vertebra, _local(vertebra, points))


def _labels_local(vertebra, local: np.ndarray) -> np.ndarray:
    primitives = vertebra.landmarks.primitives
    if len(local) == 0:
        return np.zeros(0, dtype=np.int64)
    distances = np.stack([p.shape.distance(local) for p in primitives])
    owner = np.argmin(distances, axis=0)
    part_of = np.array([PART_KEYS.index(p.part) for p in primitives])
    return part_of[owner].astype(np.int64)


def point_sides(vertebra, points_patient) -> np.ndarray:
    """Side of each point: 0 right (local +x), 1 left."""
    vertebra = _vertebra(vertebra)
    local = _local(vertebra, _points(points_patient))
    return (local[:, 0] < 0).astype(np.int64)


def part_anchors(vertebra, points_patient, labels=None) -> list[Anchor]:
    """One anchor per part and side: the labelled point straight out from the part's centre in
    a direction that suits it (see ``_ANCHOR_DIRECTIONS``), in the order of :data:`PART_NAMES`.

    ``labels`` are those of :func:`label_vertebra_points` for the same points (computed when
    not given). A part with no point on a side has no anchor there.
    """
    vertebra = _vertebra(vertebra)
    points = _points(points_patient)
    local = _local(vertebra, points)
    labels = _labels_local(vertebra, local) if labels is None else np.asarray(labels)
    if labels.shape != (len(points),):
        raise ValueError(f"labels must have one value per point ({len(points)}), got {labels.shape}")
    sides = (local[:, 0] < 0).astype(np.int64)
    anchors = []
    for part, key in enumerate(PART_KEYS):
        for side, sign in enumerate((1.0, -1.0)):
            idx = np.flatnonzero((labels == part) & (sides == side))
            if len(idx) == 0:
                continue
            q = local[idx]
            direction = np.array(_ANCHOR_DIRECTIONS[key]) * [sign, 1.0, 1.0]
            direction /= np.linalg.norm(direction)
            offset = q - q.mean(axis=0)
            along = offset @ direction
            across = np.linalg.norm(offset - along[:, None] * direction, axis=1)
            best = idx[int(np.argmax(along - 0.7 * across))]
            anchors.append(Anchor(part, SIDE_NAMES[side], int(best), points[best].copy()))
    return anchors


def surface_anchor(points_patient, centre_mm, direction) -> int:
    """Index of the point straight out from ``centre_mm`` along ``direction`` (patient frame):
    where to pin the name of a part that is not bone (a disc, the thecal sac)."""
    points = _points(points_patient)
    if len(points) == 0:
        raise ValueError("no points to anchor on")
    direction = np.asarray(direction, dtype=float)
    direction = direction / np.linalg.norm(direction)
    offset = points - np.asarray(centre_mm, dtype=float)
    along = offset @ direction
    across = np.linalg.norm(offset - along[:, None] * direction, axis=1)
    return int(np.argmax(along - 0.7 * across))
