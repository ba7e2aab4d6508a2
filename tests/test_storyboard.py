"""Storyboards: both scenes load and tell the story in order, every sentence is sourced, every
fact of the sources' README is told, figures that disagree are shown together, and each kind
of broken scene file is rejected with a message naming the file, the step and the field."""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from vp3d.storyboard.sources import DOCUMENT_FACTS, REFERENCE_FACTS
from vp3d.storyboard import (
    AUDIENCES,
    CAMERA_PRESETS,
    FACTS,
    PARAMETERS,
    REFERENCES,
    SOURCES,
    TOPICS,
    Camera,
    SceneError,
    load_named_scene,
    load_scene,
    narration_context,
    narration_text,
    render_narration,
    render_title,
)

REPO = Path(__file__).resolve().parents[1]
SCENES = REPO / "scenes"
#: The project's source documents, beside the checkout (not needed by the app itself).
SOURCE_DIR = REPO.parent / "shared" / "sources"

D000, D001, D002, D003, D004 = sorted(SOURCES)
ALL_DOCS = {D000, D001, D002, D003, D004}

#: The fact table of the sources' README, in its order: key -> the documents it names.
README_FACTS = {
    "what_it_is": ALL_DOCS,
    "causes": {D000, D002, D003, D004},
    "untreated_wedge_kyphosis": {D002, D004},
    "older_treatments": {D000},
    "candidates": {D000, D001, D004},
    "imaging_before": {D001, D002, D003},
    "not_for_chronic_pain": {D002},
    "porous_ribs": {D001},
    "position_sedation": {D001, D002, D003, D004},
    "skin_prep": {D001, D003, D004},
    "needle_fluoroscopy": ALL_DOCS,
    "cement_pmma": {D002, D003, D004},
    "cement_hardening": {D000, D002, D004},
    "procedure_time": {D001, D002, D004},
    "after_care": {D000, D001, D004},
    "relief_activity": {D001, D002, D004},
    "outcomes": {D000, D002},
    "complications": {D001, D002},
    "best_levels": {D000},
    "kyphoplasty": {D001},
    "insurance": {D002},
    "example_case": {D000},
}

VERTEBROPLASTY_IDS = ["healthy_spine", "why_fractures", "fracture", "imaging", "candidates", "evidence",
                      "risks", "before_treatment", "preparation", "needle", "cement", "cement_sets",
                      "recovery", "aftercare"]
KYPHOPLASTY_IDS = [*VERTEBROPLASTY_IDS[:10], "balloon", "cavity_cement", *VERTEBROPLASTY_IDS[11:]]
VERTEBROPLASTY_TOPICS = ["anatomy", "causes", "fracture", "imaging", "candidates", "outcomes", "risks",
                         "consent", "preparation", "needle", "cement", "setting", "recovery", "aftercare"]
KYPHOPLASTY_TOPICS = [*VERTEBROPLASTY_TOPICS[:10], "balloon", *VERTEBROPLASTY_TOPICS[10:]]

CONTEXTS = [narration_context("L1", 2, "wedge"), narration_context("T5", 3, "crush"),
            narration_context("L5", 1, "biconcave"), narration_context("T12", 2, "biconcave")]


@pytest.fixture(scope="module")
def scenes():
    return {name: load_named_scene(name) for name in ("vertebroplasty", "kyphoplasty")}


def _sentences(scene, audience=None):
    for step, aud, _, sentence in scene.sentences():
        if audience is None or aud == audience:
            yield step, aud, sentence


# ----------------------------------------------------------------------------- the scenes


def test_scenes_load_with_the_steps_in_story_order(scenes):
    vp, kp = scenes["vertebroplasty"], scenes["kyphoplasty"]
    assert vp.ids == VERTEBROPLASTY_IDS
    assert kp.ids == KYPHOPLASTY_IDS
    assert [s.topic for s in vp.steps] == VERTEBROPLASTY_TOPICS
    assert [s.topic for s in kp.steps] == KYPHOPLASTY_TOPICS
    assert vp.procedure == "vertebroplasty" and kp.procedure == "kyphoplasty"
    for scene in scenes.values():
        assert [TOPICS.index(s.topic) for s in scene.steps] == sorted(TOPICS.index(s.topic) for s in scene.steps)


def test_kyphoplasty_shares_the_library_steps(scenes):
    vp, kp = scenes["vertebroplasty"], scenes["kyphoplasty"]
    for sid in ("healthy_spine", "why_fractures", "fracture", "imaging", "needle"):
        assert vp.step(sid).narration == kp.step(sid).narration
        assert vp.step(sid).source_file.endswith("common.yaml")
    # Appended sentences: the scene's own, after the library's.
    vp_c, kp_c = vp.step("candidates").narration["patient"], kp.step("candidates").narration["patient"]
    assert kp_c[: len(vp_c)] == vp_c and len(kp_c) == len(vp_c) + 1
    # Merged state: the kyphoplasty cement volume, the library's collapse.
    assert kp.step("recovery").state["cement.ml"] == 4 and kp.step("recovery").state["fracture.t"] == 1
    assert vp.step("recovery").state["cement.ml"] == 3


