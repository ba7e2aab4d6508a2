"""The quiz page in headless Chromium against a real ``vp3d serve``: keyboard-only answering,
feedback with explanation and sources, scenario images, malformed page calls, score and reset.

Screenshots of the quiz go to ``/tmp/quiz_shots/`` (question, correct, wrong, scenario, summary).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from tests.test_browser import PageRecord, _is_known_paraview_405, wait_for
from vp3d.app.quiz_panel import source_citation
from vp3d.quiz.questions import load_quiz

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/quiz_shots")
QUIZ = load_quiz()  # the test knows the key; the page must not
FIRST, SECOND = QUIZ.questions[0], QUIZ.questions[1]
SCENARIO = next(q for q in QUIZ.questions if q.is_scenario and len(q.image.views) == 2)
TOTAL = len(QUIZ)
#: The story's 3D view, under the quiz, listens to every key on the page and vtk.js logs this
#: when a key comes before the story's scene is loaded (the quiz does not wait for that scene).
#: It belongs to vp3d/app/ui.py's view, not to the quiz; any other console error fails.
VTK_NO_RENDERER = "Can not forward events without a current renderer on the interactor."


def open_quiz(browser: object, url: str, *, size=(1280, 1100)) -> PageRecord:
    """Open ``url?mode=quiz`` and wait for the questions (the quiz needs no 3D model)."""
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    record = PageRecord(page, context)

    def on_console(message):
        if message.type == "error" and not _is_known_paraview_405(message) \
                and message.text.strip() != VTK_NO_RENDERER:
            record.console_errors.append(f"{message.text} @ {message.location}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: record.page_errors.append(str(error)[:1500]))
    page.goto(url + "?mode=quiz", wait_until="load")
    page.locator("#vp3d-quiz").wait_for(timeout=30_000)
    wait_for(lambda: page.locator(".vp3d-qz-card").count() == TOTAL, 30, "the quiz questions")
    return record


@pytest.fixture(scope="module")
def quiz_page(chromium_browser: object, vp3d_server: str):  # browser first: skip before serving
    SHOTS.mkdir(parents=True, exist_ok=True)
    record = open_quiz(chromium_browser, vp3d_server)
    yield record
    record.close()


def _reset(page) -> None:
    page.evaluate("window.trame.trigger('quiz_reset')")
    page.evaluate("window.trame.state.set('error_message', '')")
    wait_for(lambda: page.evaluate("Object.keys(window.trame.state.get('qz_results')).length === 0"), 10,
             "the quiz to start over")
    page.evaluate("document.activeElement && document.activeElement.blur()")


def _focused(page) -> dict:
    return page.evaluate("""() => { const e = document.activeElement;
        return {tag: e.tagName.toLowerCase(), type: e.type || '', name: e.name || '', id: e.id || '',
                checked: !!e.checked, text: (e.innerText || '').trim()}; }""")


def _choose_by_keyboard(page, question, index: int) -> None:
    """From the group's first radio, tick choice ``index`` with arrow keys or Space."""
    here = _focused(page)
    assert here["type"] == "radio" and here["name"] == f"qz-{question.id}", here
    if index == 0:
        page.keyboard.press("Space")
    for _ in range(index):
        page.keyboard.press("ArrowDown")
    wait_for(lambda: page.evaluate(
        f"document.querySelectorAll('input[name=qz-{question.id}]')[{index}].checked"), 5,
        f"choice {index} of {question.id} to be ticked")


def _shot(page, selector: str, name: str) -> None:
    """Screenshot of one card, scrolled to sit below the quiz's sticky score bar."""
    card = page.locator(selector)
    card.evaluate("e => e.scrollIntoView({block: 'start'})")
    card.screenshot(path=str(SHOTS / name))


def _score(page) -> str:
    return page.locator("#vp3d-quiz-score-text").inner_text().strip()


