"""The simulated gateway's ASGI app: routing, recording, faults and control endpoints.

Routing works on the percent-decoded path with plain regular expressions, so a
Bedrock model id sent as ``anthropic.claude…-v1%3A0`` is seen as ``…-v1:0``,
and any method or path not listed answers 404 (never 405), naming what was
asked for.
"""

import asyncio
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

from aperture_proxy.sim import (
    wire_anthropic,
    wire_bedrock,
    wire_google,
    wire_openai,
)
from aperture_proxy.sim.catalogue import (
    DEFAULT_CATALOGUE,
    SimProvider,
    codex_model_ids,
    models_body,
    providers_body,
)
from aperture_proxy.sim.mcp import SimMcp
from aperture_proxy.sim.recording import RecordedRequest, Recorder
from aperture_proxy.sim.settings import SimSettings
from aperture_proxy.sim.streaming import (
    Answer,
    EventPlan,
    Pacer,
    StreamAnswer,
    StreamCut,
    Turn,
    json_answer,
)

# uvicorn's h11 protocol lowercases header names; server.py stores the names as
# the client spelled them under this scope key.
RAW_HEADERS_KEY = "aperture_sim.raw_headers"

RESTARTING_MESSAGE = "aperture is restarting, please retry"

ErrorShape = Callable[[int, str], JSONResponse]
Render = Callable[["LlmCall"], EventPlan | dict[str, Any]]


@dataclass(frozen=True)
class LlmCall:
    """What a wire format needs to render one answer."""

    turn: Turn
    body: dict[str, Any]
    action: str
    query: dict[str, str]


@dataclass(frozen=True)
class LlmRoute:
    """An LLM path: its pattern, its provider's error shape and its renderer.

    A pattern may capture ``model`` (else the body's ``model`` field is used)
    and ``action`` (the verb after ``:`` or the last path segment).
    """

    pattern: re.Pattern[str]
    error: ErrorShape
    render: Render


def _stream_flag(call: LlmCall) -> bool:
    return call.body.get("stream") is True


def _chat(call: LlmCall) -> EventPlan | dict[str, Any]:
    if not _stream_flag(call):
        return wire_openai.chat_completion(call.turn)
    options = call.body.get("stream_options")
    usage = isinstance(options, dict) and options.get("include_usage") is True
    return wire_openai.chat_stream(call.turn, include_usage=usage)


def _gemini(call: LlmCall) -> EventPlan | dict[str, Any]:
    turn = wire_google.structured_turn(call.turn, call.body)
    if call.action == "generateContent":
        return wire_google.generate_content(turn)
    if call.query.get("alt") == "sse":
        return wire_google.stream_sse(turn)
    return wire_google.stream_json_array(turn)


_BEDROCK: dict[str, Render] = {
    "converse": lambda c: wire_bedrock.converse(c.turn),
    "converse-stream": lambda c: wire_bedrock.converse_stream(c.turn),
    "invoke": lambda c: wire_bedrock.invoke(c.turn),
    "invoke-with-response-stream": lambda c: wire_bedrock.invoke_stream(c.turn),
}

_VERTEX = r"/v1(?:beta1)?/projects/[^/]+/locations/[^/]+/publishers"

