"""Per-level vertebral morphometry (T1–L5) read from the cited table in ``data/``.

Each column's published source is written in the header comments of
``vp3d/data/morphometry.csv``; :func:`column_sources` returns them.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path

from vp3d.checks import check_level
from vp3d.levels import LEVELS

DATA_DIR = Path(__file__).resolve().parents[1] / "data"


@dataclass(frozen=True)
class LevelMorphometry:
    """Published mean dimensions of one vertebra and the disc below it."""

    level: str
    body_anterior_height_mm: float
    body_posterior_height_mm: float
    endplate_width_mm: float
    endplate_depth_mm: float
    pedicle_width_mm: float
    pedicle_height_mm: float
    pedicle_transverse_angle_deg: float
    pedicle_sagittal_angle_deg: float
    canal_width_mm: float
    canal_depth_mm: float
    spinous_process_length_mm: float
    transverse_process_span_mm: float
    spinous_process_inclination_deg: float
    facet_angle_deg: float
    disc_height_mm: float
    segmental_angle_deg: float

    @property
    def is_thoracic(self) -> bool:
        return self.level.startswith("T")

    @property
    def index(self) -> int:
        return LEVELS.index(self.level)


def _rows() -> tuple[list[str], list[list[str]]]:
    text = (DATA_DIR / "morphometry.csv").read_text()
    lines = text.splitlines()
    comments = [ln[1:].strip() for ln in lines if ln.startswith("#")]
    body = [ln for ln in lines if ln.strip() and not ln.startswith("#")]
    rows = list(csv.reader(body))
    return comments, rows


@lru_cache(maxsize=1)
def table() -> dict[str, LevelMorphometry]:
    """The morphometry table keyed by level name."""
    _, rows = _rows()
    header, data = rows[0], rows[1:]
    names = [f.name for f in fields(LevelMorphometry)]
    missing = set(names) - set(header)
    if missing:
        raise ValueError(f"morphometry.csv lacks columns: {sorted(missing)}")
    out = {}
    for row in data:
        rec = dict(zip(header, row))
        values = {n: (rec[n] if n == "level" else float(rec[n])) for n in names}
        out[rec["level"]] = LevelMorphometry(**values)
    if tuple(out) != LEVELS:
        raise ValueError(f"morphometry.csv must list {LEVELS} in order, got {tuple(out)}")
    return out


def morphometry(level: str) -> LevelMorphometry:
    """Dimensions of one level; ``ValueError`` naming the valid levels if unknown."""
    return table()[check_level(level)]


def column_sources() -> dict[str, str]:
    """Column name -> the source text given for it in the table's header comments."""
    comments, _ = _rows()
    out = {}
    for c in comments:
        if ":" in c:
            key, text = c.split(":", 1)
            out[key.strip()] = text.strip()
    return out
