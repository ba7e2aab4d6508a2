"""The ``vp3d`` command: ``serve``, ``deploy``, ``build-meshes``, ``build-narration``, ``render``,
``radiographs`` and ``handout``.

Bad input (an unknown level, a bad view) prints one line to stderr and exits with 2. Options
are checked as argparse reads them, by the project's one value checker (:mod:`vp3d.checks`), so
a level, a grade or a fracture type means the same here as on the page.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable, NoReturn

from vp3d.checks import (
    check_audience,
    check_bone_quality,
    check_grade,
    check_kind,
    check_lang,
    check_level,
    check_option,
    check_procedure,
    check_procedure_level,
    in_words,
)
from vp3d.capacity import default_workers
from vp3d.handout.options import check_paper
from vp3d.levels import LEVELS, PROCEDURE_LEVELS, span
from vp3d.meshing.views import RENDER_VIEWS

#: Most workers ``vp3d deploy`` starts on one machine.
MAX_WORKERS = 256


class _OneLineParser(argparse.ArgumentParser):
    """An argument parser whose every refusal is one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"vp3d: error: {' '.join(message.split())}\n")

    def _check_value(self, action, value):  # the choices in words, not as a Python list
        if action.choices is not None and value not in action.choices:
            raise argparse.ArgumentError(action, f"must be one of {in_words(action.choices)}, got {value!r}")


