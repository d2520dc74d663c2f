"""The playground's web app: the page, its static files, and one WebSocket per tab.

Each tab's connection owns a ``Session``. While it plays (or has Step presses to
train), the connection's task alternates a slice of training with one frame.
The training and the frame's making run in one worker thread that serves the
tabs in turn, so the event loop is free to serve pages and other tabs' frames;
the slice is a fair share of the frame interval among the busy tabs, so a tab
that floods Step presses gets no more than any other. Other messages run off the event
loop too, each tab's one at a time: quick ones (a new set-up) in threads of their own, and
the long one ("Show code", up to 10000 epochs) in one thread that takes the tabs' requests
in turn, so six tabs asking for code never hold up a seventh's set-up. When a tab goes
away its session is dropped and closed, which lets go of its compiled programs.
Every session trains with the app's engine: ``numpy``, or ``jax`` (compiled, its programs
compiled in a thread of their own and held by the app's ``Compiler``,
``mlplab.playground.compiled``).

Only the page's own origin may drive a session: a WebSocket whose ``Origin``
is another site is refused, and ``Host`` must be one this server answers to
(so a rebound DNS name cannot reach it either). Every refusal is logged as one
line saying what was refused and why.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from mlplab.errors import MlplabError
from mlplab.playground.compiled import Compiler
from mlplab.playground.schema import (
    Configure,
    InspectLink,
    InspectUnit,
    Link,
    MessageError,
    SetWeight,
    ShowCode,
    TraceStep,
    Upload,
    choices,
    parse_message,
)
from mlplab.playground.session import Session

__all__ = ["LOCAL_HOSTS", "Hub", "create_app", "host_allowed", "origin_allowed"]

STATIC = Path(__file__).parent / "static"
LOCAL_HOSTS = ["127.0.0.1", "localhost", "::1", "[::1]"]
FPS = 25.0  # frames per second per playing tab
MIN_SLICE = 0.001  # seconds of training per frame, however many tabs play
MAX_SESSIONS = 64
INBOX = 64  # messages waiting per tab; past that the socket is read no faster than handled
QUICK_THREADS = 2  # threads for quick messages (a set-up, a link, an upload)

log = logging.getLogger(__name__)


def origin_allowed(origin: str | None, host: str | None) -> bool:
    """A browser's WebSocket may connect only from a page served by this host.

    Browsers always send ``Origin`` with a WebSocket; a client without one is
    not a page on another site, so it is let through.
    """
    if origin is None:
        return True
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and bool(host) and parts.netloc == host


def host_allowed(host: str | None, allowed: list[str]) -> bool:
    """``Host`` (``name`` or ``name:port``) names one of ``allowed`` (``*``: any)."""
    if "*" in allowed:
        return True
    if not host:
        return False
    if host.startswith("["):  # [::1]:8000
        name = host[: host.find("]") + 1]
    else:  # name:port, or a bare name or IPv6 address
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return name.lower() in {a.lower() for a in allowed}


class HostCheck:
    """Refuse requests and WebSockets whose ``Host`` this server does not answer to."""

    def __init__(self, app: ASGIApp, allowed: list[str]) -> None:
        self.app, self.allowed = app, allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        hosts = [v.decode("latin-1") for k, v in scope["headers"] if k == b"host"]
        host = hosts[0] if len(hosts) == 1 else ""
        if host_allowed(host, self.allowed):
            return await self.app(scope, receive, send)
        reason = f"Host {' and '.join(hosts) or '(none)'} is not a name this server answers to"
        if scope["type"] == "http":
            return await PlainTextResponse(reason, status_code=400)(scope, receive, send)
        await _deny(WebSocket(scope, receive, send), 403, reason + " (see --allow-host)")


class Hub:
    """The live sessions of one server, and the pacing they share."""

    def __init__(
        self, fps: float = FPS, max_sessions: int = MAX_SESSIONS, engine: str = "numpy"
    ) -> None:
        self.fps = fps
        self.engine = engine  # every session trains with it ("numpy" or "jax")
        self.max_sessions = max_sessions
        self.sessions: set[Session] = set()
        self.left: dict[Session, threading.Event] = {}
        self.hello = _dumps({"type": "hello", **choices()})  # the menus, the same for every tab
        self.compiler = Compiler() if engine == "jax" else None  # the tabs' compiled programs
        # one thread trains every tab in turn: the event loop stays free, and the tabs'
        # slices queue fairly instead of fighting over the interpreter's lock
        self.trainer = ThreadPoolExecutor(1, thread_name_prefix="mlplab-playground")
        self.quick = ThreadPoolExecutor(QUICK_THREADS, thread_name_prefix="mlplab-message")
        # "Show code" (a long fit): one at a time, the tabs' requests in the order they came
        self.exports = ThreadPoolExecutor(1, thread_name_prefix="mlplab-code")

    def close(self) -> None:
        """Stop the threads and let go of every compiled program (the server is stopping)."""
        for session in list(self.sessions):
            session.close()
        for pool in (self.trainer, self.quick, self.exports):
            pool.shutdown(wait=False, cancel_futures=True)
        if self.compiler is not None:
            self.compiler.close()

    def playing(self) -> int:
        """Tabs training now: playing, or with Step presses to train."""
        return sum(s.busy for s in self.sessions)

    def slice(self, frame_cost: float) -> float:
        """Seconds of training before the next frame, shared fairly by the busy tabs.

        ``frame_cost`` is the time the last frames took to make; on a busy machine it
        grows, and training yields that time to the frames (a slice too short for an
        epoch is saved up by the session for a later frame).
        """
        return max(MIN_SLICE, 1.0 / self.fps / max(1, self.playing()) - frame_cost)

    async def endpoint(self, websocket: WebSocket) -> None:
        origin, host = websocket.headers.get("origin"), websocket.headers.get("host")
        if not origin_allowed(origin, host):
            await _deny(websocket, 403, f"origin {origin} may not use this playground")
            return
        if len(self.sessions) >= self.max_sessions:
            await _deny(websocket, 503, f"too many sessions (the limit is {self.max_sessions})")
            return
        await websocket.accept()
        session = Session(engine=self.engine, compiler=self.compiler)
        self.sessions.add(session)
        inbox: asyncio.Queue[str | bytes | None] = asyncio.Queue(INBOX)
        self.left[session] = threading.Event()  # set when the tab goes (seen by the threads)
        reader = asyncio.create_task(_read(websocket, inbox, self.left[session]))
        try:
            await websocket.send_text(self.hello)
            await _send(websocket, session.state())
            await _send(websocket, session.frame())
            await self._run(websocket, session, inbox)
        except (WebSocketDisconnect, OSError, RuntimeError):
            pass  # the tab went away mid-send
        finally:
            self.sessions.discard(session)
            self.left.pop(session).set()
            session.close()
            reader.cancel()

    async def _run(self, websocket: WebSocket, session: Session, inbox: asyncio.Queue) -> None:
        frame_cost = 0.0
        while True:
            if not session.busy:
                raw = await inbox.get()
                if raw is None:
                    return
                await self._handle(websocket, session, raw)
                continue
            start = time.perf_counter()
            budget = self.slice(frame_cost)
            while not inbox.empty() and time.perf_counter() - start < budget:
                raw = inbox.get_nowait()
                if raw is None:
                    return
                await self._handle(websocket, session, raw)
            if not session.busy:
                continue
            seconds = max(MIN_SLICE, budget - (time.perf_counter() - start))
            loop = asyncio.get_running_loop()
            text, error, cost = await loop.run_in_executor(self.trainer, _advance, session, seconds)
            if error:
                await _send(websocket, {"type": "error", "message": error})
            await websocket.send_text(text)
            frame_cost = 0.8 * frame_cost + 0.2 * cost
            rest = 1.0 / self.fps - (time.perf_counter() - start)
            await asyncio.sleep(max(0.0, rest) if self.playing() <= 1 else 0)

    async def _handle(self, websocket: WebSocket, session: Session, raw: str | bytes) -> None:
        """Apply one message; a bad one gets an error reply and changes nothing."""
        try:
            message = parse_message(raw)
            if getattr(message, "type", None) == "step":
                session.ask_step()  # trained, and shown, by the next slice
                return
            reply = await self._reply(session, message)
        except (MessageError, MlplabError) as e:
            reply = [{"type": "error", "message": str(e)}]
        except Exception as e:  # a bug: say so, keep this tab and the others going
            log.exception("message %.200r failed", raw)
            reply = [{"type": "error", "message": f"internal error: {type(e).__name__}: {e}"}]
        for item in reply:
            await _send(websocket, item)

    async def _reply(self, session: Session, message: Any) -> list[dict[str, Any]]:
        """Carry out a message off the event loop: "Show code" in the export thread (not at
        all if the tab has gone by its turn), the others in the quick threads."""
        loop = asyncio.get_running_loop()
        if isinstance(message, ShowCode):
            code = await loop.run_in_executor(self.exports, self._export, session, message.epochs)
            return [] if code is None else [code]
        return await loop.run_in_executor(self.quick, _apply, session, message)

    def _export(self, session: Session, epochs: int) -> dict[str, Any] | None:
        left = self.left.get(session)
        return None if left is None or left.is_set() else session.code(epochs)


def _advance(session: Session, seconds: float) -> tuple[str, str | None, float]:
    """Train for a slice, then make the frame: ``(frame JSON, error or None, frame secs)``."""
    error = None
    try:
        session.train_for(seconds)
    except MlplabError as e:
        error = str(e)
    start = time.perf_counter()
    text = _dumps(session.frame())
    return text, error, time.perf_counter() - start


def _apply(session: Session, message: Any) -> list[dict[str, Any]]:
    """Carry out a validated message; returns what to send back."""
    if isinstance(message, Configure):
        session.configure(message.settings)
        return [session.state(), session.frame()]
    if isinstance(message, Link):
        ignored = session.apply_link(message.fields)
        reply = [session.state(), session.frame()]
        if ignored:
            note = "; ".join(ignored)
            message = f"ignored in the link: {note}; the rest applied"
            reply.append({"type": "error", "message": message})
        return reply
    if isinstance(message, Upload):
        session.upload(message.csv, message.name)
        return [session.state(), session.frame()]
    if isinstance(message, SetWeight):
        session.set_weight(message.layer, message.source, message.target, message.value)
        return [session.frame()]
    if isinstance(message, TraceStep):  # pauses; the network takes the traced step
        return [session.trace(), session.frame()]
    if isinstance(message, InspectUnit):
        return [session.inspect_unit(message.column, message.unit, (message.x1, message.x2))]
    if isinstance(message, InspectLink):
        return [session.inspect_link(message.layer, message.source, message.target)]
    kind = message.type  # a Command
    if kind in ("play", "pause"):
        session.playing = kind == "play"
        return [session.frame()]
    getattr(session, kind)()  # reset, rewind, regenerate
    return [session.state(), session.frame()]


async def _read(websocket: WebSocket, inbox: asyncio.Queue, left: threading.Event) -> None:
    """Move incoming messages to ``inbox``; ``None`` (and ``left`` set) when the tab goes."""
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            await inbox.put(message.get("text", message.get("bytes")))
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass
    left.set()
    with contextlib.suppress(asyncio.QueueFull):
        inbox.put_nowait(None)


def _dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), allow_nan=False)


async def _send(websocket: WebSocket, message: dict[str, Any]) -> None:
    await websocket.send_text(_dumps(message))


async def _deny(websocket: WebSocket, status: int, reason: str) -> None:
    """Refuse a handshake with an HTTP status and a reason, and log it as one line."""
    client = websocket.client
    peer = f"{client.host}:{client.port}" if client else "a client"
    log.warning("refused a WebSocket from %s (HTTP %d): %s", peer, status, reason)
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(PlainTextResponse(reason, status_code=status))
    else:
        await websocket.close(code=1008, reason=reason)


async def _index(request: Request) -> FileResponse:
    return FileResponse(STATIC / "index.html")


def create_app(
    *, allowed_hosts: list[str] | None = None, fps: float = FPS, engine: str = "numpy"
) -> Starlette:
    """The ASGI app. ``allowed_hosts`` are the ``Host`` names served (default: local ones);
    every tab trains with ``engine`` (``"numpy"``, or ``"jax"``: compiled)."""
    hub = Hub(fps, engine=engine)
    app = Starlette(
        routes=[
            Route("/", _index),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
            WebSocketRoute("/ws", hub.endpoint),
        ],
    )
    app.add_middleware(HostCheck, allowed=allowed_hosts or LOCAL_HOSTS)
    app.state.hub = hub
    return app
