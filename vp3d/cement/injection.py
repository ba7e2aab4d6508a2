"""Cement spreading from the cannula tip: invasion percolation in a stabilising gradient.

Model
-----
The cement fills one voxel at a time, always the reachable voxel that is cheapest to enter
(invasion percolation; Wilkinson D, Willemsen JF, J Phys A 1983;16:3365-3376). A trabecular
voxel's price is

    entry resistance (standardised, from the seeded permeability field of
    :mod:`vp3d.cement.bone`)  +  rho / L

where ``rho`` is the distance from the tip (mm; the superior-inferior axis shrunk by the square
root of the permeability anisotropy, since Darcy isobars around a point source are ellipsoids
with axes ~ sqrt(k)) and ``L`` the stabilisation length of the cement
(:func:`vp3d.cement.bone.stabilisation_length_mm`). ``rho / L`` is the viscous pressure loss to
get there, in units of the spread of the entry resistances. Viscous cement (short ``L``) fills a
round, compact cloud; runny cement (long ``L``) fingers into the most permeable bone.

Intact cortical bone, disc, canal, soft tissue and air are never entered by the main fill.
``Label.CLEFT`` inside the body is a fluid-filled fracture gap and cheap (intravertebral clefts
fill preferentially); ``Label.CLEFT`` within :data:`BROKEN_CORTEX_MM` of the outside is broken
cortex, no barrier but no void either, priced like trabecular bone. A balloon cavity
(kyphoplasty) is cheaper than anything, so it fills first.

Leaks
-----
Cement leaves the body only along labelled routes, each reported as a :class:`Leak`:

* reaching the basivertebral vein (``Label.VEIN``) -> ``"venous"`` (Yeom type B): along the
  vein, out of the posterior-wall foramen into the anterior epidural venous plexus (modelled as
  the non-bone tissue within :data:`SHEET_MM` of the bone surface);
* reaching the disc through a broken endplate (a ``Label.CLEFT`` voxel touching
  ``Label.DISC``) -> ``"disc"`` (type C): a layer in the disc along the endplate;
* reaching canal or soft tissue through any other broken cortex (``Label.CLEFT`` touching it)
  -> ``"epidural/canal"`` at the posterior wall, ``"paravertebral"`` elsewhere (type C);
* an overfilled body (no trabecular voxel of the body left to fill and every open route
  full, so the pressure rises) -> out through the segmental veins at the anterolateral cortex
  the cement touches (where the lumbar segmental vessels pierce the waist of the body) ->
  ``"venous/paravertebral"`` (type S).

The fill is confined to the vertebral body: the trabecular bone reachable from the tip minus
the narrow parts (pedicles, laminae, processes), found by a morphological opening of radius
:data:`BODY_CORE_MM`. Cement does not run back up the pedicle around the cannula.

Opening a route costs the price paid to reach it plus an entry margin worth some millimetres
of viscous advance (:data:`VEIN_ENTRY_MM`, :data:`DISC_ENTRY_MM`, :data:`DEFECT_ENTRY_MM`):
runny cement slips into a route as soon as it touches it, dough has to be pushed on first.
Together with its compact front this is why viscous cement leaks later and less.

Once a route is open the leaked cement keeps competing with the fill inside the body: it
advances ``ease`` mm along the route for each mm the internal front must move (routes are
vessels and loose tissue, easier than bone), up to a reach per route. Leaked voxels are part of
the mask and counted in its volume.

Clinical context
----------------
* Volume: 2.5-4 mL per osteoporotic level is typical. Belkoff SM, Mathis JM, Jasper LE,
  Deramond H, Spine 2001;26:1537-1541 (cadaveric): 2 mL restored strength; restoring stiffness
  took 4 mL in thoracic and thoracolumbar and 6 mL in lumbar bodies. Larger volumes raise the
  leak risk without better pain relief (Kaufmann TJ, Trout AT, Kallmes DF, AJNR 2006;27:
  1933-1937). :data:`MAX_TOTAL_ML` bounds what the simulator accepts.
* Leak rates: leaks in 41 % of vertebroplasty and 9 % of kyphoplasty levels (Hulme PA et al.,
  Spine 2006;31:1983-2001, systematic review, mostly radiographs). On CT many more are found
  (Yeom 2003: 1.5 times as many as on radiographs; most type-B and type-S leaks are missed on a
  lateral view). In a CT series of fractures without a cleft (PMC8449924): type S 52.5 %,
  type B 31.7 %, cortical type C 12.2 %, intradiscal 6.5 % of levels; an intravertebral cleft
  shifts leaks from venous to cortical and disc routes (C 25.9 %, disc 16.5 %).
"""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from scipy import ndimage

from vp3d.cement import bone
from vp3d.cement.result import CementResult, _LeakInfo
from vp3d.anatomy.volume import Label, Volume