def _option(check: Callable[[str], object]) -> Callable[[str], object]:
    """An argparse ``type=`` running ``check``; its ``ValueError`` becomes argparse's one-line error."""

    def convert(text: str):
        try:
            return check(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = check.__name__
    return convert


def _view(text: str) -> str:
    return check_option("view", text, tuple(RENDER_VIEWS))


_MODEL = span(LEVELS)
_PROCEDURE = span(PROCEDURE_LEVELS)


def _parser() -> argparse.ArgumentParser:
    p = _OneLineParser(prog="vp3d", description="Vertebroplasty in 3D: a teaching app.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND",
                           help="serve, deploy, build-meshes, build-narration, render, radiographs or handout")

    s = sub.add_parser("serve", help="start the web app on the default scene")
    s.add_argument("--host", default="localhost", help="interface to listen on (default localhost)")
    s.add_argument("--port", type=_option(_port), default="8080",
                   help="TCP port 1-65535, or 0 for any free one (default 8080)")
    s.add_argument("--server", action="store_true", help="do not open a browser")
    s.add_argument("--shared", action="store_true",
                   help="one story for every tab (default: each browser session has its own)")
    _story_options(s)
    _limit_options(s)
    s.add_argument("--worker-id", type=_option(_count("--worker-id", 0, 10_000)), default=None,
                   help="the number this server reports on /healthz (vp3d deploy sets it)")
    s.add_argument("--heartbeat", type=Path, default=None, metavar="FILE",
                   help="touch FILE each time the event loop turns (vp3d deploy watches it)")

    d = sub.add_parser("deploy", help="serve many visitors: N workers behind HAProxy on one machine")
    d.add_argument("--workers", type=_option(_count("--workers", 1, MAX_WORKERS)), default=None,
                   help=f"worker processes, 1-{MAX_WORKERS} (default: one per core, here {default_workers()})")
    d.add_argument("--host", default="localhost",
                   help="interface the proxy listens on (default localhost; 0.0.0.0 for every one)")
    d.add_argument("--port", type=_option(_port), default="8080",
                   help="the proxy's TCP port 1-65535, or 0 for any free one (default 8080)")
    d.add_argument("--haproxy", default=None,
                   help="the HAProxy program (default: haproxy on PATH, else /usr/sbin/haproxy)")
    _story_options(d)
    _limit_options(d)

    b = sub.add_parser("build-meshes", help="generate the browser meshes into meshes/")
    b.add_argument("--top", type=_option(check_level), default="T10",
                   help=f"highest level, {_MODEL} (default T10)")
    b.add_argument("--bottom", type=_option(check_level), default="L5",
                   help=f"lowest level, {_MODEL} (default L5)")
    b.add_argument("--out", default=None, help="cache folder (default: meshes/)")

    n = sub.add_parser("build-narration",
                       help="speak every story step's narration into the narration cache (espeak-ng)")
    n.add_argument("--level", type=_option(check_procedure_level), action="append", default=None,
                   help=f"only this level, {_PROCEDURE} (repeat for more; default every level)")

    r = sub.add_parser("render", help="render a PNG offscreen")
    r.add_argument("--top", type=_option(check_level), default="T10",
                   help=f"highest level, {_MODEL} (default T10)")
    r.add_argument("--bottom", type=_option(check_level), default="L5",
                   help=f"lowest level, {_MODEL} (default L5)")
    r.add_argument("--highlight", type=_option(check_level), default=None,
                   help="a level of the range from --top to --bottom, shown in colour")
    r.add_argument("--view", type=_option(_view), default="lateral",
                   help=f"where the camera looks from: {', '.join(RENDER_VIEWS)} (default lateral)")
    r.add_argument("--bones-only", action="store_true", help="vertebrae only (no discs, sac)")
    r.add_argument("--body", action="store_true",
                   help="also the body around the spine, faint (ribs, pelvis, lungs, organs)")
    r.add_argument("--skin", action="store_true", help="show the skin, translucent")
    r.add_argument("--size", type=_option(_size), default="1200x900",
                   help="WIDTHxHEIGHT in pixels, 64-4096 each (default 1200x900)")
    r.add_argument("--out", required=True, help="PNG file to write")

    f = sub.add_parser("radiographs", help="AP and lateral fluoroscopy of the procedure, as one PNG")
    f.add_argument("--level", type=_option(check_procedure_level), default="L1",
                   help=f"treated level, {_PROCEDURE} (default L1)")
    f.add_argument("--grade", type=_option(check_grade), default="2",
                   help="Genant grade, 1, 2 or 3 (default 2)")
    f.add_argument("--kind", type=_option(check_kind), default="wedge",
                   help="fracture type: wedge, biconcave or crush (default wedge)")
    f.add_argument("--bone", type=_option(check_bone_quality), default="osteoporotic",
                   help="bone quality: normal or osteoporotic (default osteoporotic)")
    f.add_argument("--out", required=True, help="PNG file to write")

    h = sub.add_parser("handout", help="the patient's take-home sheet for one choice, as a PDF")
    _case_options(h, "treated level")
    h.add_argument("--lang", type=_option(check_lang), default="en",
                   help="language of the sheet: en or es (default en)")
    h.add_argument("--paper", type=_option(check_paper), default="a4",
                   help="paper size: a4 or letter (default a4)")
    h.add_argument("--out", required=True, help="PDF file to write")
    return p


def _case_options(p: argparse.ArgumentParser, level_help: str) -> None:
    """One patient's case: level, grade, fracture type and procedure (``serve``, ``deploy``,
    ``handout``)."""
    p.add_argument("--level", type=_option(check_procedure_level), default="L1",
                   help=f"{level_help}, {_PROCEDURE} (default L1)")
    p.add_argument("--grade", type=_option(check_grade), default="2",
                   help="Genant grade, 1, 2 or 3 (default 2)")
    p.add_argument("--kind", type=_option(check_kind), default="wedge",
                   help="fracture type: wedge, biconcave or crush (default wedge)")
    p.add_argument("--procedure", type=_option(check_procedure), default="vertebroplasty",
                   help="vertebroplasty or kyphoplasty (default vertebroplasty)")


def _story_options(p: argparse.ArgumentParser) -> None:
    """What a new session opens on, and the kiosk: the same for ``serve`` and ``deploy``."""
    _case_options(p, "level a new session opens on")
    p.add_argument("--audience", type=_option(check_audience), default="patient",
                   help="patient, student or kiosk (default patient)")
    p.add_argument("--lang", type=_option(check_lang), default="en",
                   help="language of a new session's page and patient story: en or es (default en)")
    p.add_argument("--kiosk", action="store_true",
                   help="outreach kiosk: the story plays on a loop with narration, no choices")


def _limit_options(p: argparse.ArgumentParser) -> None:
    """A server's limits (:class:`vp3d.app.admission.Limits`): cap, idle closing, drain."""
    p.add_argument("--max-sessions", type=_option(_count("--max-sessions", 1, 100_000)), default=None,
                   help="open sessions one server takes before new visitors get a 'busy' page "
                        "(default: what the memory available holds, see the README)")
    p.add_argument("--idle-timeout", type=_option(_seconds("--idle-timeout")), default="1800",
                   help="close a session nobody has touched for this many seconds; 0 never "
                        "(default 1800; the kiosk never)")
    p.add_argument("--drain-grace", type=_option(_seconds("--drain-grace")), default="60",
                   help="on SIGTERM, seconds open sessions may go on before the server exits (default 60)")
    p.add_argument("--busy-lag", type=_option(_seconds("--busy-lag")), default="1",
                   help="take no new session while the server's event loop runs this many seconds "
                        "late, smoothed over 5 s (it is overloaded); 0 never (default 1)")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line read and its options checked; a bad one exits 2 with one line on stderr."""
    return _parser().parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if hasattr(args, "top") and LEVELS.index(args.top) > LEVELS.index(args.bottom):
            raise ValueError(f"--top {args.top} must be above --bottom {args.bottom}")
        if getattr(args, "highlight", None) is not None and not (
                LEVELS.index(args.top) <= LEVELS.index(args.highlight) <= LEVELS.index(args.bottom)):
            raise ValueError(f"--highlight {args.highlight} is outside --top {args.top} to --bottom "
                             f"{args.bottom}, the levels rendered")
        if getattr(args, "out", None) is not None:
            _check_out(args.out, folder=args.command == "build-meshes",
                       kind="PDF" if args.command == "handout" else "PNG")
        if args.command == "serve":
            from vp3d.app.main import serve

            _check_listen(args.host, args.port)
            if args.heartbeat is not None and not args.heartbeat.parent.is_dir():
                raise ValueError(f"--heartbeat {args.heartbeat}: the folder {args.heartbeat.parent} does not exist")
            serve(args.host, args.port, open_browser=not args.server, kiosk=args.kiosk, shared=args.shared,
                  level=args.level, grade=args.grade, kind=args.kind, procedure=args.procedure,
                  audience=args.audience, lang=args.lang, max_sessions=_max_sessions(args, 1),
                  idle_timeout_s=args.idle_timeout or None, drain_grace_s=args.drain_grace,
                  busy_lag_s=args.busy_lag or None, worker_id=args.worker_id, beat_file=args.heartbeat)
        elif args.command == "deploy":
            return _deploy(args)
        elif args.command == "build-meshes":
            from vp3d.meshing.cache import build_scene_meshes, scene_dir

            parts = build_scene_meshes(args.top, args.bottom, args.out)
            tris = sum(p.mesh.n_cells for p in parts)
            print(f"{len(parts)} meshes, {tris} triangles -> {scene_dir(args.top, args.bottom, args.out)}")
        elif args.command == "build-narration":
            from vp3d.checks import GRADES, KINDS, PROCEDURES
            from vp3d.storyboard.prebuild import build_narration, narration_texts
            from vp3d.storyboard.speech import NarrationAudioError, cache_dir

            texts = narration_texts(args.level or PROCEDURE_LEVELS, GRADES, KINDS, PROCEDURES)
            try:
                paths = build_narration(texts)
            except NarrationAudioError as exc:
                raise ValueError(str(exc)) from None
            print(f"{len(paths)} narrations, {sum(p.stat().st_size for p in paths) / 1e6:.0f} MB "
                  f"-> {cache_dir()}")
        elif args.command == "render":
            from vp3d.meshing.cache import load_scene_meshes
            from vp3d.meshing.render import render_scene

            parts = load_scene_meshes(args.top, args.bottom)
            if args.bones_only:
                parts = [p for p in parts if p.kind == "vertebra"]
            render_scene(parts, args.out, view=args.view, highlight=args.highlight,
                         size=args.size, show_skin=args.skin, show_body=args.body)
            print(args.out)
        elif args.command == "radiographs":
            from vp3d.procedure.sheet import contact_sheet, procedure_frames

            frames = procedure_frames(args.level, args.grade, args.kind, bone_quality=args.bone)
            contact_sheet(frames, args.out)
            for fr in frames:
                print(fr.caption)
            print(args.out)
        elif args.command == "handout":
            from vp3d.handout.pdf import SheetChoice, write_handout

            print(write_handout(SheetChoice(args.level, args.grade, args.kind, args.procedure,
                                            args.lang, args.paper), args.out))
    except ValueError as exc:
        print(f"vp3d: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a file system refusal the checks above could not foresee
        print(f"vp3d: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


def _port(text: str) -> int:
    """``--port``: 0 (any free port) or 1-65535."""
    try:
        port = int(str(text).strip())
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise ValueError(f"must be a whole number from 1 to 65535, or 0 for any free port; got {text!r}")
    return port


def _count(label: str, low: int, high: int) -> Callable[[str], int]:
    """An argparse check of a whole number from ``low`` to ``high``."""

    def check(text: str) -> int:
        try:
            value = int(str(text).strip())
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            raise ValueError(f"must be a whole number from {low} to {high}, got {text!r}")
        return value

    check.__name__ = label.lstrip("-").replace("-", "_")
    return check


def _seconds(label: str) -> Callable[[str], float]:
    """An argparse check of a number of seconds, 0 or more (and finite)."""

    def check(text: str) -> float:
        try:
            value = float(str(text).strip())
        except ValueError:
            value = -1.0
        if not (0 <= value < float("inf")):
            raise ValueError(f"must be a number of seconds, 0 or more, got {text!r}")
        return value

    check.__name__ = label.lstrip("-").replace("-", "_")
    return check


def _max_sessions(args: argparse.Namespace, workers: int) -> int:
    """``--max-sessions``, or by default what each of ``workers`` servers' share of memory holds."""
    from vp3d.capacity import available_mb, sessions_that_fit

    return args.max_sessions or sessions_that_fit(available_mb(), workers)


def _deploy(args: argparse.Namespace) -> int:
    """``vp3d deploy``: everything checked first (port, HAProxy), then the supervisor runs."""
    from pathlib import Path

    from vp3d.capacity import available_mb, workers_that_fit
    from vp3d.deploy import haproxy
    from vp3d.deploy.supervisor import Plan, deploy

    address, port = _check_listen(args.host, args.port)
    binary = haproxy.find(args.haproxy)
    haproxy.version(binary)
    workers = args.workers or default_workers()
    story = ["--level", args.level, "--grade", str(args.grade), "--kind", args.kind,
             "--procedure", args.procedure, "--audience", args.audience,
             "--lang", args.lang] + (["--kiosk"] if args.kiosk else [])
    plan = Plan(workers=workers, host=address, port=port, haproxy=Path(binary),
                max_sessions=_max_sessions(args, workers), idle_timeout_s=args.idle_timeout or None,
                drain_grace_s=args.drain_grace, busy_lag_s=args.busy_lag or None, story_args=tuple(story))
    memory = available_mb()
    if not args.max_sessions:
        print(f"vp3d: {plan.max_sessions} session(s) per worker fit the {memory:.0f} MB available "
              f"(--max-sessions sets another cap)", file=sys.stderr, flush=True)
    fit = workers_that_fit(memory, 1)
    if fit < workers:
        print(f"vp3d: warning: {workers} workers with their models need more than the {memory:.0f} MB "
              f"available; {max(fit, 1)} would fit (--workers)", file=sys.stderr, flush=True)
    return deploy(plan)


def _check_listen(host: str, port: int) -> tuple[str, int]:
    """The host names an address of this machine and the port is free on it: that address
    and the port (a free one when ``port`` is 0)."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise ValueError(f"--host {host!r} is not an address or name this machine can listen on") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            if port and exc.errno in (98, 48):  # EADDRINUSE (Linux, macOS)
                raise ValueError(f"port {port} on {host} is in use; pick another with --port, or 0 for any") from None
            raise ValueError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        return address[0], sock.getsockname()[1]


def _check_out(path: str, *, folder: bool, kind: str = "PNG") -> None:
    """Before any work: an output file's folder exists and is writable and the name is not a
    folder; an output folder is not an existing file and can be made."""
    from pathlib import Path

    out = Path(path)
    if folder:
        if out.exists() and not out.is_dir():
            raise ValueError(f"--out {path} is a file; name a folder for the meshes")
        # The folder itself, or the nearest existing folder it will be made in.
        parent = out if out.exists() else next((p for p in out.parents if p.exists()), Path("."))
    else:
        if out.is_dir():
            raise ValueError(f"--out {path} is a folder; name a {kind} file inside it")
        parent = out.parent if str(out.parent) else Path(".")
        if not parent.is_dir():
            raise ValueError(f"--out {path}: the folder {parent} does not exist")
    import tempfile

    try:  # permissions alone do not tell (root on a read-only or special file system)
        with tempfile.TemporaryFile(dir=parent):
            pass
    except OSError:
        raise ValueError(f"--out {path}: the folder {parent} is not writable") from None


def _size(text: str) -> tuple[int, int]:
    """``--size``: ``WIDTHxHEIGHT``, 64 to 4096 pixels each."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"must look like 1200x900, got {text!r}") from None
    if not (64 <= w <= 4096 and 64 <= h <= 4096):
        raise ValueError(f"must be between 64 and 4096 pixels per side, got {text!r}")
    return w, h


if __name__ == "__main__":
    raise SystemExit(main())
