"""The score of a practice run: a pure function of its record, against published figures.

:func:`score_run` reads a :class:`vp3d.practice.record.RunRecord` (no model, no arrays) and
returns a :class:`PracticeScore`: five items (pedicle breach, tip position, fluoroscopy shots,
cement volume, cement leaks), each with the student's value, what is called good, a verdict,
advice and the reference. Thresholds sit beside their sources (``TIP_*``, ``SHOTS_*``,
``CEMENT_*``, ``LEAK_*``, ``BREACH_REFERENCE``) and cite standards of practice (SIR, CIRSE) or
the trials; where no published number was found the threshold is called a teaching target and
attributed to no paper.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from vp3d.cement.targets import STRENGTH_ML as CEMENT_STRENGTH_ML
from vp3d.cement.targets import cement_targets
from vp3d.geometry.sdf import BAND_MM
from vp3d.needle.path import PARAPEDICULAR_LEVELS
from vp3d.practice.record import CANAL_LEAK_KINDS, CEMENT_STEP_ML, VENOUS_LEAK_KINDS, RunRecord

VERDICTS = ("good", "acceptable", "needs work")

_SIR = ("McGraw JK et al., Society of Interventional Radiology quality improvement guidelines for "
        "percutaneous vertebroplasty, J Vasc Interv Radiol 2003;14(7):827-831")
_CIRSE = ("Tsoumakidou G et al., CIRSE guidelines on percutaneous vertebral augmentation, "
          "Cardiovasc Intervent Radiol 2017;40(3):331-342")
_MATHIS = ("Mathis JM et al., Percutaneous vertebroplasty: a developing standard of care for "
           "vertebral compression fractures, AJNR Am J Neuroradiol 2001;22(2):373-381")
#: Tip to the planned target (mm): teaching targets (no published tolerance found).
TIP_GOOD_MM = 5.0
TIP_ACCEPTABLE_MM = 10.0
TIP_REFERENCE = (
    f"Target: the anterior third of the vertebral body, reached through the pedicle ({_CIRSE}; "
    f"{_MATHIS}). The 5 mm / 10 mm distances and the anterior-half fallback are teaching targets "
    "of this simulator.")
#: Fluoroscopy images for one needle and its cement: teaching targets.
#: A careful run that images AP + lateral after every move (10 mm steps through soft tissue,
#: smaller ones in bone, 6 x 0.5 mL of cement) takes about 36 images.
SHOTS_GOOD = 40
SHOTS_ACCEPTABLE = 80
SHOTS_REFERENCE = (
    "Teaching target of this simulator (no published shot count found; the simulator counts "
    "still images, not minutes; a careful run imaging AP and lateral after every move takes "
    "about 36). Dose is kept as low as reasonably achievable (ACR-ASNR-ASSR-SIR-SNIS practice "
    "parameter for the performance of vertebral augmentation, 2017). For scale: mean "
    "fluoroscopy time of vertebroplasty 4.9 +/- 3.3 min per level (Kopparapu S et al., "
    "J Neurosurg Spine 2021;34(1):117-126, meta-analysis of 27 studies); 4.3 min for device "
    "positioning with pulsed biplane fluoroscopy at 7.5 pulses/s (Ortiz AO et al., AJNR Am J "
    "Neuroradiol 2006;27(5):989-994).")
CEMENT_REFERENCE = (
    "Belkoff SM, Mathis JM, Jasper LE, Deramond H, Spine 2001;26(14):1537-1541 (cadaveric, "
    "T6-L5): 2 mL restored strength in every region; stiffness took 4 mL in thoracic (T6-T9) and "
    "thoracolumbar (T10-L1) bodies and 6 mL (Simplex P; 8 mL with Orthocomp) in lumbar (L2-L5) "
    "ones (vp3d.cement.targets). Larger volumes gave no better pain relief or medication use "
    "(Kaufmann TJ, Trout AT, Kallmes DF, AJNR Am J Neuroradiol 2006;27(9):1933-1937); stop "
    f"sooner when cement leaves the body ({_CIRSE}).")
#: Leaked cement below this total, none towards the canal and none in a vein: acceptable
#: (teaching target).
LEAK_ACCEPTABLE_ML = 0.5
LEAK_REFERENCE = (
    f"Stop or pause the injection when cement enters a vein or the disc, or nears the posterior "
    f"quarter of the body on the lateral view; resume only once it has thickened, or reposition "
    f"({_CIRSE}). Leak types B (basivertebral vein, draining into the anterior epidural venous "
    "plexus in the canal), S (segmental vein), C (cortical defect): Yeom JS et al., "
    "J Bone Joint Surg Br 2003;85(1):83-89 (CT found 1.5 times the leaks seen on radiographs). "
    "Leaks are common and mostly silent: 41 % of vertebroplasty levels (Hulme PA et al., "
    "Spine 2006;31(17):1983-2001, systematic review); extravasation in 33 % of 660 treated "
    "levels, none with complications (Al-Ali F, Barrow T, Luke K, AJNR Am J Neuroradiol "
    "2009;30(10):1835-1839). The 0.5 mL limit for other leaks and the 0.01 mL visibility "
    "threshold are teaching targets.")
BREACH_REFERENCE = (
    f"On AP the tip must not pass the medial edge of the pedicle before, on lateral, it has "
    f"reached the posterior wall of the body ({_MATHIS}). Access is transpedicular, or at "
    f"thoracic levels a planned parapedicular route between the pedicle and the rib head "
    f"({_CIRSE}); nerve-root injury and pneumothorax are complications to track ({_SIR}). "
    "Medial walls border the canal, inferior and superior walls the foramina and nerve roots; "
    "lateral to a thoracic pedicle lie the pleura and the segmental artery. Counting a tip "
    "through the front wall of the body as a breach is a teaching target of this simulator "
    "(no published breach rate for vertebroplasty found).")


@dataclass(frozen=True)
class ScoreItem:
    """One line of the score: the student's result beside what the literature calls good."""

    name: str
    value: str  # the student's result, in words with units
    good: str  # what the literature (or a teaching target) calls good
    verdict: str  # "good", "acceptable" or "needs work"
    reference: str
    number: float | None = None  # the value as a number, when it has one
    unit: str = ""
    advice: str = ""