#: Largest volume accepted (mL). Single-level fills rarely exceed 8-10 mL even in lumbar bodies.
MAX_TOTAL_ML = 12.0
SPACING_RANGE_MM = (0.2, 2.0)
#: Cannula outer diameter: 15 G (1.8 mm) vertebroplasty needles to kyphoplasty working cannulas.
NEEDLE_OD_RANGE_MM = (0.8, 6.0)
MAX_NEEDLES = 4
#: The simulation works in a box this far (mm) around the tips: a whole body from any tip in it.
CROP_HALF_MM = (45.0, 45.0, 40.0)

# Prices are in standard deviations of the trabecular entry resistance.
CLEFT_ENTRY_SD = -2.5  # fluid-filled fracture gap: fills preferentially
#: Cleft voxels this close to non-bone tissue are broken cortex (priced like trabecular bone), mm.
BROKEN_CORTEX_MM = 1.5
#: Opening a leak route costs the price paid to reach it plus this much viscous advance (mm of
#: front, i.e. ENTRY_MM / L in SD units): runny cement (long L) slips through as soon as it
#: touches a route, dough (short L) has to be pushed on. Vein: intraosseous venous pressure;
#: disc: nucleus and annulus behind a broken endplate; defect: periosteum, ligaments, hematoma.
VEIN_ENTRY_MM = 1.0
DISC_ENTRY_MM = 5.0
DEFECT_ENTRY_MM = 8.0
#: Balloon cavity: an open void, filled before anything else, nearest first. Its own pressure is
#: only the viscous term, so the routes it touches open once it is full, not while it fills.
CAVITY_PRICE = -1.0e6
#: Among the segmental-vein exits of an overfilled body, the price of one whose outward normal
#: points away from the anterolateral waist (SD units, on top of its distance term).
EXIT_DIRECTION_SD = 4.0
#: Radius of the opening that separates the body from pedicles and posterior elements, mm:
#: more than half the trabecular core of a thoracolumbar pedicle (outer width 7-9 mm, cortex
#: 1 mm), less than half a collapsed (grade 3) body's height.
BODY_CORE_MM = 3.5
#: Non-bone tissue this close to the bone surface carries leaked cement (epidural venous plexus,
#: paravertebral veins and loose tissue hugging the cortex), mm.
SHEET_MM = 1.5
#: Disc leaks spread in a layer this thick along the endplate, mm.
DISC_LAYER_MM = 2.5
#: Random jitter (SD units, uniform) on leaked-cement prices, so leaks branch like vessels.
LEAK_JITTER_SD = 0.3

# Voxel classes of the working box.
_BLOCKED, _TRAB, _CLEFT, _CAVITY, _VEIN, _DISC, _SOFT, _CORTEX = range(8)
_MAIN = (_TRAB, _CLEFT, _CAVITY)
_BONE = (_TRAB, _CLEFT, _CAVITY, _VEIN, _CORTEX)
_SOLID_LUT = np.zeros(256, dtype=bool)
_SOLID_LUT[list(_BONE)] = True

# Heap tags: >= 0 leaked cement of that route; these start a route.
_MAIN_TAG, _START_VEIN, _START_DEFECT, _START_EXIT = -1, -2, -3, -4


@dataclass(frozen=True)
class Route:
    """A leak route: who may carry its cement and how far and easily it spreads."""

    kind: str
    yeom_type: str
    description: str
    classes: frozenset
    reach_mm: float  # furthest path length from the exit
    ease: float  # mm along the route per mm of internal front


ROUTES = {
    "venous": Route("venous", "B", "basivertebral vein -> anterior epidural venous plexus",
                    frozenset({_VEIN, _SOFT}), 15.0, 2.0),
    "disc": Route("disc", "C", "broken endplate -> intervertebral disc", frozenset({_DISC}), 10.0, 0.5),
    "epidural/canal": Route("epidural/canal", "C", "posterior wall defect -> epidural space / spinal canal",
                            frozenset({_SOFT}), 10.0, 0.5),
    "paravertebral": Route("paravertebral", "C", "cortical defect -> paravertebral soft tissue",
                           frozenset({_SOFT}), 10.0, 0.5),
    "venous/paravertebral": Route("venous/paravertebral", "S",
                                  "overfilled body -> segmental veins at the anterolateral cortex -> paravertebral",
                                  frozenset({_SOFT}), 25.0, 2.0),
}


# --- validation -----------------------------------------------------------------------------------

class CapacityError(ValueError):
    """More cement was asked for than the body and its leak routes hold; ``capacity_ml`` is
    what they hold (a small crushed body can hold less than a large fill)."""

    def __init__(self, message: str, capacity_ml: float):
        super().__init__(message)
        self.capacity_ml = float(capacity_ml)

