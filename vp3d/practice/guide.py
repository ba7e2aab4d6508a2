"""The practice's guide, camera and visibility, read from ``scenes/practice.yaml`` (data, not code).

``load_guide(path=None) -> PracticeGuide`` reads the file with the project's one strict reader
(:mod:`vp3d.schema`, pydantic models): an unknown key, a missing one or a bad value raises
:class:`GuideError`, whose one-line
message names the file and the field (``scenes/practice.yaml: steps[2].sources[0]: unknown
source 'Mathis 2001' ...``). Camera and visibility use the storyboard's parts, modes and camera.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from typing import Annotated, Literal

from pydantic import Field, model_validator

from vp3d.schema import FieldProblem, StrictModel, Text, parse, read_yaml
from vp3d.storyboard.loader import SCENES_DIR
from vp3d.storyboard.scene import PART_GROUPS, Camera
from vp3d.storyboard.scene_schema import SourceName, Vec3, Visible
from vp3d.storyboard.sources import REFERENCES, SOURCES

GUIDE_PATH = SCENES_DIR / "practice.yaml"
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


class _CameraSpec(StrictModel):
    position_mm: Vec3
    focal_mm: Vec3
    up: Vec3 = (0.0, 0.0, 1.0)

    @model_validator(mode="after")
    def _a_view(self):
        if self.position_mm == self.focal_mm:
            raise FieldProblem("position_mm", "the camera position must differ from the focal point")
        if not any(self.up):
            raise FieldProblem("up", "the view-up vector must not be zero")
        return self


class _StepSpec(StrictModel):
    text: Text
    sources: list[SourceName] = []


class _GuideSpec(StrictModel):
    practice: Literal["needle"]
    title: Text
    camera: _CameraSpec
    visible: Annotated[Visible, Field(min_length=1)]
    visible_needle_in: Visible = {}
    steps: Annotated[list[_StepSpec], Field(min_length=1)]

    @model_validator(mode="after")
    def _every_part_named(self):
        missing = [g for g in PART_GROUPS if g != "labels" and g not in self.visible]
        if missing:
            raise FieldProblem("visible", f"name every part group, so none is shown by default; "
                                          f"missing: {', '.join(missing)}")
        return self


def load_guide(path=None) -> PracticeGuide:
    """Load and check ``scenes/practice.yaml`` (or ``path``); raises :class:`GuideError`."""
    path = Path(path) if path is not None else GUIDE_PATH
    shown = f"scenes/{path.name}" if path.parent == SCENES_DIR else str(path)
    spec = parse(_GuideSpec, read_yaml(path, shown, GuideError), error=GuideError, file=shown)
    camera = Camera(None, tuple(spec.camera.position_mm), tuple(spec.camera.focal_mm), tuple(spec.camera.up))
    return PracticeGuide(spec.title, tuple(GuideStep(st.text, tuple(st.sources)) for st in spec.steps),
                         camera, dict(spec.visible), dict(spec.visible_needle_in))


@functools.lru_cache(maxsize=1)
def practice_guide() -> PracticeGuide:
    """The package's guide, read once."""
    return load_guide()
