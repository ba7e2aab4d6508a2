"""Narration audio: espeak-ng makes a real WAV once, later requests are cache hits, and a
missing or failing espeak-ng gives a clear error. Orchestration tests use a stand-in espeak."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import wave
from pathlib import Path

import pytest

from vp3d.storyboard import speech as narration_audio
from vp3d.storyboard.speech import (
    VOICES,
    EspeakNotFoundError,
    NarrationAudioError,
    cache_dir,
    cache_key,
    narration_wav,
    scene_wavs,
    speakable,
    wav_duration_s,
)
from vp3d.storyboard import load_named_scene, narration_context

TEXT = "The cement hardens within about 15 minutes."


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


@pytest.fixture
def espeak():
    """The real espeak-ng; a skip off CI when it is absent, a failure in CI."""
    found = shutil.which("espeak-ng")
    if found is None:
        reason = "espeak-ng is not installed (Debian/Ubuntu: apt-get install espeak-ng, or make install)"
        if _in_ci():
            pytest.fail(f"narration audio must be tested in CI but {reason}")
        pytest.skip(reason)
    return found


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("VP3D_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("VP3D_ESPEAK", raising=False)
    return tmp_path / "cache" / "narration"


def _no_process(*args, **kwargs):
    raise AssertionError(f"a process was started on a cache hit: {args}")


def test_real_wav_then_cache_hit(espeak, cache, monkeypatch):
    path = narration_wav(TEXT, "patient")
    assert path.parent == cache == cache_dir()
    head = path.read_bytes()[:12]
    assert head[:4] == b"RIFF" and head[8:12] == b"WAVE"
    with wave.open(str(path), "rb") as w:
        assert w.getnframes() / w.getframerate() > 0.3
    assert wav_duration_s(path) > 0.3
    mtime = path.stat().st_mtime_ns

    monkeypatch.setattr(subprocess, "run", _no_process)
    monkeypatch.setattr(subprocess, "Popen", _no_process)
    again = narration_wav(TEXT, "patient")
    assert again == path and again.stat().st_mtime_ns == mtime
    assert narration_wav(TEXT, "kiosk") == path  # the kiosk speaks with the patient voice
    assert [p.name for p in cache.iterdir()] == [path.name]  # no temporary files left


def test_patient_voice_is_calmer(espeak, cache):
    patient = wav_duration_s(narration_wav(TEXT, "patient"))
    student = wav_duration_s(narration_wav(TEXT, "student"))
    assert patient > student * 1.1
    assert VOICES["patient"].rate_wpm < VOICES["student"].rate_wpm < 175  # espeak-ng's default


def test_cache_key_follows_text_and_voice():
    k = cache_key(TEXT, VOICES["patient"])
    assert k == cache_key(" " + TEXT + "  ", VOICES["patient"])  # spacing is not speech
    assert k != cache_key(TEXT + " Rest.", VOICES["patient"])
    assert k != cache_key(TEXT, VOICES["student"])


def test_default_cache_folder_is_in_the_checkout(monkeypatch):
    monkeypatch.delenv("VP3D_CACHE_DIR", raising=False)
    checkout = Path(narration_audio.__file__).resolve().parents[2]  # vp3d/storyboard/speech.py
    assert (checkout / "pyproject.toml").exists()
    assert cache_dir() == checkout / ".cache" / "narration"


def test_missing_espeak_is_a_clear_error(cache, monkeypatch, tmp_path):
    monkeypatch.setenv("VP3D_ESPEAK", str(tmp_path / "no-such-espeak-ng"))
    with pytest.raises(EspeakNotFoundError, match=r"apt-get install espeak-ng"):
        narration_wav(TEXT, "student")
    assert isinstance(EspeakNotFoundError("x"), RuntimeError)


def _fake_espeak(tmp_path: Path, *, fail: bool = False) -> tuple[Path, Path]:
    """A stand-in espeak-ng: writes one second of silence and logs each call."""
    log = tmp_path / "calls.log"
    script = tmp_path / "fake-espeak-ng"
    script.write_text(f"""#!{sys.executable}
import sys, wave
args = sys.argv[1:]
text = sys.stdin.read()
with open({str(log)!r}, "a") as fh:
    fh.write(" ".join(args) + "\\t" + text.replace("\\n", " ") + "\\n")
if {fail!r}:
    sys.stderr.write("voice 'en' not found\\n")
    sys.exit(1)
with wave.open(args[args.index("-w") + 1], "wb") as w:
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(22050)
    w.writeframes(b"\\0\\0" * 22050)
""")
    script.chmod(0o755)
    return script, log


def test_one_wav_per_step_and_audience_cached(cache, monkeypatch, tmp_path):
    script, log = _fake_espeak(tmp_path)
    monkeypatch.setenv("VP3D_ESPEAK", str(script))
    scene = load_named_scene("vertebroplasty")
    ctx = narration_context("L1", 2, "wedge")
    wavs = scene_wavs(scene, ctx)
    assert set(wavs) == {(s.id, a) for s in scene.steps for a in ("patient", "student")}
    assert len(set(wavs.values())) == len(wavs)
    calls = log.read_text().splitlines()
    assert len(calls) == len(wavs)
    patient_call = next(c for c in calls if "first lumbar vertebra" in c)
    assert "-s 135" in patient_call and "-v en" in patient_call
    assert all("{" not in c for c in calls)

    assert scene_wavs(scene, ctx) == wavs
    assert len(log.read_text().splitlines()) == len(wavs)  # every second request was a hit
    other = scene_wavs(scene, narration_context("T12", 3, "crush"), ["patient"])
    assert other[("fracture", "patient")] != wavs[("fracture", "patient")]  # new words, new file
    assert other[("needle", "patient")] == wavs[("needle", "patient")]      # same words, same file


def test_failing_espeak_reports_its_message(cache, monkeypatch, tmp_path):
    script, _ = _fake_espeak(tmp_path, fail=True)
    monkeypatch.setenv("VP3D_ESPEAK", str(script))
    with pytest.raises(NarrationAudioError, match=r"exit status 1\): voice 'en' not found"):
        narration_wav(TEXT, "patient")
    assert not cache.exists() or not any(cache.iterdir())  # nothing half-written is kept


def test_bad_requests():
    with pytest.raises(ValueError, match="non-empty"):
        narration_wav("  ", "patient")
    with pytest.raises(ValueError, match="unknown audience 'surgeon'"):
        narration_wav(TEXT, "surgeon")


def test_speakable_spells_out_figures():
    assert speakable("about 1–3 % and 24–48 hours") == "about 1 to 3 percent and 24 to 48 hours"
    assert speakable("3 mL of PMMA on AP and MRI") == "3 millilitres of P M M A on A P and M R I"
    assert speakable("An 11- or 13-gauge needle") == "An 11 or 13 gauge needle"
