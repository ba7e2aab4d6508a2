"""The practice's guide, camera and visibility, read from ``scenes/practice.yaml`` (data, not code).

``load_guide(path=None) -> PracticeGuide`` reads the file strictly, as the storyboard reads a
scene: an unknown key, a missing one or a bad value raises :class:`GuideError`, whose one-line
message names the file and the field (``scenes/practice.yaml: steps[2].sources[0]: unknown
source 'Mathis 2001' ...``). Camera and visibility use the storyboard's parts, modes and camera.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from vp3d.storyboard.loader import SCENES_DIR
from vp3d.storyboard.loader import _read_yaml as read_yaml
from vp3d.storyboard.model import PART_GROUPS, Camera
from vp3d.storyboard.sources import REFERENCES, SOURCES, is_known_source

GUIDE_PATH = SCENES_DIR / "practice.yaml"
GUIDE_KEYS = ("practice", "title", "camera", "visible", "visible_needle_in", "steps")
CAMERA_KEYS = ("position_mm", "focal_mm", "up")
STEP_KEYS = ("text", "sources")
_SUPERSCRIPT = str.maketrans("0123456789,", "\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079\u02d2")


class GuideError(ValueError):
    """A practice guide file problem; the one-line message names the file and the field."""

    def __init__(self, file, step: str | None, field: str | None, message: str):
        where = [str(file)] + ([step] if step else []) + ([field] if field else [])
        super().__init__(": ".join(where) + ": " + " ".join(str(message).split()))


@dataclass(frozen=True)
class GuideStep:
    """One item of the guide and the references its statements come from."""

    text: str
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class PracticeGuide:
    """What Practice mode says and shows (see ``scenes/practice.yaml``)."""

    title: str
    steps: tuple[GuideStep, ...]
    camera_right: Camera  # for a right needle; mirrored in x for a left one
    visible: dict
    visible_needle_in: dict

    @property
    def sources(self) -> tuple[str, ...]:
        """Every reference the steps cite, in the order first cited (the notes' numbering)."""
        return tuple(dict.fromkeys(s for step in self.steps for s in step.sources))

    def marks(self, step: GuideStep) -> str:
        """The step's note numbers as superscripts ("\u00b9", "\u00b9\u02d2\u00b3"), "" without sources."""
        numbers = sorted(self.sources.index(s) + 1 for s in step.sources)
        return ",".join(map(str, numbers)).translate(_SUPERSCRIPT)

    def citation(self, source: str) -> str:
        """The full citation of a reference key or the title and publisher of a source document."""
        if source in REFERENCES:
            return REFERENCES[source].citation
        doc = SOURCES[source]
        return f"{doc.title} ({doc.publisher})"

    def camera(self, side: str) -> Camera:
        """The 3-D camera for a needle on ``side``: the right one's, mirrored for the left."""
        c = self.camera_right
        if side == "right":
            return c
        flip = lambda v: None if v is None else (-v[0], v[1], v[2])  # noqa: E731
        return Camera(c.preset, flip(c.position_mm), flip(c.focal_mm), flip(c.up))

    def visibility(self, *, needle_in: bool) -> dict:
        """Part -> mode now: the base visibility, changed once the needle is in."""
        return {**self.visible, **self.visible_needle_in} if needle_in else dict(self.visible)


def _fail(shown: str, field: str | None, message: str):
    raise GuideError(shown, None, field, message)


def _mapping(shown: str, field: str | None, value, allowed, required=()) -> dict:
    if not isinstance(value, dict):
        _fail(shown, field, f"must be a mapping with keys {', '.join(allowed)}, got {type(value).__name__}")
    for k in value:
        if k not in allowed:
            _fail(shown, f"{field}.{k}" if field else str(k), f"unknown key {k!r} (known: {', '.join(allowed)})")
    for k in required:
        if k not in value:
            _fail(shown, f"{field}.{k}" if field else k, f"missing required key {k!r}")
    return value


def _text(shown: str, field: str, value) -> str:
    if not isinstance(value, str) or not value.strip():
        _fail(shown, field, f"must be non-empty text, got {value!r:.60}")
    return " ".join(value.split())


def _vec3(shown: str, field: str, value) -> tuple[float, float, float]:
    ok = (isinstance(value, list) and len(value) == 3
          and all(isinstance(v, (int, float)) and not isinstance(v, bool) and abs(v) < 1e4 for v in value))
    if not ok:
        _fail(shown, field, f"must be 3 numbers [x, y, z] (mm, patient axes), got {value!r:.60}")
    return tuple(float(v) for v in value)


def _camera(shown: str, value) -> Camera:
    _mapping(shown, "camera", value, CAMERA_KEYS, required=("position_mm", "focal_mm"))
    position = _vec3(shown, "camera.position_mm", value["position_mm"])
    focal = _vec3(shown, "camera.focal_mm", value["focal_mm"])
    up = _vec3(shown, "camera.up", value["up"]) if "up" in value else (0.0, 0.0, 1.0)
    if position == focal:
        _fail(shown, "camera.position_mm", "the camera position must differ from the focal point")
    if not any(up):
        _fail(shown, "camera.up", "the view-up vector must not be zero")
    return Camera(None, position, focal, up)


def _visible(shown: str, field: str, value) -> dict:
    if not isinstance(value, dict) or not value:
        _fail(shown, field, f"must be a mapping of part -> mode, got {value!r:.60}")
    for part, mode in value.items():
        if part not in PART_GROUPS:
            _fail(shown, f"{field}.{part}", f"unknown part name {part!r} (known: {', '.join(PART_GROUPS)})")
        if mode not in PART_GROUPS[part]:
            _fail(shown, f"{field}.{part}",
                  f"unknown mode {mode!r} for {part!r} (known: {', '.join(PART_GROUPS[part])})")
    return dict(value)


def _step(shown: str, field: str, value) -> GuideStep:
    _mapping(shown, field, value, STEP_KEYS, required=("text",))
    sources = value.get("sources", [])
    if not isinstance(sources, list):
        _fail(shown, f"{field}.sources", f"must be a list of references, got {sources!r:.60}")
    for i, name in enumerate(sources):
        if not isinstance(name, str) or not is_known_source(name):
            _fail(shown, f"{field}.sources[{i}]", f"unknown source {name!r:.60} (a key of "
                  "vp3d.storyboard.sources.REFERENCES or a source document's file name)")
    return GuideStep(_text(shown, f"{field}.text", value["text"]), tuple(sources))


def load_guide(path=None) -> PracticeGuide:
    """Load and check ``scenes/practice.yaml`` (or ``path``); raises :class:`GuideError`."""
    path = Path(path) if path is not None else GUIDE_PATH
    shown = f"scenes/{path.name}" if path.parent == SCENES_DIR else str(path)
    doc = read_yaml(path, shown, GuideError)
    _mapping(shown, None, doc, GUIDE_KEYS, required=GUIDE_KEYS[:-2] + ("steps",))
    if doc["practice"] != "needle":
        _fail(shown, "practice", f"must be 'needle' (the one practice there is), got {doc['practice']!r:.60}")
    steps = doc["steps"]
    if not isinstance(steps, list) or not steps:
        _fail(shown, "steps", "must be a non-empty list of {text, sources}")
    visible = _visible(shown, "visible", doc["visible"])
    needle_in = _visible(shown, "visible_needle_in", doc["visible_needle_in"]) if "visible_needle_in" in doc else {}
    return PracticeGuide(_text(shown, "title", doc["title"]),
                         tuple(_step(shown, f"steps[{i}]", s) for i, s in enumerate(steps)),
                         _camera(shown, doc["camera"]), visible, needle_in)


@functools.lru_cache(maxsize=1)
def practice_guide() -> PracticeGuide:
    """The package's guide, read once."""
    return load_guide()
