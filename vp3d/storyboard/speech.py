"""Narration audio: one cached WAV per text, audience, language and voice, spoken offline.

English is spoken by a neural voice (piper-tts, :mod:`vp3d.storyboard.speech_piper`) when one
is installed; other languages, and English when piper or its model is missing or fails, by
espeak-ng (:mod:`vp3d.storyboard.speech_espeak`), which speaks Spanish with its ``es`` voice.

Each step's narration is spoken once per audience, language and voice and kept on disk: the
file name, ``<audience>-<lang>-<engine>-<voice>-<24 hex>.wav``, holds a hash of the spoken text
and every setting of the voice, so a later request for the same words is a file look-up (no
process starts) and an edited sentence or another voice gets a new file. The cache folder is
``.cache/narration/`` in the checkout, or ``$VP3D_CACHE_DIR/narration/`` when that variable is
set; deleting it is always safe.

Engine code: standard library only, no UI.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import time
import wave
from pathlib import Path
from typing import Mapping

from vp3d.paths import generated_dir
from vp3d.storyboard import AUDIENCES, Scene, Step, audience_of, narration_text
from vp3d.storyboard import speech_espeak, speech_piper
from vp3d.storyboard.speech_espeak import ESPEAK_ENV, VOICES, espeak_executable
from vp3d.storyboard.speech_process import TIMEOUT_S, EspeakNotFoundError, NarrationAudioError
from vp3d.storyboard.speech_text import LANGUAGES, speakable

logger = logging.getLogger(__name__)

CACHE_ENV = "VP3D_CACHE_DIR"
#: Bump when the way text becomes speech changes, so old files are not reused.
FORMAT_VERSION = 2
#: The cache's file names, and only those (the web route serves nothing else).
CACHE_NAME = re.compile(r"^(patient|student)-([a-z]{2})-(piper|espeak)-([A-Za-z0-9_]{1,48})-[0-9a-f]{24}\.wav$")

SpeechVoice = speech_espeak.Voice | speech_piper.Voice


def cache_dir() -> Path:
    """Where narration WAVs are kept: ``$VP3D_CACHE_DIR/narration``, else ``.cache/narration``
    in a checkout or the user's vp3d cache (:mod:`vp3d.paths`)."""
    root = os.environ.get(CACHE_ENV)
    return Path(root) / "narration" if root else generated_dir(".cache/narration", "narration")


def check_lang(lang: str) -> str:
    """``lang`` when vp3d can speak it (``en``, ``es``), else ``ValueError`` naming those."""
    if not isinstance(lang, str) or lang not in LANGUAGES or lang not in VOICES:
        raise ValueError(f"unknown narration language {lang!r}: {' or '.join(LANGUAGES)}")
    return lang


#: piper models that failed in this process: spoken with espeak-ng from then on.
_failed_models: set[Path] = set()
_told: set[str] = set()


def _tell_once(message: str) -> None:
    if message not in _told:
        _told.add(message)
        logger.warning("vp3d: %s", message)


def voice_for(audience: str, lang: str = "en") -> SpeechVoice:
    """The voice that speaks ``audience``'s narration in ``lang``: the language's neural (piper)
    voice when one is installed and works, else espeak-ng's (the reason is logged once)."""
    aud, lang = audience_of(audience), check_lang(lang)
    model, why_not = speech_piper.voice_model(lang)
    if model is not None and model in _failed_models:
        model, why_not = None, f"the piper voice {model.name} failed earlier"
    if model is None:
        forced = os.environ.get(speech_piper.voice_env(lang), "").strip().lower() == speech_piper.FORCE_ESPEAK
        if not forced and (lang in speech_piper.VOICE_PACKAGES or os.environ.get(speech_piper.voice_env(lang))):
            _tell_once(f"narration in {lang!r} falls back to espeak-ng: {why_not}")
        return VOICES[lang][aud]
    return speech_piper.Voice(model, speech_piper.STYLES[aud])


def cache_key(text: str, voice: SpeechVoice, lang: str = "en") -> str:
    """Hash of the spoken text, the language, the engine and every voice setting."""
    blob = json.dumps({"text": speakable(text, lang), "lang": lang, "engine": voice.engine,
                       "voice": voice.settings(), "format": FORMAT_VERSION}, sort_keys=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:24]


