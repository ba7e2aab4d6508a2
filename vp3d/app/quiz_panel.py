"""The student quiz page: questions from :mod:`vp3d.quiz.questions`, answers graded on the server.

One card per question, all on one scrolling page. A question is a native radio group
(``fieldset``/``legend``, arrow keys move between the choices) with a "Check answer" button;
the server grades the choice with :func:`vp3d.quiz.grade` and only then sends the key, the
explanation and its sources (the page never holds the answer key of an unanswered question).
A polite live region in each card announces the result; the score bar counts "x of n" and a
summary with "Try again" closes the page once every question is answered.

Scenario questions show fluoroscopy rendered by :mod:`vp3d.quiz.images` in a worker thread the
first time the quiz is opened (shared by every session of the process), with a "preparing"
placeholder meanwhile, so the page never waits for the engine.

Every page call goes through :func:`vp3d.app.boundary.guarded`: a wrong number of values or a
value the grader refuses becomes a one-line message on the page and the session keeps running.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from trame.widgets import client, html
from trame.widgets import vuetify3 as v3

from vp3d.app.boundary import PanelHost, guarded, keep_owned

logger = logging.getLogger(__name__)

#: How each view is captioned under a scenario image (orientation as the C-arm shows it).
VIEW_CAPTIONS = {
    "ap": "AP \u2014 patient's right on the image's left",
    "lateral": "Lateral \u2014 anterior to the left, head up",
}
TOPIC_LABELS = {"setting": "Cement setting"}
#: State keys the app owns: a page that writes them gets them put back.
OWNED = ("qz_results", "qz_correct", "qz_answered", "qz_total", "qz_questions", "qz_images")
_MAX_SHOWN = 40

CSS = """
.vp3d-qz { max-width: 920px; margin: 0 auto; padding: 0 20px 48px 20px; font-size: 17px; line-height: 1.5; }
.vp3d-qz-bar { position: sticky; top: 0; z-index: 2; display: flex; align-items: center; gap: 16px;
  flex-wrap: wrap; padding: 14px 0 12px 0; background: rgb(var(--v-theme-background));
  border-bottom: 1px solid rgba(255,255,255,.12); }
.vp3d-qz-bar h2 { font-size: 1.45rem; font-weight: 650; margin: 0; line-height: 1.25; flex: 1 1 18em; }
.vp3d-qz h2[tabindex], .vp3d-qz h3[tabindex] { border-radius: 6px; outline-offset: 4px !important; }
.vp3d-qz-score { display: flex; flex-direction: column; min-width: 13em; gap: 4px; }
.vp3d-qz-score strong { font-size: 1.05rem; font-variant-numeric: tabular-nums; }
.vp3d-qz-score span { font-size: .85rem; opacity: .8; }
.vp3d-qz-intro { margin: 14px 0 4px 0; opacity: .85; font-size: .95rem; }
.vp3d-qz-error { position: sticky; top: 76px; z-index: 3; margin: 10px 0; }
.vp3d-qz-list { list-style: none; margin: 0; padding: 0; }
.vp3d-qz-card { background: rgb(var(--v-theme-surface)); border-radius: 14px; margin: 18px 0;
  padding: 18px 22px 18px 22px; border: 1px solid rgba(255,255,255,.08);
  box-shadow: 0 2px 10px rgba(0,0,0,.25); scroll-margin-top: 90px; }
