"""Bad input, kept up: malformed and out-of-range values sent from a real page through the same
channel the page itself uses (trame's client API, ``window.trame.trigger`` and
``window.trame.state``), tabs closed mid-animation and mid-injection, and file names in URLs.

After each bad input: a clear message on the page where the input is invalid, the server still
answers HTTP 200, and the session goes on (Next step still advances).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest

from tests.test_browser import open_page, step_counter, wait_for
from vp3d.storyboard import load_named_scene

_STORY = load_named_scene("vertebroplasty")  # the default scene the pages open on
STEPS = len(_STORY.steps)
CEMENT_STEP = _STORY.ids.index("cement")  # 0-based

pytestmark = pytest.mark.browser

LONG = "x" * 10_000
NAN = "NaN"  # JSON has no NaN: marks a value evaluated in the page as the JavaScript NaN

#: (trigger name, args, a word the page's message must contain; None: valid, no message needed)
BAD_TRIGGERS = [
    ("go_step", [-1], "step index"),
    ("go_step", [1e9], "step index"),
    ("go_step", [NAN], "step index"),
    ("go_step", [2.5], "step index"),
    ("go_step", [LONG], "step index"),
    ("go_step", [[1, 2]], "step index"),
    ("go_step", [{"a": 1}], "step index"),
    ("go_step", [None], "step index"),
    ("go_step", [True], "step index"),
    ("go_step", [], "go step: wrong number of values (takes index; got 0 values)"),  # missing argument
    ("seek", [NAN], "time"),
    ("seek", [LONG], "time"),
    ("seek", [{"t": 1}], "time"),
    ("seek", [None], "time"),
    ("seek", [[]], "time"),
    ("seek", [-1e9], None),  # a number out of range: clamped into the step, no harm
    ("seek", [1e9], None),
    ("next_step", [1, 2, 3], "next step: wrong number of values (takes no values; got 3 values)"),  # extra arguments
    ("previous_step", [LONG], "previous step: wrong number of values (takes no values"),
    ("toggle_play", [{"x": 1}], "toggle play: wrong number of values (takes no values"),
    ("url_params", [None], "Link"),
    ("url_params", [12345], "Link"),
    ("url_params", [[1, 2]], "Link"),
    ("url_params", ["?level=L7&grade=1e9&kind=" + LONG[:2000] + "&step=-3"], "level must be one of"),
    ("url_params", [{"level": ["L1"], "grade": {"a": 1}}], "Link"),
    ("url_params", ["?" + LONG], None),  # an unknown parameter: ignored
    ("save_picture", [LONG], "save picture: wrong number of values (takes no values"),
    ("activity", [{"x": 1}], "activity: wrong number of values (takes no values"),
]

#: (state key, value, a word the page's message must contain)
BAD_STATES = [
    ("level", "L7", "level must be one of"),
    ("level", LONG, "level must be one of"),
    ("level", None, "level must be one of"),
    ("level", ["L1"], "level must be one of"),
    ("grade", NAN, "grade"),
    ("grade", -1, "grade"),
    ("grade", 1e9, "grade"),
    ("grade", {"g": 2}, "grade"),
    ("kind", 42, "type"),
    ("kind", LONG, "type"),
    ("procedure", [], "procedure"),
    ("procedure", "DROP TABLE", "procedure"),
    ("audience", {"x": None}, "audience"),
    ("audience", "kiosk" * 2000, "audience"),
    ("step_index", 1e9, "step"),
    ("step_index", -5, "step"),
    ("step_index", NAN, "step"),
    ("step_index", "three", "step"),
    ("step_index", None, "step"),
    ("step_count", -1, "step"),
    ("playing", "yes", "play"),
    ("mode", "admin", "mode must be one of"),
    ("mode", ["quiz"], "mode must be one of"),
    ("mode", "practice", "for the student audience"),
]

#: Unknown keys and unknown triggers: the server ignores or refuses them and keeps the session.
UNKNOWN_STATE = {"vp3d_no_such_key": LONG, "__proto__x": {"a": [1, 2]}}
UNKNOWN_TRIGGERS = ["no_such_trigger", "__init__", "_on_choice", "show_error"]


def _js_value(value: object) -> str:
    return "NaN" if value == NAN else json.dumps(value)


def _send_trigger(page, name: str, args: list) -> str:
    """Call ``trame.trigger(name, args)`` in the page; returns 'ok' or the rejection text."""
    args_js = "[" + ", ".join(_js_value(a) for a in args) + "]"
    return page.evaluate(
        f"""async () => {{
            try {{ await window.trame.trigger({json.dumps(name)}, {args_js}); return 'ok'; }}
            catch (e) {{ return 'rejected: ' + (e && (e.message || JSON.stringify(e))); }}
        }}""")


def _set_state(page, key: str, value: object) -> None:
    page.evaluate(f"window.trame.state.set({json.dumps(key)}, {_js_value(value)})")


def _http_status(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _page_message(page) -> str:
    texts = []
    for selector in ("#vp3d-error", "#vp3d-notice"):
        if page.locator(selector).count():
            texts.append(page.locator(selector).inner_text())
    return " | ".join(texts)


def _clear_messages(page) -> None:
    page.evaluate("window.trame.state.update({error_message: '', notices: []})")
    wait_for(lambda: _page_message(page) == "", 10, "the page's messages to clear")


def _session_goes_on(page, server_url: str) -> None:
    """The server answers and the session still moves: back to step 1, Next → step 2."""
    assert _http_status(server_url)[0] == 200
    assert _send_trigger(page, "go_step", [0]) == "ok"
    wait_for(lambda: page.locator("#vp3d-building").count() == 0, 90, "any rebuild to finish")
    wait_for(lambda: step_counter(page)[0] == 1, 15, "the session to be back at step 1")
    page.locator("#vp3d-next").click()
    wait_for(lambda: step_counter(page) == (2, STEPS), 15, f"Next step to advance to step 2 of {STEPS}")


@pytest.fixture(scope="module")
def fuzz_page(chromium_browser, vp3d_server):
    record = open_page(chromium_browser, vp3d_server)
    yield record
    record.close()


def test_bad_triggers_give_a_message_and_the_session_goes_on(fuzz_page, vp3d_server):
    page = fuzz_page.page
    for name, args, expected in BAD_TRIGGERS:
        what = f"trigger {name}({str(args)[:60]})"
        _clear_messages(page)
        result = _send_trigger(page, name, args)
        assert result == "ok", f"{what}: {result}"
        if expected is not None:
            message = wait_for(lambda: _page_message(page) or None, 10, f"a message for {what}")
            assert expected.lower() in message.lower(), f"{what}: {message!r}"
            assert len(message) < 3000, f"{what}: the message repeats the whole input"
        _session_goes_on(page, vp3d_server)
    assert fuzz_page.page_errors == [], fuzz_page.page_errors


def test_bad_state_values_give_a_message_and_are_put_back(fuzz_page, vp3d_server):
    page = fuzz_page.page
    for key, value, expected in BAD_STATES:
        what = f"state {key} = {str(value)[:60]}"
        _clear_messages(page)
        _set_state(page, key, value)
        message = wait_for(lambda: _page_message(page) or None, 10, f"a message for {what}")
        assert expected.lower() in message.lower(), f"{what}: {message!r}"
        assert len(message) < 3000, f"{what}: the message repeats the whole input"
        wait_for(lambda: page.locator("#vp3d-level-label").inner_text().startswith("L1"), 10,
                 f"the L1 model to stay after {what}")
        _session_goes_on(page, vp3d_server)
    assert page.evaluate("window.trame.state.get('level')") == "L1"
    assert page.evaluate("window.trame.state.get('grade')") == 2
    assert fuzz_page.page_errors == [], fuzz_page.page_errors


def test_unknown_keys_and_triggers_leave_the_session_running(fuzz_page, vp3d_server):
    page = fuzz_page.page
    _clear_messages(page)
    page.evaluate(f"window.trame.state.update({json.dumps(UNKNOWN_STATE)})")
    _session_goes_on(page, vp3d_server)
    for name in UNKNOWN_TRIGGERS:
        # trame answers an unknown trigger with an error to the caller; nothing changes.
        _send_trigger(page, name, [LONG])
        _session_goes_on(page, vp3d_server)
    assert "xxxxxxxxxx" not in _page_message(page)


def _fresh_page_starts_at_step_one(browser, server_url: str) -> None:
    record = open_page(browser, server_url)
    try:
        assert step_counter(record.page) == (1, STEPS)
        assert record.page.locator("#vp3d-error").count() == 0
        record.page.locator("#vp3d-next").click()
        wait_for(lambda: step_counter(record.page)[0] == 2, 15, "Next step on the new page")
        record.assert_no_errors()
    finally:
        record.close()


@pytest.mark.parametrize("step", [0, CEMENT_STEP], ids=["mid-animation", "mid-injection"])
def test_closing_a_tab_while_playing_leaves_the_server_healthy(chromium_browser, vp3d_server, step):
    record = open_page(chromium_browser, vp3d_server + f"?step={step + 1}")
    page = record.page
    wait_for(lambda: step_counter(page)[0] == step + 1, 15, f"step {step + 1}")
    page.locator("#vp3d-play").click()
    wait_for(lambda: page.evaluate("window.trame.state.get('playing')") is True, 10, "playing")
    if step == CEMENT_STEP:  # the cement step: wait until cement is flowing, then close
        wait_for(lambda: page.locator("#vp3d-ml-box").count() > 0, 15, "the cement volume box")
    record.close()  # at once, while the server is animating this session
    time.sleep(1.0)  # a few animation ticks for a session without a page
    assert _http_status(vp3d_server)[0] == 200
    _fresh_page_starts_at_step_one(chromium_browser, vp3d_server)


@pytest.mark.parametrize("path", [
    "/audio/../../etc/passwd",
    "/audio/%2e%2e%2f%2e%2e%2fpyproject.toml",
    "/audio/%2e%2e%2fpyproject.toml",
    "/audio/..%2f..%2f..%2fetc%2fpasswd",
    "/../pyproject.toml",
    "/%2e%2e/pyproject.toml",
    "/__vp3d/../../pyproject.toml",
    "/__vp3d/%2e%2e%2f%2e%2e%2fpyproject.toml",
    "/audio/pyproject.toml",
    "/pyproject.toml",
    "/etc/passwd",
])
def test_the_server_serves_no_file_the_user_names(vp3d_server, path):
    import http.client
    from urllib.parse import urlparse

    where = urlparse(vp3d_server)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=10)
    try:
        connection.request("GET", path)  # sent as written: no client-side normalising of ".."
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    assert response.status in (400, 403, 404), f"{path}: HTTP {response.status}"
    assert b"root:" not in body and b"[project]" not in body and b"vp3d" not in body.lower()
