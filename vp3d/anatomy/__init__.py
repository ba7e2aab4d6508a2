"""Morphometric spine model: signed-distance fields per part, meshes and density volume.

The public names below load on first use, so that a light submodule (``morphometry``,
``attenuation``, ``volume``) can be imported without the spine and its VTK meshing.
"""

from importlib import import_module

_EXPORTS = {
    "Part": "spine", "Spine": "spine", "Vertebra": "spine", "build_spine": "spine",
    "build_vertebra": "spine", "level_transforms": "alignment", "PART_NAMES": "parts",
    "label_vertebra_points": "parts", "part_anchors": "parts", "LEVELS": "morphometry",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(import_module(f"vp3d.anatomy.{_EXPORTS[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'vp3d.anatomy' has no attribute {name!r}")
