"""The ``vp3d`` command line: clear one-line errors, offscreen PNGs, mesh cache."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
from PIL import Image


def _run(*args, env_extra=None):
    env = dict(os.environ, VTK_DEFAULT_OPENGL_WINDOW="vtkEGLRenderWindow", **(env_extra or {}))
    return subprocess.run([sys.executable, "-m", "vp3d", *args], capture_output=True,
                          text=True, env=env, timeout=600)


def test_bad_level_is_one_line_and_exit_2():
    for args in (["render", "--top", "L7", "--out", "x.png"], ["build-meshes", "--bottom", "T13"],
                 ["serve", "--level", "x"]):
        r = _run(*args)
        assert r.returncode == 2, r
        lines = [ln for ln in r.stderr.splitlines() if ln.strip() and "WARN" not in ln]
        assert len(lines) == 1 and "valid levels are T1" in lines[0], r.stderr


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
        }
        for args, words in cases.items():
            start = time.monotonic()
            r = _run(*args)
            lines = [ln for ln in r.stderr.splitlines() if ln.strip() and "WARN" not in ln]
            assert r.returncode == 2 and len(lines) == 1 and words in lines[0], (args, r.stderr)
            assert time.monotonic() - start < 8.0, args  # refused before building anything
    r = _run("render", "--out", "/sys/r.png")  # root passes permission checks there: tried for real
    assert r.returncode == 2 and "not writable" in r.stderr, r.stderr