def _number(name: str, value, low: float, high: float, unit: str = "", *, low_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{name} must be a number between {low:g} and {high:g}{unit}, got {value!r}")
    v = float(value)
    ok = math.isfinite(v) and (v > low if low_open else v >= low) and v <= high
    if not ok:
        side = "above" if low_open else "from"
        raise ValueError(f"{name} must be {side} {low:g} up to {high:g}{unit}, got {value!r}")
    return v


def _point(name: str, value) -> np.ndarray:
    try:
        p = np.asarray(value, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be three finite coordinates in mm, got {value!r}") from None
    if p.shape != (3,) or not np.all(np.isfinite(p)):
        raise ValueError(f"{name} must be three finite coordinates in mm, got {value!r}")
    return p


def _needles(needle) -> list[tuple[np.ndarray, np.ndarray, float]]:
    items = list(needle) if isinstance(needle, (list, tuple)) else [needle]
    if not 1 <= len(items) <= MAX_NEEDLES:
        raise ValueError(f"give 1 to {MAX_NEEDLES} needles, got {len(items)}")
    out = []
    for k, n in enumerate(items):
        try:
            tip, hub, od = n.tip_mm, n.hub_mm, n.outer_diameter_mm
        except AttributeError:
            raise ValueError("needle must have tip_mm, hub_mm and outer_diameter_mm "
                             f"(needle {k} is {type(n).__name__})") from None
        tip, hub = _point("needle tip_mm", tip), _point("needle hub_mm", hub)
        od = _number("needle outer_diameter_mm", od, *NEEDLE_OD_RANGE_MM, " mm")
        if np.linalg.norm(hub - tip) < 1.0:
            raise ValueError(f"needle hub_mm must be at least 1 mm from tip_mm, got {hub} and {tip}")
        out.append((tip, hub, od))
    return out


def _check_volume(volume) -> None:
    if not isinstance(volume, Volume):
        raise ValueError(f"volume must be a vp3d.anatomy.volume.Volume, got {type(volume).__name__}")
    if volume.labels is None:
        raise ValueError("volume must carry tissue labels (Volume.labels); the cement follows them")
    _number("volume.spacing_mm", volume.spacing_mm, *SPACING_RANGE_MM, " mm")


# --- the working box ----------------------------------------------------------------------------
class _Box:
    """The crop of the volume around the tips, with voxel classes and flat-index helpers."""

    def __init__(self, volume: Volume, tips: list[np.ndarray]):
        sp = float(volume.spacing_mm)
        shape = np.array(volume.shape)
        tips_idx = [np.round((t - volume.origin_mm) / sp).astype(int) for t in tips]
        half = np.ceil(np.array(CROP_HALF_MM) / sp).astype(int)
        lo = np.maximum(np.min(tips_idx, axis=0) - half, 0)
        hi = np.minimum(np.max(tips_idx, axis=0) + half + 1, shape)
        self.volume, self.spacing, self.lo, self.hi = volume, sp, lo, hi
        self.labels = np.ascontiguousarray(volume.labels[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]])
        self.labels_flat = self.labels.reshape(-1)
        self.shape = self.labels.shape
        self.origin = volume.origin_mm + sp * lo
        cls = np.zeros(self.shape, dtype=np.uint8)
        lut = np.zeros(256, dtype=np.uint8)
        lut[Label.TRABECULAR_BONE] = _TRAB
        lut[Label.CLEFT] = _CLEFT
        lut[Label.VEIN] = _VEIN
        lut[Label.DISC] = _DISC
        lut[Label.SOFT_TISSUE] = _SOFT
        lut[Label.FAT] = _SOFT
        lut[Label.CANAL] = _SOFT
        # Paravertebral cement spreads through muscle and loose tissue as through soft tissue;
        # lung, gas, other bones, vessels' lumen and skin stay closed to it (blocked).
        lut[Label.MUSCLE] = _SOFT
        lut[Label.ORGAN] = _SOFT
        lut[Label.LIGAMENT] = _SOFT
        lut[Label.CORTICAL_BONE] = _CORTEX
        cls[...] = lut[self.labels]
        # A blocked rind: a neighbour step from any open voxel never leaves the box.
        cls[0, :, :] = cls[-1, :, :] = cls[:, 0, :] = cls[:, -1, :] = cls[:, :, 0] = cls[:, :, -1] = _BLOCKED
        self.cls = cls
        ny, nz = self.shape[1], self.shape[2]
        self.strides = (ny * nz, nz, 1)
        self._near_done = False

    def flat(self, ijk) -> int:
        i, j, k = (int(v) for v in ijk)
        return i * self.strides[0] + j * self.strides[1] + k

    def ijk(self, f: int) -> tuple[int, int, int]:
        i, r = divmod(f, self.strides[0])
        j, k = divmod(r, self.strides[1])
        return i, j, k

    def point(self, f: int) -> np.ndarray:
        return self.origin + self.spacing * np.array(self.ijk(f), dtype=float)

    def inside(self, ijk) -> bool:
        return all(0 < int(v) < n - 1 for v, n in zip(ijk, self.shape))

    def restrict_leak_tissue(self) -> None:
        """Keep soft tissue only within SHEET_MM of bone and disc only within DISC_LAYER_MM
        (done once, when the first leak opens)."""
        if self._near_done:
            return
        self._near_done = True
        solid = np.isin(self.cls, _BONE)
        k_sheet = max(1, int(SHEET_MM / self.spacing + 1e-9))
        k_disc = max(1, int(round(DISC_LAYER_MM / self.spacing)))
        ball = ndimage.generate_binary_structure(3, 2)
        near = ndimage.binary_dilation(solid, ball, iterations=k_sheet)
        soft = self.cls == _SOFT
        self.cls[soft & ~near] = _BLOCKED
        if k_disc > k_sheet:
            near = ndimage.binary_dilation(near, ball, iterations=k_disc - k_sheet)
        disc = self.cls == _DISC
        self.cls[disc & ~near] = _BLOCKED

    def outward_normal(self, f: int) -> np.ndarray:
        """Unit vector from bone towards the outside at a voxel, from its 5x5x5 neighbourhood."""
        i, j, k = self.ijk(f)
        lo = np.maximum(np.array([i, j, k]) - 2, 0)
        hi = np.minimum(np.array([i, j, k]) + 3, self.shape)
        solid = _SOLID_LUT[self.cls[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]]]
        off = np.argwhere(solid) + lo - (i, j, k)
        n = -off.sum(axis=0).astype(float)
        norm = np.linalg.norm(n)
        return n / norm if norm > 0 else np.zeros(3)