def test_keyboard_only_correct_then_wrong_answer(quiz_page):
    page = quiz_page.page
    _reset(page)
    # The page holds no key, explanation or source before a question is answered.
    questions = page.evaluate("window.trame.state.get('qz_questions')")
    assert len(questions) == TOTAL
    assert all(not {"answer", "explanation", "sources"} & set(q) for q in questions)
    assert page.evaluate("window.trame.state.get('qz_results')") == {}
    assert page.get_by_role("heading", level=2, name=QUIZ.title).count() == 1
    assert page.get_by_role("group", name=FIRST.question).count() == 1  # fieldset named by its legend
    assert page.locator("#vp3d-quiz-status").get_attribute("aria-live") == "polite"
    assert page.locator("#vp3d-quiz-status").get_attribute("role") == "status"

    # Keyboard from the quiz's heading (where "Try again" puts the focus, and where a skip link
    # would land): the story's widgets under the quiz are still in the page's Tab order.
    page.locator("#vp3d-quiz-title").focus()
    tabs = 0
    while _focused(page)["name"] != f"qz-{FIRST.id}":
        page.keyboard.press("Tab")
        tabs += 1
        assert tabs < 5, f"Tab from the heading did not reach the first question (at {_focused(page)})"
    page.screenshot(path=str(SHOTS / "1-question.png"))

    _choose_by_keyboard(page, FIRST, FIRST.answer)
    page.keyboard.press("Tab")
    assert _focused(page)["text"] == "Check answer"
    page.keyboard.press("Enter")
    feedback = page.locator(f"#vp3d-qf-{FIRST.id}")
    wait_for(lambda: "Correct" in feedback.inner_text(), 10, "the correct answer's feedback")
    text = feedback.inner_text()
    assert "Incorrect" not in text and FIRST.explanation[:60] in text
    assert source_citation(FIRST.sources[0]) in text and FIRST.sources[0] in text
    wait_for(lambda: _score(page) == f"1 of {TOTAL} correct", 5, "the score to count the answer")
    status = page.locator("#vp3d-quiz-status").inner_text()
    assert "Question 1: correct" in status and f"1 of {TOTAL} correct" in status
    assert _focused(page)["text"] == "Next question"  # the focus stayed on the same button
    assert page.locator(f"#vp3d-q-{FIRST.id} .vp3d-qz-tag.good").count() == 1
    _shot(page, f"#vp3d-q-{FIRST.id}", "2-correct.png")

    # "Next question" takes the focus to the next question's choices.
    page.keyboard.press("Enter")
    wait_for(lambda: _focused(page)["name"] == f"qz-{SECOND.id}", 5, "the focus on question 2")
    wrong = (SECOND.answer + 1) % len(SECOND.choices)
    _choose_by_keyboard(page, SECOND, wrong)
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    feedback = page.locator(f"#vp3d-qf-{SECOND.id}")
    wait_for(lambda: "Incorrect" in feedback.inner_text(), 10, "the wrong answer's feedback")
    text = feedback.inner_text()
    assert f"The answer: {'ABCDE'[SECOND.answer]}. {SECOND.choices[SECOND.answer]}" in text
    assert SECOND.explanation[:60] in text and "Sources" in text
    card = page.locator(f"#vp3d-q-{SECOND.id}")
    assert card.locator(".vp3d-qz-tag.bad").inner_text() == "Your answer"
    assert card.locator(".vp3d-qz-choice.is-wrong input").evaluate("e => e.checked")
    wait_for(lambda: _score(page) == f"1 of {TOTAL} correct", 5, "the score after a wrong answer")
    assert f"2 of {TOTAL} answered" in page.locator("#vp3d-quiz-score").inner_text()
    assert "Question 2: incorrect" in page.locator("#vp3d-quiz-status").inner_text()
    # Answered questions are locked: the radios are disabled.
    assert card.locator("input[type=radio]:not(:disabled)").count() == 0
    _shot(page, f"#vp3d-q-{SECOND.id}", "3-wrong.png")
    page.screenshot(path=str(SHOTS / "3-page-after-two.png"))
    quiz_page.assert_no_errors()


