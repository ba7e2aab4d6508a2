"""Storyboards: the steps of a procedure, what each shows and what it says, with sources.

A scene (``scenes/vertebroplasty.yaml``, ``scenes/kyphoplasty.yaml``) is an ordered list of
steps. Each step names a camera, which parts are shown, the engine parameters it holds or
animates, the fluoroscopy views beside the 3D view, and its narration for two audiences:

- ``patient``: plain words, short calm sentences; the outreach **kiosk** uses this narration
  too (``render_narration(step, "kiosk", ...)`` is the patient text);
- ``student``: clinical terms and figures.

Every sentence cites its sources: a document of the project's source set by file name (the
table in :mod:`vp3d.storyboard.sources`; the documents themselves are not needed at run time)
or a named published reference. Where the level, grade or fracture type is chosen by the
clinician, the text holds ``{fields}`` that :func:`render_narration` fills from a context
(:func:`narration_context`).

Engine code, no UI: loading needs only YAML and the standard library;
:func:`narration_context` asks the fracture engine (:mod:`vp3d.pathology.fracture`) for the modelled
height loss.

Example
-------
>>> from vp3d.storyboard import load_named_scene, narration_context, render_narration
>>> scene = load_named_scene("vertebroplasty")
>>> context = narration_context("L1", grade=2, kind="wedge")
>>> sentences = render_narration(scene.step("fracture"), "patient", context)
>>> "first lumbar vertebra" in " ".join(s.text for s in sentences)
True
"""

from vp3d.storyboard.loader import SCENES_DIR, SceneError, load_named_scene, load_scene, scene_path
from vp3d.storyboard.scene import (
    AUDIENCE_ALIASES,
    AUDIENCES,
    BASE_VISIBLE,
    CAMERA_PRESETS,
    FLUORO_VIEWS,
    MODES,
    PARAMETERS,
    PART_GROUPS,
    TOPICS,
    Animation,
    Camera,
    CameraPreset,
    Parameter,
    Scene,
    Sentence,
    Step,
)
from vp3d.storyboard.narration import (
    CONTEXT_FIELDS,
    KNOWN_FIELDS,
    SCENE_FIELDS,
    STEP_FIELDS,
    audience_of,
    narration_context,
    narration_text,
    render_narration,
    render_title,
)
from vp3d.storyboard.sources import FACTS, REFERENCES, SOURCES, Fact, Reference, SourceDocument

__all__ = [
    "AUDIENCES", "AUDIENCE_ALIASES", "BASE_VISIBLE", "CAMERA_PRESETS", "CONTEXT_FIELDS", "FACTS",
    "FLUORO_VIEWS", "KNOWN_FIELDS", "MODES", "PARAMETERS", "PART_GROUPS", "REFERENCES",
    "SCENES_DIR", "SCENE_FIELDS", "SOURCES", "STEP_FIELDS", "TOPICS", "Animation", "Camera",
    "CameraPreset", "Fact", "Parameter", "Reference", "Scene", "SceneError", "Sentence",
    "SourceDocument", "Step", "audience_of", "load_named_scene", "load_scene", "narration_context",
    "narration_text", "render_narration", "render_title", "scene_path",
]
