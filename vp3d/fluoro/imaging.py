"""From line integrals to the picture on a fluoroscopy monitor, and a per-pose cache.

Image chain: Beer-Lambert transmission ``exp(-L)``; automatic brightness control that sets
the tube output so the median pixel of a central measuring field receives
``photons_per_pixel`` quanta; image-intensifier vignetting (brightness falling toward the
rim); Poisson quantum noise (seeded; drawn as its normal approximation where a pixel
expects 30 quanta or more); logarithm; dynamic range compression (part of a broad blur of
the anatomy is taken away, as digital fluoroscopy chains do, so that bright lung fields and
dense pelvis keep their detail while ribs and edges keep their contrast); a window fitted to
the anatomy in the measuring field; display with dense things dark: soft tissue light, bone grey, steel and cement
darkest, black outside the circular field.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from vp3d.fluoro.carm import CArm
from vp3d.fluoro.materials import CEMENT_MU_PER_MM, STEEL_MU_PER_MM
from vp3d.fluoro.needle import needle_line_integrals
from vp3d.fluoro.projector import check_volume, line_integrals, mask_line_integrals
from vp3d.anatomy.volume import Volume

# Grey levels: the anatomy window spans ANATOMY_WHITE (least attenuating in-field pixel
# percentile) to ANATOMY_BLACK (most); attenuation beyond that, such as steel or cement,
# keeps darkening down to 0.
ANATOMY_WHITE = 230.0
ANATOMY_BLACK = 70.0
# Radius (fraction of the field radius) of the central zone that automatic brightness
# control and the auto-window measure.
MEASURING_FIELD = 0.7
# Below this many expected quanta a pixel gets exact Poisson noise; above, the normal
# approximation (mean N, variance N), which is 4x cheaper and indistinguishable there.
_EXACT_POISSON_BELOW = 30.0


@dataclass(frozen=True)
class Display:
    """Settings of the simulated image chain.

    Parameters
    ----------
    photons_per_pixel : float
        Quanta reaching the median in-field pixel (automatic brightness control), in
        [1, 1e7]; lower is noisier.
    vignetting : float
        Fractional brightness loss at the field rim, in [0, 0.9]; image intensifiers lose
        about a quarter.
    low_percentile, high_percentile : float
        Percentiles of in-field anatomy attenuation mapped to the lightest and darkest
        anatomy grey, with 0 <= low < high <= 100.
    range_compression : float
        Fraction of the broad (low-pass) anatomy taken away before the window, in [0, 0.9];
        0 shows the raw logarithm.
    """

    photons_per_pixel: float = 2000.0
    vignetting: float = 0.25
    low_percentile: float = 1.0
    high_percentile: float = 99.7
    range_compression: float = 0.7

    def __post_init__(self) -> None:
        checks = {
            "photons_per_pixel": (self.photons_per_pixel, 1.0, 1e7),
            "vignetting": (self.vignetting, 0.0, 0.9),
            "low_percentile": (self.low_percentile, 0.0, 100.0),
            "high_percentile": (self.high_percentile, 0.0, 100.0),
            "range_compression": (self.range_compression, 0.0, 0.9),
        }
        for name, (value, low, high) in checks.items():
            number = float(value) if isinstance(value, (int, float, np.integer, np.floating)) else math.nan
            if not (math.isfinite(number) and low <= number <= high):
                raise ValueError(f"{name} must be a finite number in [{low:g}, {high:g}], got {value!r}")
        if not self.low_percentile < self.high_percentile:
            raise ValueError(
                f"low_percentile ({self.low_percentile}) must be below high_percentile ({self.high_percentile})"
            )


@dataclass(frozen=True)
class Radiograph:
    """One fluoroscopy frame.

    Attributes
    ----------
    line_integrals : numpy.ndarray
        float32 ``(rows, cols)``: anatomy + needle + cement, noiseless, dimensionless.
    image : numpy.ndarray
        uint8 ``(rows, cols)`` display image (beam's-eye view, see :mod:`vp3d.fluoro.carm`).
    field_mask : numpy.ndarray
        bool ``(rows, cols)``: pixels inside the circular field.
    """

    line_integrals: np.ndarray
    image: np.ndarray
    field_mask: np.ndarray


@dataclass(frozen=True)
class _Pose:
    """Everything about one pose that does not change while the needle or cement moves."""

    anatomy: np.ndarray  # float32 line integrals, read-only
    log_vignetting: np.ndarray  # float32 log of the relative brightness, shared, read-only
    log_exposure: float  # log(photons at the reference) + reference line integral
    field_alpha: np.ndarray  # float32 in [0, 1], anti-aliased field edge
    field_mask: np.ndarray  # bool
    window: tuple[float, float]  # attenuation (log units) shown as ANATOMY_WHITE, ANATOMY_BLACK
    background: np.ndarray  # float32 broad anatomy taken away before the window, read-only


@lru_cache(maxsize=8)
def _field(rows: int, cols: int, vignetting: float) -> tuple[np.ndarray, ...]:
    """Circular-field geometry of a detector size (it scales with the field): mask,
    anti-aliased edge, log of the vignetting gain and the central measuring zone; read-only."""
    carm = CArm(rows=rows, cols=cols)
    radius = carm.field_radius_px()  # 1.0 at the field rim
    rim_px = 0.5 * min(rows, cols)
    field_alpha = np.clip((1.0 - radius) * rim_px + 0.5, 0.0, 1.0).astype(np.float32)
    log_gain = np.log(1.0 - vignetting * np.minimum(radius, 1.0) ** 2).astype(np.float32)
    arrays = (radius <= 1.0, field_alpha, log_gain, radius <= MEASURING_FIELD)
    for array in arrays:
        array.flags.writeable = False
    return arrays


def _prepare_pose(anatomy: np.ndarray, carm: CArm, display: Display) -> _Pose:
    """Fit automatic brightness and the display window to an anatomy projection."""
    field_mask, field_alpha, log_vignetting, measured = _field(carm.rows, carm.cols, display.vignetting)
    # Automatic brightness control and the window look, as the real ones do, at a central
    # measuring field, ignoring pixels where the ray barely meets the patient.
    if not measured.any():
        measured = np.ones_like(measured)
    values = anatomy[measured]
    values = values[values >= 0.5 * np.median(values)]
    reference = float(np.median(values)) if values.size else 0.0
    # Expected quanta: photons * vignetting * exp(-(L - reference)) = exp(log_vignetting + log_exposure - L).
    log_exposure = float(np.log(display.photons_per_pixel) + reference)
    # The window is fitted before range compression: it keeps its width (so local contrast is
    # unchanged) while the broad swings, lung to pelvis, shrink into it.
    background = _background(anatomy - log_vignetting, field_mask, measured, display.range_compression)
    shown = (anatomy - log_vignetting)[measured] - log_exposure
    shown = shown[anatomy[measured] >= 0.5 * reference] if reference > 0 else shown
    low, high = np.percentile(shown, [display.low_percentile, display.high_percentile])
    if not high > low:
        high = low + 1.0
    anatomy.flags.writeable = False  # callers hand over a fresh array; the cache shares it
    return _Pose(anatomy, log_vignetting, log_exposure, field_alpha, field_mask, (float(low), float(high)),
                 background)


#: Width (Gaussian sigma, as a fraction of the image's side) of the blur that range compression
#: takes part of away: broad enough to leave ribs, pedicles, needle and cement untouched.
_BACKGROUND_SIGMA = 0.08


def _background(log_attenuation: np.ndarray, field: np.ndarray, measured: np.ndarray,
                strength: float) -> np.ndarray:
    """``strength`` x (broad blur of the in-field attenuation - its median in the measuring
    field): zero on average where the window is measured, read-only float32."""
    from scipy import ndimage

    rows, cols = log_attenuation.shape
    if strength == 0.0:
        out = np.zeros((rows, cols), np.float32)
    else:
        # Blur a quarter-size copy (normalised by the field so the black outside does not
        # bleed in), then scale back up: a few milliseconds at 512 x 512.
        step = max(1, min(rows, cols) // 128)
        weight = field[::step, ::step].astype(np.float32)
        small = np.where(field, log_attenuation, 0.0)[::step, ::step].astype(np.float32)
        sigma = _BACKGROUND_SIGMA * min(rows, cols) / step
        blur = ndimage.gaussian_filter(small, sigma) / np.maximum(ndimage.gaussian_filter(weight, sigma), 1e-3)
        zoom = (rows / blur.shape[0], cols / blur.shape[1])
        full = ndimage.zoom(blur, zoom, order=1)[:rows, :cols]
        full = np.pad(full, ((0, rows - full.shape[0]), (0, cols - full.shape[1])), mode="edge")
        out = (strength * (full - np.median(full[measured]))).astype(np.float32)
    out.flags.writeable = False
    return out


def _compose(pose: _Pose, extra: np.ndarray | None, display: Display, noise_seed: int | None) -> Radiograph:
    """Turn line integrals into a display frame (noise, log, window, field)."""
    total = pose.anatomy if extra is None else pose.anatomy + extra
    log_quanta = (pose.log_vignetting + np.float32(pose.log_exposure)) - total  # log of expected quanta
    if noise_seed is None:
        shown = -log_quanta
    else:
        rng = np.random.default_rng(noise_seed)
        quanta = np.exp(log_quanta)
        noisy = quanta + np.sqrt(quanta) * rng.standard_normal(quanta.shape, dtype=np.float32)
        few = quanta < _EXACT_POISSON_BELOW
        if few.any():
            noisy[few] = rng.poisson(quanta[few])
        shown = -np.log(np.maximum(noisy, 0.5))
    shown = shown - pose.background
    low, high = pose.window
    grey = ANATOMY_WHITE - (ANATOMY_WHITE - ANATOMY_BLACK) / (high - low) * (shown - low)
    grey = np.clip(grey, 0.0, 255.0) * pose.field_alpha
    image = (grey + 0.5).astype(np.uint8)
    lines = np.array(total, dtype=np.float32, copy=True)
    return Radiograph(line_integrals=lines, image=image, field_mask=pose.field_mask.copy())


def _instrument_integrals(volume, carm, needle, cement, needle_mu, cement_mu) -> np.ndarray | None:
    """Sum of needle and cement line integrals, or None when there are neither."""
    extra = None
    needles = [] if needle is None else list(needle) if isinstance(needle, (list, tuple)) else [needle]
    for one in needles:  # one needle, or two for a bipedicular approach
        try:
            parts = (one.hub_mm, one.tip_mm, one.outer_diameter_mm, one.inner_diameter_mm)
        except AttributeError as error:
            raise ValueError(
                "needle must have hub_mm, tip_mm, outer_diameter_mm and inner_diameter_mm"
            ) from error
        lines = needle_line_integrals(carm, *parts, mu_per_mm=needle_mu)
        extra = lines if extra is None else extra + lines
    if cement is not None:
        cement_lines = mask_line_integrals(cement, volume, carm, cement_mu)
        extra = cement_lines if extra is None else extra + cement_lines
    return extra


def radiograph(
    volume: Volume,
    carm: CArm,
    needle=None,
    cement: np.ndarray | None = None,
    *,
    noise_seed: int | None = 0,
    display: Display | None = None,
    needle_mu_per_mm: float = STEEL_MU_PER_MM,
    cement_mu_per_mm: float = CEMENT_MU_PER_MM,
) -> Radiograph:
    """Simulate one fluoroscopy frame of the anatomy, the needle and the cement.

    Parameters
    ----------
    volume : vp3d.anatomy.volume.Volume
        Anatomy attenuation (1/mm).
    carm : CArm
        Pose and detector.
    needle : object, optional
        Anything with ``hub_mm``, ``tip_mm``, ``outer_diameter_mm`` and ``inner_diameter_mm``.
    cement : numpy.ndarray, optional
        bool mask of cement voxels on the volume grid.
    noise_seed : int or None
        Seed of the quantum noise; None for a noiseless image.
    display : Display, optional
        Image-chain settings.
    needle_mu_per_mm, cement_mu_per_mm : float
        Attenuation of the cannula and of the cement (1/mm).

    Returns
    -------
    Radiograph
    """
    display = Display() if display is None else display
    anatomy = line_integrals(volume, carm)
    pose = _prepare_pose(anatomy, carm, display)
    extra = _instrument_integrals(volume, carm, needle, cement, needle_mu_per_mm, cement_mu_per_mm)
    return _compose(pose, extra, display, noise_seed)


class Fluoroscope:
    """A C-arm looking at one volume, reusing the anatomy projection of recent poses.

    Moving the needle or growing the cement at an unchanged pose costs only their own
    integrals and the display step. Caches are keyed by the volume's identity and the pose;
    assign :attr:`volume` (or call :meth:`clear`) after changing the anatomy in place.

    Parameters
    ----------
    volume : vp3d.anatomy.volume.Volume
        Anatomy attenuation (1/mm).
    display : Display, optional
        Image-chain settings.
    max_poses : int
        How many poses to keep, in [1, 64] (each holds about 3 float32 images).
    needle_mu_per_mm, cement_mu_per_mm : float
        Attenuation of the cannula and of the cement (1/mm).
    """

    def __init__(
        self,
        volume: Volume,
        *,
        display: Display | None = None,
        max_poses: int = 8,
        needle_mu_per_mm: float = STEEL_MU_PER_MM,
        cement_mu_per_mm: float = CEMENT_MU_PER_MM,
    ) -> None:
        if isinstance(max_poses, bool) or not isinstance(max_poses, (int, np.integer)) or not 1 <= max_poses <= 64:
            raise ValueError(f"max_poses must be an integer in [1, 64], got {max_poses!r}")
        self.display = Display() if display is None else display
        self.max_poses = int(max_poses)
        self.needle_mu_per_mm = needle_mu_per_mm
        self.cement_mu_per_mm = cement_mu_per_mm
        self._poses: OrderedDict[tuple, _Pose] = OrderedDict()
        self._lock = threading.Lock()  # guards the cache; projections run outside it
        self.volume = volume

    @property
    def volume(self) -> Volume:
        """The anatomy; assigning a volume drops every cached projection."""
        return self._volume

    @volume.setter
    def volume(self, volume: Volume) -> None:
        check_volume(volume)
        self._volume = volume
        self.clear()

    def clear(self) -> None:
        """Forget cached projections (call after editing the volume in place)."""
        with self._lock:
            self._poses.clear()

    def _pose(self, carm: CArm) -> _Pose:
        volume, display = self._volume, self.display
        key = (id(volume), carm.key, display)
        with self._lock:
            pose = self._poses.get(key)
            if pose is not None:
                self._poses.move_to_end(key)
                return pose
        anatomy = line_integrals(volume, carm)
        pose = _prepare_pose(anatomy, carm, display)
        with self._lock:
            if volume is self._volume:
                self._poses[key] = pose
                while len(self._poses) > self.max_poses:
                    self._poses.popitem(last=False)
        return pose

    def anatomy_line_integrals(self, carm: CArm) -> np.ndarray:
        """Cached anatomy-only line integrals at this pose, float32 ``(rows, cols)``, read-only."""
        return self._pose(carm).anatomy

    def radiograph(
        self, carm: CArm, needle=None, cement: np.ndarray | None = None, *, noise_seed: int | None = 0
    ) -> Radiograph:
        """One frame at ``carm``; same arguments and result as :func:`radiograph`."""
        pose = self._pose(carm)
        extra = _instrument_integrals(self._volume, carm, needle, cement, self.needle_mu_per_mm, self.cement_mu_per_mm)
        return _compose(pose, extra, self.display, noise_seed)
