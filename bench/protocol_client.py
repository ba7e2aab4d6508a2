"""A page without a browser: one vp3d session driven over the page's own websocket protocol.

The page (trame's client) speaks wslink over ``ws://<host>/ws``. Every message, both ways, is a
msgpack map sent as binary frames, each frame carrying a 12-byte header (message id, offset and
total size, little-endian uint32: wslink's chunking, :mod:`wslink.chunking`). What the page
sends, as captured from a real page in headless Chromium:

1. ``{"wslink": "1.0", "id": "system:c0:0", "method": "wslink.hello",
   "args": [{"secret": "wslink-secret"}]}`` → ``{"result": {"clientID": "c…"}}``;
2. ``rpc:<clientID>:<n>`` calls: ``trame.state.get`` (the whole state),
   ``trame.lifecycle.update ["client_connected"]``, then ``trame.trigger [name, args, kwargs]``
   for every control (``url_params ["?audience=student"]`` first, then ``next_step``,
   ``go_step [i]``, ``practice_advance [5]``, ...); each call is answered with the same id;
3. the server pushes ``publish:trame.state.topic:<n>`` (the state keys that changed),
   ``publish:trame.actions.topic`` (camera moves) and ``publish:trame.vtk.delta`` (the 3-D
   scene's description); the page then asks for the meshes' arrays with
   ``viewport.geometry.array.get [hash, true]``.

This client does 1-3 but never asks for mesh arrays: the server pushes the scene description
without waiting for the client, so a client that does not draw in 3-D leaves the session
healthy (the RPCs are pulled by the page, not pushed). Each action is timed from the call to its
checked reply: a story step until ``step_index`` has moved and the frame drawn for it has
arrived (the scene delta after it, with the step's fluoroscopy pair); a practice move until
``pr_depth_mm`` has moved by the step and every ``pr_images`` ``src`` is a new image.

Needs only aiohttp and msgpack (both installed with trame).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import msgpack

HEADER_BYTES = 12
#: trame's default; a page behind a launcher would be given another.
SECRET = "wslink-secret"
#: The server's own message limit (wslink's MAX_MSG_SIZE): our calls are far smaller.
CHUNK_BYTES = 4 * 1024 * 1024


class ProtocolError(RuntimeError):
    """The server answered with an error, or a reply did not show what the action should do."""


def ws_url(base_url: str, path: str = "ws") -> str:
    """``http://host:port/prefix/`` → ``ws://host:port/prefix/ws``."""
    parts = urlsplit(base_url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    prefix = parts.path if parts.path.endswith("/") else parts.path + "/"
    return urlunsplit((scheme, parts.netloc, prefix + path, "", ""))


def pack(message: dict) -> bytes:
    """One wslink message as one binary frame (header + msgpack)."""
    body = msgpack.packb(message)
    header = (secrets.randbits(32).to_bytes(4, "little") + (0).to_bytes(4, "little")
              + len(body).to_bytes(4, "little"))
    return header + body


class _Unchunker:
    """Frames → messages; a message may span frames (wslink splits above 4 MB)."""

    def __init__(self) -> None:
        self._pending: dict[int, bytearray] = {}

    def feed(self, frame: bytes) -> dict | None:
        msg_id = int.from_bytes(frame[0:4], "little")
        offset = int.from_bytes(frame[4:8], "little")
        total = int.from_bytes(frame[8:12], "little")
        content = frame[HEADER_BYTES:]
        if offset == 0 and len(content) == total:
            return msgpack.unpackb(content)
        buf = self._pending.setdefault(msg_id, bytearray(total))
        buf[offset:offset + len(content)] = content
        # Chunks come in order on one socket: the last one ends the message.
        if offset + len(content) >= total:
            del self._pending[msg_id]
            return msgpack.unpackb(bytes(buf))
        return None


@dataclass
class Timing:
    """One checked action: what, how long from call to checked reply (s), and what was seen."""

    kind: str
    latency_s: float
    ok: bool
    detail: str = ""


@dataclass
class Counters:
    messages: int = 0
    state_updates: int = 0
    scene_deltas: int = 0
    full_scenes: int = 0  # state pushes that carry the whole 3-D scene (only for a page that needs it)
    bytes_in: int = 0
    images_seen: int = 0


def image_srcs(entries: Any) -> tuple[str, ...]:
    """The ``src`` of each image entry (``fluoro`` or ``pr_images``)."""
    return tuple(e.get("src", "") for e in entries or [] if isinstance(e, dict))


def real_images(srcs: tuple[str, ...]) -> bool:
    return bool(srcs) and all(s.startswith("data:image/jpeg;base64,") and len(s) > 200 for s in srcs)


class ProtocolSession:
    """One session, as the page holds it: call :meth:`open`, then the actions, then :meth:`close`.

    ``shows_scene``: say, as the page's 3-D view does once it has shown the scene, that only
    deltas are needed from then on (false: a page whose view never shows one)."""

    def __init__(self, base_url: str, *, http: aiohttp.ClientSession | None = None,
                 timeout_s: float = 60.0, shows_scene: bool = True) -> None:
        self.base_url = base_url
        self.shows_scene = shows_scene
        self.timeout_s = timeout_s
        self.state: dict[str, Any] = {}
        self.counters = Counters()
        self._http = http
        self._own_http = http is None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task | None = None
        self._pending: dict[str, asyncio.Future] = {}
        self._changed = asyncio.Event()
        self._next_id = 0
        self._client_id = ""
        self._closed_reason: str | None = None

    # ------------------------------------------------------------------ wire

    async def open(self, query: str = "") -> None:
        """Connect, say hello, read the state, and apply ``query`` as the page's URL would."""
        if self._http is None:
            self._http = aiohttp.ClientSession()
        self._ws = await self._http.ws_connect(ws_url(self.base_url), max_msg_size=0,
                                               heartbeat=None, autoping=True)
        self._reader = asyncio.create_task(self._read())
        hello = await self._call("wslink.hello", [{"secret": SECRET}], rpc_id="system:c0:0")
        self._client_id = hello["clientID"]
        initial = await self.call("trame.state.get")
        self.state.update(initial.get("state", {}))
        await self.call("trame.lifecycle.update", "client_connected")
        if self.shows_scene:  # as the page's 3-D view says once it has shown the scene it read
            await self.call("trame.state.update", [{"key": "scene_on_page", "value": True}])
        await self.trigger("url_params", query)
        # The trigger's reply may come before the state it changed: wait for the query to be
        # the applied one, or the state read next may still be the default story's.
        await self.wait_for(lambda: self.state.get("applied_query") == query, "the link to be applied")

    async def close(self) -> None:
        if self._ws is not None and not self._ws.closed:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 - closing anyway
                pass
        if self._own_http and self._http is not None:
            await self._http.close()

    async def call(self, method: str, *args: Any) -> Any:
        self._next_id += 1
        return await self._call(method, list(args), rpc_id=f"rpc:{self._client_id}:{self._next_id}")

    async def trigger(self, name: str, *args: Any) -> Any:
        """``trigger(name, [args])`` as the page's controls call it."""
        return await self.call("trame.trigger", name, list(args), {})

    async def _call(self, method: str, args: list, *, rpc_id: str) -> Any:
        if self._closed_reason:
            raise ProtocolError(self._closed_reason)
        future = asyncio.get_running_loop().create_future()
        self._pending[rpc_id] = future
        await self._ws.send_bytes(pack({"wslink": "1.0", "id": rpc_id, "method": method,
                                        "args": args, "kwargs": {}}))
        return await asyncio.wait_for(future, self.timeout_s)

    async def _read(self) -> None:
        unchunker = _Unchunker()
        try:
            async for msg in self._ws:
                if msg.type != aiohttp.WSMsgType.BINARY:
                    continue
                self.counters.bytes_in += len(msg.data)
                message = unchunker.feed(msg.data)
                if message is not None:
                    self._dispatch(message)
            self._fail("the server closed the websocket")
        except Exception as exc:  # noqa: BLE001 - every waiter must hear of it
            self._fail(f"websocket read failed: {exc!r}")

    def _fail(self, reason: str) -> None:
        self._closed_reason = reason
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ProtocolError(reason))
        self._pending.clear()
        self._changed.set()

    def _dispatch(self, message: dict) -> None:
        self.counters.messages += 1
        rpc_id = str(message.get("id", ""))
        if rpc_id.startswith("publish:"):
            topic = rpc_id.split(":")[1]
            if topic == "trame.state.topic":
                changes = message.get("result") or {}
                self.state.update(changes)
                self.counters.state_updates += 1
                self.counters.full_scenes += any(str(key).startswith("scene_") for key in changes)
            elif topic == "trame.vtk.delta":
                self.counters.scene_deltas += 1
            self._changed.set()
            return
        future = self._pending.pop(rpc_id, None)
        if future is None or future.done():
            return
        if "error" in message:
            error = message["error"]
            data = error.get("data") or {}
            future.set_exception(ProtocolError(
                f"{error.get('message')}: {data.get('exception', '') if isinstance(data, dict) else data}"))
        else:
            future.set_result(message.get("result"))

    async def wait_for(self, predicate: Callable[[], bool], what: str, timeout_s: float | None = None) -> None:
        """Until ``predicate()`` holds on the state pushed so far."""
        deadline = time.monotonic() + (self.timeout_s if timeout_s is None else timeout_s)
        while not predicate():
            if self._closed_reason:
                raise ProtocolError(self._closed_reason)
            left = deadline - time.monotonic()
            if left <= 0:
                raise ProtocolError(f"timed out waiting for {what}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), left)
            except asyncio.TimeoutError:
                pass

    # ------------------------------------------------------------------ what the page does

    async def wait_ready(self, timeout_s: float = 300.0) -> None:
        """The model is built (``building`` false) and the first step is shown."""
        await self.wait_for(lambda: self.state.get("building") is False and bool(self.state.get("step_title")),
                            "the model to be built", timeout_s)
        if self.state.get("mode") == "practice":
            await self.wait_for(lambda: bool(self.state.get("pr_ready")) and
                                real_images(image_srcs(self.state.get("pr_images"))),
                                "the practice needle and its first images", timeout_s)
        else:
            await self.wait_for(lambda: self.counters.scene_deltas > 0, "the first frame", timeout_s)

    async def next_step(self) -> Timing:
        """``next_step`` (``go_step 0`` after the last step); checked: the step moved, its frame
        arrived, and its fluoroscopy images are real images (counted when new)."""
        count = int(self.state.get("step_count") or 0)
        before = int(self.state.get("step_index", 0))
        return await self.go_step(before + 1 if before + 1 < count else 0)

    async def go_step(self, wanted: int) -> Timing:
        """Step ``wanted`` (``next_step`` when it is the next one, as the page's button does),
        checked as :meth:`next_step` says."""
        before = int(self.state.get("step_index", 0))
        srcs_before = image_srcs(self.state.get("fluoro"))
        deltas_before = self.counters.scene_deltas
        t0 = time.perf_counter()
        if wanted == before + 1:
            await self.trigger("next_step")
        else:
            await self.trigger("go_step", wanted)
        try:
            await self.wait_for(lambda: self.state.get("step_index") == wanted
                                and self.counters.scene_deltas > deltas_before, f"step {wanted} and its frame")
        except ProtocolError as exc:  # say what was seen, to tell a lost frame from a wrong step
            raise ProtocolError(f"{exc} (step {before} -> now {self.state.get('step_index')}, "
                                f"{self.counters.scene_deltas - deltas_before} frames since, "
                                f"mode {self.state.get('mode')}, building {self.state.get('building')}, "
                                f"playing {self.state.get('playing')}, {self.state.get('step_count')} steps, "
                                f"page message {str(self.state.get('error_message') or '')[:80]!r})") from None
        latency = time.perf_counter() - t0
        srcs = image_srcs(self.state.get("fluoro"))
        ok = not srcs or real_images(srcs)
        new = srcs != srcs_before and bool(srcs)
        self.counters.images_seen += len(srcs) if new else 0
        return Timing("story", latency, ok, f"step {before}->{wanted}, {len(srcs)} images"
                      f"{' (new)' if new else ''}")

    async def practice_move(self, mm: float = 5.0, *, deepest_mm: float = 60.0) -> Timing:
        """``practice_advance`` by ``mm`` (back out once past ``deepest_mm``, in again at the skin);
        checked: ``pr_depth_mm`` moved by the step and every image ``src`` is new."""
        depth = float(self.state.get("pr_depth_mm") or 0.0)
        going_in = self.state.get("_vp3d_going_in", True)
        if depth + mm > deepest_mm:
            going_in = False
        elif depth - mm < 0:
            going_in = True
        self.state["_vp3d_going_in"] = going_in
        step = mm if going_in else -mm
        srcs_before = image_srcs(self.state.get("pr_images"))
        t0 = time.perf_counter()
        await self.trigger("practice_advance", step)

        def done() -> bool:
            srcs = image_srcs(self.state.get("pr_images"))
            return (abs(float(self.state.get("pr_depth_mm") or 0.0) - (depth + step)) < 0.05
                    and len(srcs) == len(srcs_before) and all(a != b for a, b in zip(srcs, srcs_before)))

        await self.wait_for(done, f"depth {depth + step:.0f} mm and new images")
        latency = time.perf_counter() - t0
        srcs = image_srcs(self.state.get("pr_images"))
        self.counters.images_seen += len(srcs)
        return Timing("practice", latency, real_images(srcs), f"depth {depth:g}->{depth + step:g} mm")


async def demo(base_url: str, steps: int = 3) -> list[Timing]:
    """One story session and one practice session, ``steps`` actions each (a quick look)."""
    out = []
    for query, act in (("?audience=student", "story"), ("?audience=student&mode=practice", "practice")):
        session = ProtocolSession(base_url)
        try:
            await session.open(query)
            await session.wait_ready()
            for _ in range(steps):
                out.append(await (session.next_step() if act == "story" else session.practice_move()))
        finally:
            await session.close()
    return out


if __name__ == "__main__":
    import sys

    for t in asyncio.run(demo(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080/")):
        print(f"{t.kind:9s} {t.latency_s * 1000:7.1f} ms  ok={t.ok}  {t.detail}")