def _shaft_block(box: _Box, needles) -> None:
    """Block the voxels the cannulas occupy (behind each tip), so no cement enters them."""
    for tip, hub, od in needles:
        r = od / 2.0
        axis = (hub - tip) / np.linalg.norm(hub - tip)
        length = float(np.linalg.norm(hub - tip))
        # Only the part inside the box matters; bound it by the box diagonal.
        reach = min(length, float(np.linalg.norm(np.array(box.shape) * box.spacing)))
        end = tip + axis * reach
        lo = np.floor((np.minimum(tip, end) - r - box.origin) / box.spacing).astype(int) - 1
        hi = np.ceil((np.maximum(tip, end) + r - box.origin) / box.spacing).astype(int) + 2
        lo, hi = np.maximum(lo, 0), np.minimum(hi, box.shape)
        if np.any(hi <= lo):
            continue
        axes = [box.origin[a] + box.spacing * np.arange(lo[a], hi[a]) - tip[a] for a in range(3)]
        x, y, z = np.meshgrid(*axes, indexing="ij", sparse=True)
        t = x * axis[0] + y * axis[1] + z * axis[2]
        d2 = x * x + y * y + z * z - t * t
        inside = (t > 0.75 * box.spacing) & (t <= reach) & (d2 < r * r)
        view = box.cls[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]]
        view[inside] = _BLOCKED


def _start_voxel(box: _Box, tip: np.ndarray) -> int:
    """The voxel at the tip, where the cement leaves the cannula; it must be open bone."""
    idx = np.round((tip - box.origin) / box.spacing).astype(int)
    if not box.inside(idx) or box.cls[tuple(idx)] not in _MAIN:
        label = Label(int(box.labels[tuple(np.clip(idx, 0, np.array(box.shape) - 1))])).name
        raise ValueError(
            f"needle tip at {np.round(tip, 2).tolist()} mm is in {label}, not in trabecular bone or a "
            "fracture cleft: place the tip inside the vertebral body")
    return box.flat(idx)


def _component(box: _Box, starts: list[int]) -> np.ndarray:
    """Flat indices of the bone the cement can reach from the tips (main classes and the vein)."""
    open_ = np.isin(box.cls, (*_MAIN, _VEIN))
    lab, _ = ndimage.label(open_)
    ids = {int(lab.reshape(-1)[s]) for s in starts}
    return np.flatnonzero(np.isin(lab.reshape(-1), list(ids)))


def _body(box: _Box, comp: np.ndarray, starts: list[int]) -> np.ndarray:
    """The part of ``comp`` that is vertebral body: within BODY_CORE_MM (plus a cell) of the
    points deeper than BODY_CORE_MM inside it, on a grid of about 1 mm. Falls back to ``comp``
    when a tip is not in that part (a tip still in the pedicle, or a body too thin)."""
    step = max(1, int(round(1.0 / box.spacing)))
    cell = step * box.spacing
    ijk = np.stack(np.unravel_index(comp, box.shape), axis=0)
    lo = ijk.min(axis=1)
    coarse_idx = (ijk - lo[:, None]) // step + 1
    solid = np.zeros(tuple(coarse_idx.max(axis=1) + 2), dtype=bool)
    solid[tuple(coarse_idx)] = True
    core = ndimage.distance_transform_edt(solid) * cell > BODY_CORE_MM
    if not core.any():
        return comp
    near = ndimage.distance_transform_edt(~core) * cell <= BODY_CORE_MM + cell
    keep = near[tuple(coarse_idx)]
    body = comp[keep]
    if not np.all(np.isin(starts, body)):
        return comp
    return body


