"""Anthropic Messages wire format: message bodies, SSE events and errors."""

from typing import Any

from starlette.responses import JSONResponse

from aperture_proxy.sim.streaming import EventPlan, Turn, sse

_ERROR_TYPES = {
    400: "invalid_request_error",
    404: "not_found_error",
    429: "rate_limit_error",
    529: "overloaded_error",
}


def error(status: int, message: str) -> JSONResponse:
    """An error body shaped like the Anthropic API's own."""
    kind = _ERROR_TYPES.get(status, "api_error")
    body = {"type": "error", "error": {"type": kind, "message": message}}
    return JSONResponse(body, status_code=status)


def message(turn: Turn) -> dict[str, Any]:
    """The complete ``message`` object of a non-streamed answer."""
    return {
        "id": f"msg_sim_{turn.id}",
        "type": "message",
        "role": "assistant",
        "model": turn.model,
        "content": [{"type": "text", "text": turn.text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": turn.input_tokens,
            "output_tokens": turn.output_tokens,
        },
    }


def count_tokens(turn: Turn) -> dict[str, Any]:
    """The ``/v1/messages/count_tokens`` answer."""
    return {"input_tokens": turn.input_tokens}


def stream_events(
    turn: Turn,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The stream as event objects (head, one delta per piece, tail).

    Bedrock's InvokeModel stream carries these same objects, so they are kept
    apart from their SSE framing.
    """
    start = message(turn) | {
        "content": [],
        "stop_reason": None,
        "usage": {"input_tokens": turn.input_tokens, "output_tokens": 1},
    }
    head: list[dict[str, Any]] = [
        {"type": "message_start", "message": start},
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "text", "text": ""},
        },
    ]
    content = [
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": piece},
        }
        for piece in turn.pieces
    ]
    tail: list[dict[str, Any]] = [
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": turn.output_tokens},
        },
        {"type": "message_stop"},
    ]
    return head, content, tail


def stream(turn: Turn) -> EventPlan:
    """The Messages SSE stream, each event with its ``event:`` line."""
    head, content, tail = stream_events(turn)

    def frame(events: list[dict[str, Any]]) -> list[bytes]:
        return [sse(event, event=event["type"]) for event in events]

    return EventPlan(
        "text/event-stream; charset=utf-8", frame(head), frame(content), frame(tail)
    )
