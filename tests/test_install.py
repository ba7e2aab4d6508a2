"""``pip install .`` (not editable) carries everything the app needs: the package's wheel
holds the storyboards, the quiz, the data tables and the page's static files, and the
installed package serves the default story from another folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path

import pytest

from tests.serving import serve

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The wheel built from this checkout, unpacked as an installed package would be."""
    out = tmp_path_factory.mktemp("wheel")
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                        "-q", "-w", str(out), str(REPO)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    (wheel,) = out.glob("vp3d-*.whl")
    site = tmp_path_factory.mktemp("site")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for needed in ("vp3d/scenes/vertebroplasty.yaml", "vp3d/scenes/kyphoplasty.yaml",
                       "vp3d/scenes/common.yaml", "vp3d/scenes/quiz.yaml", "vp3d/scenes/practice.yaml",
                       "vp3d/scenes/es/common.yaml", "vp3d/scenes/es/vertebroplasty.yaml",
                       "vp3d/scenes/es/kyphoplasty.yaml", "vp3d/locale/es/LC_MESSAGES/messages.mo",
                       "vp3d/data/morphometry.csv", "vp3d/data/body.csv", "vp3d/data/attenuation.csv"):
            assert needed in names, needed
        assert any(n.startswith("vp3d/app/static/") for n in names)
        archive.extractall(site)
    return site


def _env(site: Path, home: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(site), XDG_CACHE_HOME=str(home / "cache"),
               VTK_DEFAULT_OPENGL_WINDOW="vtkEGLRenderWindow")
    for name in ("VP3D_SCENES_DIR", "VP3D_MESH_DIR", "VP3D_CACHE_DIR"):
        env.pop(name, None)
    return env


def test_the_installed_package_reads_its_own_story_and_quiz(installed, tmp_path):
    code = ("import vp3d, vp3d.storyboard as s, vp3d.quiz.questions as q, vp3d.meshing.cache as m\n"
            "print(vp3d.__file__); print(s.SCENES_DIR); print(m.DEFAULT_MESH_DIR)\n"
            "s.load_named_scene('vertebroplasty'); print(len(q.load_quiz().questions))\n"
            "from vp3d.i18n import gettext_for; assert gettext_for('es')('Play') == 'Reproducir'\n"
            "assert s.load_named_scene('kyphoplasty', language='es').title['patient'].startswith('La ')\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=_env(installed, tmp_path),
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    module, scenes, meshes, questions = r.stdout.split()
    assert module.startswith(str(installed)) and scenes.startswith(str(installed))
    assert meshes.startswith(str(tmp_path / "cache" / "vp3d"))  # not inside site-packages
    assert int(questions) >= 20


def test_the_installed_package_serves_the_default_story(installed, tmp_path):
    with serve(env=_env(installed, tmp_path), inherit_env=False, cwd=tmp_path,
               log_path=tmp_path / "serve.log") as served:
        with urllib.request.urlopen(served.url + "status", timeout=10) as response:
            assert json.load(response)["sessions"] == 0
        with urllib.request.urlopen(served.url + "index.html", timeout=10) as response:
            assert response.status == 200 and b"<html" in response.read().lower()