.vp3d-qz-card.is-correct { box-shadow: inset 5px 0 0 #8fd19e, 0 2px 10px rgba(0,0,0,.25); }
.vp3d-qz-card.is-wrong { box-shadow: inset 5px 0 0 #ef9a9a, 0 2px 10px rgba(0,0,0,.25); }
.vp3d-qz-head { display: flex; align-items: baseline; gap: 12px; margin-bottom: 6px; }
.vp3d-qz-head h3 { font-size: .95rem; font-weight: 600; margin: 0; letter-spacing: .02em;
  color: rgb(var(--v-theme-primary)); text-transform: uppercase; }
.vp3d-qz-topic { font-size: .8rem; padding: 1px 10px; border-radius: 999px;
  background: rgba(157,185,216,.16); color: #c9dbef; }
.vp3d-qz-card fieldset { border: 0; margin: 0; padding: 0; min-width: 0; }
.vp3d-qz-card legend { font-size: 1.15rem; font-weight: 550; margin-bottom: 12px; line-height: 1.45; padding: 0; }
.vp3d-qz-choice { display: flex; align-items: flex-start; gap: 12px; padding: 10px 14px; margin: 8px 0;
  border-radius: 10px; border: 1px solid rgba(255,255,255,.16); cursor: pointer; min-height: 48px;
  transition: background .12s, border-color .12s; }
.vp3d-qz-choice:hover { background: rgba(255,255,255,.05); border-color: rgba(255,255,255,.3); }
.vp3d-qz-choice:has(input:checked) { border-color: rgb(var(--v-theme-primary)); background: rgba(227,155,45,.12); }
.vp3d-qz-choice:has(input:focus-visible) { outline: 3px solid #f4cf8c; outline-offset: 2px; }
.vp3d-qz-choice input { width: 20px; height: 20px; margin: 3px 0 0 0; flex: 0 0 auto;
  accent-color: rgb(var(--v-theme-primary)); cursor: pointer; }
.vp3d-qz-choice input:focus-visible { outline: none !important; }
.vp3d-qz-letter { font-weight: 700; min-width: 1.3em; opacity: .8; }
.vp3d-qz-text { flex: 1 1 auto; }
.vp3d-qz-card fieldset:disabled .vp3d-qz-choice { cursor: default; }
.vp3d-qz-card fieldset:disabled .vp3d-qz-choice:hover { background: none; border-color: rgba(255,255,255,.16); }
.vp3d-qz-card .vp3d-qz-choice.is-answer, .vp3d-qz-card fieldset:disabled .vp3d-qz-choice.is-answer:hover {
  border-color: #8fd19e; background: rgba(143,209,158,.13); }
.vp3d-qz-card .vp3d-qz-choice.is-wrong, .vp3d-qz-card fieldset:disabled .vp3d-qz-choice.is-wrong:hover {
  border-color: #ef9a9a; background: rgba(239,154,154,.13); }
.vp3d-qz-tag { font-size: .78rem; font-weight: 700; padding: 1px 8px; border-radius: 6px; white-space: nowrap;
  align-self: center; }
.vp3d-qz-tag.good { background: #8fd19e; color: #11301b; }
.vp3d-qz-tag.bad { background: #ef9a9a; color: #3b1111; }
.vp3d-qz-actions { display: flex; gap: 12px; align-items: center; margin-top: 12px; }
.vp3d-qz-btn { font: inherit; font-weight: 650; font-size: 1rem; padding: 10px 22px; min-height: 46px;
  border-radius: 10px; cursor: pointer; border: 2px solid rgb(var(--v-theme-primary)); }
.vp3d-qz-btn.primary { background: rgb(var(--v-theme-primary)); color: #1d232c; }
.vp3d-qz-btn.primary:hover { filter: brightness(1.08); }
.vp3d-qz-btn.quiet { background: transparent; color: rgb(var(--v-theme-primary)); }
.vp3d-qz-btn.quiet:hover { background: rgba(227,155,45,.12); }
.vp3d-qz-btn:focus-visible { outline: 3px solid #f4cf8c; outline-offset: 3px; }
.vp3d-qz-btn:disabled { opacity: .4; cursor: not-allowed; filter: none; }
.vp3d-qz-btn.quiet:disabled:hover { background: transparent; }
.vp3d-qz-feedback:empty { display: none; }
.vp3d-qz-feedback { margin-top: 14px; padding: 12px 16px; border-radius: 10px; background: rgba(0,0,0,.22); }
.vp3d-qz-verdict { font-size: 1.1rem; font-weight: 700; margin: 0 0 4px 0; }
.vp3d-qz-verdict.good { color: #8fd19e; }
.vp3d-qz-verdict.bad { color: #ef9a9a; }
.vp3d-qz-verdict .vp3d-qz-icon { margin-right: 6px; }
.vp3d-qz-key { margin: 0 0 8px 0; }
.vp3d-qz-expl { margin: 0 0 8px 0; }
.vp3d-qz-sources { font-size: .85rem; opacity: .9; border-top: 1px solid rgba(255,255,255,.14); padding-top: 6px; }
.vp3d-qz-sources ul { margin: 2px 0 0 1.2em; padding: 0; }
.vp3d-qz-sources li { margin: 2px 0; }
.vp3d-qz-figs { display: flex; gap: 16px; flex-wrap: wrap; margin: 2px 0 14px 0; }
.vp3d-qz-figs figure { margin: 0; flex: 1 1 0; min-width: 220px; max-width: 400px; }
.vp3d-qz-figs img, .vp3d-qz-wait { width: 100%; height: auto; aspect-ratio: 1 / 1; display: block; background: #000;
  border-radius: 8px; border: 1px solid rgba(255,255,255,.12); }
.vp3d-qz-wait { display: flex; flex-direction: column; align-items: center; justify-content: center; gap: 12px;
  color: #c9dbef; font-size: .9rem; text-align: center; padding: 12px; }
.vp3d-qz-figs figcaption { font-size: .82rem; opacity: .85; margin-top: 4px; text-align: center; }
.vp3d-qz-summary { text-align: center; padding: 26px 22px; }
.vp3d-qz-summary h3 { font-size: 1.3rem; margin: 0 0 6px 0; }
.vp3d-qz-big { font-size: 2.3rem; font-weight: 750; color: rgb(var(--v-theme-primary)); margin: 0;
  font-variant-numeric: tabular-nums; }
.vp3d-qz-summary ul { list-style: none; padding: 0; margin: 8px 0 16px 0; display: flex; flex-wrap: wrap;
  gap: 8px; justify-content: center; }
.vp3d-qz-summary a { color: #c9dbef; }
.vp3d-qz-problem { margin-top: 24px; }
@media (max-width: 760px) {
  .vp3d-qz { padding: 0 10px 40px 10px; }
  .vp3d-qz-bar { position: static; }
  .vp3d-qz-error { top: 0; }
  .vp3d-qz-card { padding: 14px 14px; }
}
.vp3d-sr-only { position: absolute !important; width: 1px; height: 1px; padding: 0; margin: -1px;
  overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
"""


def _aria(*names: str) -> list[tuple[str, str]]:
    return [(n, n.replace("_", "-")) for n in names]


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN] + "..."


def source_citation(name: str) -> str:
    """A quiz source as a reader sees it: document title and file name, or the full reference."""
    from vp3d.storyboard.sources import REFERENCES, SOURCES

    doc = SOURCES.get(name)
    if doc is not None:
        return f"{doc.title}. {doc.publisher}. File {name}"
    ref = REFERENCES.get(name)
    return ref.citation if ref is not None else name


def topic_label(topic: str) -> str:
    return TOPIC_LABELS.get(topic, topic.replace("_", " ").capitalize())


class QuizPanel:
    """Quiz state and handlers for one app (layout in :meth:`layout`).

    ``answers`` (question id -> chosen index) holds the checked questions of this session;
    the page only shows what :meth:`quiz_answer` publishes.
    """

    def __init__(self, host: PanelHost, *, images: Any = None) -> None:
        self.host = host
        self.quiz: Any = None
        self.answers: dict[str, int] = {}
        self._images = images  # a vp3d.quiz.images.ScenarioImages; the process's shared one if None
        self._images_started = False
        self._task: asyncio.Task | None = None
        self._image_urls: dict[str, dict[str, dict]] = {}  # question id -> view -> {src, problem}
        self._published_images: dict[str, dict[str, dict]] = {}  # what the page was sent
        self._load()
        self._init_state()
        for name in ("quiz_answer", "quiz_reset", "quiz_restore"):
            handler = getattr(self, name)
            host.server.trigger(name)(guarded(handler, host.show_error, before=host.activity,
                                              label=name.replace("_", " ").capitalize()))
        host.state.change("qz_selected")(self._on_selected)
        keep_owned(host.state, OWNED, self._owned_truth, host.show_error, "the quiz")

    # ------------------------------------------------------------------ state

    def _load(self) -> None:
        from vp3d.quiz.questions import load_quiz

        try:
            self.quiz = load_quiz()
            self._problem = ""
        except ValueError as exc:  # a broken quiz file must not stop the story or the practice
            logger.error("vp3d quiz: %s", exc)
            self.quiz, self._problem = None, f"The quiz could not be loaded: {exc}"

    def _questions(self) -> list[dict]:
        """What the page may know before answering: no key, no explanation."""
        from vp3d.quiz.images import describe_view

        out = []
        for n, q in enumerate(self.quiz.questions if self.quiz else (), start=1):
            views = []
            if q.image is not None:
                views = [{"view": v, "alt": describe_view(q.image, v), "caption": VIEW_CAPTIONS[v]}
                         for v in q.image.views]
            out.append({"id": q.id, "n": n, "topic": topic_label(q.topic), "text": q.question,
                        "choices": list(q.choices), "views": views})
        return out

    def _init_state(self) -> None:
        s = self.host.state
        s.qz_title = self.quiz.title if self.quiz else "Quiz"
        s.qz_problem = self._problem
        self._question_list = self._questions()
        s.qz_questions = self._question_list
        s.qz_selected = {}
        s.qz_images = self._published_images
        self._publish_score(announce="")

    def _truth(self) -> dict[str, Any]:
        """The score keys as the server holds them (what the page must show)."""
        from vp3d.quiz.questions import grade

        if self.quiz is None:
            return {"qz_results": {}, "qz_correct": 0, "qz_answered": 0, "qz_total": 0}
        score = grade(self.quiz, self.answers)
        index = {q.id: i for i, q in enumerate(self.quiz.questions)}
        results = {qid: self._result(self.quiz.questions[index[qid]], score.results[index[qid]])
                   for qid in self.answers}
        return {"qz_results": results, "qz_correct": score.correct, "qz_answered": score.answered,
                "qz_total": score.total}

    @staticmethod
    def _result(question: Any, result: Any) -> dict:
        letter = "ABCDE"[result.answer]
        return {"chosen": result.chosen, "answer": result.answer, "correct": result.correct,
                "answer_text": f"{letter}. {question.choices[result.answer]}",
                "explanation": result.explanation,
                "sources": [source_citation(s) for s in result.sources]}

    def _publish_score(self, announce: str) -> None:
        truth = self._truth()
        with self.host.state:
            for key, value in truth.items():
                self.host.state[key] = value
            self.host.state.qz_status = announce

    # ------------------------------------------------------------------ page calls

    def quiz_answer(self, question_id: Any, choice: Any) -> None:
        """Grade one question's choice (an index into its choices) and show the result."""
        from vp3d.quiz.questions import grade

        if self.quiz is None:
            raise ValueError(self._problem)
        if not isinstance(question_id, str):
            raise ValueError(f"the question id must be text, got {type(question_id).__name__} "
                             f"{_shown(question_id)}")
        ids = self.quiz.ids
        if question_id in ids and choice is None:
            raise ValueError(f"choose an answer to question {ids.index(question_id) + 1}, then check it.")
        score = grade(self.quiz, {question_id: choice})  # refuses unknown ids and bad choices
        n = ids.index(question_id) + 1
        if question_id in self.answers:
            raise ValueError(f"question {n} is already answered; \u201cTry again\u201d starts the quiz over.")
        result = score.results[n - 1]
        self.answers[question_id] = int(choice)
        total = len(ids)
        done = len(self.answers)
        correct = sum(r.correct for r in grade(self.quiz, self.answers).results)
        verdict = "correct." if result.correct else \
            f"incorrect. The answer is {'ABCDE'[result.answer]}."
        tail = (f" All {total} questions answered: {correct} of {total} correct." if done == total
                else f" {correct} of {total} correct so far.")
        tail += " The explanation and its sources follow the button."
        self._publish_score(announce=f"Question {n}: {verdict}{tail}")

    def quiz_restore(self, saved: Any) -> None:
        """Answers this browser tab checked before a reload (kept in its session storage),
        graded again here; ids the quiz no longer has, or choices it refuses, are named."""
        from vp3d.quiz.questions import grade

        if self.quiz is None:
            raise ValueError(self._problem)
        if not isinstance(saved, dict) or len(saved) > len(self.quiz.ids):
            raise ValueError("the saved answers must map each question id to a choice number")
        refused = []
        for question_id, choice in saved.items():
            if question_id in self.answers:
                continue
            try:
                grade(self.quiz, {question_id: choice})
            except ValueError:
                refused.append(str(question_id)[:40])
                continue
            self.answers[question_id] = int(choice)
        kept = len(self.answers)
        self._publish_score(announce=f"Your {kept} answer{'' if kept == 1 else 's'} from earlier in this "
                                     "session are shown again." if kept else "")
        if refused:
            raise ValueError(f"{len(refused)} saved answer{'' if len(refused) == 1 else 's'} no longer "
                             f"match{'es' if len(refused) == 1 else ''} the quiz and "
                             f"{'was' if len(refused) == 1 else 'were'} left out: {', '.join(refused)}")

    def quiz_reset(self) -> None:
        """Start the quiz over: no answers, no choices ticked."""
        self.answers.clear()
        with self.host.state:
            self.host.state.qz_selected = {}
            self.host.state.dirty("qz_selected")
            self.host.state.error_message = ""
        self._publish_score(announce="The quiz starts over: no questions answered.")

    # ------------------------------------------------------------------ state from the page

    def _on_selected(self, **_: Any) -> None:
        value = self.host.state.qz_selected
        if not isinstance(value, dict):
            with self.host.state:
                self.host.state.qz_selected = {}
            self.host.show_error("Quiz: the ticked choices must be a mapping of question id to choice; cleared.")

    def close(self) -> None:
        """Stop preparing scenario images for this session (session end)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = None

    def _owned_truth(self) -> dict[str, Any]:
        return {**self._truth(), "qz_questions": self._question_list, "qz_images": self._published_images}

    # ------------------------------------------------------------------ scenario images

    def open(self) -> None:
        """The quiz is shown: prepare the scenario images (once per session) in the background."""
        if self._images_started or self.quiz is None:
            return
        self._images_started = True
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None:  # no server loop (scripts, tests): render here
            for q, view in self._scenario_views():
                self._install_image(q, view, *self._render(q, view))
            self._finish_images()
            return
        self._task = loop.create_task(self._prepare_images())

    def _finish_images(self) -> None:
        """After a pass: free the engine's volumes when every image is there, else allow a
        retry the next time the quiz is opened."""
        if any(v["problem"] for views in self._image_urls.values() for v in views.values()):
            self._images_started = False
            return
        self._renderer().release_scenes([q.image for q in self.quiz.questions if q.image is not None])

    def _scenario_views(self) -> list[tuple[Any, str]]:
        from vp3d.quiz.images import scene_key

        scenarios = [q for q in self.quiz.questions if q.image is not None]
        scenarios.sort(key=lambda q: repr(scene_key(q.image)))  # one volume after another
        return [(q, v) for q in scenarios for v in q.image.views]

    def _renderer(self) -> Any:
        if self._images is None:
            from vp3d.quiz.images import shared_images

            self._images = shared_images()
        return self._images

    @staticmethod
    def _url(image: Any) -> str:
        from vp3d.app.fluoro_panel import data_url

        return data_url(image, quality=88)

    def _render(self, question: Any, view: str) -> tuple[str, str]:
        """``(data URL, "")`` or ``("", message)``; runs in a worker thread."""
        try:
            return self._url(self._renderer().image(question.image, view)), ""
        except Exception as exc:  # noqa: BLE001 - one failed image must not stop the others
            logger.exception("vp3d quiz: image of %s (%s) failed", question.id, view)
            return "", f"The {view} image could not be prepared: {exc}"

    async def _prepare_images(self) -> None:
        loop = asyncio.get_running_loop()
        todo = []
        for q, view in self._scenario_views():  # what another session already rendered: at once
            image = self._renderer().cached(q.image, view)
            if image is None:
                todo.append((q, view))
            else:
                self._image_urls.setdefault(q.id, {})[view] = {"src": self._url(image), "problem": ""}
        self._publish_images()
        for q, view in todo:
            try:
                src, problem = await loop.run_in_executor(None, self._render, q, view)
                self._image_urls.setdefault(q.id, {})[view] = {"src": src, "problem": problem}
                if problem:
                    self.host.show_error(problem)
                if view == q.image.views[-1] or problem:  # one update per question
                    self._publish_images()
            except Exception:  # noqa: BLE001 - the session may have closed meanwhile
                logger.exception("vp3d quiz: showing an image failed")
        self._finish_images()

    def _install_image(self, question: Any, view: str, src: str, problem: str) -> None:
        self._image_urls.setdefault(question.id, {})[view] = {"src": src, "problem": problem}
        self._publish_images()
        if problem:
            self.host.show_error(problem)

    def _publish_images(self) -> None:
        self._published_images = {k: dict(v) for k, v in self._image_urls.items()}
        with self.host.state:
            self.host.state.qz_images = self._published_images

    # ------------------------------------------------------------------ layout

    def layout(self) -> None:
        """Widgets of the quiz page (called inside the page's quiz area)."""
        client.Style(CSS)
        with html.Div(classes="vp3d-qz", id="vp3d-qz"):
            self._bar()
            html.P("Choose one answer for each question, then check it: the result, the "
                   "explanation and its sources appear below the question. Arrow keys move "
                   "between the choices.", classes="vp3d-qz-intro")
            v3.VAlert(v_if="error_message", text=("error_message",), type="error", closable=True,
                      density="compact", id="vp3d-quiz-error", classes="vp3d-qz-error",
                      click_close="error_message = ''")
            v3.VAlert(v_if="qz_problem", text=("qz_problem",), type="warning",
                      classes="vp3d-qz-problem", id="vp3d-quiz-problem")
            html.Div("{{ qz_status }}", id="vp3d-quiz-status", classes="vp3d-sr-only",
                     role="status", __properties=_aria("role", "aria_live"), aria_live="polite")
            with html.Ol(classes="vp3d-qz-list", id="vp3d-quiz-list",
                         __properties=_aria("aria_label"), aria_label="Questions"):
                with html.Li(v_for="q in qz_questions", key="q.id", classes="vp3d-qz-item"):
                    self._card()
            self._summary()

    @staticmethod
    def _bar() -> None:
        with html.Div(classes="vp3d-qz-bar", id="vp3d-quiz-bar"):
            html.H2("{{ qz_title }}", id="vp3d-quiz-title", tabindex="-1")
            with html.Div(classes="vp3d-qz-score", id="vp3d-quiz-score"):
                html.Strong("{{ qz_correct }} of {{ qz_total }} correct", id="vp3d-quiz-score-text")
                html.Span("{{ qz_answered }} of {{ qz_total }} answered")
                v3.VProgressLinear(model_value=("qz_total ? 100 * qz_answered / qz_total : 0",),
                                   color="primary", height=6, rounded=True, bg_color="secondary",
                                   __properties=_aria("aria_label"), aria_label="Questions answered")
            html.Button("Try again", classes="vp3d-qz-btn quiet", id="vp3d-quiz-reset", type="button",
                        click="trigger('quiz_reset')", disabled=("!qz_answered",))

    @staticmethod
    def _card() -> None:
        result = "qz_results[q.id]"
        with html.Section(
            classes=(f"['vp3d-qz-card', {result} ? ({result}.correct ? 'is-correct' : 'is-wrong') : '']",),
            id=("'vp3d-q-' + q.id",),
            __properties=_aria("aria_labelledby"), aria_labelledby=("'vp3d-qh-' + q.id",),
        ):
            with html.Div(classes="vp3d-qz-head"):
                html.H3("Question {{ q.n }} of {{ qz_total }}", id=("'vp3d-qh-' + q.id",))
                html.Span("{{ q.topic }}", classes="vp3d-qz-topic")
            with html.Fieldset(disabled=(f"!!{result}",), classes="vp3d-qz-fieldset"):
                html.Legend("{{ q.text }}", id=("'vp3d-ql-' + q.id",))
                with html.Div(v_if="q.views.length", classes="vp3d-qz-figs"):
                    with html.Figure(v_for="v in q.views", key="v.view"):
                        img = "((qz_images[q.id] || {})[v.view] || {})"
                        html.Img(v_if=f"{img}.src", src=(f"{img}.src",), alt=("v.alt",), width=256, height=256,
                                 classes=("'vp3d-qz-img vp3d-qz-img-' + v.view",))
                        with html.Div(v_else=True, classes="vp3d-qz-wait", role="status",
                                      __properties=_aria("role")):
                            v3.VProgressCircular(v_if=f"!{img}.problem", indeterminate=True, color="primary",
                                                 size=32, __properties=_aria("aria_hidden"), aria_hidden="true")
                            html.Span(f"{{{{ {img}.problem || ('Preparing the ' + (v.view === 'ap' ? 'AP' : "
                                      f"'lateral') + ' image\u2026') }}}}")
                        html.Figcaption("{{ v.caption }}")
                with html.Label(
                    v_for="(c, i) in q.choices", key="i",
                    classes=(f"['vp3d-qz-choice', {result} && {result}.answer === i ? 'is-answer' : '', "
                             f"{result} && !{result}.correct && {result}.chosen === i ? 'is-wrong' : '']",),
                ):
                    html.Input(type="radio", name=("'qz-' + q.id",), value=("i",),
                               checked=("(qz_selected || {})[q.id] === i",),
                               change="qz_selected = Object.assign({}, qz_selected || {}, {[q.id]: i})",
                               classes="vp3d-qz-radio")
                    html.Span("{{ String.fromCharCode(65 + i) }}.", classes="vp3d-qz-letter")
                    html.Span("{{ c }}", classes="vp3d-qz-text")
                    html.Span("Correct answer", v_if=f"{result} && {result}.answer === i",
                              classes="vp3d-qz-tag good")
                    html.Span("Your answer", v_if=f"{result} && !{result}.correct && {result}.chosen === i",
                              classes="vp3d-qz-tag bad")
            with html.Div(classes="vp3d-qz-actions"):
                # One button that turns from "Check answer" into "Next question": it stays the
                # same element, so the keyboard focus stays on it after checking.
                html.Button(
                    f"{{{{ !{result} ? 'Check answer' : q.n < qz_total ? 'Next question' : "
                    "qz_answered === qz_total ? 'See your score' : 'First unanswered question' }}",
                    type="button",
                    classes=(f"['vp3d-qz-btn', !{result} ? 'primary' : 'quiet']",),
                    id=("'vp3d-qc-' + q.id",),
                    click=(f"!{result} ? trigger('quiz_answer', [q.id, (qz_selected || {{}})[q.id] ?? null]) : "
                           "(($li) => { const next = $li.nextElementSibling; "
                           "const all = $li.closest('.vp3d-qz'); "
                           "const el = next ? next.querySelector('input[type=radio]:not(:disabled), .vp3d-qz-btn') "
                           ": all.querySelector('#vp3d-quiz-summary h3') "
                           "|| all.querySelector('input[type=radio]:not(:disabled)'); "
                           "if (el) { el.focus(); el.scrollIntoView({block: 'center'}); } })"
                           "($event.currentTarget.closest('li'))"),
                )
            with html.Div(classes="vp3d-qz-feedback", id=("'vp3d-qf-' + q.id",)):
                with html.Template(v_if=result):
                    with html.P(classes=(f"['vp3d-qz-verdict', {result}.correct ? 'good' : 'bad']",)):
                        html.Span(f"{{{{ {result}.correct ? '\u2713' : '\u2717' }}}}", classes="vp3d-qz-icon",
                                  __properties=_aria("aria_hidden"), aria_hidden="true")
                        html.Span(f"{{{{ {result}.correct ? 'Correct' : 'Incorrect' }}}}")
                    html.P(f"The answer: {{{{ {result}.answer_text }}}}", classes="vp3d-qz-key")
                    html.P(f"{{{{ {result}.explanation }}}}", classes="vp3d-qz-expl")
                    with html.Div(classes="vp3d-qz-sources"):
                        html.Strong("Sources")
                        with html.Ul():
                            html.Li("{{ s }}", v_for=f"s in {result}.sources", key="s", classes="vp3d-qz-source")

    @staticmethod
    def _summary() -> None:
        with html.Section(v_if="qz_total && qz_answered === qz_total", classes="vp3d-qz-card vp3d-qz-summary",
                          id="vp3d-quiz-summary", __properties=_aria("aria_labelledby"),
                          aria_labelledby="vp3d-quiz-summary-h"):
            html.H3("Your score", id="vp3d-quiz-summary-h", tabindex="-1")
            html.P("{{ qz_correct }} of {{ qz_total }}", classes="vp3d-qz-big", id="vp3d-quiz-final")
            html.P("{{ Math.round(100 * qz_correct / qz_total) }} % correct. "
                   "{{ qz_correct === qz_total ? 'Every answer right.' : "
                   "'Review the questions you missed:' }}")
            with html.Ul(v_if="qz_correct < qz_total"):
                with html.Li(v_for="q in qz_questions.filter((x) => qz_results[x.id] && !qz_results[x.id].correct)",
                             key="q.id"):
                    html.A("Question {{ q.n }}", href=("'#vp3d-q-' + q.id",))
            html.Button("Try again", type="button", classes="vp3d-qz-btn primary", id="vp3d-quiz-again",
                        click=("trigger('quiz_reset'); (($q) => { $q.scrollTop = 0; "
                               "$q.querySelector('#vp3d-quiz-title').focus(); })"
                               "($event.currentTarget.closest('.vp3d-quiz'))"))
