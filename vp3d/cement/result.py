"""The outcome of one simulated injection: arrival order of every cement voxel and its leaks.

Everything is computed once by :func:`vp3d.cement.simulate_injection`; any fill level is then a
prefix of the arrival order, so masks, meshes, projections and leak reports for any volume up
to the total are answered without simulating again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyvista as pv
from scipy import ndimage

from vp3d.anatomy import attenuation
from vp3d.anatomy.volume import Volume

#: Gaussian smoothing (voxels) of the mask before contouring, and the contour level. A level
#: below 0.5 keeps one-voxel-thick leak sheets and fingers (a line of voxels peaks at 0.47
#: after the smoothing) on the surface.
MESH_SMOOTHING_VOXELS = 0.5
MESH_LEVEL = 0.4
#: Taubin smoothing of the contour (iterations, pass band): removes the voxel terraces where the
#: cement lies against a curved endplate without shrinking it (volume changes < 1 %).
MESH_TAUBIN = (30, 0.05)
_MESH_CACHE = 8


@dataclass(frozen=True)
class Leak:
    """Cement that left the vertebral body along one route.

    Attributes
    ----------
    kind : str
        ``"venous"`` (basivertebral vein into the anterior epidural venous plexus),
        ``"disc"`` (through a broken endplate into the disc), ``"epidural/canal"`` (through a
        posterior-wall defect), ``"paravertebral"`` (through another cortical defect) or
        ``"venous/paravertebral"`` (overfilled body: out through the segmental veins at the
        anterolateral cortex).
    volume_ml : float
        Cement outside the body along this route at the fill level asked for.
    first_ml : float
        Injected volume at which the first cement took this route.
    yeom_type : str
        Yeom et al., J Bone Joint Surg Br 2003;85:83-89: ``"B"`` basivertebral vein,
        ``"S"`` segmental vein, ``"C"`` cortical defect (disc leaks through an endplate defect
        are type C there; later series call them type D).
    route : str
        Where the cement went, in words for the student.
    side : str
        ``"superior"``/``"inferior"`` for disc leaks, ``"right"``/``"left"`` for lateral ones,
        ``"midline"`` otherwise.
    entry_mm : tuple of float
        Patient-frame point (x, y, z) where the cement left the trabecular bone.
    """

    kind: str
    volume_ml: float
    first_ml: float
    yeom_type: str
    route: str
    side: str
    entry_mm: tuple[float, float, float]

    def __repr__(self) -> str:
        return (f"Leak(kind={self.kind!r}, volume_ml={self.volume_ml:.3f}, first_ml={self.first_ml:.3f}, "
                f"yeom_type={self.yeom_type!r}, side={self.side!r})")


@dataclass(frozen=True)
class _LeakInfo:
    kind: str
    yeom_type: str
    route: str
    side: str
    entry_mm: np.ndarray


class CementResult:
    """Arrival order of the cement voxels of one injection, and where it leaked.

    Do not build directly: :func:`vp3d.cement.simulate_injection` returns it.

    Attributes
    ----------
    volume : vp3d.anatomy.volume.Volume
        The grid the cement lives on (not copied).
    total_ml : float
        Volume simulated; every method accepts fill levels from 0 to this.
    order : numpy.ndarray
        int64 flat indices (C order) into the volume grid, in arrival order.
    leak_of : numpy.ndarray
        int16, per arrival: index into the leak routes, or -1 for cement inside the body.
    tips_mm : numpy.ndarray
        ``(n_needles, 3)`` cannula tips.
    viscosity_pa_s, stabilisation_mm : float
        Cement viscosity and the resulting viscous stabilisation length.
    """

    def __init__(self, volume: Volume, total_ml: float, order: np.ndarray, leak_of: np.ndarray,
                 leak_info: list[_LeakInfo], *, tips_mm: np.ndarray, viscosity_pa_s: float,
                 stabilisation_mm: float, seed: int, cavity_ml: float) -> None:
        self.volume = volume
        self.total_ml = float(total_ml)
        self.order = np.asarray(order, dtype=np.int64)
        self.leak_of = np.asarray(leak_of, dtype=np.int16)
        self._leak_info = list(leak_info)
        self.tips_mm = np.asarray(tips_mm, dtype=float).reshape(-1, 3)
        self.viscosity_pa_s = float(viscosity_pa_s)
        self.stabilisation_mm = float(stabilisation_mm)
        self.seed = int(seed)
        self.cavity_ml = float(cavity_ml)
        self.voxel_ml = volume.voxel_volume_mm3 / 1000.0
        self._first = np.full(len(self._leak_info), -1, dtype=np.int64)
        for j in range(len(self._leak_info)):
            hits = np.flatnonzero(self.leak_of == j)
            if hits.size:
                self._first[j] = hits[0]
        self._mesh_cache: dict[int, pv.PolyData] = {}

    # -- fill levels --------------------------------------------------------------------------
    def _count(self, ml: float) -> int:
        try:
            value = float(ml)
        except (TypeError, ValueError):
            raise ValueError(f"ml must be a number between 0 and {self.total_ml:g} mL, got {ml!r}") from None
        if not (math.isfinite(value) and -1e-9 <= value <= self.total_ml + 1e-9):
            raise ValueError(f"ml must be between 0 and {self.total_ml:g} mL (the simulated volume), got {ml!r}")
        return min(int(round(max(value, 0.0) / self.voxel_ml)), self.order.size)

    def volume_ml(self, ml: float | None = None) -> float:
        """Cement volume represented by the voxels at fill level ``ml`` (default: all of it)."""
        n = self.order.size if ml is None else self._count(ml)
        return n * self.voxel_ml

    def mask_at(self, ml: float) -> np.ndarray:
        """Boolean mask on the volume grid of the cement after ``ml`` mL were injected."""
        n = self._count(ml)
        mask = np.zeros(self.volume.shape, dtype=bool)
        mask.reshape(-1)[self.order[:n]] = True
        return mask

    def rank_volume(self) -> np.ndarray:
        """int32 arrival rank per voxel of the whole grid, -1 where cement never arrives.

        ``rank_volume() < n`` is the mask after ``n`` voxels. This allocates a full-size int32
        array: prefer :meth:`mask_at` or :meth:`crop_at` for single levels.
        """
        rank = np.full(self.volume.shape, -1, dtype=np.int32)
        rank.reshape(-1)[self.order] = np.arange(self.order.size, dtype=np.int32)
        return rank

    def crop_at(self, ml: float, pad: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """The mask at ``ml`` cut to its bounding box plus ``pad`` voxels.

        Returns
        -------
        mask : numpy.ndarray
            bool, the cropped mask (shape ``(0, 0, 0)`` when empty).
        low : numpy.ndarray
            int ``(3,)`` index of ``mask[0, 0, 0]`` in the volume grid (may be negative when
            ``pad`` reaches past the grid; the padding is then empty).
        """
        n = self._count(ml)
        if n == 0:
            return np.zeros((0, 0, 0), dtype=bool), np.zeros(3, dtype=int)
        idx = np.array(np.unravel_index(self.order[:n], self.volume.shape))
        low = idx.min(axis=1) - pad
        high = idx.max(axis=1) + pad + 1
        mask = np.zeros(tuple(high - low), dtype=bool)
        mask[tuple(idx - low[:, None])] = True
        return mask, low

    # -- leaks --------------------------------------------------------------------------------
    def leaks_at(self, ml: float) -> list[Leak]:
        """Leaks that had started by fill level ``ml``, with their volumes at that level."""
        n = self._count(ml)
        out = []
        counts = np.bincount(self.leak_of[:n][self.leak_of[:n] >= 0], minlength=len(self._leak_info))
        for j, info in enumerate(self._leak_info):
            if 0 <= self._first[j] < n:
                out.append(Leak(info.kind, float(counts[j] * self.voxel_ml),
                                float((self._first[j] + 1) * self.voxel_ml), info.yeom_type, info.route,
                                info.side, tuple(float(c) for c in info.entry_mm)))
        return out

    @property
    def leaks(self) -> list[Leak]:
        """Every leak of the whole injection (:meth:`leaks_at` ``total_ml``)."""
        return self.leaks_at(self.total_ml)

    def leak_mask_at(self, ml: float) -> np.ndarray:
        """Boolean mask of the cement outside the body (any leak) at fill level ``ml``."""
        n = self._count(ml)
        mask = np.zeros(self.volume.shape, dtype=bool)
        mask.reshape(-1)[self.order[:n][self.leak_of[:n] >= 0]] = True
        return mask

    # -- geometry and imaging -----------------------------------------------------------------
    def mesh_at(self, ml: float) -> pv.PolyData:
        """Closed surface of the cement at fill level ``ml``, patient millimetres.

        The mask is smoothed by a small Gaussian (:data:`MESH_SMOOTHING_VOXELS`), contoured
        with flying edges and Taubin-smoothed (:data:`MESH_TAUBIN`); an empty fill gives an
        empty ``PolyData``. The last few levels are cached (tens of ms each at 0.5 mm).
        """
        n = self._count(ml)
        if n in self._mesh_cache:
            return self._mesh_cache[n]
        if n == 0:
            return pv.PolyData()
        mask, low = self.crop_at(ml, pad=3)
        field = ndimage.gaussian_filter(mask.astype(np.float32), MESH_SMOOTHING_VOXELS, truncate=3.0)
        spacing = float(self.volume.spacing_mm)
        grid = pv.ImageData(dimensions=field.shape, spacing=(spacing,) * 3,
                            origin=tuple(self.volume.origin_mm + spacing * low))
        grid.point_data["cement"] = field.ravel(order="F")
        mesh = grid.contour([MESH_LEVEL], scalars="cement", method="flying_edges")
        mesh = mesh.clean().triangulate()
        if mesh.n_points:
            mesh = mesh.smooth_taubin(n_iter=MESH_TAUBIN[0], pass_band=MESH_TAUBIN[1])
        if "cement" in mesh.point_data:
            del mesh.point_data["cement"]
        if len(self._mesh_cache) >= _MESH_CACHE:
            self._mesh_cache.pop(next(iter(self._mesh_cache)))
        self._mesh_cache[n] = mesh
        return mesh

    def line_integrals(self, carm, ml: float, mu_per_mm: float | None = None) -> np.ndarray:
        """The cement's own line integrals for a C-arm pose at fill level ``ml``.

        Added to the anatomy's integrals by the fluoroscopy engine. Only the cement's bounding
        box is projected (``vp3d.fluoro.mask_line_integrals``), so growing cement stays cheap.
        ``mu_per_mm`` defaults to ``attenuation.cement_mu_per_mm()`` (PMMA with BaSO4).
        """
        from vp3d.fluoro import mask_line_integrals

        mu = attenuation.cement_mu_per_mm() if mu_per_mm is None else mu_per_mm
        mask, low = self.crop_at(ml)
        if mask.size == 0:
            mask, low = np.zeros((1, 1, 1), dtype=bool), np.zeros(3, dtype=int)
        spacing = float(self.volume.spacing_mm)
        grid = Volume(np.broadcast_to(np.float32(0.0), mask.shape), spacing,
                      self.volume.origin_mm + spacing * low)
        return mask_line_integrals(mask, grid, carm, mu)

    def __repr__(self) -> str:
        kinds = ", ".join(f"{lk.kind} {lk.volume_ml:.2f} mL from {lk.first_ml:.2f} mL" for lk in self.leaks)
        return (f"CementResult({self.volume_ml():.2f} mL, {self.order.size} voxels, "
                f"{self.viscosity_pa_s:g} Pa s, leaks: {kinds or 'none'})")
