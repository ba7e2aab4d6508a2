"""What narration may cite: the five source documents, named references, and the fact index.

The app runs without the documents themselves (they live in ``../shared/sources`` beside the
checkout and are never read at run time): their file names and titles are kept here as data.
A sentence in ``scenes/*.yaml`` cites a document by file name (``002_d69a0bc012a0d9ed.txt``)
or a named reference by its key (``Genant et al., J Bone Miner Res 1993``); anything else is
rejected when the scene loads.

:data:`FACTS` mirrors the fact table of the sources' README: each key lists the documents that
state the fact. A sentence tagged with a fact must cite at least one of them, so a fact cannot
be attributed to a document that does not hold it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceDocument:
    """One public patient-information page, kept as plain text beside the project."""

    file: str
    title: str
    publisher: str


@dataclass(frozen=True)
class Reference:
    """A published clinical reference, and what the narration takes from it."""

    key: str
    citation: str
    used_for: str  # the findings (with their numbers) that narration may state


@dataclass(frozen=True)
class Fact:
    """One row of the sources README's fact table."""

    key: str
    summary: str
    documents: tuple[str, ...]


SOURCES: dict[str, SourceDocument] = {
    d.file: d
    for d in (
        SourceDocument("000_0ec69ff9a9532710.txt", "Vertebroplasty (Imaging Glossary)",
                       "UR Medicine Imaging, University of Rochester Medical Center"),
        SourceDocument("001_94d054b7c9314373.txt", "Vertebroplasty: definition, candidates, "
                       "benefits, risks and kyphoplasty", "patient-information page (publisher not named)"),
        SourceDocument("002_d69a0bc012a0d9ed.txt", "Vertebroplasty",
                       "Bristol Hospital interventional radiology"),
        SourceDocument("003_2d52ec73f9b61564.txt", "Vertebroplasty: a simplified explanation for a "
                       "college student", "explainer (publisher not named)"),
        SourceDocument("004_2d4af1fecc791373.txt", "Vertebroplasty: overview, procedure, results "
                       "and recovery", "radiology practice, Northeast Wisconsin"),
    )
}

REFERENCES: dict[str, Reference] = {
    r.key: r
    for r in (
        Reference(
            "Genant et al., J Bone Miner Res 1993",
            "Genant HK, Wu CY, van Kuijk C, Nevitt MC. Vertebral fracture assessment using a "
            "semiquantitative technique. J Bone Miner Res 1993;8(9):1137-1148.",
            "Semiquantitative grading of vertebral fractures on lateral radiographs by loss of "
            "anterior, middle or posterior height: grade 1 (mild) 20-25 %, grade 2 (moderate) "
            "25-40 %, grade 3 (severe) more than 40 %; wedge, biconcave and crush types.",
        ),
        Reference(
            "Lieberman et al., Spine 2001",
            "Lieberman IH, Dudeney S, Reinhardt MK, Bell G. Initial outcome and efficacy of "
            "'kyphoplasty' in the treatment of painful osteoporotic vertebral compression "
            "fractures. Spine 2001;26(14):1631-1638.",
            "Balloon kyphoplasty restored on average 47 % of the lost vertebral height, in the "
            "70 % of treated vertebral bodies in which height was gained.",
        ),
        Reference(
            "Mathis et al., AJNR Am J Neuroradiol 2001",
            "Mathis JM, Barr JD, Belkoff SM, Barr MS, Jensen ME, Deramond H. Percutaneous "
            "vertebroplasty: a developing standard of care for vertebral compression fractures. "
            "AJNR Am J Neuroradiol 2001;22(2):373-381.",
            "Technique: transpedicular placement of an 11- or 13-gauge bone needle into the "
            "vertebral body under fluoroscopy in two planes (AP and lateral).",
        ),
        Reference(
            "Belkoff et al., Spine 2001",
            "Belkoff SM, Mathis JM, Jasper LE, Deramond H. The biomechanics of vertebroplasty: "
            "the effect of cement volume on mechanical behavior. Spine 2001;26(14):1537-1541.",
            "Cadaveric osteoporotic vertebrae: about 2 mL of cement restored strength; about "
            "4 mL restored stiffness at thoracic and thoracolumbar levels.",
        ),
        Reference(
            "Gray's Anatomy, 41st ed. 2016",
            "Standring S (ed.). Gray's Anatomy: The Anatomical Basis of Clinical Practice, "
            "41st ed. Elsevier, 2016.",
            "Spinal anatomy: 12 thoracic and 5 lumbar vertebrae; vertebral bodies joined by "
            "intervertebral discs; pedicles and laminae enclosing the vertebral canal, which "
            "holds the thecal sac with the spinal cord and nerve roots.",
        ),
    )
}

_ALL = tuple(SOURCES)

