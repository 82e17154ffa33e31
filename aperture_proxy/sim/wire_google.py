"""Google generateContent wire format (Gemini API and Vertex AI) and its errors."""

from typing import Any

from starlette.responses import JSONResponse

from aperture_proxy.sim.streaming import EventPlan, Turn, dumps, sse

_STATUSES = {
    400: "INVALID_ARGUMENT",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    503: "UNAVAILABLE",
}


def error(status: int, message: str) -> JSONResponse:
    """An error body shaped like Google's own: code, message, status."""
    body = {
        "error": {
            "code": status,
            "message": message,
            "status": _STATUSES.get(status, "INTERNAL"),
        }
    }
    return JSONResponse(body, status_code=status)


def _response(turn: Turn, text: str, last: bool, output_tokens: int) -> dict[str, Any]:
    candidate: dict[str, Any] = {
        "content": {"parts": [{"text": text}], "role": "model"},
        "index": 0,
    }
    if last:
        candidate["finishReason"] = "STOP"
    return {
        "candidates": [candidate],
        "usageMetadata": {
            "promptTokenCount": turn.input_tokens,
            "candidatesTokenCount": output_tokens,
            "totalTokenCount": turn.input_tokens + output_tokens,
        },
        "modelVersion": turn.model,
        "responseId": f"sim{turn.id}",
    }


def generate_content(turn: Turn) -> dict[str, Any]:
    """The ``GenerateContentResponse`` of ``:generateContent``."""
    return _response(turn, turn.text, last=True, output_tokens=turn.output_tokens)


def _chunks(turn: Turn) -> list[dict[str, Any]]:
    # Like Gemini, every chunk repeats the usage so far and only the last one
    # says why generation stopped.
    chunks, sent = [], ""
    for index, piece in enumerate(turn.pieces):
        sent += piece
        last = index == len(turn.pieces) - 1
        tokens = turn.output_tokens if last else len(sent) // 4
        chunks.append(_response(turn, piece, last=last, output_tokens=tokens))
    return chunks


def stream_sse(turn: Turn) -> EventPlan:
    """``:streamGenerateContent?alt=sse``: one ``data:`` event per chunk."""
    content = [sse(chunk) for chunk in _chunks(turn)]
    return EventPlan("text/event-stream", [], content, [])


def stream_json_array(turn: Turn) -> EventPlan:
    """``:streamGenerateContent`` without ``alt=sse``: a JSON array sent piecewise."""
    content = [
        (b"[" if index == 0 else b",\r\n") + dumps(chunk).encode()
        for index, chunk in enumerate(_chunks(turn))
    ]
    return EventPlan("application/json; charset=UTF-8", [], content, [b"]"])
