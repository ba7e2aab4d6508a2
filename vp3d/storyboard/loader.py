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

A **step**: ``id``, ``topic`` (see :data:`~vp3d.storyboard.model.TOPICS`; a scene follows their
order), ``title``, ``camera`` (``preset`` and/or ``position_mm``, ``focal_mm``, ``up``),
``visible`` (part -> mode), ``state`` (parameter -> held value), ``animate`` (list of
``{param, from, to, seconds, delay}``), ``fluoro`` (``none`` or a list of ``ap``,
``lateral``) and ``narration`` (``patient`` and ``student``: lists of
``{text, sources, facts}``).

Every problem raises :class:`SceneError` (a ``ValueError``) whose one-line message names the
file, the step and the field: ``scenes/x.yaml: step 'needle': animate[0].param: unknown
parameter 'needle.speed' (known: ...)``.
"""

from __future__ import annotations

import os

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from vp3d.anatomy.morphometry import LEVELS
from vp3d.storyboard.model import (
    AUDIENCES,
    BASE_VISIBLE,
    CAMERA_PRESETS,
    FLUORO_VIEWS,
    MODES,
    PARAMETERS,
    PART_GROUPS,
    TOPICS,
    Animation,
    Camera,
    Scene,
    Sentence,
    Step,
)
from vp3d.storyboard.model import SceneError  # noqa: F401 - raised and re-exported here
from vp3d.storyboard.narration import DERIVED_FIELDS, KNOWN_FIELDS, STEP_FIELDS, TemplateError, template_fields
from vp3d.storyboard.sources import FACTS, REFERENCES, SOURCES, is_known_source

#: Folder of the scene files in a checkout.
#: The storyboards and the quiz: ``vp3d/scenes/`` (package data, so they travel with an
#: installed package; ``scenes/`` at the top of a checkout points there), or the folder named
#: by ``VP3D_SCENES_DIR``.
SCENES_DIR = Path(os.environ.get("VP3D_SCENES_DIR") or Path(__file__).resolve().parents[1] / "scenes")

SCENE_KEYS = ("scene", "procedure", "title", "include", "defaults", "steps")
LIBRARY_KEYS = ("library", "defaults", "steps")
DEFAULTS_KEYS = ("visible", "state")
STEP_KEYS = ("id", "topic", "title", "camera", "visible", "state", "animate", "fluoro", "narration")
REQUIRED_STEP_KEYS = ("id", "topic", "title", "camera", "narration")
USE_KEYS = ("use", "add_narration", *[k for k in STEP_KEYS if k != "id"])
CAMERA_KEYS = ("preset", "position_mm", "focal_mm", "up")
ANIMATION_KEYS = ("param", "from", "to", "seconds", "delay")
SENTENCE_KEYS = ("text", "sources", "facts")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_PAIR = re.compile(r"^(disc|nucleus) ([TL]\d{1,2})-([TL]\d{1,2})$")


@dataclass(frozen=True)
class _Ctx:
    file: str
    step: str | None = None

    def fail(self, field: str | None, message: str):
        raise SceneError(self.file, self.step, field, message)


# ----------------------------------------------------------------------------- YAML


class _StrictLoader(yaml.SafeLoader):
    """Safe YAML that rejects a key written twice in one mapping."""


def _construct_mapping(loader, node, deep=False):
    loader.flatten_mapping(node)
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            duplicate = key in seen
        except TypeError:
            raise yaml.constructor.ConstructorError(None, None, f"unhashable key {key!r}",
                                                    key_node.start_mark) from None
        if duplicate:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}",
                                                    key_node.start_mark)
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _read_yaml(path: Path, shown: str, error: type = None) -> dict:
    """A YAML mapping read with duplicate keys refused; problems raise ``error`` (default
    :class:`SceneError`; the quiz passes its own) naming the file and the line."""
    _Error = error or SceneError
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise _Error(shown, None, None, f"cannot read the file ({exc.strerror or exc})") from None
    try:
        doc = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        raise _Error(shown, None, where,
                          f"malformed YAML: {problem}" + (f" ({context})" if context else "")) from None
    if not isinstance(doc, dict):
        raise _Error(shown, None, None, f"the file must hold a mapping of keys, got {type(doc).__name__}")
    return doc


# ----------------------------------------------------------------------------- values


def _keys(ctx: _Ctx, where: str | None, value, allowed, required=(), label: str | None = None) -> dict:
    label = label or where or "the file"
    if not isinstance(value, dict):
        ctx.fail(where, f"must be a mapping with keys {', '.join(allowed)}, got {_kind(value)}")
    for k in value:
        if k not in allowed:
            ctx.fail(_join(where, str(k)), f"unknown key {k!r} in {label} (known: {', '.join(allowed)})")
    for k in required:
        if k not in value:
            ctx.fail(_join(where, k), f"missing required key {k!r}")
    return value


def _join(where: str | None, key: str) -> str:
    return f"{where}.{key}" if where else key


def _kind(value) -> str:
    return "nothing" if value is None else f"{type(value).__name__} {value!r}"


def _number(ctx: _Ctx, where: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        ctx.fail(where, f"must be a finite number, got {_kind(value)}")
    return float(value)


def _text(ctx: _Ctx, where: str, value) -> str:
    if not isinstance(value, str) or not value.strip():
        ctx.fail(where, f"must be non-empty text, got {_kind(value)}")
    return " ".join(value.split())


def _template(ctx: _Ctx, where: str, value) -> str:
    text = _text(ctx, where, value)
    try:
        names = template_fields(text)
    except TemplateError as exc:
        ctx.fail(where, str(exc))
    for name in names:
        if name not in KNOWN_FIELDS:
            ctx.fail(where, f"unknown template field {{{name}}} (known: {', '.join(KNOWN_FIELDS)})")
    return text


def _str_list(ctx: _Ctx, where: str, value, *, allow_empty=False) -> list[str]:
    if not isinstance(value, list) or (not value and not allow_empty):
        ctx.fail(where, f"must be a{'' if allow_empty else ' non-empty'} list, got {_kind(value)}")
    for i, v in enumerate(value):
        if not isinstance(v, str) or not v.strip():
            ctx.fail(f"{where}[{i}]", f"must be non-empty text, got {_kind(v)}")
    return value


def _audience_map(ctx: _Ctx, where: str, value, *, all_required: bool) -> dict:
    if not isinstance(value, dict):
        ctx.fail(where, f"must be a mapping with one entry per audience ({', '.join(AUDIENCES)}), "
                        f"got {_kind(value)}")
    for k in value:
        if k not in AUDIENCES:
            ctx.fail(f"{where}.{k}", f"unknown audience {k!r} (known: {', '.join(AUDIENCES)}; "
                                     "the kiosk uses the patient narration)")
    if all_required:
        for aud in AUDIENCES:
            if aud not in value:
                ctx.fail(f"{where}.{aud}", f"missing audience {aud!r}: every step speaks to "
                                           f"{' and '.join(AUDIENCES)}")
    elif not value:
        ctx.fail(where, f"give sentences for at least one audience ({', '.join(AUDIENCES)})")
    return value


# ----------------------------------------------------------------------------- fields


def _parse_title(ctx: _Ctx, where: str, value) -> dict[str, str]:
    if isinstance(value, str):
        text = _template(ctx, where, value)
        return {aud: text for aud in AUDIENCES}
    _audience_map(ctx, where, value, all_required=True)
    return {aud: _template(ctx, f"{where}.{aud}", value[aud]) for aud in AUDIENCES}


def _parse_topic(ctx: _Ctx, where: str, value) -> str:
    if value not in TOPICS:
        ctx.fail(where, f"unknown topic {value!r} (known, in story order: {', '.join(TOPICS)})")
    return value


def _vec3(ctx: _Ctx, where: str, value) -> tuple[float, float, float]:
    if not isinstance(value, list) or len(value) != 3:
        ctx.fail(where, f"must be 3 numbers [x, y, z] (mm, patient axes), got {_kind(value)}")
    return tuple(_number(ctx, f"{where}[{i}]", v) for i, v in enumerate(value))


def _parse_camera(ctx: _Ctx, where: str, value) -> Camera:
    _keys(ctx, where, value, CAMERA_KEYS)
    preset = value.get("preset")
    if preset is not None and preset not in CAMERA_PRESETS:
        ctx.fail(f"{where}.preset", f"unknown camera preset {preset!r} (known: {', '.join(CAMERA_PRESETS)})")
    pos = _vec3(ctx, f"{where}.position_mm", value["position_mm"]) if "position_mm" in value else None
    focal = _vec3(ctx, f"{where}.focal_mm", value["focal_mm"]) if "focal_mm" in value else None
    up = _vec3(ctx, f"{where}.up", value["up"]) if "up" in value else None
    if preset is None and (pos is None or focal is None):
        ctx.fail(where, f"give a preset ({', '.join(CAMERA_PRESETS)}) or both position_mm and focal_mm")
    if up is not None and not any(up):
        ctx.fail(f"{where}.up", "the view-up vector must not be zero")
    if pos is not None and focal is not None and pos == focal:
        ctx.fail(f"{where}.position_mm", "the camera position must differ from the focal point")
    return Camera(preset, pos, focal, up)


def _anatomy_part(name: str) -> bool:
    if name in LEVELS:
        return True
    m = _PAIR.match(name)
    if m is None or m.group(2) not in LEVELS or m.group(3) not in LEVELS:
        return False
    return LEVELS.index(m.group(3)) == LEVELS.index(m.group(2)) + 1


def _parse_visible(ctx: _Ctx, where: str, value) -> dict[str, str]:
    if not isinstance(value, dict):
        ctx.fail(where, f"must be a mapping of part -> mode, got {_kind(value)}")
    out = {}
    for part, mode in value.items():
        w = f"{where}.{part}"
        if part in PART_GROUPS:
            allowed = PART_GROUPS[part]
        elif isinstance(part, str) and _anatomy_part(part):
            allowed = MODES
        else:
            ctx.fail(w, f"unknown part name {part!r} (known: {', '.join(PART_GROUPS)}; or one "
                        f"anatomy part: a level {LEVELS[0]}..{LEVELS[-1]}, 'disc T12-L1', 'nucleus T12-L1')")
        if mode not in allowed:
            ctx.fail(w, f"unknown mode {mode!r} for {part!r} (known: {', '.join(allowed)})")
        out[part] = mode
    return out


def _param(ctx: _Ctx, where: str, name):
    if name not in PARAMETERS:
        ctx.fail(where, f"unknown parameter {name!r} (known: {', '.join(PARAMETERS)})")
    return PARAMETERS[name]


def _in_range(ctx: _Ctx, where: str, value, p) -> float:
    v = _number(ctx, where, value)
    if not p.low <= v <= p.high:
        unit = f" {p.unit}" if p.unit else ""
        ctx.fail(where, f"{v:g} is outside {p.name}'s range {p.low:g} to {p.high:g}{unit}")
    return v


def _parse_state(ctx: _Ctx, where: str, value) -> dict[str, float]:
    if not isinstance(value, dict):
        ctx.fail(where, f"must be a mapping of parameter -> value, got {_kind(value)}")
    out = {}
    for name, v in value.items():
        p = _param(ctx, f"{where}.{name}", name)
        out[name] = _in_range(ctx, f"{where}.{name}", v, p)
    return out


def _parse_animate(ctx: _Ctx, where: str, value) -> tuple[Animation, ...]:
    if not isinstance(value, list):
        ctx.fail(where, f"must be a list of {{param, from, to, seconds}}, got {_kind(value)}")
    out = []
    for i, a in enumerate(value):
        w = f"{where}[{i}]"
        _keys(ctx, w, a, ANIMATION_KEYS, required=("param", "from", "to", "seconds"))
        p = _param(ctx, f"{w}.param", a["param"])
        start = _in_range(ctx, f"{w}.from", a["from"], p)
        end = _in_range(ctx, f"{w}.to", a["to"], p)
        seconds = _number(ctx, f"{w}.seconds", a["seconds"])
        if seconds <= 0:
            ctx.fail(f"{w}.seconds", f"must be more than 0 s, got {seconds:g} (hold a value with state instead)")
        delay = _number(ctx, f"{w}.delay", a.get("delay", 0.0))
        if delay < 0:
            ctx.fail(f"{w}.delay", f"must be 0 s or more, got {delay:g}")
        out.append(Animation(p.name, start, end, seconds, delay))
    return tuple(out)


def _parse_fluoro(ctx: _Ctx, where: str, value) -> tuple[str, ...]:
    if value is None or value == "none":
        return ()
    if not isinstance(value, list):
        ctx.fail(where, f"must be none or a list of views ({', '.join(FLUORO_VIEWS)}), got {_kind(value)}")
    for i, v in enumerate(value):
        if v not in FLUORO_VIEWS:
            ctx.fail(f"{where}[{i}]", f"unknown fluoroscopy view {v!r} (known: {', '.join(FLUORO_VIEWS)})")
    if len(set(value)) != len(value):
        ctx.fail(where, f"a view is listed twice in {value!r}")
    return tuple(value)


def _parse_sentence(ctx: _Ctx, where: str, value) -> Sentence:
    _keys(ctx, where, value, SENTENCE_KEYS, required=("text", "sources"))
    text = _template(ctx, f"{where}.text", value["text"])
    sources = _str_list(ctx, f"{where}.sources", value["sources"])
    for j, s in enumerate(sources):
        if not is_known_source(s):
            ctx.fail(f"{where}.sources[{j}]",
                     f"unknown source {s!r} (known documents: {', '.join(SOURCES)}; "
                     f"named references: {'; '.join(REFERENCES)})")
    if len(set(sources)) != len(sources):
        ctx.fail(f"{where}.sources", "a source is listed twice")
    facts = _str_list(ctx, f"{where}.facts", value.get("facts", []), allow_empty=True)
    for j, f in enumerate(facts):
        if f not in FACTS:
            ctx.fail(f"{where}.facts[{j}]", f"unknown fact {f!r} (known: {', '.join(FACTS)})")
        if not set(FACTS[f].documents) & set(sources):
            ctx.fail(f"{where}.facts[{j}]", f"fact {f!r} is stated in {', '.join(FACTS[f].documents)}, "
                                            "but the sentence cites none of them")
    return Sentence(text, tuple(sources), tuple(facts))


def _parse_sentences(ctx: _Ctx, where: str, value) -> tuple[Sentence, ...]:
    if not isinstance(value, list) or not value:
        ctx.fail(where, f"must be a non-empty list of sentences {{text, sources}}, got {_kind(value)}")
    return tuple(_parse_sentence(ctx, f"{where}[{i}]", s) for i, s in enumerate(value))


def _parse_narration(ctx: _Ctx, where: str, value) -> dict[str, tuple[Sentence, ...]]:
    _audience_map(ctx, where, value, all_required=True)
    return {aud: _parse_sentences(ctx, f"{where}.{aud}", value[aud]) for aud in AUDIENCES}


_FIELD_PARSERS = {
    "topic": _parse_topic,
    "title": _parse_title,
    "camera": _parse_camera,
    "visible": _parse_visible,
    "state": _parse_state,
    "animate": _parse_animate,
    "fluoro": _parse_fluoro,
    "narration": _parse_narration,
}


@dataclass
class _Draft:
    """A step's parsed fields before the scene's defaults apply; ``origin`` is each field's file."""

    id: str
    fields: dict[str, Any]
    origin: dict[str, str] = field(default_factory=dict)


