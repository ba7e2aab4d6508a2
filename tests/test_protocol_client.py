"""The load generator's client against a real server: the page's own websocket messages,
without a browser, and every reply checked (bench/protocol_client.py)."""

from __future__ import annotations

import asyncio
import sys

import pytest

from tests.serving import REPO, serve
from tests import aio

sys.path.insert(0, str(REPO))
from bench.protocol_client import ProtocolSession, real_images  # noqa: E402

pytestmark = pytest.mark.slow  # the server builds its engine model first (tens of seconds)

STORY_FROM = 8  # preparation: the next two steps (needle, cement) each take AP and lateral


async def _two_sessions(url: str):
    story, practice = ProtocolSession(url), ProtocolSession(url)
    try:
        await asyncio.gather(story.open("?audience=student"),
                             practice.open("?audience=student&mode=practice"))
        await asyncio.gather(story.wait_ready(), practice.wait_ready())
        await story.go_step(STORY_FROM)
        images_before = story.counters.images_seen
        steps = [await story.next_step(), await story.next_step()]
        moves = [await practice.practice_move(), await practice.practice_move()]
        return story, practice, steps, moves, images_before
    finally:
        await asyncio.gather(story.close(), practice.close())


def test_two_sessions_act_and_every_reply_is_checked(tmp_path):
    with serve(log_path=tmp_path / "serve.log") as served:
        story, practice, steps, moves, images_before = aio.run(_two_sessions(served.url))
    assert all(t.ok for t in steps + moves), [t.detail for t in steps + moves]
    # Story: the steps moved, and each of the two new steps brought its new AP and lateral.
    assert story.state["step_index"] == STORY_FROM + 2
    assert [t.detail for t in steps] == [f"step {STORY_FROM}->{STORY_FROM + 1}, 2 images (new)",
                                         f"step {STORY_FROM + 1}->{STORY_FROM + 2}, 2 images (new)"]
    assert story.counters.images_seen - images_before == 4
    assert real_images(tuple(e["src"] for e in story.state["fluoro"]))
    # Practice: the needle went in 5 mm twice, each time with a new AP and lateral.
    assert practice.state["pr_depth_mm"] == pytest.approx(10.0)
    assert practice.counters.images_seen == 4
    assert all(0 < t.latency_s < 60 for t in steps + moves)
