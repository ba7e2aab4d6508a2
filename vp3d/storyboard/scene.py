"""The storyboard's vocabulary (audiences, topics, parameters, camera presets, parts) and its
dataclasses. Plain Python: no numpy, no VTK, no UI.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

#: Narration audiences. The outreach kiosk speaks and shows the ``patient`` narration
#: (plain words); :data:`AUDIENCE_ALIASES` maps the app's modes onto them.
AUDIENCES: tuple[str, ...] = ("patient", "student")
AUDIENCE_ALIASES: Mapping[str, str] = MappingProxyType(
    {"patient": "patient", "student": "student", "kiosk": "patient"})

#: Story topics in the order a scene must follow (a scene may skip topics, never go back).
TOPICS: tuple[str, ...] = (
    "anatomy",       # the healthy spine and the chosen level
    "causes",        # why vertebrae fracture
    "fracture",      # the collapse at the chosen level and grade, why it hurts
    "imaging",       # X-ray, MRI, bone scan
    "candidates",    # who is and is not a candidate, contraindications
    "outcomes",      # how well it works: the sources' figures and the trials, both ways
    "risks",         # leaks seen on imaging versus complications; each risk
    "consent",       # consent, blood thinners, fasting, IV line, antibiotics, pregnancy
    "preparation",   # position, sedation, monitoring, skin, local anaesthetic, nick
    "needle",        # the transpedicular needle under AP and lateral fluoroscopy; biopsy
    "balloon",       # kyphoplasty: the balloon tamp
    "cement",        # cement going in, stop rules, mL counter
    "setting",       # stylet back, needle out, cement hardens
    "recovery",      # lying flat and why, home, relief
    "aftercare",     # warning signs, treating the osteoporosis
)


@dataclass(frozen=True)
class Parameter:
    """An engine parameter a step may hold (``state``) or animate, with its valid range."""

    name: str
    low: float
    high: float
    unit: str
    meaning: str


#: Parameters the app drives, with the engine's valid ranges (tests check them against the
#: engine's own constants).
PARAMETERS: Mapping[str, Parameter] = MappingProxyType({
    p.name: p for p in (
        Parameter("fracture.t", 0.0, 1.0, "", "collapse of the chosen level: 0 intact, 1 the "
                  "full height loss of its grade (vp3d.fracture.fracture_spine)"),
        Parameter("needle.depth", 0.0, 1.0, "", "needle tip depth as a fraction of the planned "
                  "target depth (Trajectory.target_depth_mm): 0 at the skin, 1 at the target"),
        Parameter("cement.ml", 0.0, 12.0, "mL", "cement injected (vp3d.cement: one simulation, "
                  "every fill level a prefix of it; MAX_TOTAL_ML)"),
        Parameter("balloon.fill_ml", 0.0, 4.0, "mL", "kyphoplasty balloon fill "
                  "(vp3d.pathology.kyphoplasty.Balloon, MAX_BALLOON_ML)"),
        Parameter("kyphoplasty.restore", 0.0, 1.0, "", "share of the height the balloons "
                  "restore for good (vp3d.kyphoplasty.lift_fraction): with the balloons full "
                  "(balloon.fill_ml) they hold up more, and that extra is lost when they are "
                  "emptied (Rotter 2010); the collapse shown is fracture.t * (1 - lift); it stays "
                  "at 1 once the balloons are out, as the cavity and cement hold the height"),
        Parameter("camera.orbit_deg", -360.0, 360.0, "deg", "camera turned about the patient's "
                  "long (z) axis through the focal point, from the preset's position"),
    )
})


@dataclass(frozen=True)
class CameraPreset:
    """A named view: direction from the focal point to the camera, view-up, distance."""

    direction: tuple[float, float, float]
    up: tuple[float, float, float]
    distance_mm: float
    focus: str  # "level" (centre of the chosen vertebral body) or "spine" (centre of the scene)
    section: bool = False  # the app shows the chosen level alone (an axial slice view)
    meaning: str = ""


#: Patient frame RAS (+x right, +y anterior, +z cranial), mm; as ``vp3d.meshing.views.RENDER_VIEWS``.
CAMERA_PRESETS: Mapping[str, CameraPreset] = MappingProxyType({
    "overview": CameraPreset((-0.8, 0.45, 0.25), (0, 0, 1), 600.0, "spine",
                             meaning="the whole modelled spine from the front-left, slightly above"),
    "lateral": CameraPreset((-1, 0, 0), (0, 0, 1), 380.0, "level",
                            meaning="from the patient's left, as lateral films are read"),
    "posterior": CameraPreset((0, -1, 0), (0, 0, 1), 420.0, "level",
                              meaning="from behind: the operator's view of the prone patient's back"),
    "oblique": CameraPreset((-0.55, -0.7, 0.45), (0, 0, 1), 380.0, "level",
                            meaning="from behind-left and above"),
    "close_level": CameraPreset((-0.62, -0.55, 0.35), (0, 0, 1), 170.0, "level",
                                meaning="close to the chosen level from behind-left"),
    "axial": CameraPreset((0, 0, -1), (0, 1, 0), 260.0, "level", section=True,
                          meaning="from the feet, anterior up, patient's right on the viewer's "
                          "left, as CT images are read; the chosen level alone"),
})

#: Display modes of a part.
MODES: tuple[str, ...] = ("shown", "hidden", "translucent", "highlighted")

#: Part groups a step may show, hide or make translucent, with the modes each accepts.
#: ``level`` is the chosen vertebra (it overrides ``vertebrae``); ``nuclei`` are the discs'
#: nuclei pulposi; ``labels`` are the level names beside the spine.
PART_GROUPS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "vertebrae": ("shown", "hidden", "translucent"),
    "level": ("shown", "hidden", "translucent", "highlighted"),
    "discs": ("shown", "hidden", "translucent"),
    "nuclei": ("shown", "hidden", "translucent"),
    "cord": ("shown", "hidden", "translucent"),
    "skin": ("shown", "hidden", "translucent"),
    "needle": ("shown", "hidden", "translucent"),
    "cement": ("shown", "hidden", "translucent"),
    "balloon": ("shown", "hidden", "translucent"),
    "labels": ("shown", "hidden"),
    "ribs": ("shown", "hidden", "translucent"),
    "lungs": ("shown", "hidden", "translucent"),
    "vessels": ("shown", "hidden", "translucent"),
    "organs": ("shown", "hidden", "translucent"),
})

#: Built-in visibility before a scene's ``defaults`` apply.
BASE_VISIBLE: Mapping[str, str] = MappingProxyType({
    "vertebrae": "shown", "level": "highlighted", "discs": "shown", "nuclei": "hidden",
    "cord": "shown", "skin": "hidden", "needle": "hidden", "cement": "hidden",
    "balloon": "hidden", "labels": "shown", "ribs": "hidden", "lungs": "hidden", "vessels": "hidden",
    "organs": "hidden",
})

FLUORO_VIEWS: tuple[str, ...] = ("ap", "lateral")


@dataclass(frozen=True)
class Sentence:
    """One narrated sentence: its text (a template until rendered), sources and fact tags."""

    text: str
    sources: tuple[str, ...]
    facts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Animation:
    """``param`` goes linearly from ``start`` to ``end`` over ``seconds``, after ``delay_s``."""

    param: str
    start: float
    end: float
    seconds: float
    delay_s: float = 0.0

    @property
    def end_s(self) -> float:
        return self.delay_s + self.seconds

    def value_at(self, time_s: float) -> float:
        u = min(max((time_s - self.delay_s) / self.seconds, 0.0), 1.0)
        return self.start + (self.end - self.start) * u


Vec3 = tuple[float, float, float]


@dataclass(frozen=True)
class Camera:
    """A named preset and/or explicit position, focal point (mm, relative to the chosen
    level's body centre, patient axes) and view-up."""

    preset: str | None = None
    position_mm: Vec3 | None = None
    focal_mm: Vec3 | None = None
    up: Vec3 | None = None

    def resolve(self, level_centre_mm, spine_centre_mm=None, orbit_deg: float = 0.0
                ) -> tuple[Vec3, Vec3, Vec3]:
        """Absolute ``(position, focal point, view-up)`` in the patient frame, mm."""
        level = tuple(float(v) for v in level_centre_mm)
        spine = tuple(float(v) for v in spine_centre_mm) if spine_centre_mm is not None else level
        p = CAMERA_PRESETS[self.preset] if self.preset else None
        if self.focal_mm is not None:
            focal = _add(level, self.focal_mm)
        else:
            focal = spine if p is not None and p.focus == "spine" else level
        if self.position_mm is not None:
            position = _add(level, self.position_mm)
        else:
            assert p is not None  # the loader requires a preset or both explicit points
            n = math.sqrt(sum(c * c for c in p.direction))
            position = tuple(f + c / n * p.distance_mm for f, c in zip(focal, p.direction))
        up = self.up if self.up is not None else (p.up if p is not None else (0.0, 0.0, 1.0))
        if orbit_deg:
            a = math.radians(orbit_deg)
            dx, dy = position[0] - focal[0], position[1] - focal[1]
            position = (focal[0] + dx * math.cos(a) - dy * math.sin(a),
                        focal[1] + dx * math.sin(a) + dy * math.cos(a), position[2])
            up = (up[0] * math.cos(a) - up[1] * math.sin(a),
                  up[0] * math.sin(a) + up[1] * math.cos(a), up[2])
        return tuple(position), tuple(focal), tuple(float(c) for c in up)


def _add(a, b) -> Vec3:
    return tuple(float(x) + float(y) for x, y in zip(a, b))


@dataclass(frozen=True)
class Step:
    """One step of a scene, fully resolved (the scene's defaults applied)."""

    id: str
    topic: str
    title: Mapping[str, str]                      # audience -> title template
    camera: Camera
    visible: Mapping[str, str]                    # part group or anatomy part name -> mode
    state: Mapping[str, float]                    # every parameter's held value
    animate: tuple[Animation, ...]
    fluoro: tuple[str, ...]                       # () or views among FLUORO_VIEWS
    narration: Mapping[str, tuple[Sentence, ...]]  # audience -> sentences (templates)
    procedure: str = ""                           # the scene's procedure, fills {procedure}
    source_file: str = ""                         # the YAML file the step was written in

    @property
    def duration_s(self) -> float:
        """When the last animation ends (0 for a still step)."""
        return max((a.end_s for a in self.animate), default=0.0)

    def values_at(self, time_s: float) -> dict[str, float]:
        """Every parameter's value ``time_s`` seconds into the step.

        Held values come from ``state``; an animated parameter takes its first animation's
        ``from`` before that starts, then follows its animations in time order.
        """
        out = dict(self.state)
        by_param: dict[str, list[Animation]] = {}
        for a in self.animate:
            by_param.setdefault(a.param, []).append(a)
        for name, anims in by_param.items():
            anims.sort(key=lambda a: a.delay_s)
            current = anims[0]
            for a in anims:
                if a.delay_s <= time_s:
                    current = a
            out[name] = current.value_at(time_s)
        return out

    def final_value(self, param: str) -> float | None:
        """The value ``param`` ends the step at, if the step holds or animates it."""
        anims = [a for a in self.animate if a.param == param]
        if anims:
            return max(anims, key=lambda a: a.end_s).end
        return self.state.get(param)



@dataclass(frozen=True)
class Scene:
    """A storyboard: ordered steps for one procedure."""

    name: str
    procedure: str
    title: Mapping[str, str]
    steps: tuple[Step, ...]
    path: str = ""
    language: str = "en"  # the patient text's language (student text is English)

    @property
    def ids(self) -> list[str]:
        return [s.id for s in self.steps]

    def step(self, step_id: str) -> Step:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(f"scene {self.name!r} has no step {step_id!r}; steps: {', '.join(self.ids)}")

    def sentences(self):
        """Every ``(step, audience, index, sentence)``, in order."""
        for s in self.steps:
            for aud in AUDIENCES:
                for i, sent in enumerate(s.narration[aud]):
                    yield s, aud, i, sent


class SceneError(ValueError):
    """A storyboard problem; the message names the file, the step and the field."""

    def __init__(self, file: str, step: str | None, field: str | None, message: str):
        self.file, self.step, self.field = str(file), step, field
        where = [self.file]
        if step is not None:
            where.append(f"step {step!r}")
        if field:
            where.append(field)
        super().__init__(": ".join(where) + ": " + " ".join(str(message).split()))
