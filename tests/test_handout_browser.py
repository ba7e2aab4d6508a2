"""The page's "Take-home sheet" button: a real server, headless Chromium, a real download.

The first sheet for a choice builds its X-ray (about 20 s on two cores), so the download is
given two minutes.
"""

from __future__ import annotations

import io

import pypdf
import pytest

from tests.test_browser import open_page

pytestmark = pytest.mark.browser


def test_take_home_sheet_button_downloads_the_pages_choice(chromium_browser, vp3d_server, tmp_path):
    record = open_page(chromium_browser, vp3d_server + "?level=L3&grade=3&kind=biconcave", accept_downloads=True)
    try:
        page = record.page
        button = page.locator("#vp3d-handout")
        href = button.get_attribute("href")
        assert href.startswith("/handout.pdf?level=L3&grade=3&kind=biconcave&procedure=vertebroplasty&lang=en&paper=")
        # The button says it is busy while the sheet is made (seen however short the wait).
        page.evaluate("""() => { const b = document.querySelector('#vp3d-handout'); window.sheetBusySeen = false;
            new MutationObserver(() => { if (b.classList.contains('v-btn--loading')) window.sheetBusySeen = true; })
              .observe(b, {attributes: true}); }""")
        with page.expect_download(timeout=180_000) as info:
            button.click()
        download = info.value
        page.wait_for_function("!document.querySelector('#vp3d-handout').classList.contains('v-btn--loading')",
                               timeout=10_000)
        assert page.evaluate("window.sheetBusySeen")
        assert download.suggested_filename == "vp3d-sheet-L3-vertebroplasty-en.pdf"
        path = tmp_path / download.suggested_filename
        download.save_as(path)
        reader = pypdf.PdfReader(io.BytesIO(path.read_bytes()))
        text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
        assert "vertebroplasty of L3" in text and "third lumbar vertebra" in text and "Grade 3" in text
        assert "biconcave" in text
        record.assert_no_errors()
    finally:
        record.close()


def test_kiosk_has_no_take_home_sheet(chromium_browser, kiosk_server):
    record = open_page(chromium_browser, kiosk_server)
    try:
        assert record.page.locator("#vp3d-handout").count() == 0
        record.assert_no_errors()
    finally:
        record.close()
