"""espeak-ng, the narration's fallback engine: small, any language, in its own process.

``espeak-ng`` (Debian/Ubuntu package ``espeak-ng``, installed by ``make install``) speaks every
language vp3d narrates; ``VP3D_ESPEAK`` may name another executable. The patient voice (also
the kiosk's) is slower, lower and leaves longer gaps between words than the student voice.

Engine code: standard library only, no UI.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import ClassVar, Mapping

from vp3d.storyboard.speech_process import EspeakNotFoundError, run_to_wav

ESPEAK_ENV = "VP3D_ESPEAK"


@dataclass(frozen=True)
class Voice:
    """espeak-ng settings: voice name, speed (words per minute), pitch (0-99), pause between
    words (units of 10 ms) and amplitude (0-200)."""

    voice: str = "en"
    rate_wpm: int = 160
    pitch: int = 50
    word_gap_10ms: int = 0
    amplitude: int = 100
    engine: ClassVar[str] = "espeak"

    @property
    def name(self) -> str:
        """The voice as a file name shows it (``en``, ``es``)."""
        return self.voice

    def settings(self) -> dict:
        """Everything that changes the sound (part of the cache key)."""
        return asdict(self)

    def args(self) -> list[str]:
        return ["-v", self.voice, "-s", str(self.rate_wpm), "-p", str(self.pitch),
                "-g", str(self.word_gap_10ms), "-a", str(self.amplitude)]

    def synthesise(self, text: str, out: Path, *, niceness: int = 0) -> None:
        """Speak ``text`` into the WAV file ``out``."""
        run_to_wav([espeak_executable(), *self.args(), "-w", str(out), "--stdin"], text, out,
                   engine="espeak-ng", niceness=niceness)


#: A calm, unhurried voice for patients and the kiosk; a brisker one for students
#: (espeak-ng's default speed is 175 words per minute). Spanish uses espeak-ng's ``es``.
VOICES: Mapping[str, Mapping[str, Voice]] = {
    "en": {"patient": Voice("en", rate_wpm=135, pitch=42, word_gap_10ms=2),
           "student": Voice("en", rate_wpm=165, pitch=48, word_gap_10ms=0)},
    "es": {"patient": Voice("es", rate_wpm=135, pitch=42, word_gap_10ms=2),
           "student": Voice("es", rate_wpm=165, pitch=48, word_gap_10ms=0)},
}


def espeak_executable() -> str:
    """Path of espeak-ng; raises :class:`EspeakNotFoundError` with how to install it."""
    name = os.environ.get(ESPEAK_ENV) or "espeak-ng"
    found = shutil.which(name)
    if found is None:
        raise EspeakNotFoundError(
            f"espeak-ng is needed to make narration audio but {name!r} was not found; install it "
            f"(Debian/Ubuntu: sudo apt-get install espeak-ng, or `make install`) or set "
            f"{ESPEAK_ENV} to its path")
    return found
