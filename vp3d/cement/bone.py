"""Trabecular bone as the cement sees it: permeability, its heterogeneity and anisotropy, and
the viscous stabilisation length that decides how round a fill is.

The flow model (:mod:`vp3d.cement.injection`) is invasion percolation in a stabilising
gradient. Each trabecular voxel has an entry resistance from a seeded, spatially correlated
log-normal permeability field; the cement also pays a viscous pressure loss that grows with the
distance it has travelled from the cannula tip. Which of the two dominates is one length,
:func:`stabilisation_length_mm`: the distance over which the viscous loss grows by one standard
deviation of the local entry resistances. Short (viscous "dough" cement) gives a compact, round
fill; long (runny cement) lets the heterogeneity of the bone choose the path, so the fill
fingers along the most permeable bone and reaches leak routes earlier.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

# --- Permeability of vertebral cancellous bone -------------------------------------------------
# Baroud G, Falk R, Crookshank M, Sponagel S, Steffen T. Experimental and theoretical
# investigation of directional permeability of human vertebral cancellous bone for cement
# infiltration. J Biomech 2004;37:189-196. Osteoporotic lumbar cores infiltrated with a silicone
# oil of PMMA-like viscosity (Darcy): superior-inferior 4.45 +/- 1.72 e-8 m^2 (n = 20),
# antero-posterior 3.44 +/- 1.26 e-8 m^2 (n = 14), i.e. AP about 78 % of SI.
BAROUD_SI_PERMEABILITY_M2 = 4.45e-8
BAROUD_SI_PERMEABILITY_SD_M2 = 1.72e-8
BAROUD_AP_PERMEABILITY_M2 = 3.44e-8
# Nauman EA, Fong KE, Keaveny TM. Dependence of intertrabecular permeability on flow direction
# and anatomic site. Ann Biomed Eng 1999;27:517-524. Human vertebral body (n = 20): permeability
# along the principal (superior-inferior) trabecular direction on average 2.05 times the
# transverse one; over all their sites 2.68e-11 to 2.00e-8 m^2.
NAUMAN_VERTEBRAL_ANISOTROPY = 2.05

#: Mean permeability used by default: Baroud's osteoporotic SI mean (vertebroplasty patients).
DEFAULT_PERMEABILITY_M2 = BAROUD_SI_PERMEABILITY_M2
#: Coefficient of variation of the permeability: Baroud's SD / mean (1.72 / 4.45). It is a
#: between-specimen spread, used here as the spread within one body (regional BV/TV differences
#: within a vertebra are of the same order).
DEFAULT_PERMEABILITY_CV = BAROUD_SI_PERMEABILITY_SD_M2 / BAROUD_SI_PERMEABILITY_M2
#: Superior-inferior / transverse permeability ratio (Nauman 1999). Baroud's 1 / 0.78 = 1.29 is
#: a milder value inside the accepted range.
DEFAULT_ANISOTROPY = NAUMAN_VERTEBRAL_ANISOTROPY
#: Correlation length of the heterogeneity, mm: a few trabecular spacings (Tb.Sp of
#: osteoporotic vertebral bone about 1-1.5 mm).
DEFAULT_CORRELATION_MM = 2.0

PERMEABILITY_RANGE_M2 = (1.0e-11, 1.0e-7)  # Nauman's lowest to above Baroud's highest
PERMEABILITY_CV_RANGE = (0.05, 1.5)
ANISOTROPY_RANGE = (1.0, 5.0)
CORRELATION_RANGE_MM = (0.5, 10.0)

# --- Cement viscosity ---------------------------------------------------------------------------
# PMMA cement thickens during its working time from a runny liquid (tens of Pa s) to a dough
# (hundreds to thousands of Pa s); "high-viscosity" vertebroplasty cements are injected in the
# dough phase (review: Lewis G, J Biomed Mater Res B 2011;98B:171-191). Higher viscosity gives a
# more uniform, compact fill and fewer leaks: Baroud G, Crookshank M, Bohner M, Spine
# 2006;31:2562-2568; Habib M, Serhan H, Marchek C, Baroud G, Int J Spine Surg 2010;4:26-33
# (leaked mass 4.0 +/- 1.2 g with low-viscosity cement injected early vs 0.92 +/- 0.6 g with
# high-viscosity cement injected later); a meta-analysis of clinical series found a risk ratio
# of 0.38 for any leak with high- vs low-viscosity cement (Medicine 2018, PMC5895344). The
# theory behind it: Bohner M, Gasser B, Baroud G, Heini P, Biomaterials 2003;24:2721-2730 (Darcy
# flow of PMMA into a porous structure); Trivedi Z et al., Biomech Model Mechanobiol
# 2023;22:1253-1266: a cement more viscous than the marrow it displaces advances with a stable,
# compact front (viscous stabilisation, Lenormand R, Touboul E, Zarcone C, J Fluid Mech
# 1988;189:165-187).
VISCOSITY_RANGE_PA_S = (5.0, 5000.0)
DEFAULT_VISCOSITY_PA_S = 100.0

#: Stabilisation length at the reference cement and bone below (calibrated, not measured: at
#: 100 Pa s a 3 mL fill is a rounded cloud with an irregular, interdigitating border; at 20 Pa s
#: it fingers; from about 500 Pa s it is nearly an ellipsoid).
REFERENCE_STABILISATION_MM = 5.0
REFERENCE_VISCOSITY_PA_S = DEFAULT_VISCOSITY_PA_S


def log_sd(cv: float) -> float:
    """Standard deviation of ln(k) of a log-normal permeability with coefficient of variation ``cv``."""
    return math.sqrt(math.log1p(cv * cv))


def stabilisation_length_mm(viscosity_pa_s: float, permeability_m2: float = DEFAULT_PERMEABILITY_M2,
                            permeability_cv: float = DEFAULT_PERMEABILITY_CV) -> float:
    """Distance (mm) over which the viscous pressure loss grows by one SD of the entry resistances.

    Darcy: the viscous loss per mm scales as ``viscosity / permeability``. The entry resistance
    of a pore scales as ``permeability ** -1/2`` (pore radius ~ sqrt(k)), so its spread scales as
    ``log_sd(cv) * permeability ** -1/2``. Their ratio, pinned to
    :data:`REFERENCE_STABILISATION_MM` at the reference cement and bone, is the length.
    """
    ratio_visc = REFERENCE_VISCOSITY_PA_S / viscosity_pa_s
    ratio_perm = math.sqrt(permeability_m2 / DEFAULT_PERMEABILITY_M2)
    ratio_spread = log_sd(permeability_cv) / log_sd(DEFAULT_PERMEABILITY_CV)
    return REFERENCE_STABILISATION_MM * ratio_visc * ratio_perm * ratio_spread


# --- Seeded heterogeneity -----------------------------------------------------------------------
_BLOCK = 16  # lattice nodes per noise block edge
_OFFSET = 1 << 20  # keeps block indices non-negative for the seed sequence
_SIGMA_NODES = 1.0  # Gaussian smoothing of the white noise, lattice nodes
_TRUNCATE = 4.0


def _kernel_norm() -> float:
    """Standard deviation of white noise after the 3-D Gaussian filter (for unit variance)."""
    radius = int(_TRUNCATE * _SIGMA_NODES + 0.5)
    x = np.arange(-radius, radius + 1, dtype=float)
    w = np.exp(-0.5 * (x / _SIGMA_NODES) ** 2)
    w /= w.sum()
    return float(np.sqrt(np.sum(w * w)) ** 3)


def heterogeneity(points_mm: np.ndarray, seed: int, correlation_mm: float) -> np.ndarray:
    """Standard-normal random field at patient-frame points, correlated over ``correlation_mm``.

    White noise lives on a lattice of spacing ``correlation_mm / 2`` anchored at the patient
    origin, drawn block by block from ``(seed, block index)``: the field at a point depends only
    on the seed, the correlation length and where the point is, not on the grid, the crop or the
    needle, so a student who moves the needle meets the same bone.

    Parameters
    ----------
    points_mm : numpy.ndarray
        ``(n, 3)`` patient coordinates.
    seed : int
        Non-negative seed.
    correlation_mm : float
        Correlation length of the field.

    Returns
    -------
    numpy.ndarray
        float64 ``(n,)``, mean 0 and variance 1 over the ensemble.
    """
    pts = np.asarray(points_mm, dtype=float).reshape(-1, 3)
    if pts.shape[0] == 0:
        return np.zeros(0)
    h = correlation_mm / 2.0
    margin = int(_TRUNCATE * _SIGMA_NODES + 0.5) + 2
    node_lo = np.floor(pts.min(axis=0) / h).astype(int) - margin
    node_hi = np.ceil(pts.max(axis=0) / h).astype(int) + margin
    block_lo = np.floor_divide(node_lo, _BLOCK)
    block_hi = np.floor_divide(node_hi, _BLOCK)
    counts = block_hi - block_lo + 1
    noise = np.empty(tuple(counts * _BLOCK), dtype=np.float32)
    for bi in range(counts[0]):
        for bj in range(counts[1]):
            for bk in range(counts[2]):
                key = [int(seed), *(int(b) + _OFFSET for b in block_lo + (bi, bj, bk))]
                rng = np.random.default_rng(key)
                noise[bi * _BLOCK:(bi + 1) * _BLOCK, bj * _BLOCK:(bj + 1) * _BLOCK,
                      bk * _BLOCK:(bk + 1) * _BLOCK] = rng.standard_normal((_BLOCK,) * 3, dtype=np.float32)
    first = block_lo * _BLOCK
    field = ndimage.gaussian_filter(noise, _SIGMA_NODES, truncate=_TRUNCATE, mode="nearest")
    field /= _kernel_norm()
    coords = (pts / h - first).T
    return ndimage.map_coordinates(field, coords, order=1, mode="nearest").astype(float)
