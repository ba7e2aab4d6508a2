"""The saved picture's caption: wrapped between words, every line inside the picture."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from vp3d.app.scene3d import Scene3D, wrap_caption


def test_wrap_caption_keeps_every_word_and_each_line_fits():
    text = "L1 \u2014 1st lumbar vertebra \u00b7 Positioning, sedation and skin preparation"
    lines = wrap_caption(text, lambda s: 10.0 * len(s), 200.0)
    assert len(lines) > 1
    assert " ".join(lines).split() == text.split()
    assert all(10 * len(line) <= 200 for line in lines)


def test_wrap_caption_leaves_a_long_word_whole_and_an_empty_caption_one_line():
    assert wrap_caption("a " + "x" * 50 + " b", lambda s: float(len(s)), 10.0) == ["a", "x" * 50, "b"]
    assert wrap_caption("", len, 10.0) == [""]


def _caption_rows(png: bytes, picture_h: int) -> int:
    """Rows of text in the caption band (runs of rows holding bright pixels)."""
    band = np.asarray(Image.open(io.BytesIO(png)).convert("L"))[picture_h:]
    inked = (band > 200).any(axis=1)
    return int(np.count_nonzero(inked[1:] & ~inked[:-1]) + inked[0])


def test_a_long_caption_wraps_inside_the_saved_picture():
    scene = Scene3D()
    try:
        short = scene.picture_png("L1", size=(400, 300))
        long = scene.picture_png("L1 \u2014 1st lumbar vertebra \u00b7 Positioning, sedation and skin",
                                 size=(400, 300))
    finally:
        scene.close()
    short_img, long_img = Image.open(io.BytesIO(short)), Image.open(io.BytesIO(long))
    assert short_img.width == long_img.width == 400
    assert long_img.height > short_img.height > 300  # more lines, a taller band
    assert _caption_rows(long, 300) >= 3 > _caption_rows(short, 300) >= 1
    # No text runs into the right edge: the last columns of the band stay background.
    band = np.asarray(long_img.convert("L"))[300:]
    assert (band[:, -10:] <= 200).all()