def _parse_step(ctx_file: str, where: str, value) -> _Draft:
    if not isinstance(value, dict):
        raise SceneError(ctx_file, None, where, f"a step must be a mapping, got {_kind(value)}")
    sid = value.get("id")
    if sid is None:
        raise SceneError(ctx_file, None, f"{where}.id", "missing required key 'id'")
    if not isinstance(sid, str) or not _ID.match(sid):
        raise SceneError(ctx_file, None, f"{where}.id",
                         f"step id must be lower-case letters, digits and _, got {_kind(sid)}")
    ctx = _Ctx(ctx_file, sid)
    _keys(ctx, None, value, STEP_KEYS, required=REQUIRED_STEP_KEYS, label="a step")
    fields = {k: _FIELD_PARSERS[k](ctx, k, v) for k, v in value.items() if k != "id"}
    return _Draft(sid, fields, {k: ctx_file for k in fields})


def _parse_use(ctx_file: str, where: str, value: dict, library: dict[str, _Draft]) -> _Draft:
    sid = value["use"]
    if not isinstance(sid, str) or sid not in library:
        known = ", ".join(library) if library else "none: add include: <library>.yaml"
        raise SceneError(ctx_file, None, f"{where}.use", f"unknown library step {sid!r} (known: {known})")
    ctx = _Ctx(ctx_file, sid)
    _keys(ctx, None, value, USE_KEYS, label="a 'use' step")
    base = library[sid]
    fields, origin = dict(base.fields), dict(base.origin)
    for k, v in value.items():
        if k in ("use", "add_narration"):
            continue
        parsed = _FIELD_PARSERS[k](ctx, k, v)
        if k in ("visible", "state"):
            parsed = {**fields.get(k, {}), **parsed}
        fields[k], origin[k] = parsed, ctx_file
    if "add_narration" in value:
        extra = _audience_map(ctx, "add_narration", value["add_narration"], all_required=False)
        narration = dict(fields["narration"])
        for aud, sentences in extra.items():
            narration[aud] = narration[aud] + _parse_sentences(ctx, f"add_narration.{aud}", sentences)
        fields["narration"], origin["narration"] = narration, ctx_file
    return _Draft(sid, fields, origin)


