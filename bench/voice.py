"""Benchmark: seconds to speak the whole patient story per language and voice, the cache it
fills, and what the audio looks like.

Run: ``python bench/voice.py`` (``--look`` adds waveform figures for two steps per voice).
Each voice speaks every patient step of the vertebroplasty story (L1, grade 2 wedge; Spanish:
its sample sentences until the Spanish storyboard lands) into an empty cache folder, so the
time is real synthesis, not cache hits. Real-time factor = synthesis seconds / audio seconds
(below 1 is faster than speech). The server pre-builds the default story in the background at
start, so no visitor waits for this; the figure says how long that takes on this machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.spoken_story import SPEAKING_RATE_WPM, patient_story  # noqa: E402

from vp3d.storyboard.speech import LANGUAGES, narration_wav, speakable, voice_for, wav_duration_s  # noqa: E402
from vp3d.storyboard.speech_piper import VOICE_PACKAGES, voice_env  # noqa: E402

SILENCE_DBFS = -40.0
FRAME_S = 0.05


def voices() -> list[tuple[str, str]]:
    """(language, engine): espeak-ng for every language, piper where a voice package exists."""
    return [(lang, "piper") for lang in VOICE_PACKAGES] + [(lang, "espeak") for lang in LANGUAGES]


def look(path: Path) -> str:
    """Duration, loudness, silence and a coarse RMS envelope of one WAV, as one line."""
    with wave.open(str(path), "rb") as w:
        rate = w.getframerate()
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(float) / 32768.0
    n = int(rate * FRAME_S)
    frames = samples[: len(samples) // n * n].reshape(-1, n)
    rms_db = 20 * np.log10(np.sqrt((frames ** 2).mean(axis=1)) + 1e-9)
    silent = rms_db < SILENCE_DBFS
    runs, longest = 0, 0
    for s in silent:
        runs = runs + 1 if s else 0
        longest = max(longest, runs)
    voiced = rms_db[~silent]
    bars = " .:-=+*#%@"
    chunks = np.array_split(rms_db, 40)
    envelope = "".join(bars[int(np.clip((c.mean() - SILENCE_DBFS) / 40 * 9, 0, 9))] for c in chunks)
    return (f"{len(samples) / rate:5.1f} s  peak {20 * np.log10(np.abs(samples).max() + 1e-9):5.1f} dBFS  "
            f"voiced RMS {voiced.mean() if voiced.size else float('nan'):5.1f} dBFS  "
            f"silent {silent.mean():4.0%}  longest pause {longest * FRAME_S:.2f} s  |{envelope}|")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--look", action="store_true", help="waveform figures of two steps per voice")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for lang, engine in voices():
        os.environ[voice_env(lang)] = "" if engine == "piper" else "espeak"
        voice = voice_for("patient", lang)
        if voice.engine != engine:
            print(f"{lang} {engine}: not installed, skipped")
            continue
        story = patient_story(lang)
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            paths = [narration_wav(text, "patient", lang, directory=Path(folder)) for _, text in story]
            took = time.perf_counter() - started
            audio = sum(wav_duration_s(p) for p in paths)
            words = sum(len(speakable(text, lang).split()) for _, text in story)
            megabytes = sum(p.stat().st_size for p in paths) / 1e6
            print(f"{lang} {engine} {voice.name}: {len(paths)} steps, {words} words, {took:.1f} s to "
                  f"speak {audio:.0f} s of audio (real-time factor {took / audio:.3f}), "
                  f"{words / audio * 60:.0f} words/min (normal {SPEAKING_RATE_WPM[lang]:.0f}), "
                  f"cache {megabytes:.1f} MB")
            if args.look:
                for (step_id, _), path in list(zip(story, paths))[:2]:
                    print(f"    {step_id:>16}: {look(path)}")


if __name__ == "__main__":
    main()
