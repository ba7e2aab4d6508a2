"""Spoken narration over HTTP: ``GET /audio/<name>.wav`` from the narration cache folder only.

Files are made by :func:`vp3d.storyboard.speech.narration_wav` (piper or espeak-ng, cached on
disk). The route answers only names of the cache's own form
(``patient-en-piper-en_US_joe_medium-<24 hex>.wav``, :data:`~vp3d.storyboard.speech.CACHE_NAME`)
that exist in that folder: a browser cannot name any other path.
"""

from __future__ import annotations

from pathlib import Path

from vp3d.storyboard import speech as narration_audio

ROUTE_PREFIX = "/audio/"
_NAME = narration_audio.CACHE_NAME


def audio_folder() -> Path:
    return narration_audio.cache_dir()


def url_for(path: Path) -> str:
    """The page's URL of a cached narration file."""
    path = Path(path)
    if not _NAME.match(path.name) or path.parent.resolve() != audio_folder().resolve():
        raise ValueError(f"{path} is not a narration file of the cache folder {audio_folder()}")
    return ROUTE_PREFIX + path.name


def file_for(name: str) -> Path | None:
    """The cached file for a requested name, or ``None`` (bad name or no such file)."""
    if not isinstance(name, str) or not _NAME.match(name):
        return None
    path = audio_folder() / name
    return path if path.is_file() else None


def add_route(web_app) -> None:
    """Register ``GET /audio/{name}`` on trame's aiohttp application."""
    from aiohttp import web

    async def serve_audio(request: web.Request) -> web.StreamResponse:
        path = file_for(request.match_info.get("name", ""))
        if path is None:
            raise web.HTTPNotFound(text="no such narration file")
        return web.FileResponse(path, headers={"Content-Type": "audio/wav",
                                               "Cache-Control": "public, max-age=86400"})

    web_app.router.add_get(ROUTE_PREFIX + "{name}", serve_audio)
