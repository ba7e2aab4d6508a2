"""Every narration the app can speak, made ahead of time (``vp3d build-narration``).

The app speaks a step's narration for the session's audience with the session's choices filled
in (level, Genant grade, fracture type, procedure). This module lists every distinct text those
choices give, for both voices (the kiosk speaks the patient's), and has
:func:`vp3d.storyboard.speech.narration_wav` make each one into the narration cache, so a server
started from a prepared image (``deploy/Containerfile``) never runs espeak-ng while a visitor waits.

Engine code, no UI.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from vp3d.storyboard import AUDIENCES, load_named_scene, narration_context, narration_text


@dataclass(frozen=True)
class Spoken:
    """One text to speak and the voice (audience) that speaks it."""

    audience: str
    text: str


def narration_texts(levels: Iterable[str], grades: Iterable[int], kinds: Iterable[str],
                    procedures: Iterable[str], audiences: Iterable[str] = AUDIENCES) -> list[Spoken]:
    """Every distinct (audience, text) of every step of each procedure's story for each choice
    of level, grade and fracture type, in story order, each once (many steps say the same
    whatever the level). The command line passes every choice (:mod:`vp3d.checks`)."""
    seen: dict[Spoken, None] = {}
    contexts = [narration_context(level, grade=grade, kind=kind)
                for level in levels for grade in grades for kind in kinds]
    for procedure in procedures:
        scene = load_named_scene(procedure)
        for context in contexts:
            for step in scene.steps:
                for audience in audiences:
                    seen.setdefault(Spoken(audience, narration_text(step, audience, context)))
    return list(seen)


def build_narration(texts: Iterable[Spoken], *, directory: Path | None = None,
                    progress: Callable[[int, int], None] | None = None) -> list[Path]:
    """Make (or find in the cache) the WAV of each text; returns their paths, in order.

    ``directory`` overrides the cache folder (:func:`vp3d.storyboard.speech.cache_dir`);
    ``progress(done, total)`` is called after each file. Raises what ``narration_wav`` raises
    (espeak-ng missing or failing).
    """
    from vp3d.storyboard.speech import narration_wav

    todo = list(texts)
    paths = []
    for done, spoken in enumerate(todo, start=1):
        paths.append(narration_wav(spoken.text, spoken.audience, directory=directory))
        if progress is not None:
            progress(done, len(todo))
    return paths