@dataclass(frozen=True)
class PracticeScore:
    """The items of one practice run (see :data:`VERDICTS`)."""

    items: tuple[ScoreItem, ...]

    @property
    def verdict(self) -> str:
        """The worst verdict of any item."""
        return max((i.verdict for i in self.items), key=VERDICTS.index, default="good")

    def item(self, name: str) -> ScoreItem:
        """The item called ``name``."""
        for i in self.items:
            if i.name == name:
                return i
        raise ValueError(f"no score item {name!r}; items: {', '.join(i.name for i in self.items)}")

    def rows(self) -> list[dict]:
        """Plain dicts, one per item, for a table."""
        return [dataclasses.asdict(i) for i in self.items]


def score_run(run: RunRecord) -> PracticeScore:
    """The run against the literature: breach, tip, shots, cement volume, leaks."""
    return PracticeScore((breach_item(run), tip_item(run), shots_item(run), volume_item(run), leaks_item(run)))


def ml_words(volume_ml: float) -> str:
    """A small cement volume in words (a leak just started reads '< 0.01 mL')."""
    return "< 0.01 mL" if volume_ml < 0.005 else f"{volume_ml:.2f} mL"


def breach_item(run: RunRecord) -> ScoreItem:
    """Pedicle walls, the medial-line rule on AP and the body's front wall."""
    good = ("no breach of the pedicle walls; on AP the tip stays lateral to the pedicle's medial edge "
            "until, on lateral, it is past the posterior wall of the body; the tip stays inside the "
            "front (anterior) wall of the body")
    kinds = sorted(run.breaches)
    clearance = run.min_clearance_mm
    if kinds:
        into = -clearance
        # The bone's distance field is clamped BAND_MM from the surface: beyond it, say "over".
        over = "over " if into >= BAND_MM + run.needle_outer_diameter_mm / 2 - 0.05 else ""
        value = f"{' and '.join(kinds)} breach (needle {over}{into:.1f} mm through the wall)"
    elif math.isfinite(clearance):
        value = f"none (closest wall {clearance:.1f} mm)"
    else:
        value = "none (needle not yet past the bony entry)"
    if run.crossed_early:
        value += "; tip crossed the pedicle's medial edge on AP before the body"
    anterior = run.anterior_past_mm is not None
    if anterior:
        value += (f"; tip through the anterior wall of the body "
                  f"({run.anterior_past_mm:.1f} mm past it at most)")
    thoracic = run.level in PARAPEDICULAR_LEVELS
    planned_para = run.route == "parapedicular"
    only_lateral = set(kinds) <= {"lateral"} and not run.crossed_early and not anterior
    if not kinds and not run.crossed_early and not anterior:
        verdict, advice = "good", ""
    elif kinds and only_lateral and planned_para:
        verdict, advice = "good", ""
        value = value.replace("lateral breach", "lateral to the pedicle, as planned for the parapedicular route")
    elif only_lateral:
        verdict = "needs work"
        beside = ("the pleura (a pneumothorax) and the segmental artery lie lateral to a thoracic pedicle"
                  if thoracic else "the exiting nerve root and the segmental vessels lie lateral to it")
        advice = (f"the needle left the pedicle through its lateral wall without a planned parapedicular "
                  f"route: at {run.level} {beside}; withdraw and re-aim more medially")
        advice += ("; plan a parapedicular route before the needle goes in if you mean to pass by the rib head"
                   if thoracic else "; in the lumbar spine keep the needle inside the pedicle")
    else:
        verdict, parts = "needs work", []
        if kinds or run.crossed_early:
            parts.append("medial or foraminal walls protect the canal and the nerve roots: check the AP "
                         "view before the tip passes the medial edge of the pedicle")
        if anterior:
            parts.append("the tip went through the front wall of the body, towards the great vessels: "
                         "stop in the anterior third, checking depth on the lateral view")
        advice = "; ".join(parts)
    if planned_para:
        good = good.replace("no breach of the pedicle walls",
                            "a planned parapedicular path lateral to the pedicle, no other wall breached")
    return ScoreItem("pedicle breach", value, good, verdict, BREACH_REFERENCE,
                     None if not math.isfinite(clearance) else round(clearance, 2), "mm", advice)