def _parse_defaults(ctx: _Ctx, value) -> dict:
    _keys(ctx, "defaults", value, DEFAULTS_KEYS)
    out = {}
    if "visible" in value:
        out["visible"] = _parse_visible(ctx, "defaults.visible", value["visible"])
    if "state" in value:
        out["state"] = _parse_state(ctx, "defaults.state", value["state"])
    return out


def _load_library(path: Path, shown: str) -> tuple[dict, dict[str, _Draft]]:
    doc = _read_yaml(path, shown)
    ctx = _Ctx(shown)
    if "library" not in doc:
        ctx.fail(None, "an included file must be a step library (a 'library: <name>' key)")
    _keys(ctx, None, doc, LIBRARY_KEYS, required=("library", "steps"))
    defaults = _parse_defaults(ctx, doc["defaults"]) if "defaults" in doc else {}
    steps = doc["steps"]
    if not isinstance(steps, list) or not steps:
        ctx.fail("steps", f"must be a non-empty list of steps, got {_kind(steps)}")
    drafts: dict[str, _Draft] = {}
    for i, raw in enumerate(steps):
        d = _parse_step(shown, f"steps[{i}]", raw)
        if d.id in drafts:
            raise SceneError(shown, d.id, "id", f"duplicate step id {d.id!r} in the library")
        drafts[d.id] = d
    return defaults, drafts


