"""Mobile C-arm geometry: the X-ray source and every detector pixel in patient space.

Conventions (patient RAS millimetres: +x patient right, +y anterior, +z cranial)
---------------------------------------------------------------------------------
The patient lies prone. As on most mobile C-arms the tube is under the table, so at
``lao_deg = cranial_deg = 0`` (AP) the source is anterior, the detector posterior and the
beam runs anterior -> posterior (-y). The C-arm rotates about the patient's long axis:
``lao_deg > 0`` moves the detector toward the patient's left (as "LAO" names the detector
position in angiography), ``+90`` puts the detector on the patient's left (a left
lateral), ``-90`` on the patient's right. ``cranial_deg > 0`` then tilts the detector toward
the head. The source always sits opposite the detector through the isocentre.

Images are shown in the beam's-eye view: as seen from the source looking along the beam,
screen-up the projection of cranial (+z). The image is attached to the C-arm, so it turns
smoothly as the arm rotates. For AP this is the radiological convention (patient's right
on the viewer's left, head up); :meth:`CArm.lateral` puts the source on the patient's left
so that anterior is on the viewer's left, head up, as lateral spine films are read.
Pixel ``[row, col]``: ``row`` grows downward (caudal in AP), ``col`` rightward.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

SID_RANGE_MM = (100.0, 2000.0)
FIELD_RANGE_MM = (1.0, 500.0)
LAO_RANGE_DEG = (-180.0, 180.0)
CRANIAL_RANGE_DEG = (-90.0, 90.0)
PIXELS_RANGE = (1, 4096)


def _finite_in(name: str, value, low: float, high: float) -> float:
    """Return ``value`` as a float, or raise ValueError naming the closed range."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in [{low:g}, {high:g}], got {value!r}") from None
    if not (math.isfinite(number) and low <= number <= high):
        raise ValueError(f"{name} must be a finite number in [{low:g}, {high:g}], got {value!r}")
    return number


