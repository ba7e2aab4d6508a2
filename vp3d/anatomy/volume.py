"""A voxel volume of linear attenuation coefficients with tissue labels.

``mu_per_mm[i, j, k]`` is the value at ``origin_mm + spacing_mm * (i, j, k)`` in patient
RAS millimetres (+x right, +y anterior, +z cranial). Fluoroscopy integrates ``mu_per_mm``
along rays; the cement model spreads through voxels labelled trabecular bone.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np


class Label(IntEnum):
    """Tissue class of a voxel (stored as ``uint8`` in :attr:`Volume.labels`)."""

    AIR = 0
    SOFT_TISSUE = 1
    FAT = 2
    CORTICAL_BONE = 3
    TRABECULAR_BONE = 4
    DISC = 5
    CANAL = 6
    VEIN = 7  # basivertebral vein entering the posterior wall: a route for cement leaks
    CLEFT = 8  # fracture cleft / broken cortex: no longer a barrier to cement
    SKIN = 9
    MUSCLE = 10  # paraspinal muscles (erector spinae) and psoas
    LUNG = 11  # air-filled lung behind the pleura
    TRUNK_BONE = 12  # ribs, sacrum and iliac wings (thin cortex around marrow)
    BLOOD = 13  # aorta, inferior vena cava and heart
    ORGAN = 14  # liver, kidneys, stomach and bowel wall
    GAS = 15  # gas in the stomach and bowel
    LIGAMENT = 16  # ligamenta flava and interspinous ligaments
    CARTILAGE = 17  # costal cartilages
    TRUNK_MARROW = 18  # cancellous bone inside the sacrum's cortex


@dataclass
class Volume:
    """Attenuation volume on a regular grid.

    Parameters
    ----------
    mu_per_mm : numpy.ndarray
        Linear attenuation coefficients in 1/mm, shape ``(nx, ny, nz)``, float32.
    spacing_mm : float
        Isotropic voxel spacing in millimetres.
    origin_mm : numpy.ndarray
        Patient-frame position of voxel ``(0, 0, 0)``, shape ``(3,)``.
    labels : numpy.ndarray or None
        :class:`Label` per voxel, same shape as ``mu_per_mm``, uint8.
    surround : Volume or None
        Coarser volume of the body around this box, so that rays through the whole trunk see
        all of its tissue while the fine box stays small. Inside a band along the box's faces
        the two are blended (their weights sum to one) so no seam shows; ``labels`` are whole
        everywhere, and ``mu_per_mm`` is whole deeper than the band.
    """

    mu_per_mm: np.ndarray
    spacing_mm: float
    origin_mm: np.ndarray
    labels: np.ndarray | None = None
    surround: "Volume | None" = None

    def __post_init__(self) -> None:
        self.mu_per_mm = np.asarray(self.mu_per_mm, dtype=np.float32)
        self.origin_mm = np.asarray(self.origin_mm, dtype=float).reshape(3)
        if self.mu_per_mm.ndim != 3:
            raise ValueError(f"mu_per_mm must be 3-D, got shape {self.mu_per_mm.shape}")
        if not self.spacing_mm > 0:
            raise ValueError(f"spacing_mm must be > 0, got {self.spacing_mm}")
        if self.labels is not None:
            self.labels = np.asarray(self.labels, dtype=np.uint8)
            if self.labels.shape != self.mu_per_mm.shape:
                raise ValueError(
                    f"labels shape {self.labels.shape} differs from mu_per_mm shape "
                    f"{self.mu_per_mm.shape}"
                )

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.mu_per_mm.shape)  # type: ignore[return-value]

    @property
    def voxel_volume_mm3(self) -> float:
        return float(self.spacing_mm) ** 3

    @property
    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        """Lowest and highest voxel centres, each ``(3,)``."""
        upper = self.origin_mm + self.spacing_mm * (np.array(self.shape) - 1)
        return self.origin_mm.copy(), upper

    def axis_mm(self, axis: int) -> np.ndarray:
        """Voxel-centre coordinates along one axis (0 = x, 1 = y, 2 = z)."""
        return self.origin_mm[axis] + self.spacing_mm * np.arange(self.shape[axis])

    def points_mm(self, index: np.ndarray) -> np.ndarray:
        """Patient coordinates of integer voxel indices ``(..., 3)``."""
        return self.origin_mm + self.spacing_mm * np.asarray(index, dtype=float)
