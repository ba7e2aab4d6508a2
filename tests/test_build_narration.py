"""``vp3d build-narration``: every story step's narration, for each voice and each choice of
level, grade and fracture type, lands in the narration cache, so the app finds it there (no
espeak-ng at run time). A stand-in espeak-ng logs each call and writes a short silence."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from vp3d.checks import GRADES, KINDS, PROCEDURES
from vp3d.storyboard import load_named_scene, narration_context, narration_text
from vp3d.storyboard.prebuild import narration_texts
from vp3d.storyboard.speech import narration_wav

REPO = Path(__file__).resolve().parents[1]


def _fake_espeak(tmp_path: Path) -> tuple[Path, Path]:
    log = tmp_path / "calls.log"
    script = tmp_path / "fake-espeak-ng"
    script.write_text(f"""#!{sys.executable}
import sys, wave
args = sys.argv[1:]
sys.stdin.read()
with open({str(log)!r}, "a") as fh:
    fh.write("call\\n")
with wave.open(args[args.index("-w") + 1], "wb") as w:
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
    w.writeframes(b"\\0\\0" * 800)
""")
    script.chmod(0o755)
    return script, log


def _build(tmp_path: Path, espeak: Path, *args: str) -> subprocess.CompletedProcess:
    # espeak-ng for English too (VP3D_VOICE_EN=espeak), so the stand-in sees every call.
    env = {**os.environ, "VP3D_CACHE_DIR": str(tmp_path / "cache"), "VP3D_ESPEAK": str(espeak),
           "VP3D_VOICE_EN": "espeak"}
    return subprocess.run([sys.executable, "-m", "vp3d", "build-narration", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)


def test_texts_cover_every_step_voice_and_choice_once():
    texts = narration_texts(["L1", "T8"], GRADES, KINDS, PROCEDURES)
    assert len(texts) == len(set(texts))
    for procedure in PROCEDURES:
        scene = load_named_scene(procedure)
        for level, grade, kind in (("L1", 2, "wedge"), ("T8", 3, "crush"), ("T8", 1, "biconcave")):
            context = narration_context(level, grade, kind)
            for step in scene.steps:
                for audience in ("patient", "student"):
                    assert (audience, narration_text(step, audience, context)) in {
                        (t.audience, t.text) for t in texts}
    assert any("eighth thoracic" in t.text for t in texts)
    assert not any("third lumbar" in t.text for t in texts)  # only the levels asked for


def test_build_narration_fills_the_cache_the_app_reads(tmp_path, monkeypatch):
    espeak, log = _fake_espeak(tmp_path)
    made = _build(tmp_path, espeak, "--level", "L1")
    assert made.returncode == 0, made.stderr
    expected = narration_texts(["L1"], GRADES, KINDS, PROCEDURES)
    assert made.stdout.startswith(f"{len(expected)} narrations")
    assert len(log.read_text().splitlines()) == len(expected)
    assert len(list((tmp_path / "cache" / "narration").glob("*.wav"))) == len(expected)

    # What a session on L1 asks for is a cache hit: no espeak-ng is needed any more.
    monkeypatch.setenv("VP3D_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("VP3D_ESPEAK", str(tmp_path / "no-such-espeak-ng"))
    monkeypatch.setenv("VP3D_VOICE_EN", "espeak")
    step = load_named_scene("kyphoplasty").steps[0]
    text = narration_text(step, "kiosk", narration_context("L1", 3, "crush"))
    assert narration_wav(text, "kiosk").is_file()

    again = _build(tmp_path, espeak, "--level", "L1")
    assert again.returncode == 0, again.stderr
    assert len(log.read_text().splitlines()) == len(expected)  # the second run made nothing


def test_bad_level_is_one_line_and_exit_2(tmp_path):
    espeak, log = _fake_espeak(tmp_path)
    r = _build(tmp_path, espeak, "--level", "T2")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "T5" in r.stderr
    assert not log.exists()