def test_every_sentence_has_known_sources(scenes):
    for scene in scenes.values():
        for step in scene.steps:
            for aud in AUDIENCES:
                assert step.narration[aud], (scene.name, step.id, aud)
                for sentence in step.narration[aud]:
                    assert sentence.sources, (step.id, sentence.text)
                    assert all(s in SOURCES or s in REFERENCES for s in sentence.sources)


def test_fact_table_matches_the_sources_readme():
    assert {k: set(f.documents) for k, f in DOCUMENT_FACTS.items()} == README_FACTS
    readme = SOURCE_DIR / "README.md"
    if not readme.is_file():
        pytest.skip(f"{readme} is absent (the project's source set is not beside this checkout)")
    rows = [line for line in readme.read_text().splitlines()
            if line.startswith("| ") and not line.startswith(("| fact", "| ---"))]
    assert len(rows) == len(README_FACTS)
    for row, (key, docs) in zip(rows, README_FACTS.items()):
        cell = row.strip("| ").rsplit("|", 1)[1].strip()
        named = ALL_DOCS if cell == "all" else {next(d for d in ALL_DOCS if d.startswith(n.strip()))
                                                for n in cell.split(",")}
        assert named == docs, (key, row)


@pytest.mark.parametrize("name", ["vertebroplasty", "kyphoplasty"])
def test_every_readme_fact_is_told_to_both_audiences(scenes, name):
    for aud in AUDIENCES:
        told = {f for _, _, s in _sentences(scenes[name], aud) for f in s.facts}
        missing = set(README_FACTS) - told
        assert not missing, f"{name} {aud} narration never states {sorted(missing)}"
    for _, _, s in _sentences(scenes[name]):
        for f in s.facts:  # a tagged fact cites a document or reference that holds it
            assert set(FACTS[f].documents) & set(s.sources), (f, s.text)


def test_source_table_matches_the_documents():
    if not SOURCE_DIR.is_dir():
        pytest.skip(f"{SOURCE_DIR} is absent")
    assert set(SOURCES) == {p.name for p in SOURCE_DIR.glob("*.txt")}


def _numbers(text: str) -> set[str]:
    """Figures in ``text``: digits not part of a name such as T2 (an MRI weighting) or L1."""
    return set(re.findall(r"(?<![A-Za-z\d])\d+", re.sub(r"\{\w+\}", "", text)))


def test_every_number_is_in_a_cited_source():
    """A figure on screen is in a cited document or in a cited reference's findings."""
    if not SOURCE_DIR.is_dir():
        pytest.skip(f"{SOURCE_DIR} is absent")
    doc_numbers = {name: set(re.findall(r"\d+", (SOURCE_DIR / name).read_text())) for name in SOURCES}
    ref_numbers = {key: set(re.findall(r"\d+", r.used_for)) for key, r in REFERENCES.items()}
    for name in ("vertebroplasty", "kyphoplasty"):
        for step, aud, s in _sentences(load_named_scene(name)):
            allowed = set().union(*(doc_numbers[c] if c in doc_numbers else ref_numbers[c] for c in s.sources))
            stray = _numbers(s.text) - allowed
            assert not stray, f"{name} {step.id} {aud}: {sorted(stray)} not in {s.sources}: {s.text}"


def _both_in_one_sentence(scene, audience, needles, sources):
    for step, _, s in _sentences(scene, audience):
        if all(n in s.text for n in needles) and set(sources) <= set(s.sources):
            return step.id
    return None


@pytest.mark.parametrize("audience", AUDIENCES)
def test_disagreeing_hardening_times_are_shown_together(scenes, audience):
    for scene in scenes.values():
        sid = _both_in_one_sentence(scene, audience, ["15 minutes", "one hour"], [D000, D002])
        assert sid == "cement_sets", (scene.name, audience)
        text = " ".join(s.text for s in scene.step(sid).narration[audience])
        assert "differ" in text


@pytest.mark.parametrize("audience", AUDIENCES)
def test_outcome_and_complication_figures_with_their_sources(scenes, audience):
    for scene in scenes.values():
        cites = {}
        for sid in ("evidence", "risks"):
            for s in scene.step(sid).narration[audience]:
                for figure in ("70 %", "15 months", "90 %"):
                    if figure in s.text:
                        cites.setdefault(figure, set()).update(s.sources)
                if re.search(r"1(–| to )3 %", s.text):
                    cites.setdefault("1-3 %", set()).update(s.sources)
        assert D000 in cites["70 %"] and D000 in cites["15 months"], cites
        assert D002 in cites["90 %"] and D002 in cites["1-3 %"], cites
        text = " ".join(s.text for s in scene.step("risks").narration[audience])
        for risk in ("leak", "infection", "spinal cord"):
            assert risk in text


def _cited(step, audience) -> set[str]:
    return {c for s in step.narration[audience] for c in s.sources}


