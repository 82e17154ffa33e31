"""Provider-shaped error bodies (SPEC §3.8)."""

from __future__ import annotations

import json

import pytest

from aperture_proxy.errors import gateway_message, provider_error
from aperture_proxy.upstreams import Api


def body(api: Api | None, status: int, message: str = "m") -> object:
    return json.loads(provider_error(api, status, message).body)


def test_anthropic_shape() -> None:
    assert body(Api.ANTHROPIC_MESSAGES, 429) == {
        "type": "error",
        "error": {"type": "rate_limit_error", "message": "m"},
    }


@pytest.mark.parametrize(
    "api",
    [Api.OPENAI_COMPLETIONS, Api.OPENAI_RESPONSES, Api.OPENAI_CODEX_RESPONSES, None],
)
def test_openai_shape(api: Api | None) -> None:
    assert body(api, 502) == {
        "error": {
            "message": "m",
            "type": "server_error",
            "param": None,
            "code": "aperture_proxy_error",
        }
    }


@pytest.mark.parametrize("api", [Api.GOOGLE_GENERATIVE_AI, Api.GOOGLE_VERTEX])
def test_google_shape(api: Api) -> None:
    assert body(api, 503) == {
        "error": {"code": 503, "message": "m", "status": "UNAVAILABLE"}
    }


def test_bedrock_shape_names_the_error_type_in_a_header() -> None:
    error = provider_error(Api.BEDROCK, 503, "m")
    assert json.loads(error.body) == {"message": "m"}
    assert error.headers["x-amzn-errortype"] == "ServiceUnavailableException"


def test_retry_after_is_set_when_given() -> None:
    assert provider_error(None, 503, "m", retry_after=5).headers["retry-after"] == "5"
    assert "retry-after" not in provider_error(None, 503, "m").headers


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'{"error": {"message": "quota exhausted"}}', "quota exhausted"),
        (b'{"message": "blocked"}', "blocked"),
        (b'{"error": "plain"}', "plain"),
        (
            b"aperture is restarting, please retry",
            "aperture is restarting, please retry",
        ),
        (b"\xff\xfe", "\ufffd\ufffd"),
        (b"", ""),
    ],
)
def test_gateway_message(raw: bytes, expected: str) -> None:
    assert gateway_message(raw) == expected
