"""The page in Spanish, in headless Chromium against real servers: ``?lang=es``, the language
menu, two sessions in two languages side by side, ``vp3d serve --kiosk --lang es``, and an
accessibility audit of the Spanish page. ``VP3D_SCREENSHOTS=<folder>`` keeps pictures of it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import KIOSK_ENV
from tests.serving import serve
from tests.test_browser import open_page, step_counter, wait_for
from tests.test_browser_accessibility import audit

pytestmark = pytest.mark.browser


def _picture(page, name: str) -> None:
    folder = os.environ.get("VP3D_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"))


def _narration(page) -> str:
    return page.locator("#vp3d-captions").inner_text()


def _html_lang(page) -> str:
    return page.evaluate("document.documentElement.lang")


def test_spanish_link_shows_spanish_title_buttons_and_story(chromium_browser, vp3d_server):
    record = open_page(chromium_browser, vp3d_server + "?lang=es")
    try:
        page = record.page
        wait_for(lambda: _html_lang(page) == "es", 10, '<html lang="es">')
        assert page.locator("#vp3d-title").inner_text() == "La vertebroplastia, explicada"
        assert page.locator("#vp3d-step-title").inner_text() == "Su columna"
        assert "primera v\u00e9rtebra lumbar" in _narration(page)
        assert page.get_by_role("button", name="Paso anterior").count() == 1
        assert page.get_by_role("button", name="Paso siguiente").count() == 1
        assert page.locator("#vp3d-stepcount").inner_text() == "Paso 1 de 14"
        assert page.locator("#vp3d-level-label").inner_text() == "L1 \u2014 1.\u00aa v\u00e9rtebra lumbar"
        assert page.get_by_role("region", name="Narraci\u00f3n").count() == 1
        assert page.title() == "vp3d \u2014 La vertebroplastia en 3D"
        page.get_by_role("button", name="Paso siguiente").click()
        wait_for(lambda: page.locator("#vp3d-step-title").inner_text() == "Por qu\u00e9 se rompe una v\u00e9rtebra",
                 30, "the second step in Spanish")
        assert page.locator("#vp3d-lang-note").count() == 0  # patients get the whole story in Spanish
        found = audit(page)
        assert found == [], found
        _picture(page, "spanish-patient-desktop")
        record.assert_no_errors()
    finally:
        record.close()


def test_spanish_page_on_a_phone(chromium_browser, vp3d_server):
    record = open_page(chromium_browser, vp3d_server + "?lang=es&step=fracture", size=(390, 844), touch=True)
    try:
        page = record.page
        wait_for(lambda: page.locator("#vp3d-step-title").inner_text() == "Una v\u00e9rtebra cede", 30,
                 "the fracture step")
        assert "fractura moderada" in _narration(page)
        assert page.locator("#vp3d-choices-toggle").inner_text().startswith("L1 \u00b7 grado 2 \u00b7 Cu\u00f1a")
        found = audit(page)
        assert found == [], found
        _picture(page, "spanish-patient-phone")
    finally:
        record.close()


def _choose(page, name: str, option: str) -> None:
    page.locator(f".vp3d-choice-{name} .v-field").click()
    page.locator(".v-overlay--active .v-list-item", has_text=option).first.click()


def test_language_menu_relabels_the_page_without_a_reload(chromium_browser, vp3d_server):
    record = open_page(chromium_browser, vp3d_server)
    try:
        page = record.page
        assert page.get_by_role("button", name="Next step").count() == 1 and _html_lang(page) == "en"
        page.evaluate("window.__vp3d_same_page = true")
        _choose(page, "lang", "Espa\u00f1ol")
        wait_for(lambda: page.get_by_role("button", name="Paso siguiente").count() == 1, 30, "Spanish buttons")
        wait_for(lambda: page.locator("#vp3d-step-title").inner_text() == "Su columna", 30, "the Spanish story")
        assert _html_lang(page) == "es" and page.evaluate("window.__vp3d_same_page") is True
        assert page.locator("#vp3d-title").inner_text() == "La vertebroplastia, explicada"
        # The audience is a separate choice: students keep the English clinical narration.
        _choose(page, "audience", "Estudiante")
        wait_for(lambda: page.locator("#vp3d-lang-note").count() == 1, 30, "the English-only notice")
        assert "in English" not in page.locator("#vp3d-lang-note").inner_text()
        assert "est\u00e1n en ingl\u00e9s" in page.locator("#vp3d-lang-note").inner_text()
        wait_for(lambda: "12 thoracic and 5 lumbar" in _narration(page), 30, "the English student narration")
        assert page.get_by_role("button", name="Paso siguiente").count() == 1  # the page stays Spanish
        _choose(page, "lang", "English")
        wait_for(lambda: page.get_by_role("button", name="Next step").count() == 1, 30, "English buttons")
        assert page.locator("#vp3d-lang-note").count() == 0 and _html_lang(page) == "en"
        record.assert_no_errors()
    finally:
        record.close()


def test_two_sessions_keep_their_own_language(chromium_browser, vp3d_server):
    spanish = open_page(chromium_browser, vp3d_server + "?lang=es&audience=patient")
    english = open_page(chromium_browser, vp3d_server + "?audience=student")
    try:
        a, b = spanish.page, english.page
        a.get_by_role("button", name="Paso siguiente").click()
        b.get_by_role("button", name="Next step").click()
        b.get_by_role("button", name="Next step").click()
        wait_for(lambda: step_counter(a)[0] == 2 and step_counter(b)[0] == 3, 30, "both sessions moved")
        a.wait_for_timeout(1000)
        assert a.locator("#vp3d-step-title").inner_text() == "Por qu\u00e9 se rompe una v\u00e9rtebra"
        assert "osteoporosis, que deja" in _narration(a)
        assert b.locator("#vp3d-step-title").inner_text().startswith("Compression fracture of L1")
        assert b.get_by_role("button", name="Next step").count() == 1 and _html_lang(b) == "en"
        assert _html_lang(a) == "es"
        spanish.assert_no_errors()
        english.assert_no_errors()
    finally:
        spanish.close()
        english.close()


def test_spanish_kiosk(chromium_browser, tmp_path):
    with serve(["--kiosk", "--lang", "es"], log_path=tmp_path / "serve.log", env=KIOSK_ENV) as served:
        record = open_page(chromium_browser, served.url, size=(1920, 1080))
        try:
            page = record.page
            assert _html_lang(page) == "es"
            assert page.get_by_role("button", name="Empezar de nuevo").count() == 1
            assert page.locator("#vp3d-title").inner_text() == "La vertebroplastia, explicada"
            assert page.locator(".vp3d-choice-lang").count() == 0  # a kiosk offers no choices
            wait_for(lambda: "Mire c\u00f3mo su primera v\u00e9rtebra lumbar" in _narration(page), 60,
                     "the kiosk's story to reach the fracture in Spanish")
            found = audit(page)
            assert found == [], found
            _picture(page, "spanish-kiosk")
            record.assert_no_errors()
        finally:
            record.close()
