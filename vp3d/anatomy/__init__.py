"""Morphometric spine model: signed-distance fields per part, meshes and density volume."""

from vp3d.anatomy.spine import (
    Part,
    Spine,
    Vertebra,
    build_spine,
    build_vertebra,
    level_transforms,
)
from vp3d.morphometry import LEVELS

__all__ = ["LEVELS", "Part", "Spine", "Vertebra", "build_spine", "build_vertebra", "level_transforms"]
