"""Linear attenuation coefficients at the effective fluoroscopy energy (60 keV).

Mass attenuation coefficients and densities are read from ``data/attenuation.csv``
(NIST XCOM / Hubbell & Seltzer, NISTIR 5632; ICRU Report 44 tissues); the sources are in
that file. Trabecular bone is a mixture of bone tissue and red marrow by its bone volume
fraction (BV/TV), normal or osteoporotic.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parents[1] / "data"

from vp3d.anatomy.volume import Label

EFFECTIVE_ENERGY_KEV = 60.0
BONE_QUALITIES = ("normal", "osteoporotic")


@lru_cache(maxsize=1)
def _table() -> tuple[dict[str, tuple[float, float]], dict[str, float]]:
    text = (DATA_DIR / "attenuation.csv").read_text()
    lines = text.splitlines()
    notes = {}
    for ln in lines:
        if ln.startswith("#") and ":" in ln:
            key, rest = ln[1:].split(":", 1)
            try:
                notes[key.strip()] = float(rest.split(";")[0])
            except ValueError:
                pass
    rows = csv.DictReader(ln for ln in lines if ln.strip() and not ln.startswith("#"))
    mats = {r["material"]: (float(r["density_g_cm3"]), float(r["mass_attenuation_cm2_g_60kev"]))
            for r in rows}
    return mats, notes


def mu_per_mm(material: str) -> float:
    """Linear attenuation coefficient (1/mm) of a tabulated material at 60 keV."""
    mats, _ = _table()
    if material not in mats:
        raise ValueError(f"unknown material {material!r}; known: {', '.join(sorted(mats))}")
    density, mass_att = mats[material]
    return density * mass_att / 10.0  # cm^-1 -> mm^-1


def bone_volume_fraction(quality: str) -> float:
    """Trabecular BV/TV for ``"normal"`` or ``"osteoporotic"`` bone (sources in the table)."""
    if quality not in BONE_QUALITIES:
        raise ValueError(f"bone quality must be one of {BONE_QUALITIES}, got {quality!r}")
    return _table()[1][f"bv_tv_{quality}"]


def trabecular_mu_per_mm(quality: str = "normal") -> float:
    """Trabecular bone: bone tissue (ICRU-44 cortical bone) and red marrow mixed by BV/TV."""
    f = bone_volume_fraction(quality)
    return f * mu_per_mm("cortical_bone") + (1.0 - f) * mu_per_mm("red_marrow")


def cement_mu_per_mm() -> float:
    """Cured PMMA cement opacified with barium sulphate (composition in the table notes)."""
    notes = _table()[1]
    return notes["cement_density_g_cm3"] * notes["cement_mass_attenuation_cm2_g_60kev"] / 10.0


def label_mu_per_mm(bone_quality: str = "normal") -> dict[Label, float]:
    """Attenuation coefficient (1/mm) for every tissue label of the density volume."""
    return {
        Label.AIR: mu_per_mm("air"),
        Label.SOFT_TISSUE: mu_per_mm("soft_tissue"),
        Label.FAT: mu_per_mm("adipose_tissue"),
        Label.CORTICAL_BONE: mu_per_mm("cortical_bone"),
        Label.TRABECULAR_BONE: trabecular_mu_per_mm(bone_quality),
        Label.DISC: mu_per_mm("cartilage"),
        Label.CANAL: mu_per_mm("csf"),
        Label.VEIN: mu_per_mm("soft_tissue"),  # blood ~ soft tissue at 60 keV
        Label.CLEFT: mu_per_mm("soft_tissue"),  # fluid-filled fracture gap
        Label.SKIN: mu_per_mm("soft_tissue"),
        Label.MUSCLE: mu_per_mm("muscle"),
        Label.LUNG: mu_per_mm("lung_inflated"),
        Label.TRUNK_BONE: trunk_bone_mu_per_mm(),
        Label.BLOOD: mu_per_mm("soft_tissue"),  # blood ~ soft tissue at 60 keV
        Label.ORGAN: mu_per_mm("soft_tissue"),
        Label.GAS: mu_per_mm("air"),
        Label.LIGAMENT: mu_per_mm("soft_tissue"),  # collagen and elastin, about as dense
        Label.CARTILAGE: mu_per_mm("cartilage"),
        Label.TRUNK_MARROW: trabecular_mu_per_mm(bone_quality),
    }


#: Share of bone tissue in a rib, the sacrum or an iliac wing seen by an X-ray: a thin cortex
#: (about 1-2 mm) around marrow (Gray's Anatomy, 41st ed. 2016); a teaching approximation.
TRUNK_BONE_FRACTION = 0.35


def trunk_bone_mu_per_mm() -> float:
    """Ribs, sacrum and iliac wings: bone tissue and red marrow mixed, as trabecular bone is."""
    f = TRUNK_BONE_FRACTION
    return f * mu_per_mm("cortical_bone") + (1.0 - f) * mu_per_mm("red_marrow")
