"""The ``vp3d`` command line: clear one-line errors, offscreen PNGs, mesh cache."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image


def _run(*args, env_extra=None):
    env = dict(os.environ, VTK_DEFAULT_OPENGL_WINDOW="vtkEGLRenderWindow", **(env_extra or {}))
    return subprocess.run([sys.executable, "-m", "vp3d", *args], capture_output=True,
                          text=True, env=env, timeout=600)


def test_bad_level_is_one_line_and_exit_2():
    for args, words in ((["render", "--top", "L7", "--out", "x.png"], "level must be one of T1\u2013L5"),
                        (["build-meshes", "--bottom", "T13"], "level must be one of T1\u2013L5"),
                        (["serve", "--level", "x"], "level must be one of T5\u2013L5")):
        r = _run(*args)
        assert r.returncode == 2, r
        lines = [ln for ln in r.stderr.splitlines() if ln.strip() and "WARN" not in ln]
        assert len(lines) == 1 and words in lines[0], r.stderr


def _refused(capsys, *args) -> str:
    """The one line ``vp3d args`` prints as it exits with 2, before any work."""
    from vp3d.cli import main

    with pytest.raises(SystemExit) as stop:
        main(list(args))
    assert stop.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vp3d: error: "), lines
    return lines[0]


@pytest.mark.parametrize("args, words", [
    (("serve", "--kind", "burst"), "argument --kind: fracture type must be one of wedge, biconcave or crush, "
                                   "got 'burst'"),
    (("serve", "--grade", "x"), "argument --grade: fracture grade must be 1, 2 or 3, got 'x'"),
    (("serve", "--grade", "True"), "fracture grade must be 1, 2 or 3"),
    (("serve", "--procedure", "fusion"), "procedure must be one of vertebroplasty or kyphoplasty, got 'fusion'"),
    (("serve", "--audience", "surgeon"), "audience must be one of patient, student or kiosk, got 'surgeon'"),
    (("serve", "--lang", "fr"), "argument --lang: language must be one of en or es, got 'fr'"),
    (("radiographs", "--bone", "soft", "--out", "x.png"), "bone quality must be one of normal or osteoporotic"),
    (("radiographs", "--kind", "burst", "--out", "x.png"), "fracture type must be one of wedge, biconcave or crush"),
    (("render", "--view", "sideways", "--out", "x.png"),
     "view must be one of lateral, anterior, posterior, superior or oblique, got 'sideways'"),
    (("render", "--size", "big", "--out", "x.png"), "argument --size: must look like 1200x900"),
    (("serve", "--port", "http"), "argument --port: must be a whole number from 1 to 65535"),
    (("render",), "the following arguments are required: --out"),
])
def test_bad_options_are_one_line_listing_the_choices_in_words(capsys, args, words):
    line = _refused(capsys, *args)
    assert words in line, line
    assert "('" not in line and "'," not in line.split(", got")[0]  # words, not a Python tuple


def test_one_level_range_for_the_procedure_on_every_surface(capsys):
    """The page, the app's choices and the command line offer the procedure on T5-L5 and say why;
    the anatomy commands take every modelled level."""
    from vp3d.app.story import check_choice
    from vp3d.checks import ChoiceError
    from vp3d.procedure.case import Choices

    reason = "the upper thoracic pedicles are too small for the needles"
    for args in (("serve", "--level", "T2"), ("radiographs", "--level", "t4", "--out", "x.png")):
        line = _refused(capsys, *args)
        assert "level must be one of T5\u2013L5" in line and reason in line, line
    for check in (lambda: check_choice("level", "T2"), lambda: Choices(level="T2")):
        with pytest.raises(ChoiceError, match=reason):
            check()
    from vp3d.cli import parse_args

    assert parse_args(["render", "--top", "t2", "--bottom", "T4", "--highlight", "t3", "--out", "x.png"]).top == "T2"


def test_every_option_reads_any_case_alike():
    from vp3d.cli import parse_args

    a = parse_args(["serve", "--level", "l2", "--kind", "WEDGE", "--procedure", "Kyphoplasty",
                    "--audience", " Student ", "--grade", "3"])
    assert (a.level, a.kind, a.procedure, a.audience, a.grade) == ("L2", "wedge", "kyphoplasty", "student", 3)
    b = parse_args(["radiographs", "--bone", "NORMAL", "--kind", "Crush", "--out", "x.png"])
    assert (b.bone, b.kind, b.level, b.grade) == ("normal", "crush", "L1", 2)
    assert parse_args(["render", "--view", "Oblique", "--out", "x.png"]).view == "oblique"


def test_render_highlight_outside_the_rendered_range_is_refused(capsys):
    from vp3d.cli import main

    assert main(["render", "--top", "L1", "--bottom", "L2", "--highlight", "T12", "--out", "x.png"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["vp3d: error: --highlight T12 is outside --top L1 to --bottom L2, the levels rendered"]


def test_every_option_has_help_text():
    import argparse

    from vp3d.cli import _parser

    parser = _parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, sub in commands.choices.items():
        for action in sub._actions:
            if action.dest != "help":
                assert action.help and action.help.strip(), (name, action.dest)


def test_render_writes_a_picture_of_the_spine(tmp_path):
    out = tmp_path / "spine.png"
    r = _run("render", "--top", "L1", "--bottom", "L2", "--highlight", "L1", "--view", "lateral",
             "--size", "400x300", "--out", str(out), env_extra={"VP3D_MESH_DIR": str(tmp_path / "m")})
    assert r.returncode == 0, r.stderr
    img = np.asarray(Image.open(out).convert("RGB")).astype(float)
    assert img.shape == (300, 400, 3)
    # Not blank: the bones differ strongly from the background, and the highlight is there.
    assert img.std() > 20
    amber = (img[..., 0] > 150) & (img[..., 1] > 90) & (img[..., 2] < 110)
    assert amber.mean() > 0.01
    # The cache now holds the meshes: a second render reuses them.
    assert any((tmp_path / "m").glob("L1-L2-*/index.json"))


def test_build_meshes_budget(tmp_path):
    r = _run("build-meshes", "--top", "T12", "--bottom", "L1", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    folder = next(tmp_path.glob("T12-L1-*"))
    names = sorted(p.name for p in folder.glob("*.vtp"))
    assert names == ["L1.vtp", "T12.vtp", "cord.vtp", "disc_T12-L1.vtp", "ligaments_T12-L1.vtp", "lung.vtp",
                     "nucleus_T12-L1.vtp",
                     "organ.vtp", "rib.vtp", "skin.vtp", "vessel.vtp"]  # no pelvis this high
    import pyvista as pv

    from vp3d.meshing.cache import TRIANGLES
    from vp3d.geometry.contour import is_closed_manifold

    for name in names:
        mesh = pv.read(folder / name)
        assert is_closed_manifold(mesh), name  # decimation kept every surface closed
        stem = name.split(".")[0]
        kind = ("vertebra" if name[0] in "TL" else stem if stem in TRIANGLES
                else "ligament" if stem.startswith("ligaments") else stem.split("_")[0])
        assert mesh.n_cells <= TRIANGLES[kind] * 1.01 or kind == "disc", (name, mesh.n_cells)


def test_serve_refuses_a_broken_storyboard(tmp_path):
    """A broken scene file stops the app before it serves half a story: one clear line."""
    import shutil

    from vp3d.storyboard import SCENES_DIR

    for f in SCENES_DIR.glob("*.yaml"):
        shutil.copy(f, tmp_path / f.name)
    broken = tmp_path / "vertebroplasty.yaml"
    broken.write_text(broken.read_text().replace("cement.ml", "cement.litres", 1))
    r = _run("serve", "--server", "--port", "0", env_extra={"VP3D_SCENES_DIR": str(tmp_path)})
    assert r.returncode == 2, r.stdout[-2000:] + r.stderr[-2000:]
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("vp3d: error")]
    assert len(lines) == 1 and "vertebroplasty.yaml" in lines[0] and "step" in lines[0], r.stderr


def test_bad_paths_ports_and_hosts_are_one_line_and_exit_2_before_any_work(tmp_path):
    """Output paths, ports and hosts are checked before the slow work starts."""
    import socket
    import time

    existing_file = tmp_path / "a_file"
    existing_file.write_text("x")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        cases = {
            ("radiographs", "--out", str(tmp_path / "missing" / "a.png")): "does not exist",
            ("render", "--out", str(tmp_path)): "is a folder; name a PNG file",
            ("build-meshes", "--out", str(existing_file)): "is a file; name a folder",
            ("render", "--highlight", "T5", "--out", str(tmp_path / "r.png")): "outside --top T10 to --bottom L5",
            ("serve", "--port", "99999"): "from 1 to 65535",
            ("serve", "--port", "-5"): "from 1 to 65535",
            ("serve", "--host", "999.1.1.1"): "not an address or name",
            ("serve", "--host", "127.0.0.1", "--port", str(taken)): f"port {taken} on 127.0.0.1 is in use",
            ("serve", "--grade", "5"): "grade must be 1, 2 or 3",
            ("serve", "--max-sessions", "0"): "argument --max-sessions: must be a whole number from 1",
            ("serve", "--idle-timeout", "soon"): "argument --idle-timeout: must be a number of seconds",
            ("serve", "--busy-lag", "-1"): "argument --busy-lag: must be a number of seconds, 0 or more",
            ("serve", "--port", "0", "--heartbeat", str(tmp_path / "missing" / "w.beat")): "does not exist",
            ("deploy", "--workers", "0"): "argument --workers: must be a whole number from 1 to 256, got '0'",
            ("deploy", "--drain-grace", "-1"): "argument --drain-grace: must be a number of seconds, 0 or more",
            ("deploy", "--host", "127.0.0.1", "--port", str(taken)): f"port {taken} on 127.0.0.1 is in use",
            ("deploy", "--port", "0", "--haproxy", str(tmp_path / "haproxy")): "no HAProxy program there "
                                                                               "(Debian/Ubuntu: apt-get install haproxy",
            ("deploy", "--port", "0", "--haproxy", str(existing_file)): "no HAProxy program there",
            ("deploy", "--port", "0", "--haproxy", sys.executable): "is not HAProxy",
        }
        for args, words in cases.items():
            start = time.monotonic()
            r = _run(*args)
            lines = [ln for ln in r.stderr.splitlines() if ln.strip() and "WARN" not in ln]
            assert r.returncode == 2 and len(lines) == 1 and words in lines[0], (args, r.stderr)
            assert time.monotonic() - start < 8.0, args  # refused before building anything
    r = _run("render", "--out", "/sys/r.png")  # root passes permission checks there: tried for real
    assert r.returncode == 2 and "not writable" in r.stderr, r.stderr


def test_an_unknown_command_names_every_command(capsys):
    import argparse

    from vp3d.cli import _parser

    sub = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    line = _refused(capsys, "explode")
    assert line.endswith("got 'explode'") and len(sub.choices) >= 5
    for command in sub.choices:
        assert command in line, (command, line)
