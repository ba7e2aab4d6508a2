"""The patient story as spoken in each language, and the normal speaking rates its audio is
held to: shared by tests/test_narration_audio.py and bench/voice.py."""

from __future__ import annotations

import inspect

from vp3d.storyboard import load_named_scene, narration_context, narration_text

#: Normal speaking rates, words per minute. English: about 150 for US conversation (National
#: Center for Voice and Speech). Spanish: the same pace scaled by how fast native readers read
#: the same texts aloud, 218 words per minute in Spanish against 228 in English (IReST:
#: Trauzettel-Klosinski & Dietz 2012, Invest Ophthalmol Vis Sci 53:5452), about 143.
SPEAKING_RATE_WPM = {"en": 150.0, "es": 150.0 * 218 / 228}
TOLERANCE = 0.30

#: Patient narration in Spanish until the Spanish storyboard lands (then the storyboard's own
#: text is spoken instead, see patient_story).
SPANISH_SAMPLE = (
    "Uno de los huesos de su columna se ha aplastado un poco. Esto se llama fractura por "
    "compresión. Puede doler al estar de pie o al caminar.",
    "El médico introduce una aguja fina a través de la piel hasta el hueso. Las imágenes de "
    "rayos X le muestran el camino. La zona estará dormida.",
    "Después inyecta un cemento especial dentro del hueso. El cemento se endurece en unos "
    "15 minutos. Luego descansará un rato boca arriba.",
)
SAMPLES = {"es": SPANISH_SAMPLE}


def storyboard_speaks(lang: str) -> bool:
    """Whether the storyboard has its own text in ``lang`` (English always; another language
    once narration_text takes a language)."""
    return lang == "en" or "lang" in inspect.signature(narration_text).parameters


def patient_story(lang: str) -> list[tuple[str, str]]:
    """``(step id, patient text)`` of every vertebroplasty step in ``lang`` (L1, grade 2
    wedge), or the sample sentences of a language whose storyboard has not landed yet."""
    if not storyboard_speaks(lang):
        return [(f"sample-{i}", text) for i, text in enumerate(SAMPLES[lang])]
    scene = load_named_scene("vertebroplasty")
    context = narration_context("L1", 2, "wedge")
    extra = {} if lang == "en" else {"lang": lang}
    return [(s.id, narration_text(s, "patient", context, **extra)) for s in scene.steps]