@pytest.mark.parametrize("audience", AUDIENCES)
def test_evidence_names_the_sham_trials_both_ways(scenes, audience):
    """The sources' success figures stand beside the sham-controlled trials and the reviews."""
    for scene in scenes.values():
        step = scene.step("evidence")
        cited = _cited(step, audience)
        for ref in ("Kallmes et al., N Engl J Med 2009 (INVEST)", "Buchbinder et al., N Engl J Med 2009",
                    "Firanescu et al., BMJ 2018 (VERTOS IV)", "Clark et al., Lancet 2016 (VAPOUR)"):
            assert ref in cited, (scene.name, audience, ref)
        text = narration_text(step, audience, CONTEXTS[0])
        assert "44 %" in text and "21 %" in text  # VAPOUR: the positive sham-controlled trial
        if audience == "patient":
            assert "disagree" in text and "pretend" in text
        else:
            assert "Buchbinder et al., Cochrane Database Syst Rev 2018" in cited
            for trial in ("INVEST", "VERTOS IV", "VAPOUR", "Cochrane"):
                assert trial in text
    kp = scenes["kyphoplasty"].step("evidence")
    assert "Wardlaw et al., Lancet 2009 (FREE)" in _cited(kp, audience)


@pytest.mark.parametrize("audience", AUDIENCES)
def test_leaks_on_imaging_are_kept_apart_from_complications(scenes, audience):
    """Common, silent leaks and rare complications never share a sentence, and each has its figures."""
    step = scenes["vertebroplasty"].step("risks")
    leak_figures = complication_figures = False
    for s in step.narration[audience]:
        leak_rate = re.search(r"\b(33|41) %", s.text)
        complication_rate = re.search(r"1(–| to )3 %|\b1 %|10 %", s.text)
        assert not (leak_rate and complication_rate), s.text
        if leak_rate:
            leak_figures = True
            assert {"Al-Ali et al., AJNR Am J Neuroradiol 2009", "Hulme et al., Spine 2006"} <= set(s.sources)
        if complication_rate:
            complication_figures = True
    assert leak_figures and complication_figures
    text = narration_text(step, audience, CONTEXTS[0]).lower()
    assert re.search(r"no (harm|symptoms)|asymptomatic", text)
    assert "tumour" in text or "metastatic" in text


RISK_WORDS = {
    "cement embolism": (r"lungs", r"pulmonary cement embolism"),
    "new fractures": (r"break again", r"new fractures"),
    "rib fracture": (r"cracked rib", r"rib fracture"),
    "nerve injury": (r"nerve", r"nerve root"),
    "pneumothorax": (r"collapse", r"pneumothorax"),
    "bleeding": (r"bleeding", r"bleeding"),
    "infection": (r"infection", r"infection"),
    "allergy": (r"allergy", r"allergic"),
}


@pytest.mark.parametrize("name", ["vertebroplasty", "kyphoplasty"])
def test_every_risk_is_named_for_both_audiences(scenes, name):
    step = scenes[name].step("risks")
    for aud, i in (("patient", 0), ("student", 1)):
        text = narration_text(step, aud, CONTEXTS[1]).lower()
        for risk, words in RISK_WORDS.items():
            assert re.search(words[i], text), (name, aud, risk)


@pytest.mark.parametrize("audience", AUDIENCES)
def test_bed_rest_is_explained_not_tied_to_the_cement(scenes, audience):
    """Two hours lying flat (source 001) while the cement sets in 15 minutes to an hour: the
    narration says what the time is for, with a reference, and never that it is for the cement."""
    step = scenes["vertebroplasty"].step("recovery")
    text = narration_text(step, audience, CONTEXTS[0])
    assert "two hours" in text
    assert "Mathis, Deramond, Belkoff (eds), Percutaneous Vertebroplasty and Kyphoplasty 2006" in _cited(step, audience)
    assert re.search(r"sedation|calming medicine", text) and re.search(r"legs", text)
    for scene in scenes.values():
        for st, aud, s in _sentences(scene, "patient"):
            assert not re.search(r"two hours.*(while|as) the cement", s.text), (st.id, s.text)


def test_selection_is_for_the_fracture_not_any_back_pain(scenes):
    for scene in scenes.values():
        for st, aud, s in _sentences(scene):
            if "three months" in s.text and "interventional radiologist" in s.text:
                assert re.search(r"fracture|broken", s.text), s.text
        student = narration_text(scene.step("candidates"), "student", CONTEXTS[0])
        assert "STIR" in narration_text(scene.step("imaging"), "student", CONTEXTS[0])
        for word in ("oedema", "tender", "infection", "coagulopathy", "allergy", "painless",
                     "retropulsed", "neurological deficit"):
            assert word in student, word
        patient = narration_text(scene.step("candidates"), "patient", CONTEXTS[0])
        assert "infection" in patient and "bleeding" in patient and "allergy" in patient


@pytest.mark.parametrize("level, stiff, group", [("T8", "4", "thoracic levels (T6–T9)"),
                                                 ("L1", "4", "thoracolumbar levels (T10–L1)"),
                                                 ("L3", "6", "lumbar levels (L2–L5)"),
                                                 ("T5", "4", "did not include")])
