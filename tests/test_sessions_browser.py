"""Separate browser sessions: two people on one server never move each other's story."""

from __future__ import annotations

import pytest

from tests.test_browser import open_page, step_counter, wait_for

pytestmark = pytest.mark.browser


def test_two_sessions_act_at_once_without_touching_each_other(chromium_browser, vp3d_server):
    a = open_page(chromium_browser, vp3d_server + "?level=L1&audience=student")
    b = open_page(chromium_browser, vp3d_server + "?level=L2&audience=patient")
    try:
        # Both act at the same time: A goes forward two steps, B one.
        a.page.get_by_role("button", name="Next step").click()
        b.page.get_by_role("button", name="Next step").click()
        a.page.get_by_role("button", name="Next step").click()
        wait_for(lambda: step_counter(a.page)[0] == 3, 30, "A on step 3")
        wait_for(lambda: step_counter(b.page)[0] == 2, 30, "B on step 2")
        a.page.wait_for_timeout(1500)
        assert step_counter(a.page)[0] == 3 and step_counter(b.page)[0] == 2
        # Each keeps its own level and audience.
        assert a.page.locator("#vp3d-level-label").inner_text().startswith("L1")
        assert b.page.locator("#vp3d-level-label").inner_text().startswith("L2")
        # A session that goes away leaves the other running.
        a.close()
        b.page.get_by_role("button", name="Next step").click()
        wait_for(lambda: step_counter(b.page)[0] == 3, 30, "B on step 3 after A left")
        b.assert_no_errors()
    finally:
        b.close()
