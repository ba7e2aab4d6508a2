"""The session boundary: how a refused page call or a failed handler becomes one message on
the page (``state.error_message``) while the session keeps running, and the narrow view of a
session that each panel gets."""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)


def page_message(exc: BaseException) -> str:
    """The words a page shows for ``exc``: engine ``ValueError``s are written for the user;
    anything else names its type."""
    return str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}"


def wrong_values_message(name: str, signature: inspect.Signature, args: tuple, kwargs: dict) -> str:
    """A page call with the wrong values, in words: what the action takes and what came."""
    params = [p for p in signature.parameters.values() if p.name != "self"]
    wanted = ", ".join(p.name.replace("_", " ") for p in params) or "no values"
    got = len(args) + len(kwargs)
    return (f"{name.strip('_').replace('_', ' ')}: wrong number of values "
            f"(takes {wanted}; got {got} value{'s' if got != 1 else ''})")


def guarded(handler: Callable[..., Any], report: Callable[[str], None], *,
            before: Callable[[], None] | None = None,
            recover: Callable[[], None] | None = None, label: str = "") -> Callable[..., Any]:
    """``handler`` as a page call: a wrong number of values or any error it raises becomes one
    message through ``report`` (the call then returns ``None``) and the session goes on.

    ``before`` runs first (a refusal there is reported the same way); ``recover`` runs after a
    refusal, to put the page's controls back to what the server holds; ``label`` (say
    "Quiz answer") starts a refusal's message.
    """
    signature = inspect.signature(handler)

    @functools.wraps(handler)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            signature.bind(*args, **kwargs)
        except TypeError:
            report(wrong_values_message(handler.__name__, signature, args, kwargs))
            return None
        try:
            if before is not None:
                before()
            return handler(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - this is the session boundary
            if isinstance(exc, ValueError):
                logger.info("vp3d: %s refused: %s", handler.__name__, exc)
            else:
                logger.exception("vp3d: %s failed", handler.__name__)
            report(f"{label}: {page_message(exc)}" if label else page_message(exc))
            if recover is not None:
                try:
                    recover()
                except Exception:  # noqa: BLE001 - the message above is what the page needs
                    logger.exception("vp3d: could not put the page back after %s", handler.__name__)
            return None

    return call


def boundary_method(method: Callable[..., Any]) -> Callable[..., Any]:
    """:func:`guarded` for a method of an object with ``show_error`` (decorator form)."""

    @functools.wraps(method)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        return guarded(method.__get__(self), self.show_error)(*args, **kwargs)

    call.__signature__ = inspect.signature(method)  # type: ignore[attr-defined]
    return call


def keep_owned(state: Any, keys: Iterable[str], truth: Callable[[], dict[str, Any]],
               report: Callable[[str], None], owner: str) -> None:
    """Guard state only the server sets: a page that writes one of ``keys`` gets the server's
    value (``truth()``) back and a message naming the keys and ``owner``."""
    keys = tuple(keys)

    def check(**_: Any) -> None:
        values = truth()
        wrong = [k for k in keys if k in values and
                 (state[k] != values[k] or type(state[k]) is not type(values[k]))]
        if not wrong:
            return
        with state:
            for key in wrong:
                state[key] = values[key]
        report(f"{', '.join(sorted(wrong))} is set by {owner}, not the page (put back).")

    state.change(*keys)(check)


@dataclass(frozen=True)
class PanelHost:
    """What a panel may use of its session: the trame server (state, controller, triggers),
    a way to show a message, to note that someone used the page, and the page's mode."""

    server: Any
    show_error: Callable[[str], None]
    activity: Callable[[], None]
    mode: Callable[[], str]

    @property
    def state(self) -> Any:
        return self.server.state

    @property
    def ctrl(self) -> Any:
        return self.server.controller
