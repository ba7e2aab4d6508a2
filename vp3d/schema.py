"""The one strict reader of the project's YAML files (storyboards, the quiz): YAML with duplicate
keys refused, checked against pydantic models, every problem one line naming the file, the
item (a step, a question) and the field.

Pydantic does the structural checks (unknown keys, missing keys, types, list lengths); a model's
own validators do the checks only the project knows (a known source, a parameter's range) and
raise ``ValueError``, or :class:`FieldProblem` to point at a key below the validated field.

The error raised is the caller's: any class built as ``error(file, item, field, message)``
(:class:`vp3d.storyboard.SceneError`, :class:`vp3d.quiz.questions.QuizError`).

Engine code: pydantic and YAML only.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from pathlib import Path
from typing import Annotated, Any, Callable

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

#: Characters of a bad value repeated in a message.
MAX_SHOWN = 60
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class StrictModel(BaseModel):
    """A YAML mapping: unknown keys refused, no type coercion (an int is still a float), finite
    numbers only, read-only once built."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


class FieldProblem(ValueError):
    """A model check's problem with a key below the validated field (``field``: a key, an index,
    or a tuple of them), so the message names the exact field."""

    def __init__(self, field: str | int | tuple, message: str):
        self.field = field if isinstance(field, tuple) else (field,)
        super().__init__(message)


def shown(value: Any) -> str:
    """``repr(value)``, cut to :data:`MAX_SHOWN` characters, to quote a bad value."""
    text = repr(value)
    return text[:MAX_SHOWN] + "..." if len(text) > MAX_SHOWN else text


def kind_of(value: Any) -> str:
    """A bad value with its type, for "got ..." (``nothing`` for a missing value)."""
    return "nothing" if value is None else f"{type(value).__name__} {shown(value)}"


def plain_text(value: str) -> str:
    """Non-empty text with its runs of white space joined to one space."""
    if not value.strip():
        raise ValueError(f"must be non-empty text, got {kind_of(value)}")
    return " ".join(value.split())


#: Non-empty text (white space runs joined).
Text = Annotated[str, AfterValidator(plain_text)]