def cache_name(text: str, audience: str, lang: str, voice: SpeechVoice) -> str:
    """The cache file's name: ``<audience>-<lang>-<engine>-<voice>-<hash>.wav``."""
    name = f"{audience_of(audience)}-{lang}-{voice.engine}-{voice.name}-{cache_key(text, voice, lang)}.wav"
    if not CACHE_NAME.match(name):
        raise ValueError(f"voice {voice.name!r} gives the cache name {name!r}, outside {CACHE_NAME.pattern}")
    return name


def narration_wav(text: str, audience: str, lang: str = "en", *, directory: Path | None = None,
                  niceness: int = 0) -> Path:
    """A WAV of ``text`` (in language ``lang``) spoken in ``audience``'s voice.

    ``audience`` is ``patient``, ``student`` or ``kiosk`` (the patient voice); ``lang`` is
    ``en`` or ``es``. Returns the cached file when there is one (no process starts); otherwise
    runs the engine once and stores the result atomically. When piper fails, espeak-ng speaks
    instead. ``niceness`` lowers the engine's CPU priority (background pre-builds). Raises
    ``ValueError`` for empty text, an unknown audience or language,
    :class:`EspeakNotFoundError` when espeak-ng is needed but missing and
    :class:`NarrationAudioError` when it fails.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"narration text must be non-empty, got {text!r}")
    aud, lang = audience_of(audience), check_lang(lang)
    folder = Path(directory) if directory is not None else cache_dir()
    voice = voice_for(aud, lang)
    try:
        return _made(text, aud, lang, voice, folder, niceness)
    except NarrationAudioError as exc:
        if voice.engine == "espeak":
            raise
        _failed_models.add(voice.model)
        _tell_once(f"the piper voice {voice.model.name} failed, speaking with espeak-ng: {exc}")
        return _made(text, aud, lang, VOICES[lang][aud], folder, niceness)


def _made(text: str, aud: str, lang: str, voice: SpeechVoice, folder: Path, niceness: int) -> Path:
    path = folder / cache_name(text, aud, lang, voice)
    if path.is_file():
        return path
    if voice.engine == "espeak":
        espeak_executable()  # a missing espeak-ng is named before any file is made
    folder.mkdir(parents=True, exist_ok=True)
    _drop_abandoned(folder)
    fd, tmp_name = tempfile.mkstemp(prefix=".speak-", suffix=".wav", dir=folder)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        voice.synthesise(speakable(text, lang), tmp, niceness=niceness)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path

def _drop_abandoned(folder: Path) -> None:
    """Remove half-made files of a process that stopped mid-speech (a server shut down while it
    pre-built), once they are older than any engine may run."""
    now = time.time()
    for old in folder.glob(".speak-*.wav"):
        try:
            if now - old.stat().st_mtime > 2 * TIMEOUT_S:
                old.unlink()
        except OSError:
            pass  # another process removed or finished it


def step_wav(step: Step, audience: str, context: Mapping[str, object], lang: str = "en", *,
             directory: Path | None = None, niceness: int = 0) -> Path:
    """The spoken narration of one step for ``audience`` with ``context`` filled in
    (``lang``: the language the step's text is in)."""
    return narration_wav(narration_text(step, audience, context), audience, lang,
                         directory=directory, niceness=niceness)


def scene_wavs(scene: Scene, context: Mapping[str, object], audiences=AUDIENCES, lang: str = "en", *,
               directory: Path | None = None, niceness: int = 0) -> dict[tuple[str, str], Path]:
    """One WAV per step and audience: ``{(step_id, audience): path}``."""
    return {(s.id, aud): step_wav(s, aud, context, lang, directory=directory, niceness=niceness)
            for s in scene.steps for aud in audiences}


def wav_duration_s(path) -> float:
    """Length of a WAV file in seconds."""
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / float(w.getframerate())


__all__ = ["CACHE_ENV", "CACHE_NAME", "ESPEAK_ENV", "FORMAT_VERSION", "LANGUAGES", "VOICES",
           "EspeakNotFoundError", "NarrationAudioError", "SpeechVoice", "cache_dir", "cache_key",
           "cache_name", "check_lang", "espeak_executable", "narration_wav", "scene_wavs",
           "speakable", "step_wav", "voice_for", "wav_duration_s"]