def test_scenario_images_load_and_are_not_blank(quiz_page):
    page = quiz_page.page
    card = page.locator(f"#vp3d-q-{SCENARIO.id}")
    card.scroll_into_view_if_needed()
    images = card.locator("img.vp3d-qz-img")
    wait_for(lambda: images.count() == len(SCENARIO.image.views), 60, "the scenario images to be prepared")
    stats = []
    for i in range(images.count()):
        img = images.nth(i)
        alt = img.get_attribute("alt")
        assert alt and "fluoroscopy" in alt and SCENARIO.image.needle.level in alt
        assert "breach" not in alt and "canal" not in alt  # the text alternative gives nothing away
        stats.append(img.evaluate("""async (img) => { await img.decode();
            const c = document.createElement('canvas'); c.width = img.naturalWidth; c.height = img.naturalHeight;
            const g = c.getContext('2d'); g.drawImage(img, 0, 0);
            const d = g.getImageData(0, 0, c.width, c.height).data; let s = 0, s2 = 0, n = 0;
            for (let k = 0; k < d.length; k += 4) { s += d[k]; s2 += d[k] * d[k]; n++; }
            const m = s / n; return {w: img.naturalWidth, h: img.naturalHeight, std: Math.sqrt(s2 / n - m * m)}; }"""))
    assert all(s["w"] == 256 and s["h"] == 256 and s["std"] > 15 for s in stats), stats
    assert card.locator("figcaption").first.inner_text().startswith("AP")
    _shot(page, f"#vp3d-q-{SCENARIO.id}", "4-scenario.png")
    quiz_page.assert_no_errors()


FUZZ = [
    (["no_such_question", 0], "unknown question id"),
    ([FIRST.id, 99], "out of range"),
    ([FIRST.id, -1], "out of range"),
    ([FIRST.id, "two"], "must be an integer"),
    ([FIRST.id, 1.5], "must be an integer"),
    ([FIRST.id, "NaN"], "must be an integer"),
    ([FIRST.id, [1]], "must be an integer"),
    ([FIRST.id, {"x": 1}], "must be an integer"),
    ([{"id": FIRST.id}, 0], "question id must be text"),
    ([[FIRST.id], 0], "question id must be text"),
    ([None, 0], "question id must be text"),
    (["x" * 5000, 0], "unknown question id"),
    ([FIRST.id], "wrong number of values"),
    ([FIRST.id, 0, 1], "wrong number of values"),
    ([], "wrong number of values"),
]


def _js(value) -> str:
    return "NaN" if isinstance(value, float) and math.isnan(value) else json.dumps(value)


def _error_after(page, script: str) -> str:
    page.evaluate("window.trame.state.set('error_message', '')")
    wait_for(lambda: page.locator("#vp3d-quiz-error").count() == 0, 5, "the message to clear")
    page.evaluate(script)
    alert = page.locator("#vp3d-quiz-error")
    wait_for(lambda: alert.count() == 1, 10, f"a message after {script[:80]}")
    text = alert.inner_text()
    assert len(text) < 400 and "Traceback" not in text, text
    return text


@pytest.mark.parametrize("args, message", FUZZ + [([FIRST.id, float("nan")], "")])
def test_malformed_page_calls_show_a_message(quiz_page, args, message):
    page = quiz_page.page
    args_js = "[" + ", ".join(_js(a) for a in args) + "]"
    text = _error_after(page, f"window.trame.trigger('quiz_answer', {args_js})")
    if message:
        assert message in text, text
    else:  # NaN: refused as not an integer, or (sent as null) as no choice made
        assert "must be an integer" in text or "choose an answer" in text, text


