"""The languages vp3d speaks and a gettext translator for each, so the page's labels and
messages come from one message catalogue (``vp3d/locale/<lang>/LC_MESSAGES/messages.po``,
compiled to the ``.mo`` beside it) rather than from dictionaries in the code.

Engine-safe: the standard library only. The catalogue is kept with Babel
(``python scripts/i18n.py``: extract ``messages.pot`` from the code, update each ``.po`` and
compile it); tests check every message has a translation and the ``.mo`` is current.
"""

from __future__ import annotations

import functools
import gettext
from pathlib import Path
from typing import Callable

#: Language code -> its name in that language (as the language menu lists it).
LANGUAGES: dict[str, str] = {"en": "English", "es": "Espa\u00f1ol"}
DEFAULT_LANGUAGE = "en"
#: The catalogue: ``<lang>/LC_MESSAGES/messages.mo`` (package data, so the wheel has it).
LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "messages"


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue without translating it now (it is translated later)."""
    return message


@functools.lru_cache(maxsize=None)
def translator(language: str) -> gettext.NullTranslations:
    """The compiled catalogue of ``language``; English is the source text (no catalogue).

    Raises ``ValueError`` for an unknown language and ``FileNotFoundError`` when a known
    language's ``.mo`` is missing, so a broken install stops at start-up.
    """
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, got {language!r}")
    if language == DEFAULT_LANGUAGE:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[language])


def gettext_for(language: str) -> Callable[[str], str]:
    """``_`` for ``language``: English text in, that language's text out."""
    return translator(language).gettext


__all__ = ["DEFAULT_LANGUAGE", "DOMAIN", "LANGUAGES", "LOCALE_DIR", "N_", "gettext_for", "translator"]
