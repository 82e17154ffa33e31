"""Google generateContent wire format (Gemini API and Vertex AI) and its errors."""

from dataclasses import replace
from typing import Any

from starlette.responses import JSONResponse

from aperture_proxy.sim.streaming import EventPlan, Turn, dumps, split_reply, sse

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


# -- Structured output -----------------------------------------------------------


def schema_instance(schema: Any, text: str) -> Any:
    """A small value that satisfies ``schema``: ``text`` for every string.

    Gemini's schemas spell types in capitals (``OBJECT``), JSON Schema in
    lower case; both are read. Objects get their required properties (all of
    them when none is marked required), numbers their minimum or 1.

    >>> schema_instance({"type": "OBJECT", "properties": {
    ...     "why": {"type": "STRING"}, "score": {"type": "INTEGER"}},
    ...     "required": ["why", "score"]}, "hi")
    {'why': 'hi', 'score': 1}
    """
    if not isinstance(schema, dict):
        return text
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            return schema_instance(schema[key][0], text)
    kind = schema.get("type", "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if str(k).lower() != "null"), "string")
    kind = str(kind).lower()
    if kind == "object":
        properties = schema.get("properties") or {}
        names = schema.get("required") or list(properties)
        return {name: schema_instance(properties.get(name), text) for name in names}
    if kind == "array":
        return [schema_instance(schema.get("items"), text)]
    if kind in ("integer", "number"):
        minimum = schema.get("minimum", 1)
        return int(minimum) if kind == "integer" else float(minimum)
    if kind == "boolean":
        return True
    return text


def structured_turn(turn: Turn, body: dict[str, Any]) -> Turn:
    """The turn answering in JSON when ``generationConfig`` asks for it.

    Gemini CLI's model router sends such a request before every prompt and
    retries for minutes when the answer is not JSON.
    """
    config = body.get("generationConfig")
    if not isinstance(config, dict):
        return turn
    if config.get("responseMimeType") != "application/json":
        return turn
    schema = config.get("responseJsonSchema") or config.get("responseSchema")
    text = dumps(schema_instance(schema or {"type": "object"}, turn.text))
    return replace(turn, pieces=split_reply(text, len(turn.pieces)))
