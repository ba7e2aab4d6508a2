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
            "Cadaveric osteoporotic vertebrae T6-L5 in 3 regions of 4 levels, thoracic (T6-T9), "
            "thoracolumbar (T10-L1) and lumbar (L2-L5): about 2 mL of cement restored strength in "
            "every region; stiffness took about 4 mL in thoracic and thoracolumbar bodies and "
            "6 mL (Simplex P) or 8 mL (Orthocomp) in lumbar bodies.",
        ),
        # -- evidence: sham-controlled and open trials, reviews, guidance -------------------
        Reference(
            "Kallmes et al., N Engl J Med 2009 (INVEST)",
            "Kallmes DF, Comstock BA, Heagerty PJ, et al. A randomized trial of vertebroplasty for "
            "osteoporotic spinal fractures. N Engl J Med 2009;361(6):569-579. "
            "doi:10.1056/NEJMoa0900563.",
            "131 patients with 1 to 3 painful osteoporotic fractures less than 1 year old; at 1 "
            "month vertebroplasty was no better than a simulated (sham) procedure for pain or "
            "disability; a trend towards clinically meaningful pain relief (64 % vs 48 %, P = 0.06); "
            "43 % of the control group crossed over to vertebroplasty.",
        ),
        Reference(
            "Buchbinder et al., N Engl J Med 2009",
            "Buchbinder R, Osborne RH, Ebeling PR, et al. A randomized trial of vertebroplasty for "
            "painful osteoporotic vertebral fractures. N Engl J Med 2009;361(6):557-568. "
            "doi:10.1056/NEJMoa0900429.",
            "78 patients with 1 or 2 painful osteoporotic fractures less than 12 months old, "
            "unhealed on MRI: no significant advantage of vertebroplasty over a sham procedure in "
            "any outcome at 1 week or at 1, 3 or 6 months.",
        ),
        Reference(
            "Klazen et al., Lancet 2010 (VERTOS II)",
            "Klazen CA, Lohle PN, de Vries J, et al. Vertebroplasty versus conservative treatment "
            "in acute osteoporotic vertebral compression fractures (Vertos II): an open-label "
            "randomised trial. Lancet 2010;376(9746):1085-1092. doi:10.1016/S0140-6736(10)60954-3.",
            "202 patients with back pain for 6 weeks or less and bone oedema on MRI: more pain "
            "relief after vertebroplasty than after conservative treatment at 1 month and 1 year, "
            "in an open-label trial with no sham procedure; 229 of 431 eligible patients (53 %) "
            "improved on their own before they could be randomised.",
        ),
        Reference(
            "Clark et al., Lancet 2016 (VAPOUR)",
            "Clark W, Bird P, Gonski P, et al. Safety and efficacy of vertebroplasty for acute "
            "painful osteoporotic fractures (VAPOUR): a multicentre, randomised, double-blind, "
            "placebo-controlled trial. Lancet 2016;388(10052):1408-1416. "
            "doi:10.1016/S0140-6736(16)31341-1.",
            "120 patients with fractures less than 6 weeks old and pain of 7 out of 10 or more: "
            "pain below 4 out of 10 at 14 days in 44 % after vertebroplasty and 21 % after a sham "
            "procedure (p = 0.011).",
        ),
        Reference(
            "Firanescu et al., BMJ 2018 (VERTOS IV)",
            "Firanescu CE, de Vries J, Lodder P, et al. Vertebroplasty versus sham procedure for "
            "painful acute osteoporotic vertebral compression fractures (VERTOS IV): randomised "
            "sham controlled clinical trial. BMJ 2018;361:k1551. doi:10.1136/bmj.k1551.",
            "180 patients with acute osteoporotic fractures and bone oedema on MRI: pain fell in "
            "both groups, with no significant difference between vertebroplasty and a sham "
            "procedure at any time up to 12 months.",
        ),
        Reference(
            "Buchbinder et al., Cochrane Database Syst Rev 2018",
            "Buchbinder R, Johnston RV, Rischin KJ, et al. Percutaneous vertebroplasty for "
            "osteoporotic vertebral compression fracture. Cochrane Database Syst Rev "
            "2018;11:CD006349. doi:10.1002/14651858.CD006349.pub4.",
            "Review of 21 trials, 5 of them against a sham procedure (541 patients): vertebroplasty "
            "gave no clinically important benefit over a sham procedure for acute or subacute "
            "osteoporotic fractures, and the review does not support its routine use.",
        ),
        Reference(
            "Ebeling et al., J Bone Miner Res 2019 (ASBMR)",
            "Ebeling PR, Akesson K, Bauer DC, et al. The efficacy and safety of vertebral "
            "augmentation: a second ASBMR Task Force report. J Bone Miner Res 2019;34(1):3-21. "
            "doi:10.1002/jbmr.3653.",
            "For acutely painful fractures, vertebroplasty gives no demonstrable clinically "
            "significant benefit over placebo, whatever the duration of pain; the evidence is "
            "insufficient to support kyphoplasty over non-surgical care.",
        ),
        Reference(
            "Lou et al., Osteoporos Int 2019",
            "Lou S, Shi X, Zhang X, et al. Percutaneous vertebroplasty versus non-operative "
            "treatment for osteoporotic vertebral compression fractures: a meta-analysis of "
            "randomized controlled trials. Osteoporos Int 2019;30(12):2369-2380.",
            "Meta-analysis of 13 trials (1624 patients): benefit only in acute fractures with "
            "persistent severe pain; open-label trials favoured vertebroplasty at every time point; "
            "the risk of new fractures was similar with and without vertebroplasty.",
        ),
        Reference(
            "Wardlaw et al., Lancet 2009 (FREE)",
            "Wardlaw D, Cummings SR, Van Meirhaeghe J, et al. Efficacy and safety of balloon "
            "kyphoplasty compared with non-surgical care for vertebral compression fracture "
            "(FREE): a randomised controlled trial. Lancet 2009;373(9668):1016-1024. "
            "doi:10.1016/S0140-6736(09)60010-6.",
            "300 patients with 1 to 3 acute fractures (less than 3 months old): physical quality "
            "of life at 1 month improved more after kyphoplasty than after non-surgical care "
            "(5.2 points on the SF-36 physical component score), in an open-label trial with no "
            "sham procedure.",
        ),
        Reference(
            "NICE TA279, 2013",
            "National Institute for Health and Care Excellence. Percutaneous vertebroplasty and "
            "percutaneous balloon kyphoplasty for treating osteoporotic vertebral compression "
            "fractures. Technology appraisal guidance TA279, April 2013.",
            "Recommended only for severe ongoing pain after a recent, unhealed vertebral fracture "
            "despite optimal pain management, with the pain confirmed at the level of the fracture "
            "by physical examination and imaging.",
        ),
        Reference(
            "Tanigawa et al., Radiology 2006",
            "Tanigawa N, Komemushi A, Kariya S, et al. Percutaneous vertebroplasty: relationship "
            "between vertebral body bone marrow edema pattern on MR images and initial clinical "
            "response. Radiology 2006;239(1):195-200.",
            "Bodies with bone-marrow oedema on MRI over half their height responded better than "
            "bodies without oedema: pain fell by 4.6 against 2.7 points out of 10.",
        ),
        # -- risks ------------------------------------------------------------------------------
        Reference(
            "Hulme et al., Spine 2006",
            "Hulme PA, Krebs J, Ferguson SJ, Berlemann U. Vertebroplasty and kyphoplasty: a "
            "systematic review of 69 clinical studies. Spine 2006;31(17):1983-2001.",
            "Cement leaks seen in 41 % of levels treated by vertebroplasty and 9 % treated by "
            "kyphoplasty, most of them without symptoms.",
        ),
        Reference(
            "Al-Ali et al., AJNR Am J Neuroradiol 2009",
            "Al-Ali F, Barrow T, Luke K. Vertebroplasty: what is important and what is not. "
            "AJNR Am J Neuroradiol 2009;30(10):1835-1839.",
            "357 patients, 660 treated levels: cement outside the body (veins, soft tissue, disc) "
            "in 33 % of levels, none causing complications; a new fracture of any vertebra within "
            "1 year in 18 % of patients, of an adjacent vertebra in 12 %.",
        ),
        Reference(
            "Yeom et al., J Bone Joint Surg Br 2003",
            "Yeom JS, Kim WJ, Choy WS, et al. Leakage of cement in percutaneous transpedicular "
            "vertebroplasty for painful osteoporotic compression fractures. J Bone Joint Surg Br "
            "2003;85(1):83-89.",
            "Leak types: B through the basivertebral vein, S through a segmental vein, C through "
            "a cortical defect; CT showed 1.5 times the leaks seen on radiographs.",
        ),
        Reference(
            "Liao et al., BMC Infect Dis 2018",
            "Liao JC, Lai PL, Chen LH, Niu CC. Surgical outcomes of infectious spondylitis after "
            "vertebroplasty, and comparisons between pyogenic and tuberculosis. BMC Infect Dis "
            "2018;18:555.",
            "Acute symptomatic complications of vertebroplasty are usually about 1 % for "
            "osteoporotic fractures and up to 10 % for metastatic tumours; infection of the "
            "treated spine in 0.32 % (18 of 5749 patients).",
        ),
        Reference(
            "Krueger et al., Eur Spine J 2009",
            "Krueger A, Bliemel C, Zettl R, Ruchholtz S. Management of pulmonary cement embolism "
            "after percutaneous vertebroplasty and kyphoplasty: a systematic review of the "
            "literature. Eur Spine J 2009;18(9):1257-1265.",
            "Cement reaching the lungs (pulmonary cement embolism) after 3.5 to 23 % of "
            "osteoporotic vertebroplasties; most patients have no symptoms.",
        ),
        Reference(
            "Venmans et al., AJNR Am J Neuroradiol 2010",
            "Venmans A, Klazen CA, Lohle PN, et al. Percutaneous vertebroplasty and pulmonary "
            "cement embolism: results from VERTOS II. AJNR Am J Neuroradiol 2010;31(8):1451-1453.",
            "Chest CT found cement in the lungs in 14 of 54 patients (26 %), all without symptoms.",
        ),
        Reference(
            "Klazen et al., AJNR Am J Neuroradiol 2010",
            "Klazen CA, Venmans A, de Vries J, et al. Percutaneous vertebroplasty is not a risk "
            "factor for new osteoporotic compression fractures: results from VERTOS II. "
            "AJNR Am J Neuroradiol 2010;31(8):1447-1450.",
            "New fractures in 15 of 91 patients after vertebroplasty and 21 of 85 after "
            "conservative treatment (P = .44), neighbouring levels at no higher risk than distant "
            "ones; further collapse of the treated level was more frequent without cement.",
        ),
        Reference(
            "Hsieh et al., J Orthop Surg Res 2019",
            "Hsieh MK, Kao FC, Chiu PY, et al. Risk factors of neurological deficit and pulmonary "
            "cement embolism after percutaneous vertebroplasty. J Orthop Surg Res 2019;14:406.",
            "3175 patients: cement into the spinal canal in 0.7 %, 4 of whom needed surgical "
            "decompression; leaks into a disc or the paraspinal tissue were the commonest kinds.",
        ),
        # -- practice standards ---------------------------------------------------------------
        Reference(
            "McGraw et al., J Vasc Interv Radiol 2003 (SIR)",
            "McGraw JK, Cardella J, Barr JD, et al. Society of Interventional Radiology quality "
            "improvement guidelines for percutaneous vertebroplasty. J Vasc Interv Radiol "
            "2003;14(7):827-831.",
            "Standards of practice: indications; contraindications (absolute: a painless fracture "
            "or one improving on medical therapy, infection of the target vertebra, uncorrectable "
            "bleeding disorder, allergy to the cement or the contrast; relative: radicular pain, "
            "retropulsed bone or tumour narrowing the canal, severe collapse); informed consent; "
            "complications to track (infection, rib or posterior-element fracture, symptomatic "
            "pulmonary embolism, cord compression or nerve-root injury).",
        ),
        Reference(
            "Tsoumakidou et al., Cardiovasc Intervent Radiol 2017 (CIRSE)",
            "Tsoumakidou G, Too CW, Koch G, et al. CIRSE guidelines on percutaneous vertebral "
            "augmentation. Cardiovasc Intervent Radiol 2017;40(3):331-342. "
            "doi:10.1007/s00270-017-1574-8.",
            "Standards of practice: selection by a painful fracture with bone-marrow oedema on MRI "
            "(STIR) or uptake on bone scan at the tender level; clotting checked and "
            "anticoagulants managed; antibiotic prophylaxis where used; biopsy through the cannula "
            "when a tumour is possible; transpedicular, or at thoracic levels parapedicular, "
            "access; the tip in the anterior third of the body; cement of paste-like viscosity "
            "injected under lateral fluoroscopy, stopped or paused when it nears the posterior "
            "quarter of the body or enters a vein or the disc; the stylet replaced before the "
            "cannula is removed; radiographs or CT afterwards when needed.",
        ),
        Reference(
            "ACR-ASNR-ASSR-SIR-SNIS practice parameter, 2017",
            "ACR-ASNR-ASSR-SIR-SNIS practice parameter for the performance of vertebral "
            "augmentation. American College of Radiology, revised 2017 (Resolution 16).",
            "Practice standards: informed consent; monitoring of oxygen saturation, heart rhythm "
            "and blood pressure under sedation; radiation dose kept as low as reasonably "
            "achievable and pregnancy excluded; post-procedure neurological checks.",
        ),
        Reference(
            "Mathis, Deramond, Belkoff (eds), Percutaneous Vertebroplasty and Kyphoplasty 2006",
            "Mathis JM, Deramond H, Belkoff SM (eds). Percutaneous Vertebroplasty and Kyphoplasty, "
            "2nd ed. Springer, 2006 (chapter on post-operative care).",
            "After the procedure the patient stays lying down for 1 to 2 hours, with vital signs "
            "and neurological checks of the legs every 15 minutes in the first hour and every 30 "
            "minutes in the second; pressure stops venous bleeding at the entry site; 1 to 2 % "
            "have a short-lived rise in local pain.",
        ),
        Reference(
            "NICE IPG166, 2006",
            "National Institute for Health and Care Excellence. Balloon kyphoplasty for vertebral "
            "compression fractures. Interventional procedure guidance IPG166, 2006.",
            "Kyphoplasty is done under local or general anaesthesia; a hand drill makes a channel "
            "for one or two balloons, filled with contrast medium and inflated until the normal "
            "height is restored or the balloon reaches its maximum volume.",
        ),
        Reference(
            "Rotter et al., Eur Spine J 2010",
            "Rotter R, Martin H, Fuerderer S, et al. Vertebral body stenting: a new method for "
            "vertebral augmentation versus kyphoplasty. Eur Spine J 2010;19(6):916-923.",
            "Cadaveric vertebrae: after the kyphoplasty balloons were deflated, the front of the "
            "body lost height equal to 11.7 % of its height before treatment, leaving a net gain "
            "of 8.0 %.",
        ),
        Reference(
            "Garfin et al., Spine 2001",
            "Garfin SR, Yuan HA, Reiley MA. New technologies in spine: kyphoplasty and "
            "vertebroplasty for the treatment of painful osteoporotic compression fractures. "
            "Spine 2001;26(14):1511-1515.",
            "Kyphoplasty technique: working cannulas wider than a vertebroplasty needle placed "
            "through both pedicles, a drill to open the channel, inflatable bone tamps (15 mm, "
            "3 mL nominal, filled to about 4 mL) inflated with contrast medium under a pressure "
            "gauge and stopped when the height is restored, the balloon meets the cortex, or its "
            "pressure or volume limit is reached.",
        ),
        Reference(
            "Kaufmann et al., AJNR Am J Neuroradiol 2006",
            "Kaufmann TJ, Trout AT, Kallmes DF. The effects of cement volume on clinical outcomes "
            "of percutaneous vertebroplasty. AJNR Am J Neuroradiol 2006;27(9):1933-1937.",
            "158 patients treated at one level: no association between the volume of cement "
            "injected and later pain or use of pain medicine.",
        ),
        Reference(
            "ASA fasting guideline, Anesthesiology 2017",
            "American Society of Anesthesiologists. Practice guidelines for preoperative fasting "
            "and the use of pharmacologic agents to reduce the risk of pulmonary aspiration. "
            "Anesthesiology 2017;126(3):376-393.",
            "Before sedation or anaesthesia: no light meal for 6 hours and no clear drinks for "
            "2 hours.",
        ),
        Reference(
            "Lindsay et al., JAMA 2001",
            "Lindsay R, Silverman SL, Cooper C, et al. Risk of new vertebral fracture in the year "
            "following a fracture. JAMA 2001;285(3):320-323.",
            "In the untreated (placebo) groups of osteoporosis trials, 19.2 % of women with a new "
            "vertebral fracture had another within 1 year.",
        ),
        Reference(
            "LeBoff et al., Osteoporos Int 2022 (BHOF)",
            "LeBoff MS, Greenspan SL, Insogna KL, et al. The clinician's guide to prevention and "
            "treatment of osteoporosis. Osteoporos Int 2022;33(10):2049-2102.",
            "A vertebral fracture brings a 5-fold risk of further vertebral fractures and a 2- to "
            "3-fold risk at other sites; a bone-density (DXA) scan and effective anti-fracture "
            "medicine, which prevents fractures, are advised.",
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

#: The fact table of the sources' README, one row per key.
DOCUMENT_FACTS: dict[str, Fact] = {
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


_INVEST, _BUCH = "Kallmes et al., N Engl J Med 2009 (INVEST)", "Buchbinder et al., N Engl J Med 2009"
_VAPOUR, _VERTOS4 = "Clark et al., Lancet 2016 (VAPOUR)", "Firanescu et al., BMJ 2018 (VERTOS IV)"
_SIR, _CIRSE = "McGraw et al., J Vasc Interv Radiol 2003 (SIR)", "Tsoumakidou et al., Cardiovasc Intervent Radiol 2017 (CIRSE)"
_ACR = "ACR-ASNR-ASSR-SIR-SNIS practice parameter, 2017"

#: Clinical facts from the named references (trials, reviews, standards of practice) that the
#: story and the quiz state; a sentence tagged with one cites at least one of its references.
REFERENCE_FACTS: dict[str, Fact] = {
    f.key: f
    for f in (
        Fact("sham_trials", "Sham-controlled trials: INVEST, Buchbinder 2009 and VERTOS IV found "
             "no benefit over a sham procedure; VAPOUR found benefit in fractures under 6 weeks",
             (_INVEST, _BUCH, _VERTOS4, _VAPOUR)),
        Fact("evidence_reviews", "Reviews and guidance since: Cochrane 2018 and ASBMR 2019 find no "
             "clinically important benefit over sham; Lou 2019 finds benefit only in acute, "
             "severely painful fractures; NICE limits use to severe pain from a recent fracture",
             ("Buchbinder et al., Cochrane Database Syst Rev 2018", "Ebeling et al., J Bone Miner Res 2019 (ASBMR)",
              "Lou et al., Osteoporos Int 2019", "NICE TA279, 2013")),
        Fact("open_trials", "Open-label trials against usual care (VERTOS II, FREE) favour the "
             "procedure, without a sham control",
             ("Klazen et al., Lancet 2010 (VERTOS II)", "Wardlaw et al., Lancet 2009 (FREE)")),
        Fact("leaks_common", "Cement leaks seen on imaging are common (about a third to 41 % of "
             "levels) and mostly silent",
             ("Hulme et al., Spine 2006", "Al-Ali et al., AJNR Am J Neuroradiol 2009",
              "Yeom et al., J Bone Joint Surg Br 2003")),
        Fact("complication_rates", "Symptomatic complications: about 1 % in osteoporotic fractures, "
             "up to 10 % in tumours", ("Liao et al., BMC Infect Dis 2018",)),
        Fact("cement_embolism", "Pulmonary cement embolism: common on CT, rarely symptomatic",
             ("Krueger et al., Eur Spine J 2009", "Venmans et al., AJNR Am J Neuroradiol 2010")),
        Fact("new_fractures", "New fractures of other vertebrae, neighbours included, after "
             "treatment; no clear excess over conservative care",
             ("Klazen et al., AJNR Am J Neuroradiol 2010", "Al-Ali et al., AJNR Am J Neuroradiol 2009",
              "Lou et al., Osteoporos Int 2019")),
        Fact("other_risks", "Rarer risks: nerve-root or cord injury, rib fracture, pneumothorax at "
             "thoracic levels, bleeding, infection, allergy", (_SIR, _CIRSE, "Hsieh et al., J Orthop Surg Res 2019")),
        Fact("selection_imaging", "Selection by a painful fracture with bone-marrow oedema on MRI "
             "(STIR) or bone-scan uptake at the tender level",
             (_CIRSE, "Tanigawa et al., Radiology 2006", "NICE TA279, 2013")),
        Fact("contraindications", "Contraindications: active infection, uncorrectable bleeding "
             "disorder, cement allergy, painless or healing fracture; relative: canal compromise, "
             "neurological deficit", (_SIR, _CIRSE)),
        Fact("before_procedure", "Before: consent, blood thinners and clotting, fasting, IV line, "
             "antibiotics where used, pregnancy", (_SIR, _CIRSE, _ACR, "ASA fasting guideline, Anesthesiology 2017")),
        Fact("monitoring", "Monitoring during sedation: oxygen saturation, ECG, blood pressure; "
             "radiation as low as reasonably achievable", (_ACR,)),
        Fact("biopsy", "Biopsy through the cannula before cement when a tumour is possible", (_CIRSE,)),
        Fact("cement_technique", "Paste-like cement under lateral fluoroscopy; stop or pause near "
             "the posterior quarter, in a vein or the disc; stylet back before the cannula comes out",
             (_CIRSE,)),
        Fact("cement_volume", "Cement volumes that restored strength and stiffness by region",
             ("Belkoff et al., Spine 2001", "Kaufmann et al., AJNR Am J Neuroradiol 2006")),
        Fact("observation_after", "The hours lying flat are for recovery from sedation, "
             "neurological checks of the legs and the puncture site",
             ("Mathis, Deramond, Belkoff (eds), Percutaneous Vertebroplasty and Kyphoplasty 2006",)),
        Fact("warning_signs", "Warning signs to report: leg weakness or numbness, breathlessness or "
             "chest pain, fever", (_SIR, "Krueger et al., Eur Spine J 2009", "Liao et al., BMC Infect Dis 2018")),
        Fact("osteoporosis_care", "Treat the osteoporosis: bone-density scan and medicine prevent "
             "the next fracture", ("Lindsay et al., JAMA 2001", "LeBoff et al., Osteoporos Int 2022 (BHOF)")),
        Fact("kyphoplasty_technique", "Kyphoplasty: wider cannulas, a drill, two balloons with "
             "contrast under a pressure gauge, set end points, often general anaesthesia",
             ("NICE IPG166, 2006", "Garfin et al., Spine 2001")),
        Fact("kyphoplasty_height", "Part of the balloon's lift is lost on deflation; about 47 % of "
             "the lost height is regained in the end",
             ("Rotter et al., Eur Spine J 2010", "Lieberman et al., Spine 2001")),
    )
}

#: Every fact a sentence or question may be tagged with.
FACTS: dict[str, Fact] = {**DOCUMENT_FACTS, **REFERENCE_FACTS}


def is_known_source(name: str) -> bool:
    """A source document's file name or a named reference's key."""
    return name in SOURCES or name in REFERENCES


def known_sources() -> list[str]:
    return [*SOURCES, *REFERENCES]