def _near_outside(box: _Box, comp: np.ndarray) -> np.ndarray:
    """Per voxel of ``comp``: within BROKEN_CORTEX_MM of disc, soft tissue, canal or air."""
    ijk = np.stack(np.unravel_index(comp, box.shape), axis=0)
    k = max(1, int(round(BROKEN_CORTEX_MM / box.spacing)))
    lo = np.maximum(ijk.min(axis=1) - k, 0)
    hi = np.minimum(ijk.max(axis=1) + k + 1, box.shape)
    sub = box.labels[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]]
    outside = ~np.isin(sub, (Label.TRABECULAR_BONE, Label.CLEFT, Label.CORTICAL_BONE, Label.VEIN))
    near = ndimage.binary_dilation(outside, ndimage.generate_binary_structure(3, 2), iterations=k)
    return near[tuple(ijk - lo[:, None])]


def _anisotropic_distance(points_mm: np.ndarray, tips: list[np.ndarray], anisotropy: float) -> np.ndarray:
    """Distance (mm) to the nearest tip, the superior-inferior axis shrunk by sqrt(anisotropy)."""
    scale = np.array([1.0, 1.0, 1.0 / math.sqrt(anisotropy)])
    best = None
    for t in tips:
        d = np.sqrt((((points_mm - t) * scale) ** 2).sum(axis=1))
        best = d if best is None else np.minimum(best, d)
    return best


