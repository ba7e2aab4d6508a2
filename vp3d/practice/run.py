"""The student's own needle and cement: aim, advance, image, inject, and a score (no UI).

A :class:`Practice` is one student's attempt at one :class:`vp3d.procedure.model.ProcedureModel`: the
model (shared by every browser session of that choice) is only read; all practice state lives
here. The student aims a single transpedicular needle (:class:`NeedleAim`), advances it in small
steps, takes AP and lateral fluoroscopy shots (each new image counts), turns the C-arm, injects
cement in 0.5 mL steps once the tip is in the vertebral body, and gets a :class:`Score` against
published figures.

Public API
----------
``NeedleAim(side, entry_lateral_mm, entry_cranial_mm, medial_deg, caudal_deg)``
    Frozen, validated aim in the patient/table frame (what a C-arm shows): skin entry relative
    to the treated level's centre and two projected angles. ``aim.direction`` is the unit vector.
``planned_aim(model_or_spine, level, side="right", *, bipedicular=True) -> NeedleAim``
    The aim that reproduces :func:`vp3d.needle.plan_trajectory` (keeping it follows the plan).
``aim_of(trajectory, spine) -> NeedleAim``
    The aim of any trajectory (skin entry moved exactly onto the skin along its line).
``trajectory_for(spine, level, aim, gauge, *, target_mm=None) -> Trajectory``
    The needle path of an aim: skin entry on the skin of the back, bony entry where the line
    first enters the level's bone, ``target_mm`` the planned target (default: planned here).
``Practice(model, side="right", *, bipedicular=True)``
    Attributes ``side``, ``route``, ``aim``, ``depth_mm``, ``cement_ml``, ``shots``, ``planned``.
    Needle: ``advance(step_mm)``, ``withdraw(step_mm)`` (0.5-10 mm), ``set_aim(**changes)``,
    ``set_side(side)``, ``set_route(route)`` (``"transpedicular"``, or ``"parapedicular"`` at
    thoracic levels), ``needle()``, ``trajectory()``, ``safety()``, ``tip_tissue()``,
    ``bone_entry_depth_mm()``, ``anterior_breach()`` (tip out through the body's front wall).
    Imaging: ``rotate(view, lao_deg=None, cranial_deg=None)``, ``carm(view)``,
    ``images(views=("ap", "lateral"))``.
    Cement: ``inject(ml=0.5)``, ``leaks()``, ``venous_leaks()`` (visible leaks into a vein, Yeom
    type B or S: stop or pause), ``cement_mesh()``, ``cement_result``.
    ``score() -> Score``, ``reset(side=None)``.
``Score(items)`` / ``ScoreItem(name, value, good, verdict, reference, number, unit, advice)``
    ``score.verdict`` is the worst item verdict; ``score.item(name)``; ``score.rows()`` gives
    plain dicts for a table. Verdicts: ``"good"``, ``"acceptable"``, ``"needs work"``.

Rules the practice enforces (each refusal is a ``ValueError`` saying, in words a student
understands, what to do; a number out of range is named with its allowed range)
-------------------------------------------------------------------------------
* Angles may change only while the tip has not entered bone (any vertebra) along the current
  line; the skin entry only with the needle out of the skin (depth 0). Once cement is in, the
  needle stays put until the student starts over (:meth:`Practice.reset`).
* Cement only with the tip inside the vertebral body of the treated level (as
  :func:`vp3d.needle.assess` judges it), in whole 0.5 mL steps of at most 2 mL per call, up to
  :data:`MAX_CEMENT_ML`. The fill is simulated once per needle pose from the student's own needle
  (:func:`vp3d.cement.simulate_injection`) and shared between sessions of the same model.
* A route is planned before the needle enters the skin: ``"transpedicular"`` (default, any
  level) or ``"parapedicular"`` (thoracic levels, T1-T12, passing lateral to the pedicle by the
  rib head); only a planned parapedicular route makes a lateral wall crossing part of the plan.
* A shot is one view imaged in a new state (needle moved, cement added, C-arm turned). Asking
  again for an unchanged view returns the same image and costs nothing.

Score thresholds sit beside their sources in the module constants (``TIP_*``, ``SHOTS_*``,
``CEMENT_*``, ``LEAK_*``, ``BREACH_REFERENCE``) and cite standards of practice (SIR, CIRSE) or
the trials; where no published number was found the threshold is called a teaching target and
attributed to no paper.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from numbers import Real

import numpy as np
import pyvista as pv

from vp3d.cement import simulate_up_to
from vp3d.cement.targets import STRENGTH_ML as CEMENT_STRENGTH_ML
from vp3d.cement.targets import cement_targets
from vp3d.fluoro import CArm, Fluoroscope
from vp3d.anatomy.morphometry import check_level
from vp3d.needle.path import (NEEDLE_LENGTH_MM, PARAPEDICULAR_LEVELS, SIDES, Needle, SafetyReport, Trajectory, assess,
                         plan_parapedicular, plan_trajectory)
from vp3d.geometry.sdf import BAND_MM
from vp3d.anatomy.volume import Label

# -- ranges ----------------------------------------------------------------------------------
#: Skin entry distance from the midline (mm) and height relative to the level's centre (mm).
ENTRY_LATERAL_RANGE_MM = (0.0, 120.0)
ENTRY_CRANIAL_RANGE_MM = (-80.0, 80.0)
#: Projected needle angles (deg): transverse plane from the sagittal plane, sagittal plane
#: from the axial plane. Planned paths need up to about 40 deg of each (L5: medial 39 deg
#: unipedicular, caudal 43 deg in the lordosis), so the student gets some room beyond.
ANGLE_RANGE_DEG = (-60.0, 60.0)
#: One advance or withdraw step (mm): small steps, checked on the images in between.
STEP_RANGE_MM = (0.5, 10.0)
#: Deepest the tip may go past the skin entry (the needle's length less a hand-hold), mm.
MAX_DEPTH_MM = NEEDLE_LENGTH_MM - 10.0
#: Cement per :meth:`Practice.inject` call: whole multiples of this, up to the maximum (mL).
CEMENT_STEP_ML = 0.5
MAX_CEMENT_PER_CALL_ML = 2.0
#: Most cement one practice simulates and accepts (mL); single-level fills rarely exceed it.
MAX_CEMENT_ML = 8.0
#: C-arm angles the student may set, per view (deg, the CArm's own conventions):
#: AP oblique up to 45 deg either way, lateral within 45 deg of a true left-source lateral,
#: cranio-caudal tilt within 40 deg.
VIEW_LAO_RANGE_DEG = {"ap": (-45.0, 45.0), "lateral": (-135.0, -45.0)}
#: The page counts the lateral view's rotation from the true lateral: page = lao_deg + this.
LATERAL_ROTATION_ZERO_DEG = 90.0
CRANIAL_RANGE_DEG = (-40.0, 40.0)
VIEWS = ("ap", "lateral")
VERDICTS = ("good", "acceptable", "needs work")

# -- score thresholds and their sources ---------------------------------------------------------
_SIR = ("McGraw JK et al., Society of Interventional Radiology quality improvement guidelines for "
        "percutaneous vertebroplasty, J Vasc Interv Radiol 2003;14(7):827-831")
_CIRSE = ("Tsoumakidou G et al., CIRSE guidelines on percutaneous vertebral augmentation, "
          "Cardiovasc Intervent Radiol 2017;40(3):331-342")
_MATHIS = ("Mathis JM et al., Percutaneous vertebroplasty: a developing standard of care for "
           "vertebral compression fractures, AJNR Am J Neuroradiol 2001;22(2):373-381")
#: Tip to the planned target (mm): teaching targets (no published tolerance found).
TIP_GOOD_MM = 5.0
TIP_ACCEPTABLE_MM = 10.0
TIP_REFERENCE = (
    f"Target: the anterior third of the vertebral body, reached through the pedicle ({_CIRSE}; "
    f"{_MATHIS}). The 5 mm / 10 mm distances and the anterior-half fallback are teaching targets "
    "of this simulator.")
#: Fluoroscopy images for one needle and its cement: teaching targets.
#: A careful run that images AP + lateral after every move (10 mm steps through soft tissue,
#: smaller ones in bone, 6 x 0.5 mL of cement) takes about 36 images.
SHOTS_GOOD = 40
SHOTS_ACCEPTABLE = 80
SHOTS_REFERENCE = (
    "Teaching target of this simulator (no published shot count found; the simulator counts "
    "still images, not minutes; a careful run imaging AP and lateral after every move takes "
    "about 36). Dose is kept as low as reasonably achievable (ACR-ASNR-ASSR-SIR-SNIS practice "
    "parameter for the performance of vertebral augmentation, 2017). For scale: mean "
    "fluoroscopy time of vertebroplasty 4.9 +/- 3.3 min per level (Kopparapu S et al., "
    "J Neurosurg Spine 2021;34(1):117-126, meta-analysis of 27 studies); 4.3 min for device "
    "positioning with pulsed biplane fluoroscopy at 7.5 pulses/s (Ortiz AO et al., AJNR Am J "
    "Neuroradiol 2006;27(5):989-994).")
CEMENT_REFERENCE = (
    "Belkoff SM, Mathis JM, Jasper LE, Deramond H, Spine 2001;26(14):1537-1541 (cadaveric, "
    "T6-L5): 2 mL restored strength in every region; stiffness took 4 mL in thoracic (T6-T9) and "
    "thoracolumbar (T10-L1) bodies and 6 mL (Simplex P; 8 mL with Orthocomp) in lumbar (L2-L5) "
    "ones (vp3d.cement.targets). Larger volumes gave no better pain relief or medication use "
    "(Kaufmann TJ, Trout AT, Kallmes DF, AJNR Am J Neuroradiol 2006;27(9):1933-1937); stop "
    f"sooner when cement leaves the body ({_CIRSE}).")
#: Leaked cement below this total, none towards the canal and none in a vein: acceptable
#: (teaching target).
LEAK_ACCEPTABLE_ML = 0.5
#: Smallest leak the readout reports and the score counts (mL): a trace the simulated images
#: show (teaching target).
LEAK_VISIBLE_ML = 0.01
#: Leak kinds that run in a vein: the basivertebral vein (Yeom type B, draining into the
#: anterior epidural venous plexus in the canal) and the segmental veins (type S, towards the
#: vena cava and the lungs). Any visible amount means stop or pause (CIRSE 2017).
VENOUS_LEAK_KINDS = ("venous", "venous/paravertebral")
#: A posterior wall defect straight into the epidural space: reaches the canal.
CANAL_LEAK_KINDS = ("epidural/canal",)
LEAK_REFERENCE = (
    f"Stop or pause the injection when cement enters a vein or the disc, or nears the posterior "
    f"quarter of the body on the lateral view; resume only once it has thickened, or reposition "
    f"({_CIRSE}). Leak types B (basivertebral vein, draining into the anterior epidural venous "
    "plexus in the canal), S (segmental vein), C (cortical defect): Yeom JS et al., "
    "J Bone Joint Surg Br 2003;85(1):83-89 (CT found 1.5 times the leaks seen on radiographs). "
    "Leaks are common and mostly silent: 41 % of vertebroplasty levels (Hulme PA et al., "
    "Spine 2006;31(17):1983-2001, systematic review); extravasation in 33 % of 660 treated "
    "levels, none with complications (Al-Ali F, Barrow T, Luke K, AJNR Am J Neuroradiol "
    "2009;30(10):1835-1839). The 0.5 mL limit for other leaks and the 0.01 mL visibility "
    "threshold are teaching targets.")
BREACH_REFERENCE = (
    f"On AP the tip must not pass the medial edge of the pedicle before, on lateral, it has "
    f"reached the posterior wall of the body ({_MATHIS}). Access is transpedicular, or at "
    f"thoracic levels a planned parapedicular route between the pedicle and the rib head "
    f"({_CIRSE}); nerve-root injury and pneumothorax are complications to track ({_SIR}). "
    "Medial walls border the canal, inferior and superior walls the foramina and nerve roots; "
    "lateral to a thoracic pedicle lie the pleura and the segmental artery. Counting a tip "
    "through the front wall of the body as a breach is a teaching target of this simulator "
    "(no published breach rate for vertebroplasty found).")
#: Routes a student may plan, and the levels where each is accepted.
ROUTES = ("transpedicular", "parapedicular")

_TISSUE = {Label.AIR: "air (outside the patient)", Label.SOFT_TISSUE: "soft tissue", Label.FAT: "fat",
           Label.CORTICAL_BONE: "cortical bone", Label.TRABECULAR_BONE: "trabecular bone",
           Label.DISC: "intervertebral disc", Label.CANAL: "spinal canal", Label.VEIN: "basivertebral vein",
           Label.CLEFT: "fracture cleft", Label.SKIN: "skin", Label.MUSCLE: "muscle",
           Label.LUNG: "lung, through the pleura", Label.TRUNK_BONE: "rib or pelvic bone",
           Label.BLOOD: "a great vessel (aorta or vena cava) or the heart",
           Label.ORGAN: "an organ (liver, kidney or bowel)", Label.GAS: "gas in the bowel",
           Label.LIGAMENT: "ligament between the laminae", Label.CARTILAGE: "costal cartilage",
           Label.TRUNK_MARROW: "sacrum"}
_AIM_FIELDS = ("entry_lateral_mm", "entry_cranial_mm", "medial_deg", "caudal_deg")


#: What each number is, in words, for messages (the field name follows in brackets).
_FIELD_WORDS = {"step_mm": "the step", "entry_lateral_mm": "the skin entry's distance from the midline",
                "entry_cranial_mm": "the skin entry's height above the level's centre",
                "medial_deg": "the medial angle", "caudal_deg": "the caudal angle",
                "lao_deg": "the C-arm rotation", "cranial_deg": "the C-arm's cranial tilt",
                "ml": "the cement dose"}
_UNIT_WORDS = {"deg": "degrees"}


def _shown(value) -> str:
    """A value as a student typed it: numbers without trailing zeros, anything else short."""
    if isinstance(value, Real) and not isinstance(value, bool):
        try:
            return f"{float(value):g}"
        except OverflowError:
            return "a number too large"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _number(name: str, value, low: float, high: float, unit: str, *, words: str | None = None,
            shift: float = 0.0) -> float:
    """Return ``value`` as a float, or raise ValueError naming the field, range and value.

    ``words`` says what the number is (default: from the field name); ``shift`` is added to the
    range and the value shown, for a number the page counts from another zero.
    """
    words = words or _FIELD_WORDS.get(name, name)
    is_number = isinstance(value, Real) and not isinstance(value, bool)
    try:
        number = float(value) if is_number else math.nan
    except OverflowError:  # an integer too large for a float
        number = math.inf
    if not (math.isfinite(number) and low <= number <= high):
        got = _shown(number + shift) if is_number and math.isfinite(number) else _shown(value)
        raise ValueError(f"{words} ({name}) must be a number between {low + shift:g} and {high + shift:g} "
                         f"{_UNIT_WORDS.get(unit, unit)}, got {got}")
    return number


def _ml(volume_ml: float) -> str:
    """A small cement volume in words (a leak just started reads '< 0.01 mL')."""
    return "< 0.01 mL" if volume_ml < 0.005 else f"{volume_ml:.2f} mL"


def _side(value) -> str:
    if not isinstance(value, str) or value not in SIDES:
        raise ValueError(f"side must be 'right' or 'left', got {_shown(value)}")
    return value


def _view(value) -> str:
    if not isinstance(value, str) or value not in VIEWS:
        raise ValueError(f"view must be 'ap' or 'lateral', got {_shown(value)}")
    return value


# -- aim -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NeedleAim:
    """Where the needle enters the skin and which way it points, in the table frame.

    Parameters
    ----------
    side : str
        ``"right"`` or ``"left"`` pedicle.
    entry_lateral_mm : float
        Skin entry distance from the midline (the treated level's centre), 0-120 mm, positive
        away from the midline on ``side``.
    entry_cranial_mm : float
        Skin entry height along +z relative to the treated level's centre, -80 to 80 mm.
    medial_deg : float
        Angle in the transverse (axial) plane from the sagittal plane, -60 to 60 deg; positive
        tips the needle towards the midline as it advances (what an axial CT shows).
    caudal_deg : float
        Angle in the sagittal plane from the axial plane, -60 to 60 deg; positive means the tip
        goes caudal as it advances (what a lateral view shows).
    """

    side: str
    entry_lateral_mm: float
    entry_cranial_mm: float
    medial_deg: float
    caudal_deg: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "side", _side(self.side))
        ranges = {"entry_lateral_mm": (*ENTRY_LATERAL_RANGE_MM, "mm"),
                  "entry_cranial_mm": (*ENTRY_CRANIAL_RANGE_MM, "mm"),
                  "medial_deg": (*ANGLE_RANGE_DEG, "deg"), "caudal_deg": (*ANGLE_RANGE_DEG, "deg")}
        for name, (low, high, unit) in ranges.items():
            object.__setattr__(self, name, _number(name, getattr(self, name), low, high, unit))

    @property
    def sign(self) -> float:
        """+1 on the patient's right (+x), -1 on the left: the direction away from the midline."""
        return 1.0 if self.side == "right" else -1.0

    @property
    def direction(self) -> np.ndarray:
        """Unit vector from the skin entry towards the tip (patient RAS)."""
        d = np.array([-self.sign * math.tan(math.radians(self.medial_deg)), 1.0,
                      -math.tan(math.radians(self.caudal_deg))])
        return d / np.linalg.norm(d)


def _spine_of(model_or_spine):
    return getattr(model_or_spine, "broken_spine", model_or_spine)


def _skin_y(spine, x: float, z: float) -> float:
    return float(spine.skin.shape.back_surface_y(np.array([x]), np.array([z]))[0])


def _skin_crossing(spine, point: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """Where the line ``point + t * direction`` crosses the skin of the back, nearest ``point``."""
    def outside_by(t: float) -> float:  # > 0 while the point is outside (behind) the skin
        p = point + t * direction
        return _skin_y(spine, p[0], p[2]) - p[1]

    lo, hi = -5.0, 5.0
    if not outside_by(lo) > 0 >= outside_by(hi):
        raise ValueError("the planned path does not cross the skin near its skin entry")
    for _ in range(60):  # bisection to far below a micrometre
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if outside_by(mid) > 0 else (lo, mid)
    return point + hi * direction


def aim_of(trajectory: Trajectory, spine) -> NeedleAim:
    """The :class:`NeedleAim` of an existing trajectory (skin entry exactly on the skin)."""
    v = spine.vertebrae[trajectory.level]
    centre = v.transform[:3, 3]
    d = np.asarray(trajectory.direction, float)
    entry = _skin_crossing(spine, np.asarray(trajectory.skin_entry_mm, float), d)
    sign = 1.0 if trajectory.side == "right" else -1.0
    return NeedleAim(trajectory.side, sign * (entry[0] - centre[0]), entry[2] - centre[2],
                     math.degrees(math.atan2(-sign * d[0], d[1])), math.degrees(math.atan2(-d[2], d[1])))


def _planned(model_or_spine, level: str, side: str, bipedicular: bool) -> Trajectory:
    """The planner's trajectory, taken from the model when it already holds it."""
    for t in getattr(model_or_spine, "trajectories", ()) if bipedicular else ():
        if t.level == level and t.side == side:
            return t
    return plan_trajectory(_spine_of(model_or_spine), level, side, bipedicular=bipedicular)


def planned_aim(model_or_spine, level: str, side: str = "right", *, bipedicular: bool = True) -> NeedleAim:
    """The aim matching :func:`vp3d.needle.plan_trajectory`, so keeping it follows the plan.

    ``model_or_spine`` is a :class:`vp3d.procedure.model.ProcedureModel` (its fractured X-ray spine and
    planned needles are used) or a spine.
    """
    level, side = check_level(level), _side(side)
    spine = _spine_of(model_or_spine)
    if level not in spine.levels:
        raise ValueError(f"level {level} is not in this spine ({spine.levels[0]}-{spine.levels[-1]})")
    return aim_of(_planned(model_or_spine, level, side, bipedicular), spine)


def _line_depths(max_mm: float, step_mm: float = 0.25) -> np.ndarray:
    return np.arange(0.0, max_mm + 1e-9, step_mm)


def _first_inside(part, entry: np.ndarray, direction: np.ndarray, max_mm: float) -> float | None:
    """Depth along the line where it first enters ``part``'s bone (None if it never does)."""
    s = _line_depths(max_mm)
    inside = part.distance_patient(entry[None, :] + s[:, None] * direction[None, :]) < 0
    return float(s[int(np.argmax(inside))]) if inside.any() else None


def trajectory_for(spine, level: str, aim: NeedleAim, gauge: int, *, target_mm=None) -> Trajectory:
    """The straight path of ``aim`` at ``level``: skin entry on the skin, bony entry, target.

    The skin entry lies on the skin of the back at the aim's lateral and cranial offsets from
    the level's centre. The bony entry (``pedicle_entry_mm``, where :func:`vp3d.needle.assess`
    starts judging the walls) is where the line first enters the level's bone; a line that
    misses the bone gets the point 10 mm before its closest approach to the pedicle's isthmus,
    so the walls are judged there. ``target_mm`` is the planned target (planned here when not
    given); it may lie off this line, ``target_depth_mm`` is then the depth of closest approach.
    """
    level = check_level(level)
    if level not in spine.levels:
        raise ValueError(f"level {level} is not in this spine ({spine.levels[0]}-{spine.levels[-1]})")
    if not isinstance(aim, NeedleAim):
        raise ValueError(f"aim must be a NeedleAim, got {type(aim).__name__}")
    v = spine.vertebrae[level]
    centre = v.transform[:3, 3]
    x, z = centre[0] + aim.sign * aim.entry_lateral_mm, centre[2] + aim.entry_cranial_mm
    entry = np.array([x, _skin_y(spine, x, z), z])
    d = aim.direction
    if target_mm is None:
        target_mm = plan_trajectory(spine, level, aim.side).target_mm
    target = np.asarray(target_mm, dtype=float).reshape(3)
    s_bone = _first_inside(v, entry, d, NEEDLE_LENGTH_MM)
    if s_bone is None:
        isthmus = v.transform[:3, :3] @ v.landmarks.pedicle_isthmus_mm[SIDES[aim.side]] + centre
        s_bone = max(float(np.dot(isthmus - entry, d)) - 10.0, 0.0)
    return Trajectory(level, aim.side, gauge, entry, entry + s_bone * d, target, d)


# -- score ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScoreItem:
    """One line of the score: the student's result beside what the literature calls good."""

    name: str
    value: str  # the student's result, in words with units
    good: str  # what the literature (or a teaching target) calls good
    verdict: str  # "good", "acceptable" or "needs work"
    reference: str
    number: float | None = None  # the value as a number, when it has one
    unit: str = ""
    advice: str = ""


@dataclass(frozen=True)
class Score:
    """The items of one practice run (see :data:`VERDICTS`)."""

    items: tuple[ScoreItem, ...]

    @property
    def verdict(self) -> str:
        """The worst verdict of any item."""
        return max((i.verdict for i in self.items), key=VERDICTS.index, default="good")

    def item(self, name: str) -> ScoreItem:
        """The item called ``name``."""
        for i in self.items:
            if i.name == name:
                return i
        raise ValueError(f"no score item {name!r}; items: {', '.join(i.name for i in self.items)}")

    def rows(self) -> list[dict]:
        """Plain dicts, one per item, for a table."""
        return [dataclasses.asdict(i) for i in self.items]


# -- shared per model ----------------------------------------------------------------------------
class _Shared:
    """Per model, shared by its practices: the fluoroscope and the cement fills per needle pose."""

    def __init__(self, volume):
        self.scope = Fluoroscope(volume, max_poses=32)
        self.cement: OrderedDict[tuple, object] = OrderedDict()
        self.lock = threading.Lock()


_SHARED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_SHARED_LOCK = threading.Lock()
_CEMENT_CACHE = 16


def _shared(model) -> _Shared:
    with _SHARED_LOCK:
        shared = _SHARED.get(model)
        if shared is None:
            shared = _SHARED[model] = _Shared(model.broken_volume)
        return shared


# -- the practice --------------------------------------------------------------------------------
class Practice:
    """One student's needle and cement on a shared :class:`vp3d.procedure.model.ProcedureModel`.

    Parameters
    ----------
    model : vp3d.procedure.model.ProcedureModel
        Read only: its fractured X-ray spine and volume, planned needles and default views.
    side : str
        ``"right"`` or ``"left"`` pedicle to start with.
    bipedicular : bool
        Aim at the needle's own half of the body (True, as the model plans) or at the midline.
    """

    def __init__(self, model, side: str = "right", *, bipedicular: bool = True):
        self.model = model
        self.level = model.choices.level
        self.route = "transpedicular"
        self.bipedicular = bool(bipedicular)
        self._spine = model.broken_spine
        self._volume = model.broken_volume
        self._shared = _shared(model)
        self.side = _side(side)
        self.reset()

    # -- state ---------------------------------------------------------------------------------
    def reset(self, side: str | None = None) -> None:
        """Start again: needle out at the planned aim, no cement, no shots, home C-arm views."""
        self.side = _side(self.side if side is None else side)
        self._traj_cache: dict[NeedleAim, tuple[Trajectory, float | None]] = {}
        self._exit_cache: dict[NeedleAim, float | None] = {}
        self._plan()
        self.depth_mm = 0.0
        self.cement_ml = 0.0
        self.shots = 0
        self._carms = dict(self.model.views)
        self._shown: dict[str, tuple[tuple, np.ndarray]] = {}
        self._result = None  # CementResult of the pose the cement went in from
        self._mask: tuple[float, np.ndarray] | None = None
        self._breaches: set[str] = set()
        self._anterior_past_mm: float | None = None  # furthest the tip went past the front wall
        self._min_clearance_mm = math.inf
        self._crossed_early = False
        self._at_injection: tuple[SafetyReport, float] | None = None
        self._first_leak_ml: float | None = None
        self._first_venous_ml: float | None = None  # cement in when a vein first showed cement

    def _trajectory(self, aim: NeedleAim) -> tuple[Trajectory, float | None]:
        """Path of ``aim`` and the depth where it first enters any bone (cached per aim)."""
        hit = self._traj_cache.get(aim)
        if hit is None:
            if aim.side != self.side:
                raise ValueError(f"aim is for the {aim.side} side but the practice is on the {self.side}")
            traj = trajectory_for(self._spine, self.level, aim, self.gauge, target_mm=self.planned.target_mm)
            bone = [_first_inside(v, traj.skin_entry_mm, traj.direction, MAX_DEPTH_MM)
                    for v in self._spine.vertebrae.values()]
            bone = [b for b in bone if b is not None]
            hit = (traj, min(bone) if bone else None)
            if len(self._traj_cache) > 64:
                self._traj_cache.clear()
            self._traj_cache[aim] = hit
        return hit

    def trajectory(self) -> Trajectory:
        """The current needle path (:func:`trajectory_for` of :attr:`aim`)."""
        return self._trajectory(self.aim)[0]

    def bone_entry_depth_mm(self) -> float | None:
        """Depth at which the current line first enters any bone (None if it never does)."""
        return self._trajectory(self.aim)[1]

    def needle(self) -> Needle:
        """The needle now; at depth 0 its tip rests on the skin entry (it shows on the images)."""
        return Needle(self.trajectory(), self.depth_mm)

    def safety(self) -> SafetyReport:
        """:func:`vp3d.needle.assess` of the needle now (walls, breach, medial-line rule, target)."""
        return assess(self._spine, self.needle())

    def tip_label(self) -> Label | None:
        """The tissue label at the needle tip (the fine box, else the trunk around it), or None."""
        tip = self.needle().tip_mm
        for vol in (self._volume, self._volume.surround):
            if vol is None or vol.labels is None:
                continue
            idx = np.round((tip - vol.origin_mm) / vol.spacing_mm).astype(int)
            if np.all(idx >= 0) and np.all(idx < np.array(vol.shape)):
                return Label(int(vol.labels[tuple(idx)]))
        return None

    def tip_tissue(self) -> str:
        """The tissue at the needle tip, in words, from the volume's labels."""
        label = self.tip_label()
        if label is None:
            return "outside the imaged box"
        return _TISSUE.get(label, "unknown tissue")

    def tip_depth_fraction(self) -> float:
        """Tip position front-to-back in the level's body: 0 posterior wall, 1 anterior wall."""
        v = self._spine.vertebrae[self.level]
        inv = np.linalg.inv(v.transform)
        local = inv[:3, :3] @ self.needle().tip_mm + inv[:3, 3]
        depth = v.morphometry.endplate_depth_mm
        return float((local[1] + depth / 2) / depth)

    def _front_wall_depth_mm(self, aim: NeedleAim) -> float | None:
        """Depth where ``aim``'s line leaves the treated body through its front wall, or None.

        The line's last stretch inside the body (the level's bone in front of the posterior
        wall) ends at the anterior or anterolateral cortex when that exit lies in the front half
        of the body and faces forwards rather than up or down (an exit through an endplate, into
        the disc, is not a front-wall exit). Cached per aim.
        """
        if aim in self._exit_cache:
            return self._exit_cache[aim]
        traj = self._trajectory(aim)[0]
        v = self._spine.vertebrae[self.level]
        inv = np.linalg.inv(v.transform)
        s = _line_depths(MAX_DEPTH_MM)
        points = traj.skin_entry_mm[None, :] + s[:, None] * traj.direction[None, :]
        local = points @ inv[:3, :3].T + inv[:3, 3]
        in_body = (v.distance_patient(points) < 0) & (local[:, 1] > -v.morphometry.endplate_depth_mm / 2)
        exit_mm = None
        last = int(np.nonzero(in_body)[0][-1]) if in_body.any() else None
        if last is not None and last + 1 < len(s) and local[last, 1] > 0:
            mid = 0.5 * (points[last] + points[last + 1])
            h = 0.5  # the surface normal from central differences of the bone's distance field
            grad = np.array([v.distance_patient(np.stack([mid + h * e, mid - h * e])) @ (1.0, -1.0)
                             for e in np.eye(3)])
            normal = inv[:3, :3] @ grad
            if normal[1] > 0 and abs(normal[2]) < max(abs(normal[0]), normal[1]):
                exit_mm = float(0.5 * (s[last] + s[last + 1]))
        if len(self._exit_cache) > 64:
            self._exit_cache.clear()
        self._exit_cache[aim] = exit_mm
        return exit_mm

    def anterior_breach(self) -> bool:
        """True while the tip is out through the front (anterior or anterolateral) wall of the body.

        The tip has passed the depth where the needle's line, having been inside the treated
        vertebral body, leaves it through its front wall (beyond lie the great vessels).
        """
        wall = self._front_wall_depth_mm(self.aim)
        return wall is not None and self.depth_mm > wall

    def _record(self) -> SafetyReport:
        """Assess the pose now and remember any breach or rule broken along the way."""
        report = self.safety()
        if self.anterior_breach():
            past = self.depth_mm - self._front_wall_depth_mm(self.aim)
            self._anterior_past_mm = max(past, self._anterior_past_mm or 0.0)
        if self.depth_mm > 0:
            if report.breach is not None:
                self._breaches.add(report.breach)
            if math.isfinite(report.wall_clearance_mm):
                self._min_clearance_mm = min(self._min_clearance_mm, report.wall_clearance_mm)
            self._crossed_early |= report.medial_line_crossed_early
        return report

    _LOCKED_WORDS = {"advance": "advance the needle", "withdraw": "pull the needle back",
                     "set_aim": "change the aim", "set_side": "change side",
                     "set_route": "change the planned route"}

    def _needle_locked(self, what: str) -> None:
        if self.cement_ml > 0:
            raise ValueError(f"The cement is in, so the needle stays where it is: you cannot "
                             f"{self._LOCKED_WORDS.get(what, what)} now. Start over to practise again.")

    # -- needle --------------------------------------------------------------------------------
    def advance(self, step_mm: float) -> SafetyReport:
        """Push the needle ``step_mm`` (0.5-10 mm) deeper along its line; returns its safety."""
        step = _number("step_mm", step_mm, *STEP_RANGE_MM, "mm")
        self._needle_locked("advance")
        if self.depth_mm + step > MAX_DEPTH_MM + 1e-9:
            raise ValueError(f"the needle is {NEEDLE_LENGTH_MM:g} mm long, so its tip can go at most "
                             f"{MAX_DEPTH_MM:g} mm deep: it is at {self.depth_mm:g} mm, and a step "
                             f"(step_mm) of {step:g} mm would take it to {self.depth_mm + step:g} mm")
        self.depth_mm += step
        return self._record()

    def withdraw(self, step_mm: float) -> SafetyReport:
        """Pull the needle back ``step_mm`` (0.5-10 mm, at most its depth); returns its safety."""
        step = _number("step_mm", step_mm, *STEP_RANGE_MM, "mm")
        self._needle_locked("withdraw")
        if step > self.depth_mm + 1e-9:
            raise ValueError(f"the step (step_mm) of {step:g} mm is more than the needle's depth of "
                             f"{self.depth_mm:g} mm: withdraw at most {self.depth_mm:g} mm")
        self.depth_mm = max(self.depth_mm - step, 0.0)
        return self._record()

    def set_aim(self, **changes) -> NeedleAim:
        """Change the aim's ``entry_lateral_mm``, ``entry_cranial_mm``, ``medial_deg`` or ``caudal_deg``.

        Angles may change while the tip has not entered bone, the skin entry only with the
        needle out of the skin; the side changes with :meth:`set_side`.
        """
        unknown = sorted(set(changes) - set(_AIM_FIELDS))
        if unknown:
            hint = "; the side is changed on its own (set_side)" if "side" in unknown else ""
            raise ValueError(f"the aim can only change {', '.join(_AIM_FIELDS[:-1])} or {_AIM_FIELDS[-1]}, "
                             f"got {', '.join(unknown)}{hint}")
        new = dataclasses.replace(self.aim, **changes)  # validates every field
        if new == self.aim:
            return self.aim
        self._needle_locked("set_aim")
        moves_entry = any(getattr(new, f) != getattr(self.aim, f) for f in _AIM_FIELDS[:2])
        if moves_entry and self.depth_mm > 0:
            raise ValueError(f"withdraw the needle out of the skin (depth 0, now {self.depth_mm:g} mm) "
                             "before moving the skin entry")
        bone = self.bone_entry_depth_mm()
        if bone is not None and self.depth_mm > bone:
            raise ValueError(f"withdraw the needle out of the bone before changing its angle: the tip is "
                             f"{self.depth_mm - bone:.1f} mm past the bony entry, withdraw at least "
                             "that much")
        new_bone = self._trajectory(new)[1]
        if new_bone is not None and self.depth_mm > new_bone:
            raise ValueError("that angle would swing the tip into bone: withdraw the needle "
                             f"{self.depth_mm - new_bone:.1f} mm or more first")
        self.aim = new
        self._record()
        return new

    def set_side(self, side: str) -> NeedleAim:
        """Switch pedicle (needle out of the skin, no cement): the aim goes back to the plan."""
        side = _side(side)
        if side == self.side:
            return self.aim
        self._needle_locked("set_side")
        if self.depth_mm > 0:
            raise ValueError(f"withdraw the needle fully (depth 0, now {self.depth_mm:g} mm) "
                             "before changing side")
        self.side = side
        self._plan()
        return self.aim

    def _plan(self, route: str | None = None) -> None:
        """Plan the path of ``route`` (default: the current one) on the current side; the
        aim goes to the plan. A route the anatomy does not allow raises and changes nothing."""
        route = self.route if route is None else route
        if route == "parapedicular":
            planned = plan_parapedicular(self._spine, self.level, self.side, bipedicular=self.bipedicular)
        else:
            planned = _planned(self.model, self.level, self.side, self.bipedicular)
        self.route, self.planned, self.gauge = route, planned, planned.gauge
        self._traj_cache.clear()
        self._exit_cache.clear()
        self.aim = aim_of(planned, self._spine)

    def set_route(self, route: str) -> str:
        """Plan the route before the needle enters the skin: ``"transpedicular"`` or, at thoracic
        levels (T1-T12), ``"parapedicular"``, which passes lateral to the pedicle by the rib head
        (:func:`vp3d.needle.plan_parapedicular`). The aim goes to the new plan."""
        if route not in ROUTES:
            raise ValueError(f"route must be one of {', '.join(ROUTES)}, got {str(route)[:40]!r}")
        if route == self.route:
            return route
        if route == "parapedicular" and self.level not in PARAPEDICULAR_LEVELS:
            raise ValueError(f"a parapedicular route is planned only at thoracic levels (T1-T12), where it "
                             f"passes by the rib head; at {self.level} keep to the pedicle")
        self._needle_locked("set_route")
        if self.depth_mm > 0:
            raise ValueError(f"plan the route before the needle goes in: withdraw it fully (depth 0, now "
                             f"{self.depth_mm:g} mm) first")
        self._plan(route)
        return route

    # -- imaging -------------------------------------------------------------------------------
    def carm(self, view: str) -> CArm:
        """The C-arm pose of ``view`` now."""
        return self._carms[_view(view)]

    def rotate(self, view: str, lao_deg: float | None = None, cranial_deg: float | None = None) -> CArm:
        """Turn the C-arm of ``view`` to ``lao_deg`` (oblique) and ``cranial_deg`` (tilt).

        Angles are the C-arm's own (:mod:`vp3d.fluoro.carm`): AP ``lao_deg`` -45 to 45, lateral
        -135 to -45 (-90 is the true lateral), ``cranial_deg`` -40 to 40 for both. An angle left
        out keeps its value. A lateral angle out of range is reported as the page shows it,
        counted from the true lateral (``lao_deg + 90``, -45 to 45).
        """
        view = _view(view)
        carm = self._carms[view]
        if lao_deg is None:
            lao = carm.lao_deg
        elif view == "lateral":
            lao = _number("lao_deg", lao_deg, *VIEW_LAO_RANGE_DEG[view], "degrees from the true lateral",
                          words="the lateral rotation", shift=LATERAL_ROTATION_ZERO_DEG)
        else:
            lao = _number("lao_deg", lao_deg, *VIEW_LAO_RANGE_DEG[view], "deg", words="the AP rotation")
        tilt = (carm.cranial_deg if cranial_deg is None
                else _number("cranial_deg", cranial_deg, *CRANIAL_RANGE_DEG, "deg"))
        if (lao, tilt) != (carm.lao_deg, carm.cranial_deg):
            self._carms[view] = dataclasses.replace(carm, lao_deg=lao, cranial_deg=tilt)
        return self._carms[view]

    def images(self, views=VIEWS) -> dict[str, np.ndarray]:
        """Fluoroscopy of ``views`` now (uint8, read-only); each newly taken image is one shot."""
        if isinstance(views, str):
            views = (views,)
        views = [_view(v) for v in views]
        needle = self.needle()
        mask = self._cement_mask()
        state = (self.aim, self.depth_mm, self.cement_ml)
        out = {}
        for view in views:
            carm = self._carms[view]
            key = (carm.key, state)
            shown = self._shown.get(view)
            if shown is None or shown[0] != key:
                self.shots += 1
                image = self._shared.scope.radiograph(carm, needle=[needle], cement=mask,
                                                      noise_seed=self.shots).image
                image.flags.writeable = False
                shown = self._shown[view] = (key, image)
            out[view] = shown[1]
        return out

    # -- cement --------------------------------------------------------------------------------
    def _simulate(self):
        """The fill from the needle now (simulated once per pose, shared per model)."""
        shared = self._shared
        key = (self.side, self.aim, round(self.depth_mm, 6), self.gauge)
        with shared.lock:
            result = shared.cement.get(key)
            if result is not None:
                shared.cement.move_to_end(key)
                return result
        needle = self.needle()
        try:
            result = simulate_up_to(self._volume, [needle], MAX_CEMENT_ML)  # or what the body holds
        except ValueError as error:  # the detail stays in the traceback, not in the message
            raise ValueError("cement cannot go in from this needle position: place the tip well inside "
                             "the vertebral body and try again") from error
        with shared.lock:
            shared.cement[key] = result
            while len(shared.cement) > _CEMENT_CACHE:
                shared.cement.popitem(last=False)
        return result

    def inject(self, ml: float = CEMENT_STEP_ML) -> list:
        """Inject ``ml`` (whole 0.5 mL steps, up to 2 mL) with the tip in the body; returns the leaks."""
        ml = _number("ml", ml, CEMENT_STEP_ML, MAX_CEMENT_PER_CALL_ML, "mL")
        steps = ml / CEMENT_STEP_ML
        if abs(steps - round(steps)) > 1e-9:
            raise ValueError(f"the cement dose (ml) must be a whole number of {CEMENT_STEP_ML:g} mL steps, "
                             f"got {ml:g}")
        report = self.safety()
        if not report.tip_in_body:
            raise ValueError(f"the tip is in {self.tip_tissue()}, not in the vertebral body of {self.level}: "
                             "advance it into the body (check the lateral view) before injecting cement")
        total = self.cement_ml + ml
        if total > MAX_CEMENT_ML + 1e-9:
            raise ValueError(f"at most {MAX_CEMENT_ML:g} mL of cement in one practice: {self.cement_ml:g} mL "
                             f"is in, so {ml:g} mL more (ml) is too much")
        result = self._result if self._result is not None else self._simulate()
        if total > result.total_ml + result.voxel_ml:  # the simulation rounds to whole voxels
            raise ValueError(f"from this needle position the vertebral body, with the paths cement leaks "
                             f"along, holds only {result.total_ml:g} mL ({self.cement_ml:g} mL is in): "
                             "stop injecting")
        if self._result is None:
            self._result = result
            self._at_injection = (report, self.tip_depth_fraction())
        self.cement_ml = total
        leaks = self.leaks()
        if leaks and self._first_leak_ml is None:
            self._first_leak_ml = total
        if self._first_venous_ml is None and self.venous_leaks():
            self._first_venous_ml = total
        return leaks

    def _fill_ml(self) -> float:
        """The fill level to ask the simulation for (its total is rounded to whole voxels)."""
        return min(self.cement_ml, self._result.total_ml)

    @property
    def cement_result(self):
        """The :class:`vp3d.cement.CementResult` the cement comes from (None before any)."""
        return self._result

    def leaks(self) -> list:
        """:class:`vp3d.cement.Leak` list at the cement injected so far."""
        if self._result is None or self.cement_ml <= 0:
            return []
        return self._result.leaks_at(self._fill_ml())

    def venous_leaks(self) -> list:
        """Visible leaks into a vein (Yeom type B or S) now: each one means stop or pause."""
        return [lk for lk in self.leaks() if lk.kind in VENOUS_LEAK_KINDS and lk.volume_ml >= LEAK_VISIBLE_ML]

    def _cement_mask(self) -> np.ndarray | None:
        if self._result is None or self.cement_ml <= 0:
            return None
        if self._mask is None or self._mask[0] != self.cement_ml:
            self._mask = (self.cement_ml, self._result.mask_at(self._fill_ml()))
        return self._mask[1]

    def cement_mesh(self) -> pv.PolyData:
        """Closed surface of the cement injected so far (empty before any), patient mm."""
        if self._result is None or self.cement_ml <= 0:
            return pv.PolyData()
        return self._result.mesh_at(self._fill_ml())

    # -- score ---------------------------------------------------------------------------------
    def score(self) -> Score:
        """The run so far against the literature: breach, tip, shots, cement volume, leaks."""
        return Score((self._score_breach(), self._score_tip(), self._score_shots(),
                      self._score_volume(), self._score_leaks()))

    def _score_breach(self) -> ScoreItem:
        good = ("no breach of the pedicle walls; on AP the tip stays lateral to the pedicle's medial edge "
                "until, on lateral, it is past the posterior wall of the body; the tip stays inside the "
                "front (anterior) wall of the body")
        kinds = sorted(self._breaches)
        clearance = self._min_clearance_mm
        if kinds:
            into = -clearance
            # The bone's distance field is clamped BAND_MM from the surface: beyond it, say "over".
            over = "over " if into >= BAND_MM + self.trajectory().outer_diameter_mm / 2 - 0.05 else ""
            value = f"{' and '.join(kinds)} breach (needle {over}{into:.1f} mm through the wall)"
        elif math.isfinite(clearance):
            value = f"none (closest wall {clearance:.1f} mm)"
        else:
            value = "none (needle not yet past the bony entry)"
        if self._crossed_early:
            value += "; tip crossed the pedicle's medial edge on AP before the body"
        anterior = self._anterior_past_mm is not None
        if anterior:
            value += (f"; tip through the anterior wall of the body "
                      f"({self._anterior_past_mm:.1f} mm past it at most)")
        thoracic = self.level in PARAPEDICULAR_LEVELS
        planned_para = self.route == "parapedicular"
        only_lateral = set(kinds) <= {"lateral"} and not self._crossed_early and not anterior
        if not kinds and not self._crossed_early and not anterior:
            verdict, advice = "good", ""
        elif kinds and only_lateral and planned_para:
            verdict, advice = "good", ""
            value = value.replace("lateral breach", "lateral to the pedicle, as planned for the parapedicular route")
        elif only_lateral:
            verdict = "needs work"
            beside = ("the pleura (a pneumothorax) and the segmental artery lie lateral to a thoracic pedicle"
                      if thoracic else "the exiting nerve root and the segmental vessels lie lateral to it")
            advice = (f"the needle left the pedicle through its lateral wall without a planned parapedicular "
                      f"route: at {self.level} {beside}; withdraw and re-aim more medially")
            advice += ("; plan a parapedicular route before the needle goes in if you mean to pass by the rib head"
                       if thoracic else "; in the lumbar spine keep the needle inside the pedicle")
        else:
            verdict, parts = "needs work", []
            if kinds or self._crossed_early:
                parts.append("medial or foraminal walls protect the canal and the nerve roots: check the AP "
                             "view before the tip passes the medial edge of the pedicle")
            if anterior:
                parts.append("the tip went through the front wall of the body, towards the great vessels: "
                             "stop in the anterior third, checking depth on the lateral view")
            advice = "; ".join(parts)
        if planned_para:
            good = good.replace("no breach of the pedicle walls",
                                "a planned parapedicular path lateral to the pedicle, no other wall breached")
        return ScoreItem("pedicle breach", value, good, verdict, BREACH_REFERENCE,
                         None if not math.isfinite(clearance) else round(clearance, 2), "mm", advice)

    def _score_tip(self) -> ScoreItem:
        good = (f"tip in the anterior third of the body, within {TIP_GOOD_MM:g} mm of the planned target "
                "(teaching target)")
        report, frac = self._at_injection or (self.safety(), self.tip_depth_fraction())
        through_front = self._at_injection is None and self.anterior_breach()
        dist = report.tip_to_target_mm
        where = "anterior third" if frac >= 2 / 3 else "middle third" if frac >= 1 / 3 else "posterior third"
        if not report.tip_in_body:
            where = "past the anterior wall" if frac > 1 or through_front else "not in the body"
        value = f"{dist:.1f} mm from the target, {where}"
        if report.tip_in_body and frac >= 2 / 3 and dist <= TIP_GOOD_MM:
            verdict, advice = "good", ""
        elif report.tip_in_body and frac >= 0.5 and dist <= TIP_ACCEPTABLE_MM:
            verdict, advice = "acceptable", "aim for the anterior third, near the planned target"
        else:
            verdict, advice = "needs work", ("place the tip inside the body, in its anterior third, "
                                             "checking depth on the lateral view")
        return ScoreItem("tip position", value, good, verdict, TIP_REFERENCE, round(dist, 2), "mm", advice)

    def _score_shots(self) -> ScoreItem:
        good = f"at most {SHOTS_GOOD} images (teaching target)"
        if self.shots <= SHOTS_GOOD:
            verdict, advice = "good", ""
        elif self.shots <= SHOTS_ACCEPTABLE:
            verdict, advice = "acceptable", "take fewer images: advance in longer steps through soft tissue"
        else:
            verdict, advice = "needs work", "every image is dose to the patient and to you: plan each shot"
        return ScoreItem("fluoroscopy shots", f"{self.shots} images", good, verdict, SHOTS_REFERENCE,
                         float(self.shots), "images", advice)

    def _score_volume(self) -> ScoreItem:
        targets = cement_targets(self.level)
        stiff = targets.stiffness_ml
        good = (f"{CEMENT_STRENGTH_ML:g} mL restores strength; {stiff:g} mL restores stiffness "
                f"({targets.group})")
        ml, first_leak = self.cement_ml, self._first_leak_ml
        value = f"{ml:g} mL" if ml > 0 else "none injected"
        if ml < CEMENT_STRENGTH_ML and first_leak is not None and ml <= first_leak + CEMENT_STEP_ML + 1e-9:
            verdict = "acceptable"
            value += f", stopped at a leak first seen at {first_leak:g} mL"
            advice = (f"stopping at a leak is correct, even below {CEMENT_STRENGTH_ML:g} mL; next time a tip "
                      "further into the body may take more cement before it leaks")
        elif ml < CEMENT_STRENGTH_ML:
            verdict = "needs work"
            if first_leak is not None:
                advice = (f"a leak appeared at {first_leak:g} mL: stop then (at most one more "
                          f"{CEMENT_STEP_ML:g} mL step while you check the lateral view)")
            else:
                advice = f"inject at least {CEMENT_STRENGTH_ML:g} mL if no leak stops you"
        elif ml <= stiff + 1e-9:
            verdict, advice = "good", ""
        else:
            verdict, advice = "acceptable", "more than needed for stiffness: larger fills raise the leak risk"
        return ScoreItem("cement volume", value, good, verdict, CEMENT_REFERENCE, ml, "mL", advice)

    def _score_leaks(self) -> ScoreItem:
        leaks = [lk for lk in self.leaks() if lk.volume_ml >= LEAK_VISIBLE_ML]
        total = sum(lk.volume_ml for lk in leaks)
        good = (f"no leak; small silent leaks (< {LEAK_ACCEPTABLE_ML:g} mL in all) are common, as long as none "
                "reaches the canal and none enters a vein: cement in the basivertebral (Yeom type B) or a "
                "segmental (type S) vein, of any size, means stop or pause the injection")
        if not leaks:
            value = "none" if self.cement_ml > 0 else "none (no cement injected)"
            return ScoreItem("cement leaks", value, good, "good", LEAK_REFERENCE, 0.0, "mL")

        def described(lk) -> str:
            where = {"venous": ", a vein draining to the epidural veins in the canal",
                     "venous/paravertebral": ", a segmental vein"}.get(lk.kind, "")
            return f"{lk.kind} {_ml(lk.volume_ml)} (Yeom type {lk.yeom_type}{where})"

        value = f"{', '.join(described(lk) for lk in leaks)}; first seen at {self._first_leak_ml:g} mL"
        venous = [lk for lk in leaks if lk.kind in VENOUS_LEAK_KINDS]
        canal = [lk for lk in leaks if lk.kind in CANAL_LEAK_KINDS]
        first_vein = self._first_venous_ml
        went_on = first_vein is not None and self.cement_ml > first_vein + 1e-9
        why = []
        if canal:
            why.append("cement went through the posterior wall into the epidural space of the canal")
        if venous:
            types = "/".join(sorted({lk.yeom_type for lk in venous}))
            seen = f" at {first_vein:g} mL" if first_vein is not None else ""
            if went_on:
                why.append(f"cement entered a vein (Yeom type {types}){seen} and the injection went on to "
                           f"{self.cement_ml:g} mL: stop or pause as soon as a vein fills, whatever the amount")
            else:
                why.append(f"cement entered a vein (Yeom type {types}){seen} and you stopped, which is right")
        if canal or went_on:
            verdict = "needs work"
            advice = "; ".join(why) + ("; stop injecting as soon as cement heads towards the canal" if canal else "")
        elif venous:
            verdict = "acceptable"
            advice = "; ".join(why) + ("; next time a tip further from the vein, or thicker cement, may avoid it")
        elif total < LEAK_ACCEPTABLE_ML:
            verdict = "acceptable"
            advice = "watch the lateral view and stop or pause when cement leaves the body"
        else:
            verdict, advice = "needs work", (f"{_ml(total)} leaked in all: stop injecting as soon as cement "
                                             "leaves the body")
        return ScoreItem("cement leaks", value, good, verdict, LEAK_REFERENCE, round(total, 3), "mL", advice)
