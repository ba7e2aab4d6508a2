"""Ask a worker ``GET /healthz`` over loopback, as the supervisor's health poll does.

Plain asyncio streams (HTTP/1.0, one request per connection), so the supervisor needs no HTTP
library and never blocks: a worker that does not answer within the timeout counts as silent.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Health:
    """A worker's answer: the HTTP status and its JSON (``state``: ready, full or draining)."""

    status: int
    report: dict

    @property
    def state(self) -> str:
        return str(self.report.get("state", "unknown"))


def parse(raw: bytes) -> Health:
    """An HTTP/1.x response with a JSON body as :class:`Health`; ``ValueError`` otherwise."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        raise ValueError("no end of the HTTP header")
    status_line = head.split(b"\r\n", 1)[0].decode("latin-1").split()
    if len(status_line) < 2 or not status_line[0].startswith("HTTP/") or not status_line[1].isdigit():
        raise ValueError(f"not an HTTP status line: {' '.join(status_line)[:60]!r}")
    report = json.loads(body.decode("utf-8"))
    if not isinstance(report, dict):
        raise ValueError("the JSON body is not an object")
    return Health(int(status_line[1]), report)


async def ask(port: int, host: str = "127.0.0.1", timeout_s: float = 2.0) -> Health | None:
    """The worker's :class:`Health`, or ``None`` when it does not answer properly in time."""
    writer = None
    try:
        async with asyncio.timeout(timeout_s):
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(f"GET /healthz HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
            await writer.drain()
            return parse(await reader.read())  # HTTP/1.0: the worker closes after its answer
    except (OSError, TimeoutError, ValueError):
        return None
    finally:
        if writer is not None:
            writer.close()
