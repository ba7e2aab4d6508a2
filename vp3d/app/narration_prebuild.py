"""The default story's narration made in the background when the server starts (one thread, the
speech engine at low CPU priority), so the first visitors and the kiosk hear every step without
waiting for a neural voice; the server answers pages meanwhile, and a cached story costs only
file look-ups."""

from __future__ import annotations

import logging
import threading
import time

logger = logging.getLogger(__name__)

#: CPU priority of the speech engine while pre-building (pages and frames come first).
NICENESS = 10


def start(procedure: str = "vertebroplasty", level: str = "L1", grade: int = 2, kind: str = "wedge",
          audience: str = "patient", lang: str = "en") -> threading.Thread:
    """Start making the narration of ``procedure``'s story for this choice and audience (the
    kiosk's is the patient's); returns the (daemon) thread, which ends when every step's file
    exists."""
    thread = threading.Thread(target=_build, args=(procedure, level, grade, kind, audience, lang),
                              name="vp3d-narration-prebuild", daemon=True)
    thread.start()
    return thread


def _build(procedure: str, level: str, grade: int, kind: str, audience: str, lang: str) -> None:
    from vp3d.storyboard import load_named_scene, narration_context
    from vp3d.storyboard.speech import scene_wavs

    started = time.monotonic()
    try:
        scene = load_named_scene(procedure, language=lang)
        wavs = scene_wavs(scene, narration_context(level, grade=grade, kind=kind, language=lang), [audience], lang,
                          niceness=NICENESS)
    except Exception as exc:  # noqa: BLE001 - pages still get their narration step by step
        logger.warning("vp3d: narration pre-build stopped: %s", exc)
        return
    logger.info("vp3d: %s narration of %s ready (%d steps, %.1f s)", audience, procedure, len(wavs),
                time.monotonic() - started)
