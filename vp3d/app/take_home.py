"""The take-home sheet over HTTP: ``GET /handout.pdf?level=L2&grade=2&kind=wedge&procedure=...``.

Parameters (each optional, with the command line's defaults): ``level``, ``grade``, ``kind``,
``procedure``, ``lang`` (``en``, ``es``) and ``paper`` (``a4``, ``letter``), checked by the
project's one checker: a bad value or an unknown parameter answers 400 with one line of text.
The PDF (:mod:`vp3d.handout`) is made in a worker thread, so the page's other sessions go on,
and comes back as an attachment named for the choice.
"""

from __future__ import annotations

import asyncio
from typing import Mapping

from vp3d.checks import in_words, shown

ROUTE = "/handout.pdf"
PARAMETERS = ("level", "grade", "kind", "procedure", "lang", "paper")


def choice_from_query(query: Mapping[str, str]):
    """The :class:`vp3d.handout.pdf.SheetChoice` a query names; ``ValueError`` (one line) if bad."""
    from vp3d.handout.pdf import SheetChoice

    unknown = [k for k in query if k not in PARAMETERS]
    if unknown:
        raise ValueError(f"unknown parameter {shown(unknown[0])}; the sheet takes {in_words(PARAMETERS)}")
    repeated = [k for k in PARAMETERS if len(getattr(query, "getall", lambda k, d: [])(k, [])) > 1]
    if repeated:
        raise ValueError(f"parameter {repeated[0]!r} is given more than once")
    return SheetChoice(**{k: query[k] for k in PARAMETERS if k in query})


def add_route(web_app) -> None:
    """Register ``GET /handout.pdf`` on trame's aiohttp application."""
    from aiohttp import web

    async def serve_sheet(request: web.Request) -> web.Response:
        try:
            choice = choice_from_query(request.query)
        except ValueError as exc:
            return web.Response(status=400, text=" ".join(str(exc).split()) + "\n")
        from vp3d.handout.pdf import handout_pdf

        data = await asyncio.to_thread(handout_pdf, choice)
        return web.Response(body=data, content_type="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="{choice.file_name()}"',
            "Cache-Control": "no-store"})

    web_app.router.add_get(ROUTE, serve_sheet)
