"""Paced delivery of answers: event plans, delays, disconnects and stream faults.

Every wire format describes its streamed answer as an :class:`EventPlan` (the
events before the text, one event per text piece, the events after it); the
classes here send such a plan with the configured delay between events and
inject ``cut`` and ``garbage`` faults at the same place for every format.
"""

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.types import Receive, Scope, Send

from aperture_proxy.sim.settings import SimSettings

Answer = Callable[[Scope, Receive, Send], Awaitable[None]]

# Invalid UTF-8 (0xff, 0xfe, a lone continuation byte, a truncated sequence) and
# no line breaks, so an SSE parser can never turn it into an event.
GARBAGE = b"\xff\xfe\x00\x80<<simulated garbage>>\xc3\x28\x9f\xf0\x9f"


class StreamCut(Exception):
    """Raised inside a response to make uvicorn drop the connection mid-body."""


class StreamCutLogFilter(logging.Filter):
    """Keeps uvicorn from logging an intended cut as an application error."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, StreamCut)


def install_log_filter() -> None:
    """Attach :class:`StreamCutLogFilter` to uvicorn's error logger, once."""
    log = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, StreamCutLogFilter) for f in log.filters):
        log.addFilter(StreamCutLogFilter())


def estimate_tokens(text: str | bytes) -> int:
    """About four characters per token: enough for plausible usage numbers."""
    return max(1, (len(text) + 3) // 4)


def split_reply(reply: str, chunks: int) -> tuple[str, ...]:
    """Split ``reply`` into exactly ``chunks`` pieces that join back to it.

    >>> split_reply("abcdefg", 3)
    ('ab', 'cd', 'efg')
    >>> split_reply("ab", 3)
    ('', 'a', 'b')
    """
    size = len(reply)
    return tuple(
        reply[i * size // chunks : (i + 1) * size // chunks] for i in range(chunks)
    )


@dataclass(frozen=True)
class Turn:
    """One model answer: what every wire format renders in its own shape."""

    model: str
    pieces: tuple[str, ...]
    input_tokens: int
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:24])

    @classmethod
    def build(cls, model: str, settings: SimSettings, body: bytes) -> "Turn":
        pieces = split_reply(settings.reply, settings.chunks)
        return cls(model=model, pieces=pieces, input_tokens=estimate_tokens(body))

    @property
    def text(self) -> str:
        return "".join(self.pieces)

    @property
    def output_tokens(self) -> int:
        return estimate_tokens(self.text)


def dumps(obj: Any) -> str:
    """Compact JSON, as the providers send it."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def sse(data: Any, event: str | None = None) -> bytes:
    """One server-sent event; ``data`` is JSON-encoded unless it is a string."""
    payload = data if isinstance(data, str) else dumps(data)
    prefix = f"event: {event}\n" if event else ""
    return f"{prefix}data: {payload}\n\n".encode()


@dataclass(frozen=True)
class EventPlan:
    """A streamed answer; ``content`` holds one event per piece of the reply."""

    media_type: str
    head: list[bytes]
    content: list[bytes]
    tail: list[bytes]
    headers: dict[str, str] = field(default_factory=dict)


class Pacer:
    """Sleeps that end early when the client disconnects or the gateway stops.

    A stalled or slowly streamed request must never keep ``stop()`` waiting,
    and must stop producing as soon as nobody listens any more.
    """

    def __init__(self, receive: Receive, closing: asyncio.Event) -> None:
        self._receive = receive
        self._closing = closing
        self._over = asyncio.Event()
        self._watcher: asyncio.Task[None] | None = None
        self.closing = False

    async def __aenter__(self) -> "Pacer":
        self._watcher = asyncio.create_task(self._watch())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._watcher:
            self._watcher.cancel()

    async def _watch(self) -> None:
        # Once the body has been read, receive() only returns on disconnect.
        disconnect = asyncio.create_task(self._next_message())
        closing = asyncio.create_task(self._closing.wait())
        try:
            await asyncio.wait(
                {disconnect, closing}, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            disconnect.cancel()
            closing.cancel()
        self.closing = self._closing.is_set()
        self._over.set()

    async def _next_message(self) -> None:
        await self._receive()

    @property
    def over(self) -> bool:
        """True once the client is gone or the gateway is stopping."""
        return self._over.is_set()

    async def sleep(self, seconds: float) -> bool:
        """Wait ``seconds``; False when interrupted (see :attr:`over`)."""
        if seconds <= 0:
            return not self.over
        try:
            await asyncio.wait_for(self._over.wait(), seconds)
        except TimeoutError:
            return True
        return False


async def _body(send: Send, chunk: bytes, more: bool) -> None:
    await send({"type": "http.response.body", "body": chunk, "more_body": more})


class StreamAnswer:
    """Sends an :class:`EventPlan` as a chunked 200 response, event by event."""

    def __init__(self, plan: EventPlan, settings: SimSettings, pacer: Pacer) -> None:
        self._plan = plan
        self._settings = settings
        self._pacer = pacer

    def _events(self) -> list[bytes]:
        plan, fault = self._plan, self._settings.fault
        if fault in ("cut", "garbage"):
            return plan.head + plan.content[: self._settings.fault_after]
        return plan.head + plan.content + plan.tail

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {"content-type": self._plan.media_type, "cache-control": "no-cache"}
        headers |= self._plan.headers
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
            }
        )
        stamp = self._settings.stamp_events and self._plan.media_type.startswith(
            "text/event-stream"
        )
        for index, event in enumerate(self._events()):
            if index and not await self._pacer.sleep(self._settings.delay):
                return await self._interrupted()
            if stamp:
                event = b": sent_at=%.6f\n%b" % (time.time(), event)
            await _body(send, event, more=True)

        if self._settings.fault == "cut":
            raise StreamCut("simulated gateway: stream cut by fault 'cut'")
        if self._settings.fault == "garbage":
            await _body(send, GARBAGE, more=True)
        await _body(send, b"", more=False)

    async def _interrupted(self) -> None:
        # A gone client needs nothing more; on shutdown, drop the connection
        # rather than pretend the answer was complete.
        if self._pacer.closing:
            raise StreamCut("simulated gateway: stopping")


class BodyAnswer:
    """A complete (non-streamed) answer, subject to the ``cut``/``garbage`` faults.

    Without a stream there are no events to count, so ``cut`` sends the
    headers and the first half of the body, then drops the connection, and
    ``garbage`` replaces the body with :data:`GARBAGE`.
    """

    def __init__(
        self,
        body: bytes,
        media_type: str,
        settings: SimSettings,
        headers: dict[str, str] | None = None,
    ) -> None:
        self._body = body
        self._media_type = media_type
        self._fault = settings.fault
        self._headers = headers or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = GARBAGE if self._fault == "garbage" else self._body
        headers = {"content-type": self._media_type, "content-length": str(len(body))}
        headers |= self._headers
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
            }
        )
        if self._fault == "cut":
            await _body(send, body[: len(body) // 2], more=True)
            raise StreamCut("simulated gateway: body cut by fault 'cut'")
        await _body(send, body, more=False)


def json_answer(
    obj: Any, settings: SimSettings, headers: dict[str, str] | None = None
) -> BodyAnswer:
    """A JSON body answer."""
    return BodyAnswer(dumps(obj).encode(), "application/json", settings, headers)
