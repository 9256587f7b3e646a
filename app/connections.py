"""Connection limits uvicorn lacks: a deadline for each request to arrive, and a cap on open
connections per worker.

uvicorn times out a connection only while it is idle *between* requests (timeout_keep_alive).
A connection that never sends a request, or sends its head or body a byte at a time, is kept
forever: enough of them exhaust the worker's file handles and nobody else gets in. This protocol
is uvicorn's own h11 protocol with two additions:

- a client has `request_timeout_seconds` after connecting, and after each answer, to send a
  whole request (head and body); past it the connection is closed;
- beyond `max_connections` open connections, a new one is closed at once (the worker keeps the
  handles it needs for the connections it already serves).

nginx in front (compose.yaml, deploy/nginx.conf) does the same per client; this guards a worker
that is reached directly. `python -m app` selects it (app/__main__.py).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import h11
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from .settings import get_settings

logger = logging.getLogger("uvicorn.error")

# h11 states in which the client still owes us part of a request.
AWAITING_REQUEST = (h11.IDLE, h11.SEND_BODY)


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a request deadline and a connection cap (module docstring)."""

    def __init__(self, config: Config, server_state: ServerState, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        settings = get_settings()
        self.request_timeout = settings.request_timeout_seconds
        self.max_connections = settings.max_connections
        self.request_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            logger.warning("Closed a connection: %d are open (max_connections)",
                           len(self.connections) - 1)
            transport.abort()
            return
        self._arm_request_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_request_deadline()
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_request_deadline()  # the next request on this connection, if any

    def _arm_request_deadline(self) -> None:
        self._cancel_request_deadline()
        self.request_deadline = self.loop.call_later(self.request_timeout, self._request_late)

    def _cancel_request_deadline(self) -> None:
        if self.request_deadline is not None:
            self.request_deadline.cancel()
            self.request_deadline = None

    def _request_late(self) -> None:
        self.request_deadline = None
        if self.transport.is_closing():
            return
        if self.conn.their_state in AWAITING_REQUEST:
            # A request still on its way in: closing tells the app (an http.disconnect).
            self.transport.close()
