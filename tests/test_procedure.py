"""The procedure as fluoroscopy frames, end to end through the engine."""

from __future__ import annotations

import numpy as np
import pytest

from vp3d.procedure.sheet import contact_sheet, procedure_frames


@pytest.fixture(scope="module")
def frames():
    return procedure_frames("L1", 2, "wedge", spacing_mm=1.0, rows=160)


def test_each_moment_changes_the_images(frames):
    assert [f.caption.split()[0] for f in frames][:2] == ["L1", "L1"]
    assert len(frames) == 6
    for a, b in zip(frames, frames[1:]):
        for view in ("ap", "lateral"):
            la, lb = getattr(a, view).line_integrals, getattr(b, view).line_integrals
            assert np.abs(la - lb).max() > 0.1, (a.caption, b.caption, view)
    # Steel and cement only add attenuation; more cement adds more.
    needles, three, eight = frames[3], frames[4], frames[5]
    for view in ("ap", "lateral"):
        n, c3, c8 = (getattr(f, view).line_integrals for f in (needles, three, eight))
        # (a projection of a different crop resamples edges: allow a few hundredths)
        assert np.all(c3 >= n - 0.05) and np.all(c8 >= c3 - 0.05)
        assert (c8 - n).sum() > 2.0 * (c3 - n).sum()


def test_contact_sheet_is_written(frames, tmp_path):
    from PIL import Image

    out = contact_sheet(frames, str(tmp_path / "sheet.png"), tile_px=128)
    img = np.asarray(Image.open(out))
    assert img.shape[1] == 256 and img.shape[0] > 6 * 128
    assert img.std() > 30
