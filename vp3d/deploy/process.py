"""One child process of ``vp3d deploy`` (a worker or the proxy): started, relayed, stopped.

Children run in their own session, so a Ctrl+C in the terminal reaches only the supervisor,
which then stops them in order; on Linux each also gets a signal if the supervisor itself dies
(``PR_SET_PDEATHSIG``), so none outlives it. Their output is printed line by line behind
their name.
"""

from __future__ import annotations

import asyncio
import ctypes
import signal
import sys
import time
from collections.abc import Callable, Sequence

PR_SET_PDEATHSIG = 1


def exit_words(returncode: int | None) -> str:
    """``-9`` -> ``"killed by SIGKILL"``, ``0`` -> ``"exit status 0"``."""
    if returncode is None:
        return "still running"
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit status {returncode}"


def _dies_with_parent(sig: signal.Signals) -> Callable[[], None] | None:
    """A pre-exec hook asking Linux to send ``sig`` to the child when its parent dies."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up here, not in the child
    except (OSError, AttributeError):
        return None

    def hook() -> None:
        prctl(PR_SET_PDEATHSIG, int(sig))

    return hook


class Child:
    """A named child process and the task printing its output."""

    def __init__(self, name: str, argv: Sequence[str], log: Callable[[str], None], *,
                 env: dict[str, str] | None = None, parent_death: signal.Signals = signal.SIGTERM,
                 quiet: Callable[[str], bool] = lambda line: False):
        self.name = name
        self.argv = list(argv)
        self.log = log
        self.env = env
        self.parent_death = parent_death
        self.quiet = quiet  # lines not worth printing
        self.process: asyncio.subprocess.Process | None = None
        self.started_at = 0.0
        self._relay: asyncio.Task | None = None
        self.last_lines: list[str] = []

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            *self.argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT, env=self.env, start_new_session=True,
            preexec_fn=_dies_with_parent(self.parent_death))
        self.started_at = time.monotonic()
        self.last_lines = []
        self._relay = asyncio.ensure_future(self._print_output(self.process.stdout))

    async def _print_output(self, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            text = line.decode("utf-8", "replace").rstrip()
            if text:
                self.last_lines = (self.last_lines + [text])[-20:]
                if not self.quiet(text):
                    self.log(f"{self.name} | {text}")

    async def wait(self) -> int:
        """Its exit status, once its output is all printed."""
        code = await self.process.wait()
        if self._relay is not None:
            try:
                await asyncio.wait_for(self._relay, 5)
            except asyncio.TimeoutError:
                self._relay.cancel()
        return code

    def signal(self, sig: signal.Signals) -> None:
        if self.running():
            try:
                self.process.send_signal(sig)
            except ProcessLookupError:
                pass

    async def stop(self, sig: signal.Signals, timeout_s: float) -> int:
        """Send ``sig``, wait up to ``timeout_s``, then SIGKILL; the exit status."""
        if self.process is None:
            return 0
        self.signal(sig)
        try:
            return await asyncio.wait_for(asyncio.shield(self.wait()), timeout_s)
        except asyncio.TimeoutError:
            self.log(f"{self.name} (pid {self.pid}) did not stop in {timeout_s:g} s; killing it")
            self.signal(signal.SIGKILL)
            return await self.wait()
