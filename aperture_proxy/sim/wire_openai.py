"""OpenAI wire formats: Chat Completions and the Responses API (also Codex's)."""

import time
from typing import Any

from starlette.responses import JSONResponse

from aperture_proxy.sim.streaming import EventPlan, Turn, sse

_SSE = "text/event-stream; charset=utf-8"
_ERROR_TYPES = {400: "invalid_request_error", 404: "not_found_error"}


def error(status: int, message: str) -> JSONResponse:
    """An error body shaped like the OpenAI API's own."""
    kind = _ERROR_TYPES.get(status, "server_error")
    body = {"error": {"message": message, "type": kind, "param": None, "code": None}}
    return JSONResponse(body, status_code=status)


# -- Chat Completions ---------------------------------------------------------


def _chat_usage(turn: Turn) -> dict[str, int]:
    return {
        "prompt_tokens": turn.input_tokens,
        "completion_tokens": turn.output_tokens,
        "total_tokens": turn.input_tokens + turn.output_tokens,
    }


def chat_completion(turn: Turn) -> dict[str, Any]:
    """The ``chat.completion`` object of a non-streamed answer."""
    return {
        "id": f"chatcmpl-sim{turn.id}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": turn.model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": turn.text, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": _chat_usage(turn),
        "system_fingerprint": None,
    }


def chat_stream(turn: Turn, include_usage: bool) -> EventPlan:
    """``chat.completion.chunk`` events ending in ``data: [DONE]``.

    With ``stream_options.include_usage`` every chunk carries ``"usage": null``
    and one extra chunk with empty ``choices`` carries the usage, as OpenAI does.
    """
    created = int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None) -> bytes:
        obj: dict[str, Any] = {
            "id": f"chatcmpl-sim{turn.id}",
            "object": "chat.completion.chunk",
            "created": created,
            "model": turn.model,
            "system_fingerprint": None,
            "choices": [
                {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
            ],
        }
        if include_usage:
            obj["usage"] = None
        return sse(obj)

    head = [chunk({"role": "assistant", "content": ""}, None)]
    content = [chunk({"content": piece}, None) for piece in turn.pieces]
    tail = [chunk({}, "stop")]
    if include_usage:
        usage_chunk = {
            "id": f"chatcmpl-sim{turn.id}",
            "object": "chat.completion.chunk",
            "created": created,
            "model": turn.model,
            "system_fingerprint": None,
            "choices": [],
            "usage": _chat_usage(turn),
        }
        tail.append(sse(usage_chunk))
    tail.append(sse("[DONE]"))
    return EventPlan(_SSE, head, content, tail)


# -- Responses API -------------------------------------------------------------


def _output_text(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def _message_item(turn: Turn, done: bool) -> dict[str, Any]:
    return {
        "id": f"msg_sim{turn.id}",
        "type": "message",
        "status": "completed" if done else "in_progress",
        "role": "assistant",
        "content": [_output_text(turn.text)] if done else [],
    }


def response(turn: Turn, done: bool = True) -> dict[str, Any]:
    """The ``response`` object: complete, or as announced when a stream starts."""
    usage = {
        "input_tokens": turn.input_tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": turn.output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": turn.input_tokens + turn.output_tokens,
    }
    return {
        "id": f"resp_sim{turn.id}",
        "object": "response",
        "created_at": int(time.time()),
        "status": "completed" if done else "in_progress",
        "background": False,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "max_output_tokens": None,
        "model": turn.model,
        "output": [_message_item(turn, done=True)] if done else [],
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "store": False,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": usage if done else None,
        "user": None,
        "metadata": {},
    }


def responses_stream(turn: Turn) -> EventPlan:
    """The Responses SSE stream, each event with ``type`` and ``sequence_number``."""
    sequence = iter(range(1_000_000))
    item_id = f"msg_sim{turn.id}"
    where = {"item_id": item_id, "output_index": 0, "content_index": 0}

    def event(kind: str, **fields: Any) -> bytes:
        obj = {"type": kind, "sequence_number": next(sequence), **fields}
        return sse(obj, event=kind)

    head = [
        event("response.created", response=response(turn, done=False)),
        event("response.in_progress", response=response(turn, done=False)),
        event(
            "response.output_item.added",
            output_index=0,
            item=_message_item(turn, done=False),
        ),
        event("response.content_part.added", **where, part=_output_text("")),
    ]
    content = [
        event("response.output_text.delta", **where, delta=piece, logprobs=[])
        for piece in turn.pieces
    ]
    tail = [
        event("response.output_text.done", **where, text=turn.text, logprobs=[]),
        event("response.content_part.done", **where, part=_output_text(turn.text)),
        event(
            "response.output_item.done",
            output_index=0,
            item=_message_item(turn, done=True),
        ),
        event("response.completed", response=response(turn)),
    ]
    return EventPlan(_SSE, head, content, tail)


# -- Codex model listing ---------------------------------------------------------


def codex_models(models: list[str]) -> dict[str, Any]:
    """``GET /codex/models``: the ChatGPT backend's model list that Codex reads.

    Codex asks for it at start, with an API key too, and falls back to its
    built-in presets (with a warning per unknown model) when the list is
    missing or unreadable. Each entry carries the fields of Codex's model
    metadata.
    """
    efforts = [
        {"effort": effort, "description": f"{effort} reasoning"}
        for effort in ("low", "medium", "high")
    ]
    entries = [
        {
            "slug": model,
            "display_name": model,
            "description": f"{model} through the simulated Aperture gateway",
            "default_reasoning_level": "medium",
            "supported_reasoning_levels": efforts,
            "shell_type": "shell_command",
            "visibility": "list",
            "supported_in_api": True,
            "priority": priority,
            "upgrade": None,
            "base_instructions": "You are a coding agent answered by the simulated"
            " Aperture gateway.",
            "supports_reasoning_summaries": True,
            "support_verbosity": False,
            "default_verbosity": None,
            "apply_patch_tool_type": "freeform",
            "truncation_policy": {"mode": "tokens", "limit": 10_000},
            "supports_parallel_tool_calls": True,
            "context_window": 272_000,
            "experimental_supported_tools": [],
            "input_modalities": ["text"],
        }
        for priority, model in enumerate(models)
    ]
    return {"models": entries}
