"""Narration audio: the neural voice (piper) and espeak-ng make real WAVs once, later requests
are cache hits; every patient step is spoken in every language and voice at a normal speaking
rate; a missing or broken piper model falls back to espeak-ng; a missing or failing espeak-ng
gives a clear error. Orchestration tests use a stand-in espeak."""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import subprocess
import sys
import time
import wave
from pathlib import Path

import pytest

from vp3d.storyboard import load_named_scene, narration_context
from vp3d.storyboard import speech as narration_audio
from vp3d.storyboard.speech import (
    CACHE_NAME,
    LANGUAGES,
    VOICES,
    EspeakNotFoundError,
    NarrationAudioError,
    cache_dir,
    cache_key,
    narration_wav,
    scene_wavs,
    speakable,
    voice_for,
    wav_duration_s,
)
from vp3d.storyboard.speech_piper import VOICE_PACKAGES, voice_env
from tests.spoken_story import SPEAKING_RATE_WPM, TOLERANCE, patient_story

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


def _neural_voice_installed() -> bool:
    package = VOICE_PACKAGES["en"][0]
    return all(importlib.util.find_spec(name) is not None for name in ("piper", package))


@pytest.fixture
def piper():
    """The installed English piper voice (the ``voice`` extra); a skip off CI when it is absent,
    a failure in CI, where ``make test`` installs it."""
    if not _neural_voice_installed():
        reason = "the neural voice is not installed (pip install -e '.[voice]', or make install)"
        if _in_ci():
            pytest.fail(f"the neural voice must be tested in CI but {reason}")
        pytest.skip(reason)