def test_cement_volume_follows_belkoff_for_the_chosen_region(scenes, level, stiff, group):
    step = scenes["vertebroplasty"].step("cement")
    ctx = narration_context(level, 2, "wedge")
    text = narration_text(step, "student", ctx)
    assert f"stiffness took {stiff} mL" in text and group in text, text
    ml = step.final_value("cement.ml")
    compared = ("less than" if ml < 2 else "more than the 2 mL") if ml < float(stiff) else "at least"
    assert f"injects {ml:g} mL, {compared}" in text, text
    assert "2 millilitres" in narration_text(step, "patient", ctx)


def test_missing_procedure_steps_are_told_in_order(scenes):
    """Consent and checks, monitoring, biopsy, toothpaste cement with stop rules, the stylet,
    observation, warning signs and osteoporosis care, in story order, for both audiences."""
    wanted = [("before_treatment", {"patient": ["consent", "thins your blood", "clots", "not to eat",
                                                "vein in your arm", "antibiotic", "pregnant"],
                                    "student": ["consent", "Anticoagulant", "coagulation", "Fasting",
                                                "Intravenous", "antibiotic", "Pregnancy", "as low as"]}),
              ("preparation", {"patient": ["oxygen", "heart beat", "blood pressure"],
                               "student": ["Oxygen saturation", "ECG", "blood pressure"]}),
              ("needle", {"patient": ["tumour", "piece of bone"], "student": ["biopsy"]}),
              ("cement", {"patient": ["toothpaste", "stops or waits"],
                          "student": ["toothpaste", "posterior quarter", "vein", "disc"]}),
              ("cement_sets", {"patient": ["rod is put back"], "student": ["stylet is reinserted"]}),
              ("aftercare", {"patient": ["weak or numb", "trouble breathing", "chest pain", "fever",
                                         "bone density scan", "medicine"],
                             "student": ["weakness or numbness", "dyspnoea", "fever", "DXA", "medication"]})]
    vp = scenes["vertebroplasty"]
    order = [vp.ids.index(sid) for sid, _ in wanted]
    assert order == sorted(order)
    for sid, words in wanted:
        for aud, needles in words.items():
            text = narration_text(vp.step(sid), aud, CONTEXTS[0])
            for needle in needles:
                assert needle in text, (sid, aud, needle)


@pytest.mark.parametrize("audience", AUDIENCES)
def test_kyphoplasty_technique_and_height_loss(scenes, audience):
    kp = scenes["kyphoplasty"]
    balloon = narration_text(kp.step("balloon"), audience, CONTEXTS[0])
    assert "gauge" in balloon and re.search(r"drill|tool opens a channel", balloon) and "wider" in balloon
    assert re.search(r"outer wall|cortex", balloon) and "limit" in balloon
    assert "asleep" in narration_text(kp.step("preparation"), "patient", CONTEXTS[0])
    assert "general anaesthesia" in narration_text(kp.step("preparation"), "student", CONTEXTS[0])
    cavity = kp.step("cavity_cement")
    assert "Rotter et al., Eur Spine J 2010" in _cited(cavity, audience)
    cited = [s for s in cavity.narration[audience] if "47 %" in s.text]
    assert cited and all("Lieberman et al., Spine 2001" in s.sources for s in cited)


@pytest.mark.parametrize("context", [narration_context("T8", 3, "crush"), narration_context("L4", 2, "wedge"),
                                     narration_context("T5", 1, "biconcave"), narration_context("L1", 2, "wedge")],
                         ids=["T8", "L4", "T5", "L1"])
def test_patient_narration_reads_at_grade_eight_or_below(scenes, context):
    """Flesch-Kincaid grade of each patient (and kiosk) step, thoracic and lumbar levels."""
    textstat = pytest.importorskip("textstat")
    for scene in scenes.values():
        for step in scene.steps:
            text = narration_text(step, "patient", context)
            grade = textstat.flesch_kincaid_grade(text)
            assert grade <= 8.0, (scene.name, step.id, grade, text)


def test_every_reference_fact_is_told_to_both_audiences(scenes):
    for aud in AUDIENCES:
        told = {f for scene in scenes.values() for _, _, s in _sentences(scene, aud) for f in s.facts}
        missing = set(REFERENCE_FACTS) - told
        assert not missing, f"{aud} narration never states {sorted(missing)}"


def test_kyphoplasty_balloon_fills_and_lifts(scenes):
    step = scenes["kyphoplasty"].step("balloon")
    assert step.final_value("balloon.fill_ml") == PARAMETERS["balloon.fill_ml"].high
    assert step.final_value("kyphoplasty.restore") == 1


