"""Error bodies shaped like each provider's own, so agents print them legibly.

>>> error = provider_error(Api.ANTHROPIC_MESSAGES, 503, "down")
>>> json.loads(error.body)["error"]["type"]
'overloaded_error'
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from aperture_proxy.upstreams import Api

# Per status: (Anthropic error type, OpenAI error type, Google status, AWS type).
_KINDS: dict[int, tuple[str, str, str, str]] = {
    400: ("invalid_request_error", "invalid_request_error", "INVALID_ARGUMENT",
          "ValidationException"),
    404: ("not_found_error", "invalid_request_error", "NOT_FOUND",
          "ResourceNotFoundException"),
    426: ("invalid_request_error", "invalid_request_error", "FAILED_PRECONDITION",
          "ValidationException"),
    429: ("rate_limit_error", "rate_limit_error", "RESOURCE_EXHAUSTED",
          "ThrottlingException"),
    502: ("api_error", "server_error", "UNAVAILABLE", "InternalServerException"),
    503: ("overloaded_error", "server_error", "UNAVAILABLE",
          "ServiceUnavailableException"),
    504: ("api_error", "server_error", "DEADLINE_EXCEEDED",
          "ModelTimeoutException"),
}  # fmt: skip
_FALLBACK = ("api_error", "server_error", "INTERNAL", "InternalServerException")


@dataclass(frozen=True)
class ProviderError:
    """A ready-to-send error response."""

    status: int
    headers: dict[str, str]
    body: bytes


def provider_error(
    api: Api | None,
    status: int,
    message: str,
    *,
    retry_after: int | str | None = None,
) -> ProviderError:
    """An error body in ``api``'s wire shape (OpenAI's when the API is unknown)."""
    anthropic, openai, google, aws = _KINDS.get(status, _FALLBACK)
    headers = {"content-type": "application/json", "x-aperture-proxy-error": "1"}
    if retry_after is not None:
        headers["retry-after"] = str(retry_after)
    payload: object
    if api is Api.ANTHROPIC_MESSAGES:
        payload = {"type": "error", "error": {"type": anthropic, "message": message}}
    elif api in (Api.GOOGLE_GENERATIVE_AI, Api.GOOGLE_VERTEX):
        payload = {"error": {"code": status, "message": message, "status": google}}
    elif api is Api.BEDROCK:
        payload = {"message": message}
        headers["x-amzn-errortype"] = aws
    else:
        payload = {
            "error": {
                "message": message,
                "type": openai,
                "param": None,
                "code": "aperture_proxy_error",
            }
        }
    return ProviderError(status, headers, json.dumps(payload).encode())


def gateway_message(body: bytes, limit: int = 500) -> str:
    """The human part of a gateway error body: a JSON ``message`` or the text."""
    text = body.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return text[:limit]
    for path in (("error", "message"), ("message",), ("error",)):
        node: object = data
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, str) and node:
            return node[:limit]
    return text[:limit]
