"""``vp3d serve`` (or ``vp3d deploy``) on a free loopback port, for the browser tests, the benches
and the scripts.

One helper so that every caller starts, waits for and stops the server the same way. Benches
and scripts put the checkout on ``sys.path`` and import it as ``tests.serving``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: First start on a fresh machine builds the mesh cache (seconds on two cores): be generous.
START_TIMEOUT_S = 180.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers_http(url: str, timeout_s: float = 2.0) -> bool:
    """Whether ``url`` answers HTTP without a server error."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return response.status < 500
    except urllib.error.HTTPError as exc:
        return exc.code < 500
    except OSError:
        return False


@dataclass
class Served:
    """A running server: its page URL (ending in ``/``) and process."""

    url: str
    process: subprocess.Popen
    log_path: Path | None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else "(no log kept)"


@contextlib.contextmanager
def serve(extra_args: Sequence[str] = (), *, log_path: Path | None = None,
          env: Mapping[str, str] | None = None, inherit_env: bool = True, cwd: Path = REPO,
          timeout_s: float = START_TIMEOUT_S) -> Iterator[Served]:
    """Run ``python -m vp3d serve --server`` on a free loopback port until the block ends.

    ``env`` is added to this process's environment (or is the whole environment when
    ``inherit_env`` is false); the server's output goes to ``log_path``
    (or nowhere). Raises ``RuntimeError`` with the log if it exits or does not answer in time.
    """
    port = free_port()
    full_env = dict(os.environ) if inherit_env else {}
    full_env.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
    full_env["PYTHONUNBUFFERED"] = "1"
    full_env.update(env or {})
    command = [sys.executable, "-m", "vp3d", "serve", "--server",
               "--host", "127.0.0.1", "--port", str(port), *extra_args]
    url = f"http://127.0.0.1:{port}/"
    with (open(log_path, "wb") if log_path else open(os.devnull, "wb")) as log:
        process = subprocess.Popen(command, cwd=cwd, env=full_env, stdout=log, stderr=subprocess.STDOUT)
    served = Served(url, process, log_path)
    try:
        deadline = time.monotonic() + timeout_s
        while not answers_http(url):
            if process.poll() is not None:
                raise RuntimeError(f"vp3d serve exited with {process.returncode}:\n{served.log()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"vp3d serve did not answer on {url} in {timeout_s:.0f} s:\n{served.log()}")
            time.sleep(0.25)
        yield served
    finally:
        stop(process)


def health(url: str, timeout_s: float = 10.0) -> tuple[int, dict]:
    """A server's ``GET /healthz``: the HTTP status (200 ready, 503 not) and its JSON."""
    import json

    try:
        with urllib.request.urlopen(url + "healthz", timeout=timeout_s) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def stop(process: subprocess.Popen, timeout_s: float = 10.0) -> None:
    """SIGINT (Ctrl+C: stop now; SIGTERM would drain open sessions first), then SIGKILL after
    ``timeout_s``."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@dataclass
class Deployed:
    """A running ``vp3d deploy``: its public URL, process and log."""

    url: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def worker_ports(self) -> dict[int, int]:
        """Worker number -> its loopback port, from the supervisor's "worker K started" lines."""
        import re

        found = re.findall(r"worker (\d+) started \(pid \d+, 127\.0\.0\.1:(\d+)\)", self.log())
        return {int(k): int(port) for k, port in found}

    def health(self, worker: int, timeout_s: float = 5.0) -> dict | None:
        """The worker's ``/healthz`` JSON (also when it answers 503), or ``None`` if it is down."""
        import json

        url = f"http://127.0.0.1:{self.worker_ports()[worker]}/healthz"
        try:
            with urllib.request.urlopen(url, timeout=timeout_s) as response:
                return json.load(response)
        except urllib.error.HTTPError as exc:
            return json.load(exc)
        except OSError:
            return None


@contextlib.contextmanager
def deploy(workers: int, extra_args: Sequence[str] = (), *, log_path: Path,
           timeout_s: float = START_TIMEOUT_S) -> Iterator[Deployed]:
    """Run ``python -m vp3d deploy --workers N`` on a free loopback port until the block ends
    (then SIGINT: stop now). Waits for its "vp3d running at" line; ``RuntimeError`` with the
    log if it exits first or takes longer than ``timeout_s``."""
    port = free_port()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
    command = [sys.executable, "-m", "vp3d", "deploy", "--workers", str(workers),
               "--host", "127.0.0.1", "--port", str(port), *extra_args]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    deployed = Deployed(f"http://127.0.0.1:{port}/", process, log_path)
    try:
        deadline = time.monotonic() + timeout_s
        while "vp3d running at" not in deployed.log():
            if process.poll() is not None:
                raise RuntimeError(f"vp3d deploy exited with {process.returncode}:\n{deployed.log()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"vp3d deploy did not start in {timeout_s:.0f} s:\n{deployed.log()}")
            time.sleep(0.25)
        yield deployed
    finally:
        stop(process, timeout_s=30)  # the supervisor gives its workers 15 s
