"""Simulated mobile C-arm fluoroscopy: geometry, line integrals, needle, cement, display.

Engine code: numpy and scipy only, no UI. Start with :class:`CArm` (pose and detector),
:func:`line_integrals` (anatomy), :func:`needle_line_integrals` and
:func:`mask_line_integrals` (instruments), :func:`radiograph` (one display frame) and
:class:`Fluoroscope` (the same, reusing the anatomy projection while the pose is unchanged).
Conventions are in :mod:`vp3d.fluoro.carm`; attenuation values and their sources in
:mod:`vp3d.fluoro.materials`.
"""

from vp3d.fluoro.carm import CArm
from vp3d.fluoro.imaging import Display, Fluoroscope, Radiograph, radiograph
from vp3d.fluoro.materials import CEMENT_MU_PER_MM, STEEL_MU_PER_MM
from vp3d.fluoro.needle import needle_line_integrals
from vp3d.fluoro.projector import line_integrals, mask_line_integrals

__all__ = [
    "CArm",
    "CEMENT_MU_PER_MM",
    "Display",
    "Fluoroscope",
    "Radiograph",
    "STEEL_MU_PER_MM",
    "line_integrals",
    "mask_line_integrals",
    "needle_line_integrals",
    "radiograph",
]