# ----------------------------------------------------------------------------- scene


def _finish(draft: _Draft, procedure: str, defaults: dict) -> Step:
    f, origin = draft.fields, draft.origin
    own_state = f.get("state", {})
    animate = f.get("animate", ())
    actx = _Ctx(origin.get("animate", ""), draft.id)
    by_param: dict[str, list[tuple[int, Animation]]] = {}
    for i, a in enumerate(animate):
        if a.param in own_state:
            actx.fail(f"animate[{i}].param", f"{a.param!r} is both held in state and animated; keep one")
        by_param.setdefault(a.param, []).append((i, a))
    for items in by_param.values():
        items.sort(key=lambda ia: ia[1].delay_s)
        for (i, prev), (j, nxt) in zip(items, items[1:]):
            if nxt.delay_s < prev.end_s - 1e-9:
                actx.fail(f"animate[{j}].delay", f"{nxt.param} animation starting at {nxt.delay_s:g} s "
                                                 f"overlaps animate[{i}], which runs to {prev.end_s:g} s")
            if nxt.start != prev.end:
                actx.fail(f"animate[{j}].from", f"{nxt.param} jumps from {prev.end:g} (animate[{i}].to) "
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
                    _Ctx(file, draft.id).fail(where, f"{{{name}}} needs the step to set {param} above "
                                                     f"{PARAMETERS[param].low:g} (in state or animate)")
    return step


def load_scene(path) -> Scene:
    """Load, validate and resolve one scene file; raises :class:`SceneError`."""
    path = Path(path)
    shown = str(path)
    doc = _read_yaml(path, shown)
    ctx = _Ctx(shown)
    if "library" in doc and "scene" not in doc:
        ctx.fail(None, "this is a step library; load a scene that includes it")
    _keys(ctx, None, doc, SCENE_KEYS, required=("scene", "procedure", "title", "steps"))
    name = doc["scene"]
    if not isinstance(name, str) or not _ID.match(name):
        ctx.fail("scene", f"scene name must be lower-case letters, digits and _, got {_kind(name)}")
    procedure = _text(ctx, "procedure", doc["procedure"])
    title = _parse_title(ctx, "title", doc["title"])

    includes = doc.get("include", [])
    if isinstance(includes, str):
        includes = [includes]
    includes = _str_list(ctx, "include", includes, allow_empty=True)
    defaults: dict = {"visible": {}, "state": {}}
    library: dict[str, _Draft] = {}
    for i, inc in enumerate(includes):
        inc_path = path.parent / inc
        if not inc_path.is_file():
            ctx.fail(f"include[{i}]", f"included file {inc!r} not found beside the scene ({inc_path})")
        lib_defaults, lib_steps = _load_library(inc_path, str(inc_path))
        for k in DEFAULTS_KEYS:
            defaults[k].update(lib_defaults.get(k, {}))
        for sid, d in lib_steps.items():
            if sid in library:
                raise SceneError(str(inc_path), sid, "id", f"step id {sid!r} is also in an earlier include")
            library[sid] = d
    if "defaults" in doc:
        own = _parse_defaults(ctx, doc["defaults"])
        for k in DEFAULTS_KEYS:
            defaults[k].update(own.get(k, {}))

    raw_steps = doc["steps"]
    if not isinstance(raw_steps, list) or not raw_steps:
        ctx.fail("steps", f"must be a non-empty list of steps, got {_kind(raw_steps)}")
    steps: list[Step] = []
    first_at: dict[str, int] = {}
    for i, raw in enumerate(raw_steps):
        where = f"steps[{i}]"
        if isinstance(raw, dict) and "use" in raw:
            draft = _parse_use(shown, where, raw, library)
        else:
            draft = _parse_step(shown, where, raw)
        if draft.id in first_at:
            raise SceneError(shown, draft.id, f"{where}.id",
                             f"duplicate step id {draft.id!r} (first at steps[{first_at[draft.id]}])")
        first_at[draft.id] = i
        step = _finish(draft, procedure, defaults)
        if steps and TOPICS.index(step.topic) < TOPICS.index(steps[-1].topic):
            raise SceneError(shown, step.id, "topic",
                             f"{step.topic!r} comes after {steps[-1].topic!r} (step {steps[-1].id!r}); "
                             f"topics go in the order {', '.join(TOPICS)}")
        steps.append(step)
    return Scene(name=name, procedure=procedure, title=MappingProxyType(title), steps=tuple(steps), path=shown)


def scene_path(name: str, directory: Path | None = None) -> Path:
    """``scenes/<name>.yaml`` in the checkout (or ``directory``)."""
    return Path(directory or SCENES_DIR) / f"{name}.yaml"


def load_named_scene(name: str, directory: Path | None = None) -> Scene:
    """Load ``scenes/<name>.yaml``, e.g. ``load_named_scene("kyphoplasty")``."""
    return load_scene(scene_path(name, directory))
