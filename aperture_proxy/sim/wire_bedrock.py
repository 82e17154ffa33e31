"""Amazon Bedrock wire formats: Converse, ConverseStream and InvokeModel (Claude)."""

import base64
from typing import Any

from starlette.responses import JSONResponse

from aperture_proxy.sim import wire_anthropic
from aperture_proxy.sim.eventstream import MEDIA_TYPE, encode_event
from aperture_proxy.sim.streaming import EventPlan, Turn, dumps

_ERROR_TYPES = {
    400: "ValidationException",
    404: "ResourceNotFoundException",
    429: "ThrottlingException",
}


def error(status: int, message: str) -> JSONResponse:
    """A Bedrock error: ``{"message": …}`` and the type in ``x-amzn-ErrorType``."""
    kind = _ERROR_TYPES.get(status, "InternalServerException")
    return JSONResponse(
        {"message": message}, status_code=status, headers={"x-amzn-ErrorType": kind}
    )


def _usage(turn: Turn) -> dict[str, int]:
    return {
        "inputTokens": turn.input_tokens,
        "outputTokens": turn.output_tokens,
        "totalTokens": turn.input_tokens + turn.output_tokens,
    }


def converse(turn: Turn) -> dict[str, Any]:
    """The Converse answer. The format has no model field, so none is echoed."""
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": turn.text}]}},
        "stopReason": "end_turn",
        "usage": _usage(turn),
        "metrics": {"latencyMs": 1},
    }


def converse_stream(turn: Turn) -> EventPlan:
    """ConverseStream: messageStart, a delta per piece, stop events, metadata."""

    def event(kind: str, payload: dict[str, Any]) -> bytes:
        return encode_event(kind, dumps(payload).encode())

    head = [event("messageStart", {"role": "assistant"})]
    content = [
        event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": piece}})
        for piece in turn.pieces
    ]
    tail = [
        event("contentBlockStop", {"contentBlockIndex": 0}),
        event("messageStop", {"stopReason": "end_turn"}),
        event("metadata", {"usage": _usage(turn), "metrics": {"latencyMs": 1}}),
    ]
    return EventPlan(MEDIA_TYPE, head, content, tail)


def invoke(turn: Turn) -> dict[str, Any]:
    """InvokeModel for a Claude model: an Anthropic ``message`` body."""
    return wire_anthropic.message(turn)


def invoke_stream(turn: Turn) -> EventPlan:
    """InvokeModelWithResponseStream: ``chunk`` events wrapping Anthropic events."""

    def chunk(event: dict[str, Any]) -> bytes:
        inner = base64.b64encode(dumps(event).encode()).decode("ascii")
        return encode_event("chunk", dumps({"bytes": inner}).encode())

    head, content, tail = wire_anthropic.stream_events(turn)
    return EventPlan(
        MEDIA_TYPE,
        [chunk(e) for e in head],
        [chunk(e) for e in content],
        [chunk(e) for e in tail],
    )
