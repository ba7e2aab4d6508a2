"""Running a speech engine in its own process into one WAV file, and the errors it may raise.

Both engines (espeak-ng and piper) run as separate programs: the server never loads a speech
model into its own memory, a crash in an engine cannot take a session down, and a timeout can
stop it. ``niceness`` runs the engine at a lower CPU priority (background pre-builds).

Engine code: standard library only, no UI.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Sequence

#: The longest one step's narration may take to speak, in seconds of wall time.
TIMEOUT_S = 180.0


class NarrationAudioError(RuntimeError):
    """Speech could not be made (an engine missing or failing)."""


class EspeakNotFoundError(NarrationAudioError):
    """espeak-ng is not installed (or ``VP3D_ESPEAK`` names nothing runnable)."""


def is_wav(path: Path) -> bool:
    """Whether ``path`` starts like a RIFF/WAVE file with some audio after its header."""
    with open(path, "rb") as fh:
        head = fh.read(12)
    return len(head) == 12 and head[:4] == b"RIFF" and head[8:12] == b"WAVE" and path.stat().st_size > 44


def run_to_wav(command: Sequence[str], text: str, out: Path, *, engine: str,
               niceness: int = 0) -> None:
    """Run ``command`` with ``text`` on its standard input; it must write the WAV ``out``.

    Raises :class:`NarrationAudioError` naming ``engine`` and its own message when it fails,
    runs over :data:`TIMEOUT_S` or writes no WAV.
    """
    command = list(command)
    nice = shutil.which("nice") if niceness else None
    if nice:
        command = [nice, "-n", str(int(niceness)), *command]
    try:
        r = subprocess.run(command, input=text, capture_output=True, text=True,
                           timeout=TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise NarrationAudioError(f"{engine} took over {TIMEOUT_S:g} s for {len(text)} "
                                  "characters of narration") from None
    if r.returncode != 0 or not out.is_file() or not is_wav(out):
        lines = [line for line in (r.stderr or r.stdout).strip().splitlines() if line.strip()]
        detail = lines[-1].strip() if lines else "no WAV written"
        raise NarrationAudioError(f"{engine} failed (exit status {r.returncode}): {detail}")
