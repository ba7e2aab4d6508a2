"""Load and validate storyboard YAML (``scenes/*.yaml``) into :class:`~vp3d.storyboard.Scene`.

File formats
------------
A **scene** file::

    scene: vertebroplasty            # name (letters, digits, _)
    procedure: vertebroplasty        # fills {procedure} in narration
    title: {patient: ..., student: ...}   # or one string for both
    include: common.yaml             # optional: step libraries, relative to this file
    defaults: {visible: {...}, state: {...}}   # optional, over the libraries' defaults
    steps:
      - use: healthy_spine           # a library step as it is ...
      - use: candidates              # ... or with fields replaced (visible and state merge
        add_narration:               #     key by key) and sentences appended per audience
          patient: [{text: ..., sources: [...]}]
      - id: cement                   # or a step written in place
        topic: cement
        ...

A **library** file (``library: <name>``) holds ``defaults`` and ``steps``; its steps join a
scene only through ``use``. Libraries cannot include others.

A **step**: ``id``, ``topic`` (see :data:`~vp3d.storyboard.scene.TOPICS`; a scene follows their
order), ``title``, ``camera`` (``preset`` and/or ``position_mm``, ``focal_mm``, ``up``),
``visible`` (part -> mode), ``state`` (parameter -> held value), ``animate`` (list of
``{param, from, to, seconds, delay}``), ``fluoro`` (``none`` or a list of ``ap``,
``lateral``) and ``narration`` (``patient`` and ``student``: lists of
``{text, sources, facts}``).

One file's keys, types and vocabulary are checked by the pydantic models of
:mod:`vp3d.storyboard.scene_schema` through the shared strict reader :mod:`vp3d.schema`; this
module joins the steps (libraries, defaults) and checks what needs the whole step or scene.
Patient text in another language comes from the translation file beside each English file
(``scenes/es/common.yaml``, :mod:`vp3d.storyboard.translation`), keyed by the same step ids:
``load_scene(path, "es")``. Every problem raises :class:`SceneError` (a ``ValueError``) whose one-line message names the
file, the step and the field: ``scenes/x.yaml: step 'needle': animate[0].param: unknown
parameter 'needle.speed' (known: ...)``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from vp3d.schema import name_of, parse, read_yaml
from vp3d.storyboard.scene import (
    AUDIENCES,
    BASE_VISIBLE,
    PARAMETERS,
    TOPICS,
    Animation,
    Camera,
    Scene,
    SceneError,
    Sentence,
    Step,
)
from vp3d.i18n import DEFAULT_LANGUAGE
from vp3d.storyboard.narration import DERIVED_FIELDS, STEP_FIELDS, template_fields
from vp3d.storyboard.scene_schema import (
    AnimationSpec,
    CameraSpec,
    LibrarySpec,
    SceneSpec,
    SentenceSpec,
    StepSpec,
    UseSpec,
)
from vp3d.storyboard.translation import TranslationSpec, translate_document, translation_path

__all__ = ["SCENES_DIR", "SceneError", "load_named_scene", "load_scene", "scene_path"]

#: The storyboards and the quiz: ``vp3d/scenes/`` (package data, so they travel with an
#: installed package; ``scenes/`` at the top of a checkout points there), or the folder named
#: by ``VP3D_SCENES_DIR``.
SCENES_DIR = Path(os.environ.get("VP3D_SCENES_DIR") or Path(__file__).resolve().parents[1] / "scenes")

#: Fields a step may set, beside its id.
STEP_FIELDS_SET = ("topic", "title", "camera", "visible", "state", "animate", "fluoro", "narration")
_is_step_id = name_of("step id")


@dataclass
class _Draft:
    """A step's fields before the scene's defaults apply; ``origin`` is each field's file."""

    id: str
    fields: dict[str, Any]
    origin: dict[str, str] = field(default_factory=dict)


def _sentences(specs: list[SentenceSpec]) -> tuple[Sentence, ...]:
    return tuple(Sentence(s.text, tuple(s.sources), tuple(s.facts)) for s in specs)


def _camera(spec: CameraSpec) -> Camera:
    return Camera(spec.preset, spec.position_mm, spec.focal_mm, spec.up)


def _animations(specs: list[AnimationSpec]) -> tuple[Animation, ...]:
    return tuple(Animation(a.param, a.start, a.end, a.seconds, a.delay) for a in specs)


_CONVERT = {
    "camera": _camera,
    "animate": _animations,
    "narration": lambda n: {aud: _sentences(s) for aud, s in n.items()},
    "fluoro": lambda f: tuple(f or ()),
}


def _copy(value):
    return dict(value) if isinstance(value, dict) else value