LLM_ROUTES: tuple[LlmRoute, ...] = (
    LlmRoute(
        re.compile(r"/v1/messages"),
        wire_anthropic.error,
        lambda c: (
            wire_anthropic.stream(c.turn)
            if _stream_flag(c)
            else wire_anthropic.message(c.turn)
        ),
    ),
    LlmRoute(
        re.compile(r"/v1/messages/count_tokens"),
        wire_anthropic.error,
        lambda c: wire_anthropic.count_tokens(c.turn),
    ),
    LlmRoute(re.compile(r"(?:/v1)?/chat/completions"), wire_openai.error, _chat),
    LlmRoute(
        re.compile(r"(?:/v1|/codex)?/responses"),
        wire_openai.error,
        lambda c: (
            wire_openai.responses_stream(c.turn)
            if _stream_flag(c)
            else wire_openai.response(c.turn)
        ),
    ),
    LlmRoute(
        re.compile(
            r"(?:/v1(?:beta|alpha)?/models|" + _VERTEX + r"/google/models)"
            r"/(?P<model>[^/]+):(?P<action>generateContent|streamGenerateContent)"
        ),
        wire_google.error,
        _gemini,
    ),
    LlmRoute(
        re.compile(
            _VERTEX + r"/anthropic/models/(?P<model>[^/]+)"
            r":(?P<action>rawPredict|streamRawPredict)"
        ),
        wire_anthropic.error,
        lambda c: (
            wire_anthropic.stream(c.turn)
            if c.action == "streamRawPredict"
            else wire_anthropic.message(c.turn)
        ),
    ),
    LlmRoute(
        re.compile(
            r"/bedrock/model/(?P<model>.+)/(?P<action>" + "|".join(_BEDROCK) + ")"
        ),
        wire_bedrock.error,
        lambda c: _BEDROCK[c.action](c),
    ),
)


def _error(status: int, message: str) -> JSONResponse:
    """The gateway's own error shape, for paths that belong to no provider."""
    return JSONResponse({"error": {"message": message}}, status_code=status)


def _nothing() -> Answer:
    """For a client that is already gone: uvicorn needs no response then."""

    async def answer(scope: Scope, receive: Receive, send: Send) -> None:
        return None

    return answer


def _record(scope: Scope, body: bytes) -> RecordedRequest:
    raw = scope.get(RAW_HEADERS_KEY) or scope["headers"]
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw]
    path = scope.get("raw_path") or scope["path"].encode()
    if scope["query_string"]:
        path += b"?" + scope["query_string"]
    return RecordedRequest.capture(
        scope["method"], path.decode("latin-1"), headers, body
    )


class GatewayState:
    """What the app shares with :class:`SimulatedGateway` across threads."""

    def __init__(self, settings: SimSettings | None = None) -> None:
        self.settings = settings or SimSettings()
        self.recorder = Recorder()
        self.catalogue: tuple[SimProvider, ...] = DEFAULT_CATALOGUE