def test_page_keeps_working_after_bad_calls_then_summary_and_reset(quiz_page):
    page = quiz_page.page
    _reset(page)
    assert "wrong number of values" in _error_after(page, "window.trame.trigger('quiz_reset', [1, 2])")
    assert "cleared" in _error_after(page, "window.trame.state.set('qz_selected', 7)")
    assert "put back" in _error_after(page, "window.trame.state.set('qz_correct', 999)")
    wait_for(lambda: _score(page) == f"0 of {TOTAL} correct", 5, "the score to be put back")
    assert "already answered" not in _error_after(
        page, f"window.trame.trigger('quiz_answer', ['{FIRST.id}', null])")
    # Check without a choice says what to do.
    assert "choose an answer" in page.locator("#vp3d-quiz-error").inner_text()
    page.locator("#vp3d-quiz-error button").click()  # the message can be closed
    wait_for(lambda: page.locator("#vp3d-quiz-error").count() == 0, 5, "the message to close")

    # Still working: answer every question (the first by clicking), all but one right.
    page.locator(f"#vp3d-q-{FIRST.id} .vp3d-qz-choice").nth(FIRST.answer).click()
    page.locator(f"#vp3d-qc-{FIRST.id}").click()
    wait_for(lambda: "Correct" in page.locator(f"#vp3d-qf-{FIRST.id}").inner_text(), 10, "a click answer")
    assert "already answered" in _error_after(page, f"window.trame.trigger('quiz_answer', ['{FIRST.id}', 0])")
    for q in QUIZ.questions[1:]:
        choice = q.answer if q is not SECOND else (q.answer + 1) % len(q.choices)
        page.evaluate(f"window.trame.trigger('quiz_answer', ['{q.id}', {choice}])")
    summary = page.locator("#vp3d-quiz-summary")
    summary.wait_for(timeout=10_000)
    assert page.locator("#vp3d-quiz-final").inner_text() == f"{TOTAL - 1} of {TOTAL}"
    assert summary.get_by_role("link", name="Question 2").count() == 1
    assert f"All {TOTAL} questions answered" in page.locator("#vp3d-quiz-status").inner_text()
    last = QUIZ.questions[-1]
    button = page.locator(f"#vp3d-qc-{last.id}")
    assert button.inner_text() == "See your score"
    button.focus()
    page.keyboard.press("Enter")
    wait_for(lambda: _focused(page)["id"] == "vp3d-quiz-summary-h", 5, "the focus on the summary")
    page.screenshot(path=str(SHOTS / "5-summary.png"))

    page.locator("#vp3d-quiz-again").focus()
    page.keyboard.press("Enter")
    wait_for(lambda: _score(page) == f"0 of {TOTAL} correct", 10, "Try again to reset the score")
    assert page.locator("#vp3d-quiz-summary").count() == 0
    assert page.locator(".vp3d-qz-feedback:not(:empty)").count() == 0
    assert page.locator("input[type=radio]:checked").count() == 0
    assert page.locator("input[type=radio]:disabled").count() == 0
    assert _focused(page)["id"] == "vp3d-quiz-title"
    quiz_page.assert_no_errors()


def test_answers_survive_a_reload_of_the_tab(chromium_browser, vp3d_server):
    """Answers checked in a tab come back after it reloads (its session storage); Try again
    forgets them; a stored answer the quiz no longer has is named, not silently dropped."""
    record = open_quiz(chromium_browser, vp3d_server)
    try:
        page = record.page
        wrong = (SECOND.answer + 1) % len(SECOND.choices)
        page.evaluate(f"window.trame.trigger('quiz_answer', ['{FIRST.id}', {FIRST.answer}])")
        page.evaluate(f"window.trame.trigger('quiz_answer', ['{SECOND.id}', {wrong}])")
        wait_for(lambda: _score(page) == f"1 of {TOTAL} correct", 10, "two answers")
        wait_for(lambda: page.evaluate("sessionStorage.getItem('vp3d-quiz-answers')") is not None, 5,
                 "the answers to be kept")
        page.reload(wait_until="load")
        wait_for(lambda: page.locator(".vp3d-qz-card").count() == TOTAL, 30, "the questions again")
        wait_for(lambda: _score(page) == f"1 of {TOTAL} correct", 20, "the answers to come back")
        results = page.evaluate("window.trame.state.get('qz_results')")
        assert results[FIRST.id]["correct"] and results[SECOND.id]["chosen"] == wrong
        assert "Incorrect" in page.locator(f"#vp3d-qf-{SECOND.id}").inner_text()

        page.evaluate("window.trame.trigger('quiz_reset')")
        wait_for(lambda: _score(page) == f"0 of {TOTAL} correct", 10, "Try again")
        wait_for(lambda: page.evaluate("sessionStorage.getItem('vp3d-quiz-answers')") == "{}", 5,
                 "the kept answers to be forgotten")
        page.evaluate(f"sessionStorage.setItem('vp3d-quiz-answers', JSON.stringify({{'{FIRST.id}': 0, 'gone-question': 1}}))")
        page.reload(wait_until="load")
        wait_for(lambda: page.locator(".vp3d-qz-card").count() == TOTAL, 30, "the questions again")
        wait_for(lambda: page.evaluate(f"!!window.trame.state.get('qz_results')['{FIRST.id}']"), 20,
                 "the matching answer to come back")
        alert = page.locator("#vp3d-quiz-error")
        wait_for(lambda: alert.count() == 1 and "gone-question" in alert.inner_text(), 10,
                 "the stale answer to be named")
    finally:
        record.close()
