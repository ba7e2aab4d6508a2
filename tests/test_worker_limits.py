"""One worker's limits, on a real ``vp3d serve`` with protocol-level websocket clients (no
browser): ``/healthz``, the session cap and its busy page, closing idle sessions (not the
kiosk's), and the drain on SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import time

import aiohttp
import pytest

from tests.serving import health, serve
from tests import aio
from vp3d.app.admission import DRAINING, FULL, READY, Admission, Limits
from vp3d.busy_page import RETRY_AFTER_S

IDLE_S = 4.0
GOING_AWAY = 1001


def hello() -> bytes:
    """The greeting a page sends first (wslink.hello, msgpack in one chunk), as bytes to send."""
    import msgpack

    body = msgpack.packb({"wslink": "1.0", "id": "system:c0:0", "method": "wslink.hello",
                          "args": [{"secret": "wslink-secret"}], "kwargs": {}})
    return (1).to_bytes(4, "little") + (0).to_bytes(4, "little") + len(body).to_bytes(4, "little") + body


def until(predicate, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while not (value := predicate()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(0.2)
    return value


async def until_async(predicate, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while not (value := await asyncio.to_thread(predicate)):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s:.0f} s waiting for {what}")
        await asyncio.sleep(0.2)
    return value


async def closed_by_server(ws, timeout_s: float) -> aiohttp.WSMessage:
    """Read (and drop) what the server sends until it closes the websocket."""
    async with asyncio.timeout(timeout_s):
        while True:
            msg = await ws.receive()
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED):
                return msg


@pytest.fixture(scope="module")
def capped(tmp_path_factory):
    """A worker numbered 7 that takes one session and closes it after 4 s untouched."""
    args = ["--max-sessions", "1", "--idle-timeout", str(IDLE_S), "--worker-id", "7"]
    with serve(args, log_path=tmp_path_factory.mktemp("capped") / "serve.log") as served:
        yield served


def test_limits_are_checked_and_decide_the_state():
    for bad in ({"max_sessions": 0}, {"max_sessions": True}, {"max_sessions": 2.5},
                {"idle_timeout_s": 0.0}, {"idle_timeout_s": float("nan")}, {"drain_grace_s": -1.0}):
        with pytest.raises(ValueError):
            Limits(**bad)
    admission = Admission(Limits(max_sessions=2, idle_timeout_s=60.0))
    assert [admission.state(n) for n in (0, 1, 2, 3)] == [READY, READY, FULL, FULL]
    assert admission.idle(59.9) is False and admission.idle(60.0) is True
    admission.draining = True
    assert admission.state(0) == DRAINING and not admission.admits(0)
    assert Admission(Limits()).admits(10_000) and not Admission(Limits()).idle(1e9)


def test_healthz_says_which_worker_and_what_it_holds(capped):
    status, report = health(capped.url)
    assert status == 200
    assert report["worker"] == 7 and report["pid"] == capped.process.pid
    assert report["state"] == "ready" and report["sessions"] == 0 and report["max_sessions"] == 1
    assert 50 < report["rss_mb"] < 5000


def test_past_its_cap_a_new_visitor_gets_the_busy_page(capped):
    url = capped.url

    async def scenario():
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(url + "ws")
            try:
                await until_async(lambda: health(url)[1]["sessions"] == 1, 30, "the session to count")
                status, report = health(url)
                assert (status, report["state"]) == (503, "full")
                for path in ("", "index.html?level=L2"):
                    async with http.get(url + path, allow_redirects=False) as page:
                        assert page.status == 503 and page.content_type == "text/html"
                        assert page.headers["Retry-After"] == str(RETRY_AFTER_S)
                        assert "Busy, try again in a moment" in await page.text()
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await http.ws_connect(url + "ws")
                assert refused.value.status == 503
                async with http.get(url + "logo.png") as file:  # files still come: the page
                    assert file.status == 200                    # may have loaded elsewhere
            finally:
                await ws.close()
            await until_async(lambda: health(url)[1]["sessions"] == 0, 60, "the session to close")
            async with http.get(url, allow_redirects=False) as page:
                assert page.status == 302  # to index.html: taken again

    aio.run(scenario())
    assert health(url)[1]["state"] == "ready"


def test_a_session_in_use_stays_and_an_untouched_one_is_closed(capped):
    url = capped.url

    async def scenario():
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(url + "ws")
            try:
                for _ in range(int(2 * IDLE_S)):  # twice the idle time, touched every second
                    await ws.send_bytes(hello())
                    await asyncio.sleep(1.0)
                assert not ws.closed and health(url)[1]["sessions"] == 1
                start = time.monotonic()
                msg = await closed_by_server(ws, IDLE_S + 30)
                waited = time.monotonic() - start
                assert msg.type == aiohttp.WSMsgType.CLOSE and msg.data == GOING_AWAY and msg.extra == "idle"
                assert IDLE_S - 1.5 <= waited <= IDLE_S + 15, waited
            finally:
                await ws.close()

    aio.run(scenario())
    until(lambda: health(url)[1]["sessions"] == 0, 60, "the idle session to be freed")


def test_the_kiosk_never_closes_a_session_for_idling(tmp_path):
    with serve(["--kiosk", "--idle-timeout", "1"], log_path=tmp_path / "kiosk.log") as kiosk:
        async def scenario():
            async with aiohttp.ClientSession() as http:
                ws = await http.ws_connect(kiosk.url + "ws")
                try:
                    with pytest.raises(TimeoutError):
                        await closed_by_server(ws, 6.0)  # six times its idle limit
                    assert not ws.closed and health(kiosk.url)[1]["sessions"] == 1
                finally:
                    await ws.close()

        aio.run(scenario())


def test_sigterm_drains_the_open_session_up_to_the_grace_period_then_exits(tmp_path):
    grace_s = 6.0
    with serve(["--drain-grace", str(grace_s)], log_path=tmp_path / "drain.log") as served:
        url, process = served.url, served.process

        async def scenario():
            async with aiohttp.ClientSession() as http:
                ws = await http.ws_connect(url + "ws")
                await until_async(lambda: health(url)[1]["sessions"] == 1, 30, "the session to count")
                process.send_signal(signal.SIGTERM)
                start = time.monotonic()
                await until_async(lambda: health(url)[1]["state"] == "draining", 10, "the drain")
                assert health(url)[0] == 503
                async with http.get(url, allow_redirects=False) as page:
                    assert page.status == 503 and "Busy" in await page.text()
                with pytest.raises(aiohttp.WSServerHandshakeError):
                    await http.ws_connect(url + "ws")
                await asyncio.sleep(1.0)
                assert not ws.closed  # the open session goes on during the grace period
                msg = await closed_by_server(ws, grace_s + 30)
                waited = time.monotonic() - start
                assert msg.data == GOING_AWAY and msg.extra == "server restarting"
                assert grace_s - 1.0 <= waited <= grace_s + 15, waited

        aio.run(scenario())
        assert process.wait(timeout=30) == 0
        assert "draining: 1 open session(s)" in served.log()