class SimApp:
    """The ASGI application of the simulated gateway."""

    def __init__(self, state: GatewayState) -> None:
        self.state = state
        # Set when the server shuts down, so stalls and slow streams end at once.
        self.closing = asyncio.Event()
        self.mcp = SimMcp(lambda: self.state.settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        try:
            body = await request.body()
        except ClientDisconnect:
            return

        if scope["path"].startswith("/_sim/"):
            response = self._control(request, body)
            await response(scope, receive, send)
            return

        self.state.recorder.add(_record(scope, body))
        if scope["path"] == "/v1/mcp":
            await self.mcp.handle(scope, body, receive, send)
            return
        settings = self.state.settings.model_copy()
        async with Pacer(receive, self.closing) as pacer:
            answer = await self._answer(request, body, settings, pacer)
            await answer(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        """Run the MCP session manager for as long as the server runs."""
        await receive()  # lifespan.startup
        async with self.mcp.running():
            await send({"type": "lifespan.startup.complete"})
            # uvicorn drains connections before the lifespan shutdown, and open
            # MCP event streams would hold it until its timeout; so sessions end
            # as soon as the server starts closing.
            shutdown = asyncio.ensure_future(receive())
            closing = asyncio.ensure_future(self.closing.wait())
            await asyncio.wait({shutdown, closing}, return_when="FIRST_COMPLETED")
            closing.cancel()
        await shutdown
        await send({"type": "lifespan.shutdown.complete"})

    async def _answer(
        self, request: Request, body: bytes, settings: SimSettings, pacer: Pacer
    ) -> Answer:
        method, path = request.method, request.scope["path"]
        if method == "GET" and path == "/api/providers":
            return self._catalogue(settings, providers_body(self.state.catalogue))
        if method == "GET" and path == "/v1/models":
            return self._catalogue(settings, models_body(self.state.catalogue))
        if method == "GET" and path == "/api/connectors":
            return self.mcp.connectors()
        if method == "GET" and path == "/codex/models":
            models = codex_model_ids(self.state.catalogue)
            return self._catalogue(settings, wire_openai.codex_models(models))
        if method == "POST":
            for route in LLM_ROUTES:
                match = route.pattern.fullmatch(path)
                if match:
                    return await self._llm(route, match, request, body, settings, pacer)
        return _error(404, f"simulated gateway: no route for {method} {path}")

    def _catalogue(self, settings: SimSettings, body: Any) -> Answer:
        if settings.fault == "catalogue_down":
            message = "simulated gateway: catalogue unavailable (fault catalogue_down)"
            return _error(500, message)
        return JSONResponse(body)

    async def _llm(
        self,
        route: LlmRoute,
        match: re.Match[str],
        request: Request,
        raw: bytes,
        settings: SimSettings,
        pacer: Pacer,
    ) -> Answer:
        retry = {"Retry-After": str(settings.retry_after)}
        if settings.fault == "status_429":
            message = (
                "quota exhausted for this caller (simulated gateway); "
                f"retry after {settings.retry_after} seconds"
            )
            body = {"error": {"message": message, "type": "rate_limit"}}
            return JSONResponse(body, status_code=429, headers=retry)
        if settings.fault == "restarting":
            return PlainTextResponse(RESTARTING_MESSAGE, status_code=503, headers=retry)
        if settings.fault == "stall" and not await pacer.sleep(settings.stall_seconds):
            if pacer.closing:
                raise StreamCut("simulated gateway: stopping during a stall")
            return _nothing()

        try:
            body = json.loads(raw)
        except ValueError as exc:
            return route.error(400, f"simulated gateway: body is not JSON: {exc}")
        if not isinstance(body, dict):
            return route.error(400, "simulated gateway: body is not a JSON object")
        model = match.groupdict().get("model") or body.get("model")
        if not isinstance(model, str) or not model:
            return route.error(400, "simulated gateway: body has no 'model' string")

        call = LlmCall(
            turn=Turn.build(model, settings, raw),
            body=body,
            action=match.groupdict().get("action") or "",
            query=dict(request.query_params),
        )
        rendered = route.render(call)
        if isinstance(rendered, EventPlan):
            return StreamAnswer(rendered, settings, pacer)
        return json_answer(rendered, settings)

    def _control(self, request: Request, body: bytes) -> Response:
        method, path = request.method, request.scope["path"]
        recorder = self.state.recorder
        if path == "/_sim/requests" and method == "GET":
            records = [r.model_dump(mode="json") for r in recorder.snapshot()]
            return JSONResponse(records)
        if path == "/_sim/requests" and method == "DELETE":
            cleared = len(recorder.snapshot())
            recorder.clear()
            return JSONResponse({"cleared": cleared})
        if path == "/_sim/settings" and method == "GET":
            return JSONResponse(self.state.settings.model_dump(mode="json"))
        if path == "/_sim/settings" and method == "PUT":
            return self._update_settings(body)
        return _error(404, f"simulated gateway: no route for {method} {path}")

    def _update_settings(self, raw: bytes) -> Response:
        try:
            update = json.loads(raw)
        except ValueError as exc:
            return _error(400, f"simulated gateway: settings body is not JSON: {exc}")
        if not isinstance(update, dict):
            return _error(422, "simulated gateway: settings must be a JSON object")

        current = self.state.settings
        try:
            merged = SimSettings.model_validate(current.model_dump() | update)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']} (got {e['input']!r})"
                for e in exc.errors()
            )
            return _error(422, f"simulated gateway: invalid settings: {problems}")

        # In place, so a test holding ``gw.settings`` sees the change too.
        for name in update:
            setattr(current, name, getattr(merged, name))
        return JSONResponse(current.model_dump(mode="json"))