def test_procedure_steps_drive_the_engine(scenes):
    vp = scenes["vertebroplasty"]
    needle = vp.step("needle")
    assert needle.fluoro == ("ap", "lateral")
    assert needle.values_at(0)["needle.depth"] == 0 and needle.values_at(needle.duration_s)["needle.depth"] == 1
    assert needle.state["fracture.t"] == 1 and needle.visible["needle"] == "shown"
    cement = vp.step("cement")
    assert cement.fluoro == ("ap", "lateral") and cement.state["needle.depth"] == 1
    ml = cement.final_value("cement.ml")
    for aud in AUDIENCES:  # the counter's final figure is spoken
        assert f"{ml:g} " in narration_text(cement, aud, CONTEXTS[0])
    sets = vp.step("cement_sets")
    assert sets.values_at(0)["needle.depth"] == 1 and sets.values_at(sets.duration_s)["needle.depth"] == 0
    fracture = vp.step("fracture")
    assert [(a.param, a.start, a.end) for a in fracture.animate] == [("fracture.t", 0, 1)]


def test_values_at_follows_delays():
    step = load_named_scene("kyphoplasty").step("cavity_cement")
    assert step.values_at(0)["balloon.fill_ml"] == 4 and step.values_at(0)["cement.ml"] == 0
    assert step.values_at(1.5)["balloon.fill_ml"] == pytest.approx(2)
    assert step.values_at(3)["balloon.fill_ml"] == 0 and step.values_at(3)["cement.ml"] == 0
    assert step.values_at(10.5)["cement.ml"] == pytest.approx(2)
    assert step.values_at(99)["cement.ml"] == 4 and step.duration_s == 18
    assert step.values_at(5)["kyphoplasty.restore"] == 1  # held


@pytest.mark.parametrize("context", CONTEXTS, ids=lambda c: f"{c['level']}-{c['grade']}-{c['kind']}")
def test_every_template_renders(scenes, context):
    for scene in scenes.values():
        for step in scene.steps:
            for aud in (*AUDIENCES, "kiosk"):
                texts = [render_title(step, aud, context)] + [s.text for s in render_narration(step, aud, context)]
                for t in texts:
                    assert "{" not in t and "}" not in t, t
    fracture = scenes["vertebroplasty"].step("fracture")
    assert context["level_name"] in narration_text(fracture, "patient", context)
    assert f"grade {context['grade']}" in narration_text(fracture, "student", context)


def test_kiosk_speaks_the_patient_narration(scenes):
    step = scenes["vertebroplasty"].step("needle")
    ctx = CONTEXTS[0]
    assert render_narration(step, "kiosk", ctx) == render_narration(step, "patient", ctx)
    with pytest.raises(ValueError, match="unknown audience 'surgeon'"):
        render_narration(step, "surgeon", ctx)


def test_missing_context_field_names_step_and_field(scenes):
    step = scenes["vertebroplasty"].step("fracture")
    with pytest.raises(SceneError, match=r"common\.yaml: step 'fracture': narration\.patient\[0\]\.text: "
                                         r"context lacks 'level_name'"):
        render_narration(step, "patient", {})


# Plain words for a frightened patient: short sentences, nothing gory, jargon explained.
PATIENT_MAX_WORDS = 22
# Bleeding, blood thinners and blood tests stay: consent needs them named in plain words.
PATIENT_AVOID = ("scalpel", "drill", "hammer", "mallet", "cut ", "incision",
                 "transpedicular", "trabecular", "PMMA", "fluoroscop", "cannula", "prone", "analges")


def test_patient_narration_is_plain(scenes):
    long_ctx = narration_context("T11", 3, "crush")  # the longest words the fields can take
    for scene in scenes.values():
        for step in scene.steps:
            for s in render_narration(step, "patient", long_ctx):
                words = len(s.text.split())
                assert words <= PATIENT_MAX_WORDS, f"{step.id}: {words} words: {s.text}"
                low = s.text.lower()
                assert not [w for w in PATIENT_AVOID if w.lower() in low], s.text


def test_narration_context():
    ctx = narration_context("L1", 2, "wedge")
    assert ctx["level_name"] == "first lumbar vertebra" and ctx["grade_words"] == "moderate"
    assert ctx["loss_range"] == "25–40" and ctx["loss_words"] == "about a third"
    from vp3d.pathology.fracture import GRADE_LOSS

    for grade, loss in GRADE_LOSS.items():
        assert narration_context("T12", grade)["loss_percent"] == f"{round(100 * loss)}"
    assert narration_context("T12")["level_name"] == "twelfth thoracic vertebra"
    assert narration_context("L3")["region"] == "lower back"
    with pytest.raises(ValueError, match="level must be one of T1\u2013L5"):
        narration_context("L7")
    with pytest.raises(ValueError, match="grade"):
        narration_context("L1", 4)


def test_parameter_ranges_match_the_engine():
    from vp3d.pathology import kyphoplasty
    assert PARAMETERS["balloon.fill_ml"].high == kyphoplasty.MAX_BALLOON_ML
    cement = pytest.importorskip("vp3d.cement")
    assert PARAMETERS["cement.ml"].high == cement.MAX_TOTAL_ML


