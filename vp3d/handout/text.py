"""The take-home sheet's words: ``scenes/handout.yaml`` read strictly, and filled for one choice.

The file holds one section per language with the same keys (pydantic models, so a missing
translation is refused when the file loads, with one line naming the file, the language and
the field). Every sentence cites its sources, checked against the project's list of source
documents and named references, and the facts it states (:mod:`vp3d.storyboard.sources`).
:func:`sheet_text` fills the ``{level}``, ``{level_name}`` and ``{procedure}`` fields for one
choice and numbers the sources in the order the sheet first cites them.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from annotated_types import MinLen
from pydantic import AfterValidator, model_validator

from vp3d.checks import GRADES, KINDS, PROCEDURES
from vp3d.handout.options import LANGUAGES
from vp3d.paths import PACKAGE_DIR
from vp3d.schema import FieldProblem, StrictModel, Text, parse, read_yaml
from vp3d.storyboard.scene_schema import FactKey, SourceName
from vp3d.storyboard.sources import FACTS, REFERENCES, SOURCES

HANDOUT_FILE = PACKAGE_DIR / "scenes" / "handout.yaml"
#: Fields a text may use: the level's name, the level in words, the procedure's name.
FIELDS: tuple[str, ...] = ("level", "level_name", "procedure", "where")


class HandoutError(ValueError):
    """A problem in the sheet's words file; the message names the file, the language and the field."""

    def __init__(self, file: str, language: str | None, field: str | None, message: str):
        where = [str(file)] + ([f"language {language!r}"] if language else []) + ([field] if field else [])
        super().__init__(": ".join(where) + ": " + " ".join(str(message).split()))


def _fields_known(text: str) -> str:
    for _, name, spec, conversion in string.Formatter().parse(text):
        if name is None:
            continue
        if name not in FIELDS or spec or conversion:
            raise ValueError(f"unknown field {{{name}}} (known: {', '.join(FIELDS)})")
    return text


Template = Annotated[Text, AfterValidator(_fields_known)]


class Sentence(StrictModel):
    """One sentence of the sheet and what it cites."""

    text: Template
    sources: Annotated[list[SourceName], MinLen(1)]
    facts: list[FactKey] = []

    @model_validator(mode="after")
    def _facts_are_cited(self):
        for j, f in enumerate(self.facts):
            if not set(FACTS[f].documents) & set(self.sources):
                raise FieldProblem(("facts", j), f"fact {f!r} is stated in {', '.join(FACTS[f].documents)}, "
                                                 "but the sentence cites none of them")
        return self


Sentences = Annotated[list[Sentence], MinLen(1)]


def _keys_exactly(noun: str, keys):
    def check(value: dict) -> dict:
        missing = [k for k in keys if k not in value]
        extra = [k for k in value if k not in keys]
        if missing:
            raise FieldProblem(missing[0], f"missing {noun} {missing[0]!r}")
        if extra:
            raise FieldProblem(extra[0], f"unknown {noun} {extra[0]!r} (known: {', '.join(map(str, keys))})")
        return value
    return check


def _twelve(value: list) -> list:
    if len(value) != 12:
        raise ValueError(f"must hold the 12 ordinals first to twelfth, got {len(value)}")
    return value


class LevelNameSpec(StrictModel):
    """How a level is said: ``pattern`` with ``{ordinal}`` and ``{region}``."""

    pattern: Text
    ordinals: Annotated[list[Text], AfterValidator(_twelve)]
    regions: Annotated[dict[str, Text], AfterValidator(_keys_exactly("region", ("T", "L")))]
    where: Annotated[dict[str, Text], AfterValidator(_keys_exactly("region", ("T", "L")))]


class HeadingsSpec(StrictModel):
    level: Template
    fracture: Template
    steps: Template
    afterwards: Template
    warning: Template
    evidence: Template
    sources: Template


class PicturesSpec(StrictModel):
    spine_caption: Template
    spine_alt: Template
    xray_caption: Template
    xray_alt: Template


class ProcedureSpec(StrictModel):
    name: Text
    what: Sentences
    steps: Sentences
    evidence: Sentences


class CallSpec(StrictModel):
    intro: Text
    whom: Text
    clinic: Text
    phone: Text
    hours: Text


class LanguageSpec(StrictModel):
    """Everything the sheet says, in one language."""

    language: Text
    title: Template
    subtitle: Text
    patient_name: Text
    level_name: LevelNameSpec
    headings: HeadingsSpec
    level_text: Template
    pictures: PicturesSpec
    grades: Annotated[dict[int, Sentences], AfterValidator(_keys_exactly("grade", GRADES))]
    kinds: Annotated[dict[str, Sentences], AfterValidator(_keys_exactly("fracture type", KINDS))]
    procedures: Annotated[dict[str, ProcedureSpec], AfterValidator(_keys_exactly("procedure", PROCEDURES))]
    afterwards: Sentences
    risk: Sentences
    warning_signs: Sentences
    call: CallSpec
    evidence: Sentences
    evidence_close: Text
    sources_intro: Text
    footer: Text


