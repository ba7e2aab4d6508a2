"""Where the fine box and its surround each hold whole attenuation values (outside the band
along the box's faces where the two blend)."""

from __future__ import annotations

import math

import numpy as np

from vp3d.anatomy.spine import BLEND_MM, SURROUND_SPACING_MM


def fine_core(volume) -> tuple[slice, slice, slice]:
    """Index slices of the fine voxels deeper than the blend band."""
    k = math.ceil((BLEND_MM + SURROUND_SPACING_MM / 2) / volume.spacing_mm)
    return tuple(slice(k, n - k) for n in volume.shape)


def surround_outside(volume) -> np.ndarray:
    """bool mask of the surround's voxels outside the fine box."""
    s = volume.surround
    lo, hi = volume.bounds_mm
    inside = [(s.axis_mm(a) > lo[a] - volume.spacing_mm) & (s.axis_mm(a) < hi[a] + volume.spacing_mm)
              for a in range(3)]
    return ~(inside[0][:, None, None] & inside[1][None, :, None] & inside[2][None, None, :])


def label_at(volume, point):
    """Label at a patient point: the fine box if it holds the point, else the trunk around it."""
    from vp3d.anatomy.volume import Label

    for vol in (volume, volume.surround):
        idx = np.round((np.asarray(point, float) - vol.origin_mm) / vol.spacing_mm).astype(int)
        if np.all(idx >= 0) and np.all(idx < np.array(vol.shape)):
            return Label(int(vol.labels[tuple(idx)]))
    raise AssertionError(f"{point} is outside the volume")
