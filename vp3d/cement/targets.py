"""Cement volumes that restored strength and stiffness in cadaveric vertebrae, by spinal region.

Belkoff SM, Mathis JM, Jasper LE, Deramond H. The biomechanics of vertebroplasty: the effect of
cement volume on mechanical behavior. Spine 2001;26(14):1537-1541. Osteoporotic vertebral
bodies T6-L5 (120 bodies from 10 spines, 4 levels per region) were crushed and filled with 2,
4, 6 or 8 mL through both pedicles: 2 mL restored strength in every region; stiffness took
4 mL in thoracic (T6-T9) and thoracolumbar (T10-L1) bodies and 6 mL (Simplex P; 8 mL with
Orthocomp) in lumbar (L2-L5) bodies. Levels above T6 were not studied: the thoracic figures,
the nearest group, stand in for them and :func:`cement_targets` says so.

Larger fills gave no better pain relief in patients (Kaufmann TJ, Trout AT, Kallmes DF, AJNR
Am J Neuroradiol 2006;27(9):1933-1937), so these are lower bounds, not goals.
"""

from __future__ import annotations

from dataclasses import dataclass

from vp3d.checks import check_level

#: Cement that restored strength, every region (mL).
STRENGTH_ML = 2.0
#: Cement that restored stiffness, per region (mL; lumbar with Simplex P).
STIFFNESS_ML = {"thoracic": 4.0, "thoracolumbar": 4.0, "lumbar": 6.0}
#: The study's levels per region.
REGION_LEVELS = {
    "thoracic": ("T6", "T7", "T8", "T9"),
    "thoracolumbar": ("T10", "T11", "T12", "L1"),
    "lumbar": ("L2", "L3", "L4", "L5"),
}
REFERENCE = "Belkoff et al., Spine 2001"


@dataclass(frozen=True)
class CementTargets:
    """Belkoff's volumes for one level: its region, and whether the study included the level."""

    level: str
    region: str
    strength_ml: float
    stiffness_ml: float
    studied: bool

    @property
    def group(self) -> str:
        """The region with its levels, e.g. ``thoracolumbar levels (T10-L1)``."""
        levels = REGION_LEVELS[self.region]
        text = f"{self.region} levels ({levels[0]}\u2013{levels[-1]})"
        if not self.studied:
            text += f", the nearest group to {self.level}, which the study did not include"
        return text

    def compare(self, ml: float) -> str:
        """How ``ml`` stands against the two volumes, in words."""
        strength, stiff = f"{self.strength_ml:g} mL", f"{self.stiffness_ml:g} mL"
        if ml < self.strength_ml - 1e-9:
            return f"less than the {strength} that restored strength"
        if ml < self.stiffness_ml - 1e-9:
            return (f"more than the {strength} that restored strength, less than the {stiff} "
                    "that restored stiffness")
        return f"at least the {stiff} that restored both strength and stiffness"


def cement_targets(level: str) -> CementTargets:
    """Belkoff's strength and stiffness volumes for ``level`` (raises ``ValueError`` if unknown)."""
    level = check_level(level)
    for region, levels in REGION_LEVELS.items():
        if level in levels:
            return CementTargets(level, region, STRENGTH_ML, STIFFNESS_ML[region], True)
    region = "thoracic" if level.startswith("T") else "lumbar"
    return CementTargets(level, region, STRENGTH_ML, STIFFNESS_ML[region], False)