class HandoutSpec(StrictModel):
    en: LanguageSpec
    es: LanguageSpec


@lru_cache(maxsize=4)
def load_handout(path: Path = HANDOUT_FILE) -> HandoutSpec:
    """The words file read and checked; :class:`HandoutError` (one line) if anything is wrong."""
    shown_as = Path(path).name
    doc = read_yaml(Path(path), shown_as, HandoutError)
    for lang in LANGUAGES:  # name the missing language plainly
        if lang not in doc:
            raise HandoutError(shown_as, lang, None, f"missing language section {lang!r}: the sheet "
                                                     f"is written in {', '.join(LANGUAGES)}")
    for lang in doc:
        if lang in LANGUAGES:
            parse(LanguageSpec, doc[lang], error=HandoutError, file=shown_as, item=lang)
    return parse(HandoutSpec, doc, error=HandoutError, file=shown_as)


# ----------------------------------------------------------------------------- one choice


@dataclass(frozen=True)
class CitedText:
    """A sentence as printed, with the numbers of the sources it cites."""

    text: str
    refs: tuple[int, ...]


@dataclass(frozen=True)
class SourceEntry:
    """One numbered source of the sheet: a document's title and publisher, or a full citation."""

    number: int
    key: str
    citation: str


@dataclass(frozen=True)
class SheetText:
    """Every word of one sheet, filled for a choice, in reading order."""

    lang: str
    title: str
    subtitle: str
    patient_name: str
    headings: dict[str, str]
    level_text: str
    pictures: dict[str, str]
    what: tuple[CitedText, ...]
    fracture: tuple[CitedText, ...]
    steps: tuple[CitedText, ...]
    afterwards: tuple[CitedText, ...]
    risk: tuple[CitedText, ...]
    warning_signs: tuple[CitedText, ...]
    call: dict[str, str]
    evidence: tuple[CitedText, ...]
    evidence_close: str
    sources_intro: str
    sources: tuple[SourceEntry, ...]
    footer: str

    def reading_text(self) -> str:
        """The sheet's sentences for a reader, without source numbers (for the plain-language check)."""
        parts = [self.level_text, *(s.text for s in (*self.what, *self.fracture, *self.steps,
                                                      *self.afterwards, *self.risk,
                                                      *self.warning_signs, *self.evidence)),
                 self.call["intro"], self.call["whom"], self.evidence_close,
                 self.pictures["spine_caption"], self.pictures["xray_caption"]]
        return " ".join(parts)


def level_words(spec: LevelNameSpec, level: str) -> str:
    """``"L2"`` in words in the spec's language (``"second lumbar vertebra"``)."""
    return spec.pattern.format(ordinal=spec.ordinals[int(level[1:]) - 1], region=spec.regions[level[0]])


def sheet_text(level: str, grade: int, kind: str, procedure: str, lang: str = "en",
               spec: HandoutSpec | None = None) -> SheetText:
    """The sheet's words for one checked choice, its sources numbered in order of first citation."""
    words: LanguageSpec = getattr(spec or load_handout(), lang)
    proc = words.procedures[procedure]
    fields = {"level": level, "level_name": level_words(words.level_name, level),
              "procedure": proc.name, "where": words.level_name.where[level[0]]}
    numbers: dict[str, int] = {}

    def cite(sentences) -> tuple[CitedText, ...]:
        out = []
        for s in sentences:
            refs = tuple(sorted(numbers.setdefault(k, len(numbers) + 1) for k in s.sources))
            out.append(CitedText(s.text.format(**fields), refs))
        return tuple(out)

    fill = lambda text: text.format(**fields)  # noqa: E731
    what = cite(proc.what)
    fracture = cite([*words.grades[grade], *words.kinds[kind]])
    steps = cite(proc.steps)
    afterwards = cite(words.afterwards)
    risk = cite(words.risk)
    warning_signs = cite(words.warning_signs)
    evidence = cite([*words.evidence, *proc.evidence])
    sources = tuple(SourceEntry(n, key, _citation(key)) for key, n in numbers.items())
    return SheetText(
        lang=lang, title=fill(words.title), subtitle=words.subtitle, patient_name=words.patient_name,
        headings={k: fill(v) for k, v in words.headings.model_dump().items()},
        level_text=fill(words.level_text),
        pictures={k: fill(v) for k, v in words.pictures.model_dump().items()},
        what=what, fracture=fracture, steps=steps, afterwards=afterwards,
        risk=risk, warning_signs=warning_signs, call=words.call.model_dump(),
        evidence=evidence, evidence_close=words.evidence_close, sources_intro=words.sources_intro,
        sources=sources, footer=words.footer)


def _citation(key: str) -> str:
    """A document as its title, publisher and file name; a reference as its full citation."""
    if key in SOURCES:
        d = SOURCES[key]
        return f"{d.title}. {d.publisher[:1].upper()}{d.publisher[1:]}. [{d.file}]"
    return REFERENCES[key].citation
