"""The patient story as spoken in each language, and the normal speaking rates its audio is
held to: shared by tests/test_narration_audio.py and bench/voice.py."""

from __future__ import annotations

from vp3d.storyboard import load_named_scene, narration_context, narration_text

#: Normal speaking rates, words per minute. English: about 150 for US conversation (National
#: Center for Voice and Speech). Spanish: the same pace scaled by how fast native readers read
#: the same texts aloud, 218 words per minute in Spanish against 228 in English (IReST:
#: Trauzettel-Klosinski & Dietz 2012, Invest Ophthalmol Vis Sci 53:5452), about 143.
SPEAKING_RATE_WPM = {"en": 150.0, "es": 150.0 * 218 / 228}
TOLERANCE = 0.30

def patient_story(lang: str) -> list[tuple[str, str]]:
    """``(step id, patient text)`` of every vertebroplasty step in ``lang`` (L1, grade 2 wedge),
    from the storyboard in that language (``scenes/es/`` for Spanish)."""
    scene = load_named_scene("vertebroplasty", language=lang)
    context = narration_context("L1", 2, "wedge", language=lang)
    return [(s.id, narration_text(s, "patient", context)) for s in scene.steps]