FACTS: dict[str, Fact] = {
    f.key: f
    for f in (
        Fact("what_it_is", "Vertebroplasty injects bone cement into a fractured or collapsed "
             "vertebra to relieve pain and stabilise it", _ALL),
        Fact("causes", "Causes of compression fractures: osteoporosis (most common), tumours / "
             "metastatic disease, trauma, long-term steroid use",
             ("000_0ec69ff9a9532710.txt", "002_d69a0bc012a0d9ed.txt", "003_2d52ec73f9b61564.txt",
              "004_2d4af1fecc791373.txt")),
        Fact("untreated_wedge_kyphosis", "Untreated, a fracture may heal in a wedge shape; "
             "multiple fractures lead to kyphosis (forward hump)",
             ("002_d69a0bc012a0d9ed.txt", "004_2d4af1fecc791373.txt")),
        Fact("older_treatments", "Older treatments: pain relievers, back braces, bed rest",
             ("000_0ec69ff9a9532710.txt",)),
        Fact("candidates", "Candidates: recent fracture, severe pain despite several weeks of "
             "conservative therapy; fracture younger than six months; pain lasting over three "
             "months should see an interventional radiologist",
             ("000_0ec69ff9a9532710.txt", "001_94d054b7c9314373.txt", "004_2d4af1fecc791373.txt")),
        Fact("imaging_before", "Imaging before: X-ray, MRI, bone scan, to find the level and the "
             "age of the fracture",
             ("001_94d054b7c9314373.txt", "002_d69a0bc012a0d9ed.txt", "003_2d52ec73f9b61564.txt")),
        Fact("not_for_chronic_pain", "Not helpful for chronic back pain or disc problems",
             ("002_d69a0bc012a0d9ed.txt",)),
        Fact("porous_ribs", "Bones so porous that lying face down could break ribs is a reason "
             "against", ("001_94d054b7c9314373.txt",)),
        Fact("position_sedation", "Patient lies face down (prone), sometimes on the side; awake "
             "but sedated (light / conscious sedation)",
             ("001_94d054b7c9314373.txt", "002_d69a0bc012a0d9ed.txt", "003_2d52ec73f9b61564.txt",
              "004_2d4af1fecc791373.txt")),
        Fact("skin_prep", "Skin is cleaned and numbed with local anaesthetic; a small skin nick",
             ("001_94d054b7c9314373.txt", "003_2d52ec73f9b61564.txt", "004_2d4af1fecc791373.txt")),
        Fact("needle_fluoroscopy", "A hollow needle is guided into the vertebral body under "
             "fluoroscopy (real-time, moving X-ray)", _ALL),
        Fact("cement_pmma", "Medical-grade bone cement, usually an acrylic (PMMA), injected slowly",
             ("002_d69a0bc012a0d9ed.txt", "003_2d52ec73f9b61564.txt", "004_2d4af1fecc791373.txt")),
        Fact("cement_hardening", "Cement hardens within about 15 minutes (002) / in less than one "
             "hour (000); acts like an internal cast",
             ("000_0ec69ff9a9532710.txt", "002_d69a0bc012a0d9ed.txt", "004_2d4af1fecc791373.txt")),
        Fact("procedure_time", "About one hour per treated vertebra (001); whole procedure 1-2 "
             "hours (002, 004); several levels can be treated in one session",
             ("001_94d054b7c9314373.txt", "002_d69a0bc012a0d9ed.txt", "004_2d4af1fecc791373.txt")),
        Fact("after_care", "After: lie flat on the back for about two hours; usually home the "
             "same day (or one overnight stay)",
             ("000_0ec69ff9a9532710.txt", "001_94d054b7c9314373.txt", "004_2d4af1fecc791373.txt")),
        Fact("relief_activity", "Relief: some immediately, most within 48 hours; normal activity "
             "within 24-48 hours / a few days",
             ("001_94d054b7c9314373.txt", "002_d69a0bc012a0d9ed.txt", "004_2d4af1fecc791373.txt")),
        Fact("outcomes", "Outcomes: about 70% complete or marked relief up to 15 months in one "
             "study; recent studies report 90%+ success",
             ("000_0ec69ff9a9532710.txt", "002_d69a0bc012a0d9ed.txt")),
        Fact("complications", "Complications rare: about 1-3% for osteoporotic fractures; risks "
             "include cement leakage, infection, spinal cord injury",
             ("001_94d054b7c9314373.txt", "002_d69a0bc012a0d9ed.txt")),
        Fact("best_levels", "Works best on large vertebrae of the mid to lower spine",
             ("000_0ec69ff9a9532710.txt",)),
        Fact("kyphoplasty", "Kyphoplasty: a balloon first makes a space, then cement fills it; can "
             "restore lost height and correct deformity; best within three months of the "
             "fracture", ("001_94d054b7c9314373.txt",)),
        Fact("insurance", "Usually covered by Medicare and many private insurers",
             ("002_d69a0bc012a0d9ed.txt",)),
        Fact("example_case", "Example case: fractures of L1, L2 and L3, treated with "
             "vertebroplasty", ("000_0ec69ff9a9532710.txt",)),
    )
}


def is_known_source(name: str) -> bool:
    """A source document's file name or a named reference's key."""
    return name in SOURCES or name in REFERENCES


def known_sources() -> list[str]:
    return [*SOURCES, *REFERENCES]