def name_of(noun: str) -> Callable[[str], str]:
    """A validator for an identifier: lower-case letters, digits and ``_``, starting with a letter."""

    def check(value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(f"{noun} must be lower-case letters, digits and _, got {kind_of(value)}")
        return value

    return check


def one_of(noun: str, known, note: str = "") -> Callable[[Any], Any]:
    """A validator refusing a value not in ``known``, naming the known ones."""
    listed = ", ".join(str(k) for k in known)

    def check(value):
        if value not in known:
            raise ValueError(f"unknown {noun} {shown(value)} (known: {listed}{'; ' + note if note else ''})")
        return value

    return check


# ----------------------------------------------------------------------------- reading


class _StrictLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """Safe YAML that rejects a key written twice in one mapping (libyaml's parser where PyYAML
    has it: a session's quiz is read in a fifth of the time)."""


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
    return yaml.constructor.SafeConstructor.construct_mapping(loader, node, deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: Path, shown_as: str, error: type) -> dict:
    """A YAML mapping read with duplicate keys refused; problems raise ``error`` naming the file
    and the line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise error(shown_as, None, None, f"cannot read the file ({exc.strerror or exc})") from None
    try:
        doc = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        raise error(shown_as, None, where,
                    f"malformed YAML: {problem}" + (f" ({context})" if context else "")) from None
    if not isinstance(doc, dict):
        raise error(shown_as, None, None, f"the file must hold a mapping of keys, got {type(doc).__name__}")
    return doc


def parse(model: type[BaseModel], data: Any, *, error: type, file: str, item: str | None = None,
          at: tuple = ()):
    """``data`` checked into ``model``; the first problem raises ``error(file, item, field,
    message)`` with the field's path (``at`` first) as ``narration.patient[0].sources``."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        # An unknown key first: it is usually a typo, and explains the key then missing.
        first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        loc, message = _explain(model, first)
        raise error(file, item, field_path((*at, *loc)), message) from None


def field_path(loc) -> str:
    """``("steps", 1, "id")`` -> ``steps[1].id``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


# ----------------------------------------------------------------------------- messages

_NUMBER_TYPES = {"float_type", "int_type", "finite_number", "float_parsing", "int_parsing",
                 "int_from_float"}
_TYPE_WORDS = {"string_type": "text", "list_type": "a list", "tuple_type": "a list",
               "dict_type": "a mapping", "model_type": "a mapping", "model_attributes_type": "a mapping",
               "bool_type": "true or false"}


def _explain(model: type[BaseModel], err: dict) -> tuple[tuple, str]:
    """One pydantic error as (field path, one-line message)."""
    loc = tuple(p for p in err["loc"] if p != "[key]")
    kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    if kind == "value_error":
        cause = ctx.get("error")
        if isinstance(cause, FieldProblem):
            loc = (*loc, *cause.field)
        return loc, " ".join(str(cause).split())
    if kind == "missing":
        return loc, f"missing required key {loc[-1]!r}"
    if kind == "extra_forbidden":
        known = _keys_at(model, loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        return loc, (f"unknown key {shown(loc[-1])}" + (f"; did you mean {close[0]!r}?" if close else "")
                     + (f" (known: {', '.join(known)})" if known else ""))
    if kind == "literal_error":
        return loc, f"must be {ctx.get('expected')}, got {kind_of(value)}"
    if kind in _NUMBER_TYPES:
        return loc, f"must be a finite number, got {kind_of(value)}"
    if kind in _TYPE_WORDS:
        return loc, f"must be {_TYPE_WORDS[kind]}, got {kind_of(value)}"
    if kind in ("too_short", "too_long"):
        low, high = _length_limits(model, loc)
        got = ctx.get("actual_length", len(value) if hasattr(value, "__len__") else "?")
        if kind == "too_short" and low == 1 and high is None:
            return loc, f"must be a non-empty list, got {kind_of(value)}"
        limits = f"{low} to {high}" if low and high else f"at least {low}" if low else f"at most {high}"
        return loc, f"must hold {limits} items, got {got}"
    message = err["msg"]
    return loc, f"{message[:1].lower()}{message[1:]}, got {kind_of(value)}"


def _unwrap(annotation):
    """The model, list or mapping type inside ``Annotated[...]`` and ``X | None``, with the
    ``Annotated`` metadata met on the way."""
    metadata = []
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation, *extra = typing.get_args(annotation)
            metadata.extend(extra)
        elif origin in (typing.Union, types.UnionType):
            options = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = options[0]
        else:
            return annotation, metadata


def _type_at(model: type[BaseModel], loc: tuple):
    """The type (and its metadata) of the field at ``loc`` in ``model``; None if not found."""
    annotation, metadata = model, []
    for part in loc:
        annotation, _ = _unwrap(annotation)
        origin = typing.get_origin(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = next((f for n, f in annotation.model_fields.items() if (f.alias or n) == part), None)
            if field is None:
                return None, []
            annotation, metadata = field.annotation, list(field.metadata)
        elif origin in (list, tuple):
            annotation, metadata = typing.get_args(annotation)[0], []
        elif origin is dict:
            annotation, metadata = typing.get_args(annotation)[1], []
        else:
            return None, []
    annotation, more = _unwrap(annotation)
    return annotation, metadata + more


def _keys_at(model: type[BaseModel], loc: tuple) -> list[str]:
    annotation, _ = _type_at(model, loc)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [f.alias or n for n, f in annotation.model_fields.items()]
    return []


def _length_limits(model: type[BaseModel], loc: tuple) -> tuple[int | None, int | None]:
    _, metadata = _type_at(model, loc)
    low = next((m.min_length for m in metadata if getattr(m, "min_length", None) is not None), None)
    high = next((m.max_length for m in metadata if getattr(m, "max_length", None) is not None), None)
    return low, high