# --- the simulation ------------------------------------------------------------------------------
def simulate_injection(volume: Volume, needle, total_ml: float, *,
                       viscosity_pa_s: float = bone.DEFAULT_VISCOSITY_PA_S,
                       cavity_mask: np.ndarray | None = None,
                       seed: int = 0,
                       permeability_m2: float = bone.DEFAULT_PERMEABILITY_M2,
                       permeability_cv: float = bone.DEFAULT_PERMEABILITY_CV,
                       anisotropy: float = bone.DEFAULT_ANISOTROPY,
                       correlation_mm: float = bone.DEFAULT_CORRELATION_MM) -> CementResult:
    """Simulate injecting ``total_ml`` of PMMA cement through a cannula; every level at once.

    Parameters
    ----------
    volume : vp3d.anatomy.volume.Volume
        Labelled density volume (``Label.TRABECULAR_BONE`` is where cement spreads).
    needle : object or sequence of objects
        Anything with ``tip_mm`` (3,), ``hub_mm`` (3,) and ``outer_diameter_mm``; two for a
        bipedicular injection (they share the cement).
    total_ml : float
        Volume to inject, above 0 up to :data:`MAX_TOTAL_ML` mL.
    viscosity_pa_s : float
        Cement viscosity during injection, 5-5000 Pa s (tens: runny, early; hundreds to
        thousands: dough / high-viscosity cement).
    cavity_mask : numpy.ndarray, optional
        bool on the volume grid: a balloon cavity (kyphoplasty) around the tip, filled first.
        Must lie in trabecular bone or cleft and contain (or touch) the tip.
    seed : int
        Seed of the bone heterogeneity (>= 0). The same seed gives the same bone wherever the
        needle is.
    permeability_m2, permeability_cv, anisotropy, correlation_mm : float
        Trabecular permeability mean, coefficient of variation, superior-inferior/transverse
        ratio, and correlation length of its heterogeneity (defaults and sources in
        :mod:`vp3d.cement.bone`).

    Returns
    -------
    CementResult
        Arrival order of the cement voxels and the leaks.

    Raises
    ------
    ValueError
        Any argument out of its range (the message names the range), a tip outside the volume
        or not in trabecular bone, or more cement than the body and its leak routes can hold.
    """
    _check_volume(volume)
    needles = _needles(needle)
    total_ml = _number("total_ml", total_ml, 0.0, MAX_TOTAL_ML, " mL", low_open=True)
    viscosity = _number("viscosity_pa_s", viscosity_pa_s, *bone.VISCOSITY_RANGE_PA_S, " Pa s")
    if isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    k_mean = _number("permeability_m2", permeability_m2, *bone.PERMEABILITY_RANGE_M2, " m^2")
    k_cv = _number("permeability_cv", permeability_cv, *bone.PERMEABILITY_CV_RANGE)
    aniso = _number("anisotropy", anisotropy, *bone.ANISOTROPY_RANGE)
    corr = _number("correlation_mm", correlation_mm, *bone.CORRELATION_RANGE_MM, " mm")
    lo_mm, hi_mm = volume.bounds_mm
    for tip, _, _ in needles:
        if np.any(tip < lo_mm) or np.any(tip > hi_mm):
            raise ValueError(f"needle tip {np.round(tip, 2).tolist()} mm is outside the volume, which spans "
                             f"{np.round(lo_mm, 1).tolist()} to {np.round(hi_mm, 1).tolist()} mm")
    voxel_ml = volume.voxel_volume_mm3 / 1000.0
    n_target = int(round(total_ml / voxel_ml))
    if n_target < 1:
        raise ValueError(f"total_ml must be at least one voxel ({voxel_ml:g} mL at this spacing), got {total_ml!r}")
    stab = bone.stabilisation_length_mm(viscosity, k_mean, k_cv)

    tips = [t for t, _, _ in needles]
    box = _Box(volume, tips)
    cavity_flat = None
    if cavity_mask is not None:
        cavity_flat = _apply_cavity(box, volume, cavity_mask)
    starts = list(dict.fromkeys(_start_voxel(box, t) for t in tips))
    start_cls = box.cls.reshape(-1)[starts].copy()
    _shaft_block(box, needles)
    box.cls.reshape(-1)[starts] = start_cls  # the cannula's opening stays open
    if cavity_flat is not None:
        _check_cavity_at_tip(box, starts, cavity_flat)
        box.cls.reshape(-1)[starts] = _CAVITY  # a tip touching the cavity is its entrance
        # the cavity the cement can fill: less what the cannula occupies
        cavity_flat = np.flatnonzero(box.cls.reshape(-1) == _CAVITY)

    comp = _component(box, starts)
    keep = np.isin(box.cls.reshape(-1)[comp], (_VEIN, _CAVITY))  # the vein and a cavity stay whole
    comp = np.union1d(_body(box, comp, starts), comp[keep])
    pts = box.origin + box.spacing * np.stack(np.unravel_index(comp, box.shape), axis=1)
    field = bone.heterogeneity(pts, int(seed), corr)
    rho = _anisotropic_distance(pts, tips, aniso)
    cls_comp = box.cls.reshape(-1)[comp]
    price = -field + rho / stab
    gap = cls_comp == _CLEFT
    if gap.any():
        gap &= ~_near_outside(box, comp)
    price[gap] = CLEFT_ENTRY_SD + rho[gap] / stab
    price[cls_comp == _CAVITY] = CAVITY_PRICE + rho[cls_comp == _CAVITY] / stab
    base = np.full(box.labels.size, np.inf)
    base[comp] = price

    flood = _Flood(box, base, tips, aniso, stab, int(seed))
    order_box, leak_of = flood.run(starts, n_target, voxel_ml)

    ijk = np.stack(np.unravel_index(np.asarray(order_box, dtype=np.int64), box.shape), axis=0) + box.lo[:, None]
    order = np.ravel_multi_index(tuple(ijk), volume.shape)
    cavity_ml = 0.0 if cavity_flat is None else cavity_flat.size * voxel_ml
    return CementResult(volume, n_target * voxel_ml, order, np.asarray(leak_of, dtype=np.int16), flood.leak_info,
                        tips_mm=np.array(tips), viscosity_pa_s=viscosity, stabilisation_mm=stab, seed=int(seed),
                        cavity_ml=cavity_ml)



def simulate_up_to(volume: Volume, needle, most_ml: float, **options) -> CementResult:
    """:func:`simulate_injection` of ``most_ml``, or of what the body and its leak routes hold
    where that is less (a small crushed body); the result's ``total_ml`` says which."""
    try:
        return simulate_injection(volume, needle, most_ml, **options)
    except CapacityError as full:
        return simulate_injection(volume, needle, math.floor(full.capacity_ml * 10) / 10, **options)

def _apply_cavity(box: _Box, volume: Volume, cavity_mask) -> np.ndarray:
    cav = np.asarray(cavity_mask)
    if cav.shape != volume.shape or cav.dtype != np.bool_:
        raise ValueError(f"cavity_mask must be a boolean array of the volume shape {volume.shape}, "
                         f"got {cav.dtype} {cav.shape}")
    total = int(cav.sum())
    if total == 0:
        raise ValueError("cavity_mask is empty; pass None for plain vertebroplasty")
    bad = cav & ~np.isin(volume.labels, (Label.TRABECULAR_BONE, Label.CLEFT))
    if bad.any():
        names = sorted({Label(int(v)).name for v in np.unique(volume.labels[bad])})
        raise ValueError(f"cavity_mask must lie in trabecular bone or cleft; {int(bad.sum())} voxels are in "
                         f"{', '.join(names)}")
    lo, hi = box.lo, box.hi
    inner = cav[lo[0] + 1:hi[0] - 1, lo[1] + 1:hi[1] - 1, lo[2] + 1:hi[2] - 1]
    if int(inner.sum()) != total:
        raise ValueError(f"cavity_mask reaches further than {min(CROP_HALF_MM):g} mm from the tip")
    sub = cav[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]]
    box.cls[sub] = _CAVITY
    return np.flatnonzero(sub)


