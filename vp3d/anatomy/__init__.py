"""Morphometric spine model: signed-distance fields per part, meshes and density volume."""

from vp3d.anatomy.spine import (
    Part,
    Spine,
    Vertebra,
    build_spine,
    build_vertebra,
    level_transforms,
)
from vp3d.anatomy.parts import PART_NAMES, label_vertebra_points, part_anchors
from vp3d.morphometry import LEVELS

__all__ = ["LEVELS", "PART_NAMES", "Part", "Spine", "Vertebra", "build_spine", "build_vertebra",
           "label_vertebra_points", "level_transforms", "part_anchors"]