def _fields(spec: StepSpec | UseSpec) -> dict[str, Any]:
    """The step fields ``spec`` sets, as the dataclasses hold them."""
    out = {}
    for name in STEP_FIELDS_SET:
        if name in spec.model_fields_set:
            out[name] = _CONVERT.get(name, _copy)(getattr(spec, name))
    return out


def _step_where(raw: Any, index: int, key: str) -> tuple[str | None, tuple]:
    """The step a raw step names by ``key`` (when that is a valid id), else its place in the file."""
    sid = raw.get(key) if isinstance(raw, dict) else None
    try:
        return _is_step_id(sid), ()
    except (TypeError, ValueError):
        return None, ("steps", index)


def _parse_step(file: str, index: int, raw: Any) -> _Draft:
    sid, at = _step_where(raw, index, "id")
    spec = parse(StepSpec, raw, error=SceneError, file=file, item=sid, at=at)
    return _Draft(spec.id, _fields(spec), {k: file for k in _fields(spec)})


def _parse_use(file: str, index: int, raw: dict, library: dict[str, _Draft]) -> _Draft:
    sid = raw["use"]
    if not isinstance(sid, str) or sid not in library:
        known = ", ".join(library) if library else "none: add include: <library>.yaml"
        raise SceneError(file, None, f"steps[{index}].use", f"unknown library step {sid!r} (known: {known})")
    spec = parse(UseSpec, raw, error=SceneError, file=file, item=sid)
    base = library[sid]
    fields, origin = dict(base.fields), dict(base.origin)
    for k, v in _fields(spec).items():
        fields[k] = {**fields.get(k, {}), **v} if k in ("visible", "state") else v
        origin[k] = file
    if spec.add_narration is not None:
        narration = dict(fields["narration"])
        for aud, sentences in spec.add_narration.items():
            narration[aud] = narration[aud] + _sentences(sentences)
        fields["narration"], origin["narration"] = narration, file
    return _Draft(sid, fields, origin)


def _translated(doc: dict, path: Path, shown: str, language: str) -> dict:
    """A storyboard file's YAML with its patient text in ``language`` (from the translation
    beside it); the English file's own problems are named first."""
    if language != DEFAULT_LANGUAGE:
        parse(LibrarySpec if "library" in doc and "scene" not in doc else SceneSpec, doc,
              error=SceneError, file=shown)  # the English file's own problems first
        doc = translate_document(doc, path, language)
    return doc


def _load_library(path: Path, shown: str, language: str = DEFAULT_LANGUAGE) -> tuple[dict, dict[str, _Draft]]:
    doc = read_yaml(path, shown, SceneError)
    if "library" not in doc:
        raise SceneError(shown, None, None, "an included file must be a step library (a 'library: <name>' key)")
    doc = _translated(doc, path, shown, language)
    spec = parse(LibrarySpec, doc, error=SceneError, file=shown)
    drafts: dict[str, _Draft] = {}
    for i, raw in enumerate(spec.steps):
        d = _parse_step(shown, i, raw)
        if d.id in drafts:
            raise SceneError(shown, d.id, "id", f"duplicate step id {d.id!r} in the library")
        drafts[d.id] = d
    return {"visible": dict(spec.defaults.visible), "state": dict(spec.defaults.state)}, drafts


# ----------------------------------------------------------------------------- scene


def _finish(draft: _Draft, procedure: str, defaults: dict) -> Step:
    f, origin = draft.fields, draft.origin
    own_state = f.get("state", {})
    animate = f.get("animate", ())
    afile = origin.get("animate", "")
    by_param: dict[str, list[tuple[int, Animation]]] = {}
    for i, a in enumerate(animate):
        if a.param in own_state:
            _fail(afile, draft.id, f"animate[{i}].param", f"{a.param!r} is both held in state and animated; keep one")
        by_param.setdefault(a.param, []).append((i, a))
    for items in by_param.values():
        items.sort(key=lambda ia: ia[1].delay_s)
        for (i, prev), (j, nxt) in zip(items, items[1:]):
            if nxt.delay_s < prev.end_s - 1e-9:
                _fail(afile, draft.id, f"animate[{j}].delay", f"{nxt.param} animation starting at {nxt.delay_s:g} s "
                                                 f"overlaps animate[{i}], which runs to {prev.end_s:g} s")
            if nxt.start != prev.end:
                _fail(afile, draft.id, f"animate[{j}].from", f"{nxt.param} jumps from {prev.end:g} (animate[{i}].to) "
                                                f"to {nxt.start:g}")
    state = {name: p.low for name, p in PARAMETERS.items()}
    state.update(defaults.get("state", {}))
    state.update(own_state)
    visible = dict(BASE_VISIBLE)
    visible.update(defaults.get("visible", {}))
    visible.update(f.get("visible", {}))
    step = Step(
        id=draft.id, topic=f["topic"], title=MappingProxyType(f["title"]), camera=f["camera"],
        visible=MappingProxyType(visible), state=MappingProxyType(state), animate=tuple(animate),
        fluoro=f.get("fluoro", ()), narration=MappingProxyType(f["narration"]),
        procedure=procedure, source_file=origin.get("narration", ""),
    )
    # Step fields ({cement_ml}) need the step to set their parameter.
    texts = [(origin["title"], f"title.{aud}", step.title[aud]) for aud in AUDIENCES]
    texts += [(origin["narration"], f"narration.{aud}[{i}].text", s.text)
              for aud in AUDIENCES for i, s in enumerate(step.narration[aud])]
    for file, where, text in texts:
        for name in template_fields(text):
            param = STEP_FIELDS.get(name) or DERIVED_FIELDS.get(name)
            if param is not None:
                v = step.final_value(param)
                if v is None or v <= PARAMETERS[param].low:
                    _fail(file, draft.id, where, f"{{{name}}} needs the step to set {param} above "
                                                     f"{PARAMETERS[param].low:g} (in state or animate)")
    return step


