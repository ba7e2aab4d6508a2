"""The engine must not import UI code (trame), so it runs without a server or browser."""

import subprocess
import sys


def test_engine_imports_no_trame():
    code = (
        "import sys, vp3d.anatomy, vp3d.volume, vp3d.meshes, vp3d.attenuation, vp3d.morphometry, "
        "vp3d.sdf, vp3d.meshing, vp3d.fluoro, vp3d.fracture, vp3d.needle, vp3d.kyphoplasty, "
        "vp3d.cement, vp3d.session, vp3d.practice, vp3d.anatomy.parts, vp3d.quiz, vp3d.quiz_images, "
        "vp3d.storyboard\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('trame', 'trame_vtk', 'trame_vuetify', 'wslink')]\n"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