@pytest.fixture(autouse=True)
def default_voices(monkeypatch):
    """Each test starts from the installed voices, whatever the shell running it set."""
    for lang in LANGUAGES:
        monkeypatch.delenv(voice_env(lang), raising=False)
    monkeypatch.delenv("VP3D_ESPEAK", raising=False)
    monkeypatch.setattr(narration_audio, "_failed_models", set())
    monkeypatch.setattr(narration_audio, "_told", set())


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("VP3D_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "narration"


def _no_process(*args, **kwargs):
    raise AssertionError(f"a process was started on a cache hit: {args}")


@pytest.mark.parametrize("voice", ["piper", "espeak"])
def test_real_wav_then_cache_hit(request, espeak, cache, monkeypatch, voice):
    if voice == "piper":
        request.getfixturevalue("piper")
    else:
        monkeypatch.setenv("VP3D_VOICE_EN", "espeak")
    path = narration_wav(TEXT, "patient")
    assert path.name.startswith(f"patient-en-{voice}-")
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


@pytest.mark.parametrize("voice", ["piper", "espeak"])
def test_patient_voice_is_calmer(request, espeak, cache, monkeypatch, voice):
    if voice == "piper":
        request.getfixturevalue("piper")
    else:
        monkeypatch.setenv("VP3D_VOICE_EN", "espeak")
    patient = narration_wav(TEXT, "patient")
    student = narration_wav(TEXT, "student")
    assert f"-{voice}-" in patient.name and f"-{voice}-" in student.name
    assert wav_duration_s(patient) > wav_duration_s(student) * 1.1
    for lang in VOICES:
        assert VOICES[lang]["patient"].rate_wpm < VOICES[lang]["student"].rate_wpm < 175  # espeak's default


def test_cache_key_follows_text_voice_and_language():
    patient = VOICES["en"]["patient"]
    k = cache_key(TEXT, patient)
    assert k == cache_key(" " + TEXT + "  ", patient)  # spacing is not speech
    assert k != cache_key(TEXT + " Rest.", patient)
    assert k != cache_key(TEXT, VOICES["en"]["student"])
    assert k != cache_key(TEXT, patient, "es")


def test_default_cache_folder_is_in_the_checkout(monkeypatch):
    monkeypatch.delenv("VP3D_CACHE_DIR", raising=False)
    checkout = Path(narration_audio.__file__).resolve().parents[2]  # vp3d/storyboard/speech.py
    assert (checkout / "pyproject.toml").exists()
    assert cache_dir() == checkout / ".cache" / "narration"


def test_missing_espeak_is_a_clear_error(cache, monkeypatch, tmp_path):
    monkeypatch.setenv("VP3D_ESPEAK", str(tmp_path / "no-such-espeak-ng"))
    with pytest.raises(EspeakNotFoundError, match=r"apt-get install espeak-ng"):
        narration_wav(TEXT, "student", "es")  # no neural Spanish voice: espeak-ng speaks it
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
    monkeypatch.setenv("VP3D_VOICE_EN", "espeak")
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
    monkeypatch.setenv("VP3D_VOICE_EN", "espeak")
    with pytest.raises(NarrationAudioError, match=r"exit status 1\): voice 'en' not found"):
        narration_wav(TEXT, "patient")
    assert not cache.exists() or not any(cache.iterdir())  # nothing half-written is kept


def test_bad_requests():
    with pytest.raises(ValueError, match="non-empty"):
        narration_wav("  ", "patient")
    with pytest.raises(ValueError, match="unknown audience 'surgeon'"):
        narration_wav(TEXT, "surgeon")
    with pytest.raises(ValueError, match="unknown narration language 'fr': en or es"):
        narration_wav(TEXT, "patient", "fr")


def test_speakable_spells_out_figures():
    assert speakable("about 1–3 % and 24–48 hours") == "about 1 to 3 percent and 24 to 48 hours"
    assert speakable("3 mL of PMMA on AP and MRI") == "3 millilitres of P M M A on A P and M R I"
    assert speakable("An 11- or 13-gauge needle") == "An 11 or 13 gauge needle"
    assert speakable("entre 1–3 % y 3 mL de PMMA", "es") == "entre 1 a 3 por ciento y 3 mililitros de P M M A"


# ------------------------------------------------------------------ the patient story, spoken

def _voices() -> list:
    """(language, engine) for every language: espeak-ng always, piper where a neural voice is
    meant to be installed."""
    out = [pytest.param(lang, "espeak", id=f"{lang}-espeak") for lang in LANGUAGES]
    out += [pytest.param(lang, "piper", id=f"{lang}-piper", marks=pytest.mark.slow)
            for lang in VOICE_PACKAGES]
    return out


@pytest.mark.parametrize("lang, engine", _voices())
def test_every_patient_step_is_spoken_at_a_normal_rate(request, espeak, monkeypatch, lang, engine):
    """Every patient step's WAV exists in each language and voice, its name says which, and it
    lasts within 30 % of its words at a normal speaking rate. The real cache is used (the
    files are what the server would serve, and a later run or server start reuses them)."""
    if engine == "piper":
        request.getfixturevalue("piper")
    else:
        monkeypatch.setenv(voice_env(lang), "espeak")
    story = patient_story(lang)
    assert len(story) >= 11
    names = set()
    for step_id, text in story:
        path = narration_wav(text, "patient", lang)
        assert path.parent == cache_dir() and path.is_file()
        match = CACHE_NAME.match(path.name)
        assert match, path.name
        assert match.groups()[:3] == ("patient", lang, engine), path.name
        assert match.group(4) == voice_for("patient", lang).name
        words = len(speakable(text, lang).split())
        expected_s = words / SPEAKING_RATE_WPM[lang] * 60.0
        seconds = wav_duration_s(path)
        assert (1 - TOLERANCE) * expected_s <= seconds <= (1 + TOLERANCE) * expected_s, \
            f"{lang} {engine} step {step_id}: {seconds:.1f} s for {words} words, expected {expected_s:.1f} s"
        names.add(path.name)
    assert len(names) == len(story)


def test_the_neural_voice_speaks_english_and_espeak_speaks_spanish(piper):
    assert voice_for("patient", "en").engine == "piper"
    assert voice_for("kiosk", "en") == voice_for("patient", "en")
    assert voice_for("patient", "es").engine == "espeak" and voice_for("patient", "es").name == "es"


def test_a_missing_model_falls_back_to_espeak(espeak, cache, monkeypatch, tmp_path, caplog):
    missing = tmp_path / "voices" / "en_US-nobody-medium.onnx"
    monkeypatch.setenv("VP3D_VOICE_EN", str(missing))
    with caplog.at_level(logging.WARNING, logger="vp3d.storyboard.speech"):
        path = narration_wav(TEXT, "patient")
        narration_wav(TEXT + " Rest.", "patient")
    assert path.name.startswith("patient-en-espeak-en-") and wav_duration_s(path) > 1.0
    told = [r.getMessage() for r in caplog.records]
    assert len(told) == 1 and str(missing) in told[0] and "espeak-ng" in told[0]  # said once

    missing.parent.mkdir()
    missing.write_bytes(b"not a model")  # a model without its settings file beside it
    assert voice_for("patient").engine == "espeak"


def test_a_broken_model_falls_back_to_espeak(espeak, piper, cache, monkeypatch, tmp_path, caplog):
    """piper really runs on a model file that is not one, fails, and espeak-ng speaks instead."""
    model = tmp_path / "en_US-broken-low.onnx"
    model.write_bytes(b"\0" * 1024)
    model.with_name(model.name + ".json").write_text('{"audio": {"sample_rate": 22050}}')
    monkeypatch.setenv("VP3D_VOICE_EN", str(model))
    assert voice_for("patient").engine == "piper"
    with caplog.at_level(logging.WARNING, logger="vp3d.storyboard.speech"):
        path = narration_wav(TEXT, "patient")
    assert path.name.startswith("patient-en-espeak-en-")
    assert any("piper" in r.getMessage() and "failed" in r.getMessage() for r in caplog.records)
    assert voice_for("patient").engine == "espeak"  # not tried again in this process
    assert sorted(p.name for p in cache.iterdir()) == [path.name]  # nothing half-written kept


def test_the_server_start_prebuilds_the_default_story_in_the_background(espeak, cache, monkeypatch):
    from vp3d.app import narration_prebuild

    monkeypatch.setenv("VP3D_VOICE_EN", "espeak")  # the thread, not the voice, is tested here
    thread = narration_prebuild.start("vertebroplasty", "T12", 3, "crush", "kiosk")
    assert thread.daemon and thread.name == "vp3d-narration-prebuild"
    thread.join(120)
    assert not thread.is_alive()
    made = sorted(p.name for p in cache.iterdir())
    scene = load_named_scene("vertebroplasty")
    wavs = scene_wavs(scene, narration_context("T12", 3, "crush"), ["patient"])
    assert made == sorted(p.name for p in wavs.values())  # every step, and only those
    assert len(made) == len(scene.steps)


def test_half_made_files_of_a_stopped_process_are_dropped(espeak, cache, monkeypatch):
    monkeypatch.setenv("VP3D_VOICE_EN", "espeak")
    cache.mkdir(parents=True)
    abandoned, recent = cache / ".speak-abandoned.wav", cache / ".speak-recent.wav"
    for path in (abandoned, recent):
        path.write_bytes(b"RIFF")
    old = time.time() - 3 * narration_audio.TIMEOUT_S
    os.utime(abandoned, (old, old))
    made = narration_wav(TEXT, "patient")
    assert sorted(p.name for p in cache.iterdir()) == sorted([made.name, recent.name])  # recent: maybe still being made
