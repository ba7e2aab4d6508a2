"""Bone cement injection for vertebroplasty and kyphoplasty.

:func:`simulate_injection` spreads cement from the cannula tip through trabecular bone once
(invasion percolation in a viscous stabilising gradient, :mod:`vp3d.cement.injection`; bone
permeability and cement viscosity with their sources in :mod:`vp3d.cement.bone`) and returns a
:class:`CementResult` holding the arrival order of every cement voxel, so every fill level up
to the total is answered at once: its mask, closed mesh, fluoroscopy line integrals and the
:class:`Leak` list (venous, disc, epidural/canal, paravertebral, venous/paravertebral, with
Yeom's B/S/C types).

Engine code: numpy, scipy and pyvista (meshes) only, no UI.
"""

from vp3d.cement.bone import DEFAULT_VISCOSITY_PA_S, VISCOSITY_RANGE_PA_S, stabilisation_length_mm
from vp3d.cement.injection import MAX_TOTAL_ML, ROUTES, CapacityError, simulate_injection, simulate_up_to
from vp3d.cement.result import CementResult, Leak

LEAK_KINDS = tuple(ROUTES)

__all__ = [
    "CapacityError",
    "simulate_up_to",
    "CementResult",
    "DEFAULT_VISCOSITY_PA_S",
    "LEAK_KINDS",
    "Leak",
    "MAX_TOTAL_ML",
    "ROUTES",
    "VISCOSITY_RANGE_PA_S",
    "simulate_injection",
    "stabilisation_length_mm",
]
