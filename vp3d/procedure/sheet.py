"""The procedure on one level as fluoroscopy frames: intact, fractured, needles, cement.

Builds the levels around the chosen one, fractures it, plans bipedicular needles, injects
cement once (every fill level is then a prefix of the same simulation) and images each
moment in AP and lateral, as a radiologist would review a vertebroplasty.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vp3d.anatomy import LEVELS, build_spine
from vp3d.cement import simulate_up_to
from vp3d.fluoro import CArm, Fluoroscope, Radiograph
from vp3d.pathology.fracture import Fracture, fracture_spine
from vp3d.checks import check_procedure_level
from vp3d.needle.path import Needle, plan_trajectory

#: Cement volumes shown: a typical osteoporotic fill and an overfill (Belkoff et al., Spine
#: 2001;26:1537-1541: 2 mL restored strength in every region, stiffness 4 mL at thoracic and
#: thoracolumbar and 6 mL at lumbar levels, vp3d.cement.targets; larger fills gave no better
#: pain relief, Kaufmann et al., AJNR 2006, and mainly raise the leak risk).
TYPICAL_ML = 3.0
OVERFILL_ML = 8.0


@dataclass
class RadiographPair:
    """One moment of the procedure imaged in two planes."""

    caption: str
    ap: Radiograph
    lateral: Radiograph


def procedure_frames(level: str = "L1", grade: int = 2, kind: str = "wedge", *,
                     bone_quality: str = "osteoporotic", spacing_mm: float = 0.5,
                     rows: int = 512) -> list[RadiographPair]:
    """AP and lateral radiographs of the whole procedure on ``level``."""
    level = check_procedure_level(level)
    fracture = Fracture(level, grade, kind)
    i = LEVELS.index(level)
    top, bottom = LEVELS[max(i - 1, 0)], LEVELS[min(i + 1, len(LEVELS) - 1)]
    spine = build_spine(top, bottom)
    broken = fracture_spine(spine, fracture, 1.0)
    v = broken.vertebrae[level]
    centre = v.transform[:3, 3]
    views = {"ap": CArm.ap(centre, rows=rows, cols=rows),
             "lateral": CArm.lateral(centre, rows=rows, cols=rows)}

    intact_vol = spine.density_volume(spacing_mm, bone_quality=bone_quality)
    broken_vol = broken.density_volume(spacing_mm, bone_quality=bone_quality)
    trajectories = [plan_trajectory(broken, level, side) for side in ("right", "left")]
    at_target = [Needle(t, t.target_depth_mm) for t in trajectories]
    half_way = [Needle(t, (t.pedicle_entry_depth_mm + t.target_depth_mm) / 2) for t in trajectories]
    cement = simulate_up_to(broken_vol, at_target, OVERFILL_ML)  # a small body holds less
    full_ml = min(OVERFILL_ML, cement.total_ml)

    scopes = {id(intact_vol): Fluoroscope(intact_vol), id(broken_vol): Fluoroscope(broken_vol)}

    def shot(vol, needles=(), ml=None) -> dict[str, Radiograph]:
        out = {}
        mask = cement.mask_at(ml) if ml else None
        for name, carm in views.items():
            out[name] = scopes[id(vol)].radiograph(carm, needle=list(needles) or None, cement=mask)
        return out

    frames = []
    grade_words = {1: "mild", 2: "moderate", 3: "severe"}[grade]
    for caption, images in (
        (f"{level} intact", shot(intact_vol)),
        (f"{level} {kind} fracture, {grade_words} (Genant grade {grade})", shot(broken_vol)),
        ("Needles half-way through the pedicles", shot(broken_vol, half_way)),
        ("Needle tips in the anterior third", shot(broken_vol, at_target)),
        (f"{TYPICAL_ML:g} mL cement", shot(broken_vol, at_target, TYPICAL_ML)),
        (f"{full_ml:g} mL cement" + ("" if full_ml >= OVERFILL_ML else " (all this body and its leak routes hold)")
         + _leak_note(cement, full_ml), shot(broken_vol, at_target, full_ml)),
    ):
        frames.append(RadiographPair(caption, images["ap"], images["lateral"]))
    return frames


def _leak_note(cement, ml: float) -> str:
    leaks = cement.leaks_at(ml)
    if not leaks:
        return ", no leak"
    parts = [f"{lk.kind} {lk.volume_ml:.1f} mL from {lk.first_ml:.1f} mL" for lk in leaks]
    return ", leak: " + "; ".join(parts)


def contact_sheet(frames: list[RadiographPair], path: str, tile_px: int = 384) -> str:
    """Write the frames as one PNG: a row per moment, AP left and lateral right, captioned."""
    from PIL import Image, ImageDraw, ImageFont

    import textwrap

    cap_h = 52
    sheet = Image.new("L", (2 * tile_px, len(frames) * (tile_px + cap_h)), 0)
    draw = ImageDraw.Draw(sheet)
    try:
        font = ImageFont.truetype("DejaVuSans.ttf", 16)
    except OSError:
        font = ImageFont.load_default()
    for r, f in enumerate(frames):
        y = r * (tile_px + cap_h)
        caption = textwrap.fill(f"{f.caption}   (AP | lateral)", width=max(20, tile_px // 5))
        draw.multiline_text((8, y + 4), "\n".join(caption.splitlines()[:2]), fill=255, font=font)
        for c, rg in enumerate((f.ap, f.lateral)):
            tile = Image.fromarray(np.asarray(rg.image)).resize((tile_px, tile_px))
            sheet.paste(tile, (c * tile_px, y + cap_h))
    sheet.save(path)
    return path