def _check_cavity_at_tip(box: _Box, starts: list[int], cavity_flat: np.ndarray) -> None:
    cavity = set(cavity_flat.tolist())
    s0, s1 = box.strides[0], box.strides[1]
    near = {s + di * s0 + dj * s1 + dk for s in starts
            for di in (-1, 0, 1) for dj in (-1, 0, 1) for dk in (-1, 0, 1)}
    if not near & cavity:
        raise ValueError("the cannula tip must be inside (or touching) the balloon cavity_mask")


class _Flood:
    """Invasion percolation with leak routes (one run; see the module docstring)."""

    def __init__(self, box: _Box, base: np.ndarray, tips, anisotropy: float, stab: float, seed: int):
        self.box, self.base, self.stab = box, base, stab
        self.tips = np.array(tips)
        self.z_scale = 1.0 / math.sqrt(anisotropy)
        self.rng = random.Random(seed)
        self.leak_info: list[_LeakInfo] = []
        self.routes: list[Route] = []
        self.leak_key: dict[tuple[str, str], int] = {}

    def rho(self, f: int) -> float:
        p = self.box.point(f)
        d = (p - self.tips) * (1.0, 1.0, self.z_scale)
        return float(np.sqrt((d * d).sum(axis=1)).min())

    # -- leak bookkeeping ------------------------------------------------------------------
    def _open(self, kind: str, side: str, entry_flat: int) -> int:
        key = (kind, side)
        if key in self.leak_key:
            return self.leak_key[key]
        self.box.restrict_leak_tissue()
        route = ROUTES[kind]
        j = len(self.routes)
        self.routes.append(route)
        self.leak_info.append(_LeakInfo(kind, route.yeom_type, route.description, side, self.box.point(entry_flat)))
        self.leak_key[key] = j
        return j

    def _defect_kind(self, u: int, w: int) -> tuple[str, str]:
        """Route of cement meeting non-bone tissue ``w`` from body voxel ``u`` through a defect."""
        cls = self.box.cls.reshape(-1)[w]
        n = self.box.outward_normal(u)
        if cls == _DISC:
            return "disc", "superior" if n[2] >= 0 else "inferior"
        label = int(self.box.labels_flat[w])
        if label == Label.CANAL or n[1] < -0.5:
            return "epidural/canal", "midline"
        return "paravertebral", "right" if n[0] >= 0 else "left"

    def _exit_price(self, u: int) -> tuple[float, str] | None:
        """Price and side of a segmental-vein exit at body voxel ``u`` touching cortex, or None
        where the cortex there is not an outer wall (endplate, posterior wall). Exits are only
        used once nothing else is left (overfilled body)."""
        n = self.box.outward_normal(u)
        if not np.any(n) or n[1] < -0.3 or abs(n[2]) > 0.7:
            return None
        side = "right" if n[0] >= 0 else "left"
        target = np.array([1.0 if side == "right" else -1.0, 1.0, 0.0]) / math.sqrt(2.0)
        off = 1.0 - max(0.0, float(n @ target))
        return self.rho(u) / self.stab + EXIT_DIRECTION_SD * off, side

    def _breach(self, u: int) -> list[int] | None:
        """Voxels from body voxel ``u`` straight out through the cortex to the first tissue voxel."""
        box = self.box
        n = box.outward_normal(u)
        start = np.array(box.ijk(u), dtype=float)
        path: list[int] = []
        cls = box.cls.reshape(-1)
        for s in np.arange(0.5, 4.0 / box.spacing + 1.0, 0.5):
            ijk = np.round(start + s * n).astype(int)
            if not box.inside(ijk):
                return None
            f = box.flat(ijk)
            if f == u or (path and path[-1] == f):
                continue
            c = cls[f]
            if c == _SOFT:
                return path + [f]
            if c in (_CORTEX, _TRAB, _CLEFT, _CAVITY, _VEIN):
                path.append(f)
                continue
            return None  # disc, air, needle: not a way out
        return None

    # -- the run -------------------------------------------------------------------------------
    def run(self, starts: list[int], n_target: int, voxel_ml: float) -> tuple[list[int], list[int]]:
        box = self.box
        cls = box.cls.reshape(-1)  # a view: restrict_leak_tissue edits it in place
        base = self.base
        s0, s1 = box.strides[0], box.strides[1]
        offs = (s0, -s0, s1, -s1, 1, -1)
        h = box.spacing
        state = bytearray(box.labels.size)  # 0 new, 1 queued (body), 2 filled, 3 queued (leak)
        order: list[int] = []
        owner: list[int] = []
        heap: list = []
        exits: list = []  # segmental-vein exits, opened only when the heap runs dry
        push, pop = heapq.heappush, heapq.heappop
        seq = 0
        main = set(_MAIN)
        exit_checked = bytearray(box.labels.size)
        inf = math.inf
        labels_flat = box.labels_flat
        cleft_label = int(Label.CLEFT)
        vein_entry = VEIN_ENTRY_MM / self.stab
        disc_entry = DISC_ENTRY_MM / self.stab
        defect_entry = DEFECT_ENTRY_MM / self.stab

        def fill(v: int, tag: int) -> None:
            state[v] = 2
            order.append(v)
            owner.append(tag)

        def expand_body(v: int, p: float) -> None:
            nonlocal seq
            cortex = False
            pressure = p - CAVITY_PRICE if p < CAVITY_PRICE / 2 else p  # route entries from a cavity
            for d in offs:
                w = v + d
                if state[w] == 2:
                    continue
                c = cls[w]
                if c in main:
                    if state[w] == 0 and base[w] < inf:
                        state[w] = 1
                        seq += 1
                        push(heap, (base[w], seq, w, _MAIN_TAG, 0.0, v, p))
                elif c == _VEIN:
                    if state[w] == 0:
                        state[w] = 1
                        seq += 1
                        push(heap, (pressure + vein_entry, seq, w, _START_VEIN, 0.0, v, pressure))
                elif c == _CORTEX:
                    cortex = True
                elif (c == _DISC or c == _SOFT) and labels_flat[v] == cleft_label:
                    # only broken cortex (a cleft) opens onto tissue; a trabecular voxel touching
                    # it directly is an intact cortex thinner than a voxel
                    seq += 1
                    push(heap, (pressure + (disc_entry if c == _DISC else defect_entry), seq, w, _START_DEFECT,
                                0.0, v, pressure))
            if cortex and not exit_checked[v]:
                exit_checked[v] = 1
                found = self._exit_price(v)
                if found is not None:
                    seq += 1
                    push(exits, (found[0], seq, v, _START_EXIT, 0.0, v, p))

        def expand_leak(v: int, j: int, path: float, p0: float) -> None:
            """Push the neighbours of leaked voxel ``v``; ``p0`` is the price where its branch
            left the body, ``path`` the distance along the route since then."""
            nonlocal seq
            route = self.routes[j]
            allowed = route.classes
            reach = route.reach_mm
            scale = 1.0 / (self.stab * route.ease)
            nxt = path + h
            if nxt > reach:
                return
            for d in offs:
                w = v + d
                sw = state[w]
                if sw == 2 or sw == 3:
                    continue
                if cls[w] in allowed:
                    state[w] = 3
                    seq += 1
                    push(heap, (p0 + nxt * scale + LEAK_JITTER_SD * self.rng.random(), seq, w, j, nxt, v, p0))

        for s in starts:
            if state[s] != 2:
                fill(s, _MAIN_TAG)
        for s in starts:
            expand_body(s, base[s])
        order_len = len(order)
        while order_len < n_target:
            if not heap:
                if not exits:
                    placed = order_len * voxel_ml
                    raise CapacityError(
                        f"total_ml must be at most {placed:.2f} mL here: the vertebral body and every leak "
                        f"route are full after {placed:.2f} mL", placed)
                push(heap, pop(exits))  # overfilled: pressure rises until a segmental vein opens
            # ref: price of the body voxel that touched a route (start entries), or the price
            # where the branch left the body (leaked cement).
            p, _, v, tag, path, u, ref = pop(heap)
            if state[v] == 2 and tag != _START_EXIT:
                continue
            if tag == _MAIN_TAG:
                fill(v, -1)
                expand_body(v, p)
            elif tag >= 0:
                fill(v, tag)
                expand_leak(v, tag, path, ref)
            elif tag == _START_VEIN:
                j = self._open("venous", "midline", u)
                fill(v, j)
                expand_leak(v, j, 0.0, p)
            elif tag == _START_DEFECT:
                kind, side = self._defect_kind(u, v)
                box.restrict_leak_tissue()
                if cls[v] not in ROUTES[kind].classes:
                    continue  # tissue too far from bone to carry cement
                j = self._open(kind, side, u)
                fill(v, j)
                expand_leak(v, j, 0.0, p)
            else:  # _START_EXIT from body voxel v
                found = self._exit_price(v)
                side = found[1] if found else "right"
                if ("venous/paravertebral", side) in self.leak_key:
                    continue
                path_vox = self._breach(v)
                if path_vox is None or any(state[f] == 2 for f in path_vox):
                    continue
                j = self._open("venous/paravertebral", side, v)
                for f in path_vox[:n_target - len(order)]:
                    fill(f, j)
                expand_leak(path_vox[-1], j, 0.0, p)
            order_len = len(order)
        return order[:n_target], owner[:n_target]
