"""The student quiz page: questions from :mod:`vp3d.quiz`, answers graded on the server."""

from __future__ import annotations

from typing import Any


class QuizPanel:
    """Quiz state and handlers for one app (layout in :meth:`layout`)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def layout(self) -> None:
        """Widgets of the quiz page (called inside the page's quiz area)."""