def tip_item(run: RunRecord) -> ScoreItem:
    """The tip at the first injection (else at the end) against the planned target."""
    good = (f"tip in the anterior third of the body, within {TIP_GOOD_MM:g} mm of the planned target "
            "(teaching target)")
    tip = run.tip
    frac, dist, through_front = tip.body_depth_fraction, tip.to_target_mm, tip.through_front_wall
    where = "anterior third" if frac >= 2 / 3 else "middle third" if frac >= 1 / 3 else "posterior third"
    if not tip.in_body:
        where = "past the anterior wall" if frac > 1 or through_front else "not in the body"
    value = f"{dist:.1f} mm from the target, {where}"
    if tip.in_body and frac >= 2 / 3 and dist <= TIP_GOOD_MM:
        verdict, advice = "good", ""
    elif tip.in_body and frac >= 0.5 and dist <= TIP_ACCEPTABLE_MM:
        verdict, advice = "acceptable", "aim for the anterior third, near the planned target"
    else:
        verdict, advice = "needs work", ("place the tip inside the body, in its anterior third, "
                                         "checking depth on the lateral view")
    return ScoreItem("tip position", value, good, verdict, TIP_REFERENCE, round(dist, 2), "mm", advice)

def shots_item(run: RunRecord) -> ScoreItem:
    """Fluoroscopy images taken, against teaching targets."""
    good = f"at most {SHOTS_GOOD} images (teaching target)"
    if run.shots <= SHOTS_GOOD:
        verdict, advice = "good", ""
    elif run.shots <= SHOTS_ACCEPTABLE:
        verdict, advice = "acceptable", "take fewer images: advance in longer steps through soft tissue"
    else:
        verdict, advice = "needs work", "every image is dose to the patient and to you: plan each shot"
    return ScoreItem("fluoroscopy shots", f"{run.shots} images", good, verdict, SHOTS_REFERENCE,
                     float(run.shots), "images", advice)

