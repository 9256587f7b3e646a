"""Connection limits uvicorn lacks (a deadline for each request to arrive, a cap on open
connections per worker), and answers that leave a worker whole.

uvicorn times out a connection only while it is idle *between* requests (timeout_keep_alive).
A connection that never sends a request, or sends its head or body a byte at a time, is kept
forever: enough of them exhaust the worker's file handles and nobody else gets in. This protocol
is uvicorn's own h11 protocol with three additions:

- a client has `request_timeout_seconds` after connecting, and after each answer, to send a
  whole request (head and body); past it the connection is closed;
- beyond `max_connections` open connections, a new one is closed at once (the worker keeps the
  handles it needs for the connections it already serves);
- what one turn of the event loop writes leaves in one system call (CoalescedWrites): an
  answer's head and body together. uvicorn writes them one after the other, and a worker killed
  between the two left nginx a head without a body. nginx had passed the head on to the client,
  so it could no longer send the request to another worker: the client lost it. Now a killed
  worker has sent nothing (nginx sends the request again) or the whole answer, which the kernel
  delivers after the process is gone (as far as the kernel takes it at once: CoalescedWrites).

nginx in front (compose.yaml, deploy/nginx/autodiff-lab.conf) does the first two per client;
they guard a worker that is reached directly. `python -m app` and `autodiff-lab serve` select
this protocol (app/cli.py).
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
    """uvicorn's h11 protocol with a request deadline, a connection cap and answers written
    whole (module docstring)."""

    def __init__(self, config: Config, server_state: ServerState, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        settings = get_settings()
        self.request_timeout = settings.request_timeout_seconds
        self.max_connections = settings.max_connections
        self.request_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescedWrites(transport, self.loop))
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


class CoalescedWrites(asyncio.Transport):
    """A connection's transport whose writes made in one turn of the event loop go to the
    socket in one system call, at the end of the turn (or at once, when it is closed).

    Starlette sends an answer's head and its body with nothing awaited in between, so they
    leave together: a worker killed at any moment has sent all of an answer or none of it.
    (All of it, as far as the kernel takes it in one call: an answer of megabytes to a reader
    slower than the worker may still be cut while the rest drains.)"""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(extra=None)
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(data if isinstance(data, bytes) else bytes(data))

    def _flush(self) -> None:
        if self._pending:
            data = b"".join(self._pending)  # (one piece is not copied)
            self._pending.clear()
            self._transport.write(data)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending.clear()
        self._transport.abort()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._transport.get_protocol()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(map(len, self._pending))
