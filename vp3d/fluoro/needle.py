"""Exact line integrals through a straight hollow steel cannula, ray by ray.

The cannula is a tube between two flat ends: outer radius minus inner radius, from the hub
point to the tip point. A ray's chord through a finite solid cylinder is the overlap of
three parameter intervals: inside the infinite cylinder (a quadratic), between the two end
planes, and between the source and the pixel. The tube's chord is the outer cylinder's
minus the lumen's.
"""

from __future__ import annotations

import math

import numpy as np

from vp3d.fluoro.carm import CArm, point_mm
from vp3d.fluoro.materials import STEEL_MU_PER_MM
from vp3d.fluoro.projector import box_corners, pixel_window, ray_components_mm, ray_lengths_mm


def _positive(name: str, value, *, allow_zero: bool = False) -> float:
    number = float(value) if isinstance(value, (int, float, np.integer, np.floating)) else math.nan
    if not math.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    return number


def _cylinder_chord_fraction(
    along, across, ray_length_sq, offset_along, offset_across_sq, length_mm, radius_mm
) -> np.ndarray:
    """Fraction of each source-to-pixel segment inside a solid cylinder (see module docstring).

    ``along``/``across`` are the ray vector's dot products with the axis and with the
    source's offset from the axis; ``offset_along``/``offset_across_sq`` describe that offset.
    """
    # |w_perp + t d_perp|^2 = r^2  ->  a t^2 + 2 b t + c = 0
    tiny = 1e-12 * ray_length_sq
    a = np.maximum(ray_length_sq - along * along, tiny)
    b = across
    c = offset_across_sq - radius_mm * radius_mm
    disc = b * b - a * c
    root = np.sqrt(np.maximum(disc, 0.0))
    enter = (-b - root) / a
    leave = (-b + root) / a
    # 0 <= offset_along + t * along <= length
    safe_along = np.where(np.abs(along) > tiny, along, tiny)
    t_low = -offset_along / safe_along
    t_high = (length_mm - offset_along) / safe_along
    low = np.maximum(np.maximum(enter, np.minimum(t_low, t_high)), 0.0)
    high = np.minimum(np.minimum(leave, np.maximum(t_low, t_high)), 1.0)
    return np.where(disc > 0, np.maximum(high - low, 0.0), 0.0)


def needle_line_integrals(
    carm: CArm,
    hub_mm,
    tip_mm,
    outer_diameter_mm: float,
    inner_diameter_mm: float,
    mu_per_mm: float = STEEL_MU_PER_MM,
) -> np.ndarray:
    """Line integrals of a hollow steel cylinder (the cannula), exact per pixel ray.

    Parameters
    ----------
    carm : CArm
        Pose and detector.
    hub_mm, tip_mm : array_like
        Centres of the two end faces in patient mm, ``(3,)``; they must differ.
    outer_diameter_mm : float
        Outer diameter, > 0 (an 11 G vertebroplasty cannula is about 3.0 mm).
    inner_diameter_mm : float
        Lumen diameter, in [0, outer_diameter_mm); 0 for a solid rod (stylet inserted).
    mu_per_mm : float
        Linear attenuation, >= 0; default :data:`STEEL_MU_PER_MM`.

    Returns
    -------
    numpy.ndarray
        float32 ``(rows, cols)``, zero where rays miss the cannula.
    """
    hub = point_mm("hub_mm", hub_mm)
    tip = point_mm("tip_mm", tip_mm)
    outer = _positive("outer_diameter_mm", outer_diameter_mm) / 2.0
    inner = _positive("inner_diameter_mm", inner_diameter_mm, allow_zero=True) / 2.0
    if not inner < outer:
        raise ValueError(
            f"inner_diameter_mm must be in [0, outer_diameter_mm={2 * outer:g}), got {inner_diameter_mm!r}"
        )
    mu = _positive("mu_per_mm", mu_per_mm, allow_zero=True)
    length = float(np.linalg.norm(tip - hub))
    if not length > 0:
        raise ValueError("hub_mm and tip_mm must be different points")
    out = np.zeros((carm.rows, carm.cols), dtype=np.float32)
    if mu == 0:
        return out
    low, high = np.minimum(hub, tip) - outer, np.maximum(hub, tip) + outer
    corners = box_corners(low, high)
    window = pixel_window(carm, corners)
    if window is None:
        return out
    axis = (tip - hub) / length
    offset = carm.source_mm() - hub
    offset_along = float(offset @ axis)
    offset_across = offset - offset_along * axis
    # Dot products of each source->pixel vector with the axis and with offset_across are
    # affine in the pixel offsets: combine the three component arrays.
    x, y, z = ray_components_mm(carm, window, (0, 1, 2))
    along = x * axis[0] + y * axis[1] + z * axis[2]
    across = x * offset_across[0] + y * offset_across[1] + z * offset_across[2]
    ray_length = ray_lengths_mm(carm, window)
    args = (along, across, ray_length**2, offset_along, float(offset_across @ offset_across), length)
    fraction = _cylinder_chord_fraction(*args, outer)
    if inner > 0:
        fraction -= _cylinder_chord_fraction(*args, inner)
    row0, row1, col0, col1 = window
    out[row0:row1, col0:col1] = (fraction * ray_length * mu).astype(np.float32)
    return out