def _fail(file: str, step: str, field: str, message: str):
    raise SceneError(file, step, field, message)


def load_scene(path, language: str = DEFAULT_LANGUAGE) -> Scene:
    """Load, validate and resolve one scene file, its patient text in ``language`` (``en``, or
    a language with translation files beside it, e.g. ``scenes/es/``); raises :class:`SceneError`."""
    path = Path(path)
    shown = str(path)
    doc = read_yaml(path, shown, SceneError)
    if "library" in doc and "scene" not in doc:
        raise SceneError(shown, None, None, "this is a step library; load a scene that includes it")
    doc = _translated(doc, path, shown, language)
    spec = parse(SceneSpec, doc, error=SceneError, file=shown)
    words = procedure_words(path, language) if language != DEFAULT_LANGUAGE else spec.procedure

    defaults: dict = {"visible": {}, "state": {}}
    library: dict[str, _Draft] = {}
    for i, inc in enumerate(spec.include):
        inc_path = path.parent / inc
        if not inc_path.is_file():
            raise SceneError(shown, None, f"include[{i}]",
                             f"included file {inc!r} not found beside the scene ({inc_path})")
        lib_defaults, lib_steps = _load_library(inc_path, str(inc_path), language)
        for k in defaults:
            defaults[k].update(lib_defaults[k])
        for sid, d in lib_steps.items():
            if sid in library:
                raise SceneError(str(inc_path), sid, "id", f"step id {sid!r} is also in an earlier include")
            library[sid] = d
    defaults["visible"].update(spec.defaults.visible)
    defaults["state"].update(spec.defaults.state)

    steps: list[Step] = []
    first_at: dict[str, int] = {}
    for i, raw in enumerate(spec.steps):
        draft = _parse_use(shown, i, raw, library) if "use" in raw else _parse_step(shown, i, raw)
        if draft.id in first_at:
            raise SceneError(shown, draft.id, f"steps[{i}].id",
                             f"duplicate step id {draft.id!r} (first at steps[{first_at[draft.id]}])")
        first_at[draft.id] = i
        step = _finish(draft, words, defaults)
        if steps and TOPICS.index(step.topic) < TOPICS.index(steps[-1].topic):
            raise SceneError(shown, step.id, "topic",
                             f"{step.topic!r} comes after {steps[-1].topic!r} (step {steps[-1].id!r}); "
                             f"topics go in the order {', '.join(TOPICS)}")
        steps.append(step)
    return Scene(name=spec.scene, procedure=spec.procedure, title=MappingProxyType(dict(spec.title)),
                 steps=tuple(steps), path=shown, language=language)


def procedure_words(path: Path, language: str) -> str:
    """The procedure's name in ``language``, as the scene's translation file gives it."""
    tpath = translation_path(path, language)
    return parse(TranslationSpec, read_yaml(tpath, str(tpath), SceneError), error=SceneError,
                 file=str(tpath)).procedure


def scene_path(name: str, directory: Path | None = None) -> Path:
    """``scenes/<name>.yaml`` in the checkout (or ``directory``)."""
    return Path(directory or SCENES_DIR) / f"{name}.yaml"


def load_named_scene(name: str, directory: Path | None = None, language: str = DEFAULT_LANGUAGE) -> Scene:
    """Load ``scenes/<name>.yaml``, e.g. ``load_named_scene("kyphoplasty", language="es")``."""
    return load_scene(scene_path(name, directory), language)