def _count_in(name: str, value, low: int, high: int) -> int:
    """Return ``value`` as an int, or raise ValueError (no floats, no bools)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer in [{low}, {high}], got {value!r}")
    if not low <= int(value) <= high:
        raise ValueError(f"{name} must be an integer in [{low}, {high}], got {value!r}")
    return int(value)


def point_mm(name: str, value) -> np.ndarray:
    """Return a finite patient-frame point as a read-only float64 ``(3,)`` array."""
    try:
        point = np.array(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be 3 finite numbers (mm), got {value!r}") from None
    if point.shape != (3,) or not np.all(np.isfinite(point)):
        raise ValueError(f"{name} must be 3 finite numbers (mm), got {value!r}")
    point.flags.writeable = False
    return point


@dataclass(frozen=True, eq=False)
class CArm:
    """Pose and imaging chain of a mobile C-arm (see the module docstring for conventions).

    Parameters
    ----------
    sid_mm : float
        Source-to-image (detector) distance, in [100, 2000] mm.
    sod_mm : float
        Source-to-isocentre distance, in (0, sid_mm) mm.
    isocenter_mm : array_like
        Centre of rotation in patient RAS mm, shape ``(3,)``.
    lao_deg : float
        Rotation about the patient's long axis in [-180, 180]: 0 AP, +90 detector on the
        patient's left, -90 detector on the patient's right.
    cranial_deg : float
        Tilt of the detector toward the head (+) or feet (-), in [-90, 90].
    field_mm : float
        Diameter of the circular field at the detector (image-intensifier size), in
        [1, 500] mm; it spans the shorter image side.
    rows, cols : int
        Image size in pixels, each in [1, 4096]; pixels are square.
    """

    sid_mm: float = 1000.0
    sod_mm: float = 620.0
    isocenter_mm: np.ndarray = field(default_factory=lambda: np.zeros(3))
    lao_deg: float = 0.0
    cranial_deg: float = 0.0
    field_mm: float = 230.0
    rows: int = 512
    cols: int = 512

    def __post_init__(self) -> None:
        sid = _finite_in("sid_mm", self.sid_mm, *SID_RANGE_MM)
        sod = _finite_in("sod_mm", self.sod_mm, 0.0, sid)
        if not 0.0 < sod < sid:
            raise ValueError(f"sod_mm must be a finite number in (0, sid_mm={sid:g}), got {self.sod_mm!r}")
        values = {
            "sid_mm": sid,
            "sod_mm": sod,
            "isocenter_mm": point_mm("isocenter_mm", self.isocenter_mm),
            "lao_deg": _finite_in("lao_deg", self.lao_deg, *LAO_RANGE_DEG),
            "cranial_deg": _finite_in("cranial_deg", self.cranial_deg, *CRANIAL_RANGE_DEG),
            "field_mm": _finite_in("field_mm", self.field_mm, *FIELD_RANGE_MM),
            "rows": _count_in("rows", self.rows, *PIXELS_RANGE),
            "cols": _count_in("cols", self.cols, *PIXELS_RANGE),
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)
        theta, phi = math.radians(values["lao_deg"]), math.radians(values["cranial_deg"])
        horizontal = np.array([-math.sin(theta), -math.cos(theta), 0.0])
        cranial = np.array([0.0, 0.0, 1.0])
        axes = np.stack(
            [
                math.cos(phi) * horizontal + math.sin(phi) * cranial,  # beam: source -> detector
                np.array([-math.cos(theta), math.sin(theta), 0.0]),  # screen right (col +)
                -math.sin(phi) * horizontal + math.cos(phi) * cranial,  # screen up (row -)
            ]
        )
        axes.flags.writeable = False
        object.__setattr__(self, "_axes", axes)

    # ------------------------------------------------------------------ presets
    @classmethod
    def ap(cls, isocenter_mm, **kwargs) -> CArm:
        """Anteroposterior view of a prone patient: tube under the table, beam anterior -> posterior."""
        return cls(isocenter_mm=isocenter_mm, lao_deg=0.0, cranial_deg=0.0, **kwargs)

    @classmethod
    def lateral(cls, isocenter_mm, **kwargs) -> CArm:
        """Lateral view with the source on the patient's left; shown anterior left, head up."""
        return cls(isocenter_mm=isocenter_mm, lao_deg=-90.0, cranial_deg=0.0, **kwargs)

    # ------------------------------------------------------------------ identity
    @property
    def key(self) -> tuple:
        """Hashable tuple of every parameter, for caches keyed by pose."""
        return (
            self.sid_mm,
            self.sod_mm,
            *map(float, self.isocenter_mm),
            self.lao_deg,
            self.cranial_deg,
            self.field_mm,
            self.rows,
            self.cols,
        )

    def __eq__(self, other) -> bool:
        return isinstance(other, CArm) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    # ------------------------------------------------------------------ geometry
    @property
    def beam_direction(self) -> np.ndarray:
        """Unit vector from the source toward the detector, ``(3,)``."""
        return self._axes[0]

    @property
    def right_direction(self) -> np.ndarray:
        """Unit vector along increasing column (screen right) on the detector, ``(3,)``."""
        return self._axes[1]

    @property
    def up_direction(self) -> np.ndarray:
        """Unit vector along decreasing row (screen up) on the detector, ``(3,)``."""
        return self._axes[2]

    @property
    def pixel_mm(self) -> float:
        """Detector pixel pitch in mm (the field spans the shorter image side)."""
        return self.field_mm / min(self.rows, self.cols)

    def source_mm(self) -> np.ndarray:
        """Focal spot position in patient mm, ``(3,)``."""
        return self.isocenter_mm - self.sod_mm * self.beam_direction

    def detector_center_mm(self) -> np.ndarray:
        """Centre of the detector face in patient mm, ``(3,)``."""
        return self.source_mm() + self.sid_mm * self.beam_direction

    def pixel_offsets_mm(self) -> tuple[np.ndarray, np.ndarray]:
        """In-plane offsets of pixel centres from the detector centre: ``(up (rows,), right (cols,))``."""
        pitch = self.pixel_mm
        up = ((self.rows - 1) / 2.0 - np.arange(self.rows)) * pitch
        right = (np.arange(self.cols) - (self.cols - 1) / 2.0) * pitch
        return up, right

    def pixel_centers_mm(self) -> np.ndarray:
        """Patient-frame positions of all pixel centres, ``(rows, cols, 3)``."""
        up, right = self.pixel_offsets_mm()
        return (
            self.detector_center_mm()
            + up[:, None, None] * self.up_direction
            + right[None, :, None] * self.right_direction
        )

    def field_radius_px(self) -> np.ndarray:
        """Distance of each pixel centre from the detector centre over the field radius, ``(rows, cols)``."""
        up, right = self.pixel_offsets_mm()
        return np.hypot(up[:, None], right[None, :]) / (0.5 * self.field_mm)

    def project_mm(self, points_mm) -> np.ndarray:
        """Fractional ``(row, col)`` where rays through ``points_mm (..., 3)`` meet the detector.

        Points at or behind the source plane give NaN.
        """
        points = np.asarray(points_mm, dtype=float)
        relative = points - self.source_mm()
        depth = relative @ self.beam_direction
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(depth > 0, self.sid_mm / depth, np.nan)
        right = (relative @ self.right_direction) * scale / self.pixel_mm
        up = (relative @ self.up_direction) * scale / self.pixel_mm
        return np.stack([(self.rows - 1) / 2.0 - up, (self.cols - 1) / 2.0 + right], axis=-1)