def volume_item(run: RunRecord) -> ScoreItem:
    """Cement injected against the volumes that restored strength and stiffness."""
    targets = cement_targets(run.level)
    stiff = targets.stiffness_ml
    good = (f"{CEMENT_STRENGTH_ML:g} mL restores strength; {stiff:g} mL restores stiffness "
            f"({targets.group})")
    ml, first_leak = run.cement_ml, run.first_leak_ml
    value = f"{ml:g} mL" if ml > 0 else "none injected"
    if ml < CEMENT_STRENGTH_ML and first_leak is not None and ml <= first_leak + CEMENT_STEP_ML + 1e-9:
        verdict = "acceptable"
        value += f", stopped at a leak first seen at {first_leak:g} mL"
        advice = (f"stopping at a leak is correct, even below {CEMENT_STRENGTH_ML:g} mL; next time a tip "
                  "further into the body may take more cement before it leaks")
    elif ml < CEMENT_STRENGTH_ML:
        verdict = "needs work"
        if first_leak is not None:
            advice = (f"a leak appeared at {first_leak:g} mL: stop then (at most one more "
                      f"{CEMENT_STEP_ML:g} mL step while you check the lateral view)")
        else:
            advice = f"inject at least {CEMENT_STRENGTH_ML:g} mL if no leak stops you"
    elif ml <= stiff + 1e-9:
        verdict, advice = "good", ""
    else:
        verdict, advice = "acceptable", "more than needed for stiffness: larger fills raise the leak risk"
    return ScoreItem("cement volume", value, good, verdict, CEMENT_REFERENCE, ml, "mL", advice)

def leaks_item(run: RunRecord) -> ScoreItem:
    """Visible leaks, and whether the injection stopped at a vein or the canal."""
    leaks = run.visible_leaks
    total = sum(lk.volume_ml for lk in leaks)
    good = (f"no leak; small silent leaks (< {LEAK_ACCEPTABLE_ML:g} mL in all) are common, as long as none "
            "reaches the canal and none enters a vein: cement in the basivertebral (Yeom type B) or a "
            "segmental (type S) vein, of any size, means stop or pause the injection")
    if not leaks:
        value = "none" if run.cement_ml > 0 else "none (no cement injected)"
        return ScoreItem("cement leaks", value, good, "good", LEAK_REFERENCE, 0.0, "mL")

    def described(lk) -> str:
        where = {"venous": ", a vein draining to the epidural veins in the canal",
                 "venous/paravertebral": ", a segmental vein"}.get(lk.kind, "")
        return f"{lk.kind} {ml_words(lk.volume_ml)} (Yeom type {lk.yeom_type}{where})"

    value = f"{', '.join(described(lk) for lk in leaks)}; first seen at {run.first_leak_ml:g} mL"
    venous = [lk for lk in leaks if lk.kind in VENOUS_LEAK_KINDS]
    canal = [lk for lk in leaks if lk.kind in CANAL_LEAK_KINDS]
    first_vein = run.first_venous_ml
    went_on = first_vein is not None and run.cement_ml > first_vein + 1e-9
    why = []
    if canal:
        why.append("cement went through the posterior wall into the epidural space of the canal")
    if venous:
        types = "/".join(sorted({lk.yeom_type for lk in venous}))
        seen = f" at {first_vein:g} mL" if first_vein is not None else ""
        if went_on:
            why.append(f"cement entered a vein (Yeom type {types}){seen} and the injection went on to "
                       f"{run.cement_ml:g} mL: stop or pause as soon as a vein fills, whatever the amount")
        else:
            why.append(f"cement entered a vein (Yeom type {types}){seen} and you stopped, which is right")
    if canal or went_on:
        verdict = "needs work"
        advice = "; ".join(why) + ("; stop injecting as soon as cement heads towards the canal" if canal else "")
    elif venous:
        verdict = "acceptable"
        advice = "; ".join(why) + ("; next time a tip further from the vein, or thicker cement, may avoid it")
    elif total < LEAK_ACCEPTABLE_ML:
        verdict = "acceptable"
        advice = "watch the lateral view and stop or pause when cement leaves the body"
    else:
        verdict, advice = "needs work", (f"{ml_words(total)} leaked in all: stop injecting as soon as cement "
                                         "leaves the body")
    return ScoreItem("cement leaks", value, good, verdict, LEAK_REFERENCE, round(total, 3), "mL", advice)
