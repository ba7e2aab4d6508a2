"""Spoken narration of the current story step for one session: the step's words are made
into speech in one worker thread (cached on disk by :mod:`vp3d.storyboard.speech`) and the
page gets the file's URL once it exists, unless the story has moved on by then. A step left
before its speech began is dropped from the queue, so a neural voice working on steps already
passed never delays the one shown."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vp3d.app import audio

logger = logging.getLogger(__name__)


class NarrationPlayer:
    """Narration audio for the step a session shows.

    ``current()`` returns ``(step id, audience, language)`` of what the page shows now; ``on_ready(url,
    duration_s)`` is called on the session's loop when the shown step's audio is ready.
    """

    def __init__(self, current: Callable[[], tuple[str, str]],
                 on_ready: Callable[[str, float], None]) -> None:
        self._current = current
        self._on_ready = on_ready
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="vp3d-audio")
        self._paths: dict[tuple, Path] = {}
        self._waiting: concurrent.futures.Future | None = None  # queued, not yet started

    def request(self, step: Any, audience: str, context: dict[str, str], lang: str = "en") -> None:
        """Make (or reuse) the narration of ``step`` for ``audience`` in ``lang`` (the language
        the step's text is in) and play it when ready."""
        from vp3d.storyboard import narration_text

        text = narration_text(step, audience, context)
        key = (step.id, audience, text, lang)
        path = self._paths.get(key)
        if path is not None:
            self._ready(key, path)
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if self._waiting is not None:
            self._waiting.cancel()  # a step passed before its speech began: make it no more
        future = self._waiting = self._pool.submit(_make_audio, text, audience, lang)

        def done(fut: concurrent.futures.Future) -> None:
            if fut.cancelled():
                return
            try:
                made = fut.result()
            except Exception as exc:  # noqa: BLE001 - narration audio is optional
                logger.warning("vp3d: narration audio failed: %s", exc)
                return
            self._paths[key] = made
            if loop is not None:
                loop.call_soon_threadsafe(self._ready, key, made)
            else:
                self._ready(key, made)

        future.add_done_callback(done)

    def _ready(self, key: tuple, path: Path) -> None:
        if (key[0], key[1], key[3]) != tuple(self._current()):
            return  # the story moved on
        from vp3d.storyboard.speech import wav_duration_s

        self._on_ready(audio.url_for(path), wav_duration_s(path))

    def close(self) -> None:
        """Stop the worker (session end); a file being made is dropped."""
        self._pool.shutdown(wait=False, cancel_futures=True)


def _make_audio(text: str, audience: str, lang: str) -> Path:
    from vp3d.storyboard.speech import narration_wav

    return narration_wav(text, audience, lang)
