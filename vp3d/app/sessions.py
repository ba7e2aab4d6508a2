"""Many browser sessions in one process: each websocket gets its own app and state.

trame keeps one state per server, so every tab of a single-app server drives the same story.
Here each connection gets its own :class:`~vp3d.app.core.VertebroplastyApp` (trame's
``MultiClientServer`` pattern), while the heavy engine models are shared between sessions
that chose the same level, grade, type and procedure (they are read-only once built).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Callable

from trame.tools.serve import MultiClientServer

from vp3d.app import audio

#: Engine models kept for reuse across sessions (each is a few hundred MB at most).
MODEL_CACHE_SIZE = 4


class SharedModels:
    """Build each choice's engine model once, for every session that asks for it."""

    def __init__(self, factory: Callable[..., Any], size: int = MODEL_CACHE_SIZE):
        self._factory = factory
        self._size = size
        self._models: OrderedDict[Any, Any] = OrderedDict()
        self._locks: dict[Any, threading.Lock] = {}
        self._guard = threading.Lock()

    def __call__(self, choices, progress=None):
        key = choices
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:  # a second session asking for the same model waits for the first build
            with self._guard:
                if key in self._models:
                    self._models.move_to_end(key)
                    if progress is not None:
                        progress(1.0, "Ready")
                    return self._models[key]
            model = self._factory(choices, progress=progress)
            with self._guard:
                self._models[key] = model
                while len(self._models) > self._size:
                    self._models.popitem(last=False)
            return model


class SessionServer(MultiClientServer):
    """trame's one-app-per-connection server, with the narration audio route, a real port
    when asked for port 0, and a count of live sessions."""

    def __init__(self, make_app: Callable[[str], Any], *, max_msg_size: int = 20_000_000,
                 heartbeat: int = 30):
        from aiohttp import web

        self._completion = None
        self.trame_app = make_app
        self.ws_options = dict(max_msg_size=max_msg_size, heartbeat=heartbeat)
        self.web_server = web.Application()
        self.web_server.router.add_route("GET", "/", self._index_handler)
        # The audio route goes before the static catch-all at "/".
        audio.add_route(self.web_server)
        routes = [web.get("/ws", self._ws_handler)]
        www = self.trame_app("__www__").server
        for route in sorted(www.serve.keys(), reverse=True):
            routes.append(web.static(f"/{route}", www.serve[route], append_version=True))
        routes.append(web.static("/", www._www, append_version=True))
        self.web_server.add_routes(routes)
        self.sessions = 0
        self.port: int | None = None

    async def _ws_handler(self, request):
        self.sessions += 1
        try:
            return await super()._ws_handler(request)
        finally:
            self.sessions -= 1

    async def run(self, host: str = "localhost", port: int = 8080,
                  on_ready: Callable[[int], None] | None = None) -> None:
        import asyncio

        from aiohttp import web

        self._completion = asyncio.get_event_loop().create_future()
        runner = web.AppRunner(self.web_server, handle_signals=True)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        if on_ready is not None:
            on_ready(self.port)
        try:
            await self._completion
        finally:
            await runner.cleanup()
