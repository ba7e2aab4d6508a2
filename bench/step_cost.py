"""Server CPU per story step and per practice move, and where it goes (cProfile).

Builds the real engine model once (``FLUORO_ROWS`` images, as the server does), then two
sessions' apps in this process on that one shared model, as the server's sessions share it.
The first session walks the whole story once (``next_step`` through every step), the second
walks it again (what a second student on the same choice costs); then each does practice
moves of 5 mm in and out. Each view update describes the 3-D scene for the browser as the
server does for a page whose view shows its scene (``vp3d.app.scene_sync``: a delta only, the
session's mesh cache) or, with ``--as-trame-vtk``, as trame-vtk does by itself (the delta and
the full scene, every mesh described again).
Prints the CPU ms per action (process time, so other work on the
machine does not inflate it) and the top functions by cumulative and own time.

    .venv/bin/python bench/step_cost.py [--top 15] [--moves 12] [--as-trame-vtk]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import itertools
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

_names = itertools.count()


def describe_scene_like_a_page(app, as_trame_vtk: bool) -> None:
    """Make the app's view updates describe its scene as the server does for a connected page."""
    from trame_vtk.modules.vtk.serializers import SynchronizationContext, initialize_serializers, serialize

    from vp3d.app import scene_sync

    context = SynchronizationContext()
    initialize_serializers()  # as each session's rendering protocol does when it starts

    def update(**_kwargs):
        if as_trame_vtk:
            initialize_serializers()
        else:
            scene_sync.install()
        for full in ((False, True) if as_trame_vtk else (False,)):  # the delta (then the full scene)
            context.set_ignore_last_dependencies(full)
            serialize(None, app.render_window, "view", context, 1)
            context.set_ignore_last_dependencies(False)
            context.check_for_arrays_to_release()

    app.ctrl.view_update = update


def make_app(factory, query: str, as_trame_vtk: bool = False):
    from trame.app import get_server

    from vp3d.app.core import VertebroplastyApp

    server = get_server(f"vp3d-cost-{next(_names)}", client_type="vue3")
    app = VertebroplastyApp(server, model_factory=factory, build_now=True)
    describe_scene_like_a_page(app, as_trame_vtk)
    app.state.ready()
    app.apply_url(query)
    return app


def walk_story(app) -> int:
    n = int(app.state.step_count)
    app.go_step(0)
    for _ in range(n - 1):
        app.next_step()
    return n - 1


def practise(app, moves: int) -> int:
    done, depth = 0, 0.0
    going_in = True
    for _ in range(moves):
        if depth + 5 > 60:
            going_in = False
        elif depth - 5 < 0:
            going_in = True
        step = 5.0 if going_in else -5.0
        app.practice.practice_advance(step)
        depth += step
        done += 1
    return done


def timed(label: str, fn, *args, profile: cProfile.Profile | None = None) -> float:
    t0 = time.process_time()
    if profile is not None:
        profile.enable()
    count = fn(*args)
    if profile is not None:
        profile.disable()
    ms = (time.process_time() - t0) * 1e3 / max(count, 1)
    print(f"{label:<52} {count:>3} actions  {ms:7.1f} CPU ms each")
    return ms


def top(profile: cProfile.Profile, sort: str, n: int) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.strip_dirs().sort_stats(sort).print_stats(n)
    lines = out.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
    return "\n".join(lines[start:start + n + 1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--moves", type=int, default=12)
    parser.add_argument("--as-trame-vtk", action="store_true",
                        help="describe the whole scene twice per update, every mesh again (trame-vtk as it comes)")
    args = parser.parse_args(argv)

    from vp3d.app.core import _default_model_factory

    models: dict = {}
    plain = args.as_trame_vtk

    def factory(choices, progress=None):  # one model per choice, shared like SharedModels
        if choices not in models:
            models[choices] = _default_model_factory(choices, progress=progress)
        return models[choices]

    t0 = time.perf_counter()
    first = make_app(factory, "?audience=student", plain)
    print(f"model built in {time.perf_counter() - t0:.1f} s")
    second = make_app(factory, "?audience=student", plain)
    story_profile, practice_profile = cProfile.Profile(), cProfile.Profile()
    timed("story, first session (cold caches)", walk_story, first)
    timed("story, second session, same choice", walk_story, second, profile=story_profile)
    timed("story, first session again", walk_story, first)
    p1 = make_app(factory, "?audience=student&mode=practice", plain)
    p2 = make_app(factory, "?audience=student&mode=practice", plain)
    timed("practice 5 mm moves, first session", practise, p1, args.moves)
    timed("practice 5 mm moves, second session, same moves", practise, p2, args.moves,
          profile=practice_profile)
    for label, profile in (("story steps (second session)", story_profile),
                           ("practice moves (second session)", practice_profile)):
        print(f"\n--- {label}: top {args.top} by cumulative time")
        print(top(profile, "cumulative", args.top))
        print(f"\n--- {label}: top {args.top} by own time")
        print(top(profile, "tottime", args.top))
    for app in (first, second, p1, p2):
        app.close()


if __name__ == "__main__":
    main()
