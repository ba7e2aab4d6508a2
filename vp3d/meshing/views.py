"""The named views of an offscreen render: plain data, so the command line can list them
without loading VTK."""

from __future__ import annotations

#: View name -> (camera direction from the focal point towards the camera, view-up), patient
#: frame RAS (+x right, +y anterior, +z cranial).
RENDER_VIEWS: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "lateral": ((-1.0, 0.0, 0.0), (0.0, 0.0, 1.0)),  # from the patient's left
    "anterior": ((0.0, 1.0, 0.0), (0.0, 0.0, 1.0)),
    "posterior": ((0.0, -1.0, 0.0), (0.0, 0.0, 1.0)),
    "superior": ((0.0, 0.0, 1.0), (0.0, 1.0, 0.0)),  # looking down, anterior up
    "oblique": ((-0.55, -0.7, 0.45), (0.0, 0.0, 1.0)),  # from behind-left, above
}