def test_camera_resolves_presets_relative_to_the_level():
    centre = (10.0, 20.0, 30.0)
    pos, focal, up = Camera("lateral").resolve(centre)
    assert focal == centre and up == (0, 0, 1)
    assert pos == pytest.approx((10 - CAMERA_PRESETS["lateral"].distance_mm, 20, 30))
    pos, focal, _ = Camera("overview").resolve(centre, spine_centre_mm=(0, 0, 0))
    assert focal == (0, 0, 0)
    pos, _, _ = Camera("lateral").resolve(centre, orbit_deg=90)
    assert pos == pytest.approx((10, 20 - CAMERA_PRESETS["lateral"].distance_mm, 30))
    pos, focal, up = Camera(None, (0, -200, 0), (0, 0, 5), (0, 0, 1)).resolve(centre)
    assert pos == (10, -180, 30) and focal == (10, 20, 35)


def test_loader_imports_no_ui_and_no_vtk():
    code = ("import sys, vp3d.storyboard as sb, vp3d.storyboard.speech\n"
            "sb.load_named_scene('vertebroplasty'); sb.load_named_scene('kyphoplasty')\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in "
            "('trame', 'trame_vtk', 'wslink', 'vtk', 'vtkmodules', 'pyvista')]\n"
            "print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0, r.stdout + r.stderr


# ----------------------------------------------------------------------------- broken files

SOURCE = "002_d69a0bc012a0d9ed.txt"


def _step(sid, topic, **extra):
    step = {
        "id": sid, "topic": topic, "title": {"patient": "A title", "student": "A title, {level}"},
        "camera": {"preset": "lateral"},
        "narration": {
            "patient": [{"text": "Your {level_name}.", "sources": [SOURCE]}],
            "student": [{"text": "Level {level}.", "sources": [SOURCE]}],
        },
    }
    step.update(extra)
    return step


def _good() -> dict:
    return {
        "scene": "tiny", "procedure": "vertebroplasty", "title": "Tiny",
        "steps": [
            _step("spine", "anatomy", visible={"skin": "translucent", "disc T12-L1": "shown"}),
            _step("needle", "needle", fluoro=["ap", "lateral"], state={"fracture.t": 1},
                  animate=[{"param": "needle.depth", "from": 0, "to": 1, "seconds": 4}]),
        ],
    }


def _write(tmp_path, doc, name="x.yaml") -> Path:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    return path


def test_minimal_scene_loads(tmp_path):
    scene = load_scene(_write(tmp_path, _good()))
    assert scene.ids == ["spine", "needle"]
    assert scene.step("needle").state["fracture.t"] == 1 and scene.step("needle").state["cement.ml"] == 0
    assert scene.step("spine").visible["skin"] == "translucent" and scene.step("spine").visible["level"] == "highlighted"


def _set(path, value):
    def mutate(doc):
        *head, last = path
        node = doc
        for k in head:
            node = node[k]
        node[last] = value
    return mutate


def _delete(path):
    def mutate(doc):
        *head, last = path
        node = doc
        for k in head:
            node = node[k]
        del node[last]
    return mutate


N = ("steps", 1)          # the 'needle' step
NP0 = (*N, "narration", "patient", 0)

BROKEN = {
    "unknown step key": (_set((*N, "speed"), 3), "needle", "speed", "unknown key 'speed'"),
    "unknown scene key": (_set(("colour",), "red"), None, "colour", "unknown key 'colour'"),
    "missing audience": (_delete((*N, "narration", "student")), "needle", "narration.student",
                         "missing audience 'student'"),
    "unknown audience": (_set((*N, "narration", "kiosk"), []), "needle", "narration.kiosk",
                         "unknown audience 'kiosk'"),
    "title missing audience": (_set((*N, "title"), {"patient": "Hi"}), "needle", "title.student",
                               "missing audience 'student'"),
    "sentence without sources": (_delete((*NP0, "sources")), "needle", "narration.patient[0].sources",
                                 "missing required key 'sources'"),
    "empty sources": (_set((*NP0, "sources"), []), "needle", "narration.patient[0].sources",
                      "non-empty list"),
    "unknown source": (_set((*NP0, "sources"), [SOURCE, "005_deadbeef.txt"]), "needle",
                       "narration.patient[0].sources[1]", "unknown source '005_deadbeef.txt'"),
    "unknown fact": (_set((*NP0, "facts"), ["cure_rate"]), "needle", "narration.patient[0].facts[0]",
                     "unknown fact 'cure_rate'"),
    "fact not in cited source": (_set((*NP0, "facts"), ["older_treatments"]), "needle",
                                 "narration.patient[0].facts[0]", "cites none of them"),
    "unknown parameter": (_set((*N, "animate", 0, "param"), "needle.speed"), "needle", "animate[0].param",
                          "unknown parameter 'needle.speed' (known: fracture.t, needle.depth"),
    "range above": (_set((*N, "animate", 0, "to"), 1.5), "needle", "animate[0].to",
                    "1.5 is outside needle.depth's range 0 to 1"),
    "range below": (_set((*N, "state", "fracture.t"), -0.1), "needle", "state.fracture.t",
                    "outside fracture.t's range"),
    "negative seconds": (_set((*N, "animate", 0, "seconds"), -2), "needle", "animate[0].seconds",
                         "must be more than 0 s"),
    "negative delay": (_set((*N, "animate", 0, "delay"), -1), "needle", "animate[0].delay", "0 s or more"),
    "text for a number": (_set((*N, "animate", 0, "from"), "zero"), "needle", "animate[0].from",
                          "must be a finite number"),
    "held and animated": (_set((*N, "state", "needle.depth"), 0.5), "needle", "animate[0].param",
                          "both held in state and animated"),
    "overlapping animations": (lambda d: d["steps"][1]["animate"].append(
                                   {"param": "needle.depth", "from": 1, "to": 0, "seconds": 2, "delay": 3}),
                               "needle", "animate[1].delay", "overlaps animate[0]"),
    "jumping animations": (lambda d: d["steps"][1]["animate"].append(
                               {"param": "needle.depth", "from": 0.5, "to": 0, "seconds": 2, "delay": 4}),
                           "needle", "animate[1].from", "jumps from 1 (animate[0].to) to 0.5"),
    "duplicate id": (_set((*N, "id"), "spine"), "spine", "steps[1].id", "duplicate step id 'spine'"),
    "bad template field": (_set((*NP0, "text"), "Your {levle}."), "needle", "narration.patient[0].text",
                           "unknown template field {levle}"),
    "template with format": (_set((*NP0, "text"), "Your {level!r}."), "needle",
                             "narration.patient[0].text", "must be a plain name"),
    "unbalanced brace": (_set((*NP0, "text"), "Your {level."), "needle", "narration.patient[0].text",
                         "bad braces"),
    "step field unset": (_set((*NP0, "text"), "{cement_ml} mL."), "needle", "narration.patient[0].text",
                         "{cement_ml} needs the step to set cement.ml"),
    "bad title field": (_set((*N, "title"), "Step {lvl}"), "needle", "title", "unknown template field {lvl}"),
    "unknown camera preset": (_set((*N, "camera"), {"preset": "birdseye"}), "needle", "camera.preset",
                              "unknown camera preset 'birdseye' (known: overview"),
    "camera without view": (_set((*N, "camera"), {"up": [0, 0, 1]}), "needle", "camera",
                            "give a preset"),
    "unknown part": (_set((*N, "visible"), {"spleen": "shown"}), "needle", "visible.spleen",
                     "unknown part name 'spleen'"),
    "disc of non-adjacent levels": (_set((*N, "visible"), {"disc T12-L2": "shown"}), "needle",
                                    "visible.disc T12-L2", "unknown part name"),
    "unknown mode": (_set((*N, "visible"), {"labels": "translucent"}), "needle", "visible.labels",
                     "unknown mode 'translucent'"),
    "unknown fluoro view": (_set((*N, "fluoro"), ["ap", "oblique"]), "needle", "fluoro[1]",
                            "unknown fluoroscopy view 'oblique'"),
    "unknown topic": (_set((*N, "topic"), "surgery"), "needle", "topic", "unknown topic 'surgery'"),
    "topic out of order": (lambda d: d["steps"].reverse(),
                           "spine", "topic", "'anatomy' comes after 'needle'"),
    "missing title": (_delete((*N, "title")), "needle", "title", "missing required key 'title'"),
    # A typo'd key is named (with the key it was likely meant to be) before the key it leaves missing.
    "typo'd step key": (lambda d: d["steps"][1].update(narraton=d["steps"][1].pop("narration")), "needle",
                        "narraton", "unknown key 'narraton'; did you mean 'narration'?"),
    "typo'd camera key": (_set((*N, "camera"), {"prest": "lateral"}), "needle", "camera.prest",
                          "unknown key 'prest'; did you mean 'preset'?"),
    "typo'd scene key": (lambda d: d.update(titel=d.pop("title")), None, "titel",
                         "unknown key 'titel'; did you mean 'title'?"),
    "wrong type: text for a mapping": (_set((*N, "camera"), "lateral"), "needle", "camera",
                                       "must be a mapping, got str 'lateral'"),
    "wrong type: number for text": (_set((*NP0, "text"), 42), "needle", "narration.patient[0].text",
                                    "must be text, got int 42"),
    "wrong type: mapping for a list": (_set((*N, "animate"), {"param": "needle.depth"}), "needle", "animate",
                                       "must be a list, got dict"),
    "wrong type: yes for a number": (_set((*N, "state", "fracture.t"), True), "needle", "state.fracture.t",
                                     "must be a finite number, got bool True"),
    "missing camera": (_delete((*N, "camera")), "needle", "camera", "missing required key 'camera'"),
    "missing animation seconds": (_delete((*N, "animate", 0, "seconds")), "needle", "animate[0].seconds",
                                  "missing required key 'seconds'"),
    "missing scene procedure": (_delete(("procedure",)), None, "procedure", "missing required key 'procedure'"),
}


@pytest.mark.parametrize("case", BROKEN, ids=str)
def test_broken_scene_names_file_step_and_field(tmp_path, case):
    mutate, step, field, message = BROKEN[case]
    doc = copy.deepcopy(_good())
    mutate(doc)
    path = _write(tmp_path, doc)
    with pytest.raises(SceneError) as info:
        load_scene(path)
    msg = str(info.value)
    prefix = f"{path}: " + (f"step {step!r}: " if step else "") + f"{field}: "
    assert msg.startswith(prefix), f"{msg!r} does not start with {prefix!r}"
    assert message in msg, msg
    assert "\n" not in msg
    assert isinstance(info.value, ValueError)
    assert (info.value.file, info.value.step, info.value.field) == (str(path), step, field)


def test_malformed_yaml_names_file_and_line(tmp_path):
    path = _write(tmp_path, "scene: tiny\nsteps:\n  - id: spine\n    title: [unclosed\n")
    with pytest.raises(SceneError, match=re.escape(str(path)) + r": line \d+, column \d+: malformed YAML"):
        load_scene(path)


def test_duplicate_yaml_key_is_rejected(tmp_path):
    text = yaml.safe_dump(_good(), sort_keys=False).replace("procedure: vertebroplasty",
                                                             "procedure: vertebroplasty\nprocedure: kyphoplasty")
    path = _write(tmp_path, text)
    with pytest.raises(SceneError, match=r"line 3, column 1: malformed YAML: duplicate key 'procedure'"):
        load_scene(path)


def test_missing_file(tmp_path):
    with pytest.raises(SceneError, match=r"nope\.yaml: cannot read the file"):
        load_scene(tmp_path / "nope.yaml")


LIBRARY = {
    "library": "lib",
    "defaults": {"visible": {"skin": "translucent"}, "state": {"fracture.t": 1}},
    "steps": [_step("spine", "anatomy")],
}


def test_use_merges_library_steps(tmp_path):
    _write(tmp_path, LIBRARY, "lib.yaml")
    doc = {"scene": "tiny", "procedure": "kyphoplasty", "title": "Tiny", "include": "lib.yaml",
           "defaults": {"visible": {"labels": "hidden"}},
           "steps": [{"use": "spine", "state": {"cement.ml": 2}, "visible": {"cement": "shown"},
                      "add_narration": {"student": [{"text": "{cement_ml} mL of {procedure}.",
                                                     "sources": ["Belkoff et al., Spine 2001"]}]}}]}
    scene = load_scene(_write(tmp_path, doc))
    step = scene.step("spine")
    assert step.visible["skin"] == "translucent" and step.visible["labels"] == "hidden"
    assert step.visible["cement"] == "shown" and step.state["fracture.t"] == 1 and step.state["cement.ml"] == 2
    assert [s.text for s in render_narration(step, "student", {"level": "L2"})] == ["Level L2.", "2 mL of kyphoplasty."]
    assert step.source_file == str(tmp_path / "x.yaml")


def test_error_in_library_names_the_library(tmp_path):
    lib = copy.deepcopy(LIBRARY)
    lib["steps"][0]["camera"] = {"preset": "sideways"}
    _write(tmp_path, lib, "lib.yaml")
    doc = {"scene": "tiny", "procedure": "vp", "title": "T", "include": ["lib.yaml"], "steps": [{"use": "spine"}]}
    with pytest.raises(SceneError, match=re.escape(f"{tmp_path / 'lib.yaml'}: step 'spine': camera.preset: "
                                                   "unknown camera preset 'sideways'")):
        load_scene(_write(tmp_path, doc))


@pytest.mark.parametrize("steps, field, message", [
    ([{"use": "elbow"}], "steps[0].use", "unknown library step 'elbow' (known: spine)"),
    ([{"use": "spine", "speed": 2}], "speed", "unknown key 'speed'"),
    ([{"use": "spine", "add_narration": {"kiosk": []}}], "add_narration.kiosk", "unknown audience"),
    ([{"use": "spine"}, {"use": "spine"}], "steps[1].id", "duplicate step id 'spine'"),
    ([{"use": "spine", "camera": None}], "camera", "is empty: give a value"),
    ([{"use": "spine", "camera": {"prest": "lateral"}}], "camera.prest", "did you mean 'preset'?"),
])
def test_broken_use(tmp_path, steps, field, message):
    _write(tmp_path, LIBRARY, "lib.yaml")
    path = _write(tmp_path, {"scene": "tiny", "procedure": "vp", "title": "T", "include": "lib.yaml", "steps": steps})
    with pytest.raises(SceneError) as info:
        load_scene(path)
    assert info.value.field == field and message in str(info.value) and str(path) in str(info.value)


def test_missing_include_and_library_as_scene(tmp_path):
    path = _write(tmp_path, {**_good(), "include": ["gone.yaml"]})
    with pytest.raises(SceneError, match=r"x\.yaml: include\[0\]: included file 'gone\.yaml' not found"):
        load_scene(path)
    with pytest.raises(SceneError, match="this is a step library"):
        load_scene(SCENES / "common.yaml")
