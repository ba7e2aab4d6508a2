"""Start the vp3d web server (``vp3d serve``)."""

from __future__ import annotations

import os
import sys
from typing import Any

from trame.app import get_server

from vp3d.app import narration_prebuild
from vp3d.app.core import VertebroplastyApp

SERVER_NAME = "vp3d"


def _display_url(host: str, port: int) -> str:
    shown = "localhost" if host in ("", "0.0.0.0", "::") else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


#: Environment overrides of the story clock (tests and demos run the kiosk loop faster).
ENV_OPTIONS = {"VP3D_PLAY_SPEED": "play_speed", "VP3D_KIOSK_IDLE_S": "idle_s", "VP3D_TICK_S": "tick_s"}
APP_KEYS = ("level", "grade", "kind", "procedure", "audience", "lang", "kiosk", "play_speed", "idle_s",
            "tick_s", "model_factory", "build_now")
#: The options that choose the story whose narration is made in the background at start.
PREBUILD_KEYS = ("procedure", "level", "grade", "kind", "audience")
#: Options of the worker's limits (:class:`vp3d.app.admission.Limits`), for per-session serving.
LIMIT_KEYS = ("max_sessions", "idle_timeout_s", "drain_grace_s", "busy_lag_s", "worker_id")


#: Seconds over which a worker's event-loop lag is smoothed (default
#: :data:`vp3d.app.loop_lag.WINDOW_S`); tests shorten it to see a worker recover sooner.
LAG_WINDOW_ENV = "VP3D_LAG_WINDOW_S"


def _env_seconds(env: str) -> float | None:
    """A positive number of seconds from the environment variable ``env``, or ``None``."""
    text = os.environ.get(env)
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{env} must be a number, got {text!r}") from None
    if not (value > 0 and value < float("inf")):
        raise ValueError(f"{env} must be above 0, got {text!r}")
    return value


def _env_options() -> dict[str, float]:
    return {key: value for env, key in ENV_OPTIONS.items() if (value := _env_seconds(env)) is not None}


def serve(
    host: str = "localhost", port: int = 8080, open_browser: bool = True, **kwargs: Any
) -> None:
    """Serve the story page (L1, grade 2 wedge, vertebroplasty, patient) until interrupted.

    Blocks. Prints ``vp3d running at http://HOST:PORT/`` once the server listens.

    Parameters
    ----------
    host : str
        Interface to listen on (``"0.0.0.0"`` for all).
    port : int
        TCP port; ``0`` picks a free one (the printed URL names it).
    open_browser : bool
        Open the system browser on the page once the server is up.
    **kwargs
        Passed to :class:`~vp3d.app.core.VertebroplastyApp` when they are its options
        (``level``, ``grade``, ``kind``, ``procedure``, ``audience``, ``lang``, ``kiosk``, ``play_speed``,
        ``idle_s``, ``tick_s``, ``model_factory``, ``build_now``), else to trame's
        ``server.start``. ``VP3D_PLAY_SPEED``, ``VP3D_KIOSK_IDLE_S`` and ``VP3D_TICK_S`` in the
        environment set the story clock (keyword arguments win). ``max_sessions``,
        ``idle_timeout_s``, ``drain_grace_s``, ``busy_lag_s`` and ``worker_id`` set the limits of
        a per-session server (:class:`~vp3d.app.admission.Limits`); the kiosk never closes
        a session for idling. ``beat_file``: a file its event loop touches as it turns;
        ``VP3D_LAG_WINDOW_S``: the seconds its lag is smoothed over (default 5).
    """
    if not os.environ.get("DISPLAY"):
        # The server never draws (the browser renders with vtk.js) but VTK still creates a
        # render window; without a display, make it EGL rather than a failing X window.
        os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
    app_options = {**_env_options(), **{key: kwargs.pop(key) for key in APP_KEYS if key in kwargs}}
    prebuild = {key: app_options[key] for key in PREBUILD_KEYS if key in app_options}
    if app_options.get("audience") != "student" or app_options.get("kiosk"):
        prebuild["lang"] = app_options.get("lang", "en")  # students' narration is English
    limits = {key: kwargs.pop(key) for key in LIMIT_KEYS if key in kwargs}
    beat_file = kwargs.pop("beat_file", None)
    if limits.get("worker_id") in (None, 0, 1):  # under vp3d deploy, one worker makes it for all
        narration_prebuild.start(**prebuild)
    if kwargs.pop("shared", False) is False:
        _serve_sessions(host, port, open_browser, app_options, limits, beat_file)
        return
    server = get_server(SERVER_NAME, client_type="vue3")
    app = VertebroplastyApp(server, **app_options)

    def announce(**_: Any) -> None:
        print(f"vp3d running at {_display_url(host, app.server.port)}", flush=True)

    app.ctrl.on_server_ready.add(announce)
    print("vp3d: starting the server (Ctrl+C to stop)", file=sys.stderr, flush=True)
    app.server.start(
        host=host,
        port=port,
        open_browser=open_browser,
        show_connection_info=False,
        # trame stops the process when the last browser tab closes unless the idle
        # timeout is disabled; a teaching server must keep running between visitors.
        timeout=0,
        **kwargs,
    )


def _serve_sessions(host: str, port: int, open_browser: bool, app_options: dict, limits: dict,
                    beat_file=None) -> None:
    """One app (and state) per browser session, engine models shared by choice."""
    import asyncio
    import webbrowser

    from vp3d.app.admission import Limits
    from vp3d.app.core import _default_model_factory
    from vp3d.app.sessions import SessionServer, SharedModels

    if app_options.get("kiosk"):  # the kiosk plays on its own: never idle
        limits["idle_timeout_s"] = None
    limits = Limits(**limits)

    models = SharedModels(app_options.pop("model_factory", None) or _default_model_factory)

    def make_app(name: str) -> VertebroplastyApp:
        return VertebroplastyApp(get_server(name, client_type="vue3"), model_factory=models,
                                 **app_options)

    web = SessionServer(make_app, models=models, limits=limits, beat_file=beat_file,
                        lag_window_s=_env_seconds(LAG_WINDOW_ENV))

    def ready(actual_port: int) -> None:
        url = _display_url(host, actual_port)
        print(f"vp3d running at {url}", flush=True)
        if open_browser:
            webbrowser.open(url)

    print("vp3d: starting the server (Ctrl+C to stop)", file=sys.stderr, flush=True)
    try:
        asyncio.run(web.run(host, port, on_ready=ready))
    except KeyboardInterrupt:  # before the server's own Ctrl+C handler is in place
        pass

