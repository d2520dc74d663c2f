"""Serving the playground with uvicorn within limits, so that no client can deny the others.

- At most ``max_connections`` connections kept open, never more than the process's file limit
  allows; past twice that (uvicorn's ``limit_concurrency``), a request is answered 503.
- A connection that has not sent a whole request head within ``header_seconds`` of opening
  (or of its request's first byte) is closed: an idle socket, or a "slow-header" client
  trickling its headers. An idle keep-alive connection is closed after
  ``KEEP_ALIVE_SECONDS`` (uvicorn's ``timeout_keep_alive``).
- When connections reach the limit, the oldest one still waiting for its request head is
  closed to make room, so a page load stays possible while idle sockets pile up.
- A request head is at most ``MAX_HEAD_BYTES`` (uvicorn's ``h11_max_incomplete_event_size``,
  where h11 parses), a WebSocket message at most ``MAX_MESSAGE_BYTES``.
- A client's error that uvicorn handles (an invalid UTF-8 text frame) is one log line.

The deadline and the eviction are a subclass of uvicorn's httptools protocol (the ``web``
extra installs ``uvicorn[standard]``); without httptools, uvicorn's own protocol serves, with
uvicorn's limits only.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from typing import Any

import uvicorn

__all__ = ["HEADER_SECONDS", "MAX_CONNECTIONS", "OneLineErrors", "server_config"]

HEADER_SECONDS = 10.0
KEEP_ALIVE_SECONDS = 5
MAX_CONNECTIONS = 500
MAX_HEAD_BYTES = 16 * 1024
MAX_MESSAGE_BYTES = 1 << 20
FILES_KEPT = 64  # file descriptors left for everything but connections


def server_config(
    app: Any, *, max_connections: int = MAX_CONNECTIONS,
    header_seconds: float = HEADER_SECONDS, **options: Any,
) -> uvicorn.Config:  # fmt: skip
    """uvicorn's ``Config`` for ``app`` with the limits above (``options``: uvicorn's others)."""
    limit = connection_limit(max_connections)
    return uvicorn.Config(
        app,
        http=_protocol(limit, header_seconds),
        # past twice the limit a request is refused: room for those being closed to make room
        limit_concurrency=2 * limit,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        h11_max_incomplete_event_size=MAX_HEAD_BYTES,
        ws_max_size=MAX_MESSAGE_BYTES,
        **options,
    )


def connection_limit(wanted: int) -> int:
    """``wanted``, or fewer where the process may not open that many files."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(1, min(wanted, soft - FILES_KEPT))


class OneLineErrors(logging.Filter):
    """uvicorn's log of a client's error that it handled, without the traceback."""

    HANDLED = ("Invalid UTF-8",)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.getMessage().startswith(self.HANDLED):
            record.exc_info, record.exc_text = None, None
        return True


def _protocol(limit: int, header_seconds: float) -> Any:
    """uvicorn's HTTP protocol with the head deadline and the eviction, or ``"auto"``."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:
        return "auto"

    class HeadDeadline(HttpToolsProtocol):  # type: ignore[misc]
        """Closes a connection whose request head is late; makes room at the limit."""

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self.waiting_since: float | None = None
            self._deadline: asyncio.TimerHandle | None = None
            self._wait_for_head()
            _make_room(self.connections, limit, besides=self)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            if self.waiting_since is None:
                self._wait_for_head()

        def on_headers_complete(self) -> None:
            self._stop_waiting()
            super().on_headers_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._stop_waiting()
            super().connection_lost(exc)

        def _wait_for_head(self) -> None:
            self.waiting_since = self.loop.time()
            self._deadline = self.loop.call_later(header_seconds, self._late)

        def _stop_waiting(self) -> None:
            self.waiting_since = None
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _late(self) -> None:
            self._deadline = None
            if not self.transport.is_closing():
                self.transport.close()

    return HeadDeadline


def _make_room(connections: set, limit: int, besides: object) -> None:
    """Past ``limit`` open connections, close those that have waited longest for their request
    head (never ``besides``, the one just opened)."""
    open_ = [c for c in connections if not c.transport.is_closing()]
    waiting = [c for c in open_ if getattr(c, "waiting_since", None) is not None]
    waiting = sorted((c for c in waiting if c is not besides), key=lambda c: c.waiting_since)
    for oldest in waiting[: max(0, len(open_) - limit)]:
        oldest.waiting_since = None
        oldest.transport.close()
