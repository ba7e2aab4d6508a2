"""Narration audio: offline speech with espeak-ng, one cached WAV per text and voice.

Each step's narration is spoken once per audience and kept on disk: the file name holds a hash
of the spoken text and the voice settings, so a later request for the same words is a file
look-up (no process starts) and an edited sentence gets a new file. The cache folder is
``.cache/narration/`` in the checkout, or ``$VP3D_CACHE_DIR/narration/`` when that variable is
set; deleting it is always safe.

``espeak-ng`` (Debian/Ubuntu package ``espeak-ng``, installed by ``make install``) is only
needed to make a file that is not cached yet; ``VP3D_ESPEAK`` may name another executable.
The patient voice (also the kiosk's) is slower, lower and leaves longer gaps between words
than the student voice.

Engine code: standard library only, no UI.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import wave
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Mapping

from vp3d.paths import generated_dir
from vp3d.storyboard import AUDIENCES, Scene, Step, audience_of, narration_text

CACHE_ENV = "VP3D_CACHE_DIR"
ESPEAK_ENV = "VP3D_ESPEAK"
#: Bump when the way text becomes speech changes, so old files are not reused.
FORMAT_VERSION = 1
ESPEAK_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Voice:
    """espeak-ng settings: voice name, speed (words per minute), pitch (0-99), pause between
    words (units of 10 ms) and amplitude (0-200)."""

    voice: str = "en"
    rate_wpm: int = 160
    pitch: int = 50
    word_gap_10ms: int = 0
    amplitude: int = 100

    def args(self) -> list[str]:
        return ["-v", self.voice, "-s", str(self.rate_wpm), "-p", str(self.pitch),
                "-g", str(self.word_gap_10ms), "-a", str(self.amplitude)]


#: A calm, unhurried voice for patients and the kiosk; a brisker one for students
#: (espeak-ng's default speed is 175 words per minute).
VOICES: Mapping[str, Voice] = {
    "patient": Voice("en", rate_wpm=135, pitch=42, word_gap_10ms=2),
    "student": Voice("en", rate_wpm=165, pitch=48, word_gap_10ms=0),
}


class NarrationAudioError(RuntimeError):
    """Speech could not be made (espeak-ng missing or failing)."""


class EspeakNotFoundError(NarrationAudioError):
    """espeak-ng is not installed (or ``VP3D_ESPEAK`` names nothing runnable)."""


def cache_dir() -> Path:
    """Where narration WAVs are kept: ``$VP3D_CACHE_DIR/narration``, else ``.cache/narration``
    in a checkout or the user's vp3d cache (:mod:`vp3d.paths`)."""
    root = os.environ.get(CACHE_ENV)
    return Path(root) / "narration" if root else generated_dir(".cache/narration", "narration")


_SPOKEN = (
    (re.compile(r"(\d)\s*[\u2013-]\s*(\d)"), r"\1 to \2"),  # 1–3 -> 1 to 3
    (re.compile(r"(\d+)-(?=\s|gauge)"), r"\1 "),            # 11- or 13-gauge
    (re.compile(r"\s*%"), " percent"),
    (re.compile(r"\bmL\b"), "millilitres"),
    (re.compile(r"\bPMMA\b"), "P M M A"),
    (re.compile(r"\bAP\b"), "A P"),
    (re.compile(r"\bMRI\b"), "M R I"),
    (re.compile(r"\bURMC\b"), "U R M C"),
    (re.compile(r"\bUS\b"), "U S"),
)


def speakable(text: str) -> str:
    """``text`` as espeak-ng should read it: ranges, units and acronyms spelled out."""
    out = " ".join(text.split())
    for pattern, repl in _SPOKEN:
        out = pattern.sub(repl, out)
    return " ".join(out.split())


def cache_key(text: str, voice: Voice) -> str:
    """Hash of the spoken text and the voice settings (the cache file's name)."""
    blob = json.dumps({"text": speakable(text), "voice": asdict(voice), "format": FORMAT_VERSION},
                      sort_keys=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:24]


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


def _is_wav(path: Path) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(12)
    return len(head) == 12 and head[:4] == b"RIFF" and head[8:12] == b"WAVE"


def narration_wav(text: str, audience: str, *, directory: Path | None = None) -> Path:
    """A WAV of ``text`` spoken in ``audience``'s voice (``patient``, ``student`` or ``kiosk``).

    Returns the cached file when there is one (no process starts); otherwise runs espeak-ng
    once and stores the result atomically. Raises ``ValueError`` for empty text or an unknown
    audience, :class:`EspeakNotFoundError` when espeak-ng is missing and
    :class:`NarrationAudioError` when it fails.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"narration text must be non-empty, got {text!r}")
    aud = audience_of(audience)
    voice = VOICES[aud]
    folder = Path(directory) if directory is not None else cache_dir()
    path = folder / f"{aud}-{cache_key(text, voice)}.wav"
    if path.is_file():
        return path
    exe = espeak_executable()
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".speak-", suffix=".wav", dir=folder)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        try:
            r = subprocess.run([exe, *voice.args(), "-w", str(tmp), "--stdin"], input=speakable(text),
                               capture_output=True, text=True, timeout=ESPEAK_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            raise NarrationAudioError(f"espeak-ng took over {ESPEAK_TIMEOUT_S:g} s for {len(text)} "
                                      "characters of narration") from None
        if r.returncode != 0 or tmp.stat().st_size <= 44 or not _is_wav(tmp):
            detail = (r.stderr or r.stdout).strip() or "no WAV written"
            raise NarrationAudioError(f"espeak-ng failed (exit status {r.returncode}): {detail}")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def step_wav(step: Step, audience: str, context: Mapping[str, object], *,
             directory: Path | None = None) -> Path:
    """The spoken narration of one step for ``audience`` with ``context`` filled in."""
    return narration_wav(narration_text(step, audience, context), audience, directory=directory)


def scene_wavs(scene: Scene, context: Mapping[str, object], audiences=AUDIENCES, *,
               directory: Path | None = None) -> dict[tuple[str, str], Path]:
    """One WAV per step and audience: ``{(step_id, audience): path}``."""
    return {(s.id, aud): step_wav(s, aud, context, directory=directory)
            for s in scene.steps for aud in audiences}


def wav_duration_s(path) -> float:
    """Length of a WAV file in seconds."""
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / float(w.getframerate())
