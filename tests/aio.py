"""Run a coroutine to its end from a test, whatever else runs in the test process.

Playwright's sync API (the browser tests) leaves its event loop marked as running in the main
thread for the rest of the session, so ``asyncio.run`` there fails once a browser test has run.
A fresh thread has no running loop: the coroutine gets its own there.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Coroutine
from typing import Any


def run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """``asyncio.run(coroutine)`` in a thread of its own; returns its result or raises its error."""
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="test-asyncio") as pool:
        return pool.submit(asyncio.run, coroutine).result()
