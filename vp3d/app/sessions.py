"""Many browser sessions in one process: each websocket gets its own app and state.

trame keeps one state per server, so every tab of a single-app server drives the same story.
Here each connection gets its own :class:`~vp3d.app.core.VertebroplastyApp` (trame's
``MultiClientServer`` pattern), while the heavy engine models are shared between sessions
that chose the same level, grade, type and procedure (they are read-only once built).
Each worker answers ``GET /healthz`` for the reverse proxy and the supervisor of ``vp3d
deploy``, takes sessions up to its cap and while its event loop keeps up
(:mod:`vp3d.app.admission`, :mod:`vp3d.app.loop_lag`), closes idle ones, and on SIGTERM drains: no new sessions, open ones go on up to a grace period, then it exits.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import os
import signal
import sys
import threading
import time
import uuid
import weakref
from collections import OrderedDict
from typing import Any, Callable

from trame.tools.serve import MultiClientServer

from vp3d import busy_page
from vp3d.app import audio, take_home
from vp3d.app.admission import READY, Admission, Limits
from vp3d.app.loop_lag import LoopLag

#: Engine models kept for reuse across sessions (each is a few hundred MB at most).
MODEL_CACHE_SIZE = 4
#: Requests that open a session: the page (``/`` redirects to ``/index.html``) and its websocket.
PAGE_PATHS = ("/", "/index.html")
#: Seconds a closing websocket waits for the browser's answer before it is dropped.
CLOSE_TIMEOUT_S = 5.0
#: Seconds after a session closes before its leftovers are collected (with any others closing).
COLLECT_AFTER_S = 1.0


def rss_mb() -> float:
    """Resident memory of this process, MB (Linux ``/proc``; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (OSError, ValueError, IndexError):
        return 0.0


def _trim_heap() -> None:
    """Give freed heap pages back to the system (glibc keeps them otherwise), so a server
    that has served many sessions does not look as big as its busiest moment."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _forget_server(server) -> None:
    """trame remembers the last server it built a page for (a module-level layout context),
    the last one it started (a class attribute of its protocol, and wslink's module-level
    server) and, in trame-vtk, a helper per server name; a closed session's server must stay
    in none of them."""
    from trame_client.widgets import core as widgets
    from trame_server.protocol import CoreServer

    ctx = getattr(widgets, "HTML_CTX", None)
    if ctx is not None and getattr(ctx, "_server", None) is server:
        ctx._server = None
    if getattr(CoreServer, "server", None) is server:
        CoreServer.server = None
    import wslink.server as wslink_server  # the last websocket server started, module-level

    if getattr(wslink_server, "ws_server", None) is getattr(server, "_server", object()):
        wslink_server.ws_server = None
    # trame-vtk keeps a helper per server name, holding the VTK objects sent to the page.
    try:
        from trame_vtk.modules import vtk as vtk_module
    except ImportError:
        return
    helper = getattr(vtk_module, "HELPERS_PER_SERVER", {}).pop(server.name, None)
    if helper is not None:
        # Its VTK application holds every object the page was sent: release it now, by
        # reference count, so their delete callbacks run here and not inside the cycle
        # collector (where trame-vtk's Python callbacks crash the process).
        helper._vtk_core = None
        getattr(helper, "_hybrid_views", {}).clear()


class SharedModels:
    """Build each choice's engine model once, for every session that asks for it.

    A bounded cache (``size`` models, least recently asked for dropped first): a model no
    session uses stays until newer choices push it out, so a kiosk or a class on one level
    never rebuilds it, and memory stays bounded whatever the number of sessions.
    """

    def __init__(self, factory: Callable[..., Any], size: int = MODEL_CACHE_SIZE):
        self._factory = factory
        self._size = size
        self._models: OrderedDict[Any, Any] = OrderedDict()
        self._locks: dict[Any, threading.Lock] = {}
        self._guard = threading.Lock()

    def __len__(self) -> int:
        return len(self._models)

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
    when asked for port 0, ``/status`` and ``/healthz`` routes, a session cap, idle closing,
    a drain on SIGTERM, and sessions that free what they hold when their browser goes (trame's
    own handler keeps every session's server registered)."""

    def __init__(self, make_app: Callable[[str], Any], *, max_msg_size: int = 20_000_000,
                 heartbeat: int = 30, models: SharedModels | None = None, limits: Limits | None = None,
                 beat_file: Any = None, lag_window_s: float | None = None):
        from aiohttp import web

        self._completion = None
        self.trame_app = make_app
        self.ws_options = dict(max_msg_size=max_msg_size, heartbeat=heartbeat, timeout=CLOSE_TIMEOUT_S)
        self.admission = Admission(limits or Limits())
        self.loop_lag = LoopLag(beat_file) if lag_window_s is None else LoopLag(beat_file, window_s=lag_window_s)

        @web.middleware
        async def admit(request, handler):  # a full or draining worker shows the busy page
            if request.method == "GET" and request.path in PAGE_PATHS:
                self._note_lag()
                if not self.admission.admits(self.sessions):
                    return self._busy()
            return await handler(request)

        self.web_server = web.Application(middlewares=[admit])
        self.web_server.router.add_route("GET", "/", self._index_handler)
        self.web_server.router.add_route("GET", "/status", self._status_handler)
        self.web_server.router.add_route("GET", "/healthz", self._health_handler)
        # The audio and take-home sheet routes go before the static catch-all at "/".
        audio.add_route(self.web_server)
        take_home.add_route(self.web_server)
        routes = [web.get("/ws", self._ws_handler)]
        www = self.trame_app("__www__").server
        for route in sorted(www.serve.keys(), reverse=True):
            routes.append(web.static(f"/{route}", www.serve[route], append_version=True))
        routes.append(web.static("/", www._www, append_version=True))
        self.web_server.add_routes(routes)
        self.sessions = 0
        self.closed = 0
        self.port: int | None = None
        self._models = models
        self._apps: weakref.WeakSet = weakref.WeakSet()  # apps not yet garbage-collected
        self._open: dict[Any, float] = {}  # open websockets -> when the browser last sent something
        self._draining: asyncio.Task | None = None
        self._collect_pending = False

    @staticmethod
    def _busy():
        from aiohttp import web

        return web.Response(status=503, text=busy_page.BUSY_HTML, content_type="text/html",
                            headers=busy_page.busy_headers())

    async def _ws_handler(self, request):
        from aiohttp import WSMsgType, web
        from trame.app.core import AVAILABLE_SERVERS

        self._note_lag()
        if not self.admission.admits(self.sessions):  # checked and counted with no await between
            return self._busy()
        name = uuid.uuid4().hex
        self.sessions += 1
        app = self.trame_app(name)
        self._apps.add(app)
        task = app.server.start(backend="generic", exec_mode="task")
        connection = None
        ws = web.WebSocketResponse(**self.ws_options)
        try:
            await app.server.ready

            async def to_browser(binary, content):
                await (ws.send_bytes(content) if binary else ws.send_str(content))

            await ws.prepare(request)
            self._open[ws] = time.monotonic()
            connection = await app.server._server.ws.connect()
            connection.on_message(to_browser)
            async for msg in ws:
                self._open[ws] = time.monotonic()
                await connection.send(msg.type == WSMsgType.BINARY, msg)
        finally:
            self._open.pop(ws, None)
            try:
                if connection is not None:
                    await connection.close()
                await app.server.stop()
                await task
            finally:
                # Everything the session held goes: its tasks, workers, scene, state and the
                # registry entry trame keeps for every named server.
                close = getattr(app, "close", None)
                if close is not None:
                    close()
                AVAILABLE_SERVERS.pop(name, None)
                _forget_server(app.server)
                del app, task, connection
                # One collection for the sessions closing together, a moment later: a full
                # collection takes 0.1-0.2 s of the loop with many sessions open, once per close
                # that was seconds when a crowd left (and longer than the stop allows).
                self._collect_soon()
                self.sessions -= 1
                self.closed += 1
        return ws

    def _note_lag(self) -> None:
        """Tell the admission how late the loop runs; say so when that makes it busy or not."""
        was = self.admission.busy
        self.admission.note_lag(self.loop_lag.lag_s)
        if self.admission.busy != was:
            lag_ms = self.loop_lag.lag_s * 1e3
            print(f"vp3d: busy: the event loop runs {lag_ms:.0f} ms late with {self.sessions} session(s); "
                  f"new visitors get the busy page" if self.admission.busy else
                  f"vp3d: ready again: the event loop runs {lag_ms:.0f} ms late", file=sys.stderr, flush=True)

    def _collect_soon(self) -> None:
        """Collect closed sessions' cycles and give their memory back, once, within a second."""
        if not self._collect_pending:
            self._collect_pending = True
            asyncio.get_running_loop().call_later(COLLECT_AFTER_S, self._collect)

    def _collect(self) -> None:
        self._collect_pending = False
        gc.collect()
        _trim_heap()

    def status(self) -> dict:
        """Live sessions, sessions closed, apps and trame servers still in memory, engine
        models cached and the process's resident memory (MB). Collects first: the last
        references to a closed session's app go with its handler, after its own collection."""
        from trame.app.core import AVAILABLE_SERVERS

        gc.collect()
        return {"sessions": self.sessions, "closed": self.closed, "apps_in_memory": len(self._apps),
                "trame_servers": sum(1 for n in AVAILABLE_SERVERS if n != "__www__"),
                "models_cached": 0 if self._models is None else len(self._models),
                "rss_mb": round(rss_mb(), 1)}

    async def _status_handler(self, request):
        from aiohttp import web

        return web.json_response(self.status())

    def health(self) -> dict:
        """What the proxy and the supervisor ask: which worker, its pid, open sessions and the
        cap, resident memory (MB), the event loop's smoothed lag (ms) and whether it takes new
        sessions (ready, full, busy or draining)."""
        self._note_lag()
        return {"worker": self.admission.limits.worker_id, "pid": os.getpid(),
                "state": self.admission.state(self.sessions), "sessions": self.sessions,
                "max_sessions": self.admission.limits.max_sessions, "rss_mb": round(rss_mb(), 1),
                "loop_lag_ms": round(self.loop_lag.lag_s * 1e3, 1)}

    async def _health_handler(self, request):
        from aiohttp import web

        health = self.health()  # 503 unless ready: the proxy sends new visitors elsewhere
        return web.json_response(health, status=200 if health["state"] == READY else 503,
                                 headers={"Cache-Control": "no-store"})

    async def _close(self, reason: str, sockets) -> None:
        """Close these websockets (the page shows its connection as lost), all at once."""
        from aiohttp import WSCloseCode

        await asyncio.gather(*(ws.close(code=WSCloseCode.GOING_AWAY, message=reason.encode())
                               for ws in list(sockets)), return_exceptions=True)

    async def _close_idle(self, limit_s: float) -> None:
        """Close, every few seconds, the sessions whose browser sent nothing for ``limit_s``."""
        while True:
            await asyncio.sleep(min(max(limit_s / 4, 0.5), 30.0))
            now = time.monotonic()
            idle = [ws for ws, last in self._open.items() if self.admission.idle(now - last)]
            if idle:
                print(f"vp3d: closing {len(idle)} session(s) idle for {limit_s:g} s", file=sys.stderr, flush=True)
                await self._close("idle", idle)

    def drain(self) -> None:
        """Stop taking sessions, let open ones go on up to the grace period, then stop (SIGTERM)."""
        if self._draining is None:
            self._draining = asyncio.ensure_future(self._drain())

    async def _drain(self) -> None:
        grace_s = self.admission.limits.drain_grace_s
        self.admission.draining = True
        print(f"vp3d: draining: {self.sessions} open session(s), up to {grace_s:g} s", file=sys.stderr, flush=True)
        loop = asyncio.get_running_loop()
        end = loop.time() + grace_s
        while self.sessions and loop.time() < end:
            await asyncio.sleep(0.2)
        if self._open:
            print(f"vp3d: grace period over, closing {len(self._open)} session(s)", file=sys.stderr, flush=True)
        await self._close("server restarting", self._open)
        end = loop.time() + 2 * CLOSE_TIMEOUT_S
        while self.sessions and loop.time() < end:  # sessions still building their app
            await asyncio.sleep(0.2)
        self.stop()

    def stop(self) -> None:
        if self._completion is not None and not self._completion.done():
            self._completion.set_result(True)

    async def run(self, host: str = "localhost", port: int = 8080,
                  on_ready: Callable[[int], None] | None = None) -> None:
        """Serve until stopped: SIGINT (Ctrl+C) stops at once, SIGTERM drains first."""
        from aiohttp import web

        loop = asyncio.get_running_loop()
        self._completion = loop.create_future()
        runner = web.AppRunner(self.web_server, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        loop.add_signal_handler(signal.SIGINT, self.stop)
        loop.add_signal_handler(signal.SIGTERM, self.drain)
        limit_s = self.admission.limits.idle_timeout_s
        sweeper = asyncio.ensure_future(self._close_idle(limit_s)) if limit_s is not None else None
        ticker = asyncio.ensure_future(self.loop_lag.run())
        if on_ready is not None:
            on_ready(self.port)
        try:
            await self._completion
        finally:
            ticker.cancel()
            if sweeper is not None:
                sweeper.cancel()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
            await self._close("server stopping", self._open)
            await runner.cleanup()
