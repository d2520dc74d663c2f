"""The playground's web app: the page, its static files, and one WebSocket per tab.

Each tab's connection owns a ``Session``. While playing, the connection's task
alternates a slice of training with one frame, so frames go out at a steady
rate and the network trains as fast as it can in between. All sessions share
one event loop; the training slice shrinks as more tabs play, so each keeps
its frame rate. A session is dropped when its tab goes away.

Only the page's own origin may drive a session: a WebSocket whose ``Origin``
is another site is refused, and ``Host`` must be one this server answers to
(so a rebound DNS name cannot reach it either).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from mlplab.errors import MlplabError
from mlplab.playground.schema import (
    Configure,
    MessageError,
    SetWeight,
    ShowCode,
    Upload,
    choices,
    parse_message,
)
from mlplab.playground.session import Session

__all__ = ["LOCAL_HOSTS", "Hub", "create_app", "origin_allowed"]

STATIC = Path(__file__).parent / "static"
LOCAL_HOSTS = ["127.0.0.1", "localhost", "::1", "[::1]"]
FPS = 25.0  # frames per second per playing tab
MIN_SLICE = 0.001  # seconds of training per frame, however many tabs play
MAX_SESSIONS = 64
INBOX = 64  # messages waiting per tab; past that the socket is read no faster than handled
SLOW = (ShowCode,)  # handled in a worker thread, so other tabs keep their frames

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


class Hub:
    """The live sessions of one server, and the pacing they share."""

    def __init__(self, fps: float = FPS, max_sessions: int = MAX_SESSIONS) -> None:
        self.fps = fps
        self.max_sessions = max_sessions
        self.sessions: set[Session] = set()

    def playing(self) -> int:
        return sum(s.playing for s in self.sessions)

    def slice(self, frame_cost: float) -> float:
        """Seconds of training before the next frame, shared fairly by the playing tabs.

        ``frame_cost`` is the wall time the last frame took to make and send; on a
        busy machine it grows, and training yields that time to the frames.
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
        session = Session()
        self.sessions.add(session)
        inbox: asyncio.Queue[str | bytes | None] = asyncio.Queue(INBOX)
        reader = asyncio.create_task(_read(websocket, inbox))
        try:
            await _send(websocket, {"type": "hello", **choices()})
            await _send(websocket, session.state())
            await _send(websocket, session.frame())
            await self._run(websocket, session, inbox)
        except (WebSocketDisconnect, OSError, RuntimeError):
            pass  # the tab went away mid-send
        finally:
            session.playing = False
            self.sessions.discard(session)
            reader.cancel()

    async def _run(self, websocket: WebSocket, session: Session, inbox: asyncio.Queue) -> None:
        frame_cost = 0.0
        while True:
            if not session.playing:
                raw = await inbox.get()
                if raw is None:
                    return
                await self._handle(websocket, session, raw)
                continue
            while not inbox.empty():
                raw = inbox.get_nowait()
                if raw is None:
                    return
                await self._handle(websocket, session, raw)
            if not session.playing:
                continue
            start = time.perf_counter()
            try:
                session.train_for(self.slice(frame_cost))
            except MlplabError as e:
                await _send(websocket, {"type": "error", "message": str(e)})
            before_frame = time.perf_counter()
            await _send(websocket, session.frame())
            frame_cost = 0.8 * frame_cost + 0.2 * (time.perf_counter() - before_frame)
            rest = 1.0 / self.fps - (time.perf_counter() - start)
            await asyncio.sleep(max(0.0, rest) if self.playing() == 1 else 0)

    async def _handle(self, websocket: WebSocket, session: Session, raw: str | bytes) -> None:
        """Apply one message; a bad one gets an error reply and changes nothing."""
        try:
            message = parse_message(raw)
            if isinstance(message, SLOW):
                reply = await asyncio.to_thread(_apply, session, message)
            else:
                reply = _apply(session, message)
        except (MessageError, MlplabError) as e:
            reply = [{"type": "error", "message": str(e)}]
        except Exception as e:  # a bug: say so, keep this tab and the others going
            log.exception("playground: message %.200r failed", raw)
            reply = [{"type": "error", "message": f"internal error: {type(e).__name__}: {e}"}]
        for item in reply:
            await _send(websocket, item)


def _apply(session: Session, message: Any) -> list[dict[str, Any]]:
    """Carry out a validated message; returns what to send back."""
    if isinstance(message, Configure):
        session.configure(message.settings)
        return [session.state(), session.frame()]
    if isinstance(message, Upload):
        session.upload(message.csv, message.name)
        return [session.state(), session.frame()]
    if isinstance(message, SetWeight):
        session.set_weight(message.layer, message.source, message.target, message.value)
        return [session.frame()]
    if isinstance(message, ShowCode):
        return [session.code(message.epochs)]
    kind = message.type  # a Command
    if kind in ("play", "pause"):
        session.playing = kind == "play"
        return [session.frame()]
    if kind == "step":
        session.playing = False
        session.step()
        return [session.frame()]
    getattr(session, kind)()  # reset, rewind, regenerate
    return [session.state(), session.frame()]


async def _read(websocket: WebSocket, inbox: asyncio.Queue) -> None:
    """Move incoming messages to ``inbox``; ``None`` when the tab goes away."""
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            await inbox.put(message.get("text", message.get("bytes")))
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass
    with contextlib.suppress(asyncio.QueueFull):
        inbox.put_nowait(None)


async def _send(websocket: WebSocket, message: dict[str, Any]) -> None:
    await websocket.send_text(json.dumps(message, separators=(",", ":"), allow_nan=False))


async def _deny(websocket: WebSocket, status: int, reason: str) -> None:
    """Refuse a handshake with an HTTP status and a reason, where the server can."""
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(PlainTextResponse(reason, status_code=status))
    else:
        await websocket.close(code=1008, reason=reason)


async def _index(request: Request) -> FileResponse:
    return FileResponse(STATIC / "index.html")


def create_app(*, allowed_hosts: list[str] | None = None, fps: float = FPS) -> Starlette:
    """The ASGI app. ``allowed_hosts`` are the ``Host`` names served (default: local ones)."""
    hub = Hub(fps)
    app = Starlette(
        routes=[
            Route("/", _index),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
            WebSocketRoute("/ws", hub.endpoint),
        ],
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts or LOCAL_HOSTS)],
    )
    app.state.hub = hub
    return app
