"""The session boundary: how a refused page call or a failed handler becomes one message on
the page (``state.error_message``) while the session keeps running."""

from __future__ import annotations

import inspect


def page_message(exc: BaseException) -> str:
    """The words a page shows for ``exc``: engine ``ValueError``s are written for the user;
    anything else names its type."""
    return str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}"


def wrong_values_message(name: str, signature: inspect.Signature, args: tuple, kwargs: dict) -> str:
    """A page call with the wrong values, in words: what the action takes and what came."""
    params = [p for p in signature.parameters.values() if p.name != "self"]
    wanted = ", ".join(p.name.replace("_", " ") for p in params) or "no values"
    got = len(args) + len(kwargs)
    return f"{name.strip('_').replace('_', ' ')}: takes {wanted}; got {got} value{'s' if got != 1 else ''}"
