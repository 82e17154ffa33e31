"""Rewrite: credentials (every case of tests/cases/credentials.yaml), provenance and
session ids."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from aperture_proxy.rewrite import (
    CREDENTIAL_HEADERS,
    PROXY_HEADERS,
    RequestView,
    derive_session_id,
    filter_credentials,
    request_model,
    rewrite_request,
)
from aperture_proxy.routing import RouteTable
from aperture_proxy.upstreams import (
    BUILTIN_BY_ID,
    Api,
    UpstreamOverride,
    resolve_upstream,
)

CASES = yaml.safe_load(
    (Path(__file__).parent / "cases" / "credentials.yaml").read_text()
)["cases"]
GW = "http://ai.example-tailnet.ts.net"
SAMPLE_URLS = {
    "anthropic": "https://api.anthropic.com/v1/messages",
    "openai": "https://api.openai.com/v1/responses",
    "openai-codex": "https://chatgpt.com/backend-api/codex/responses",
    "google": "https://generativelanguage.googleapis.com/v1beta/models/g:generateContent",
    "amazon-bedrock": "https://bedrock-runtime.us-east-1.amazonaws.com/model/m/converse",
}


def _rewrite(
    upstream_id: str, mode: str, headers: list[tuple[str, str]], url: str = ""
):
    upstream = resolve_upstream(UpstreamOverride(id=upstream_id, credentials=mode))  # type: ignore[arg-type]
    route = RouteTable.build([upstream], GW).lookup_url(url or SAMPLE_URLS[upstream_id])
    assert route is not None
    return rewrite_request(RequestView("POST", route.remainder, headers), route)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_credential_case(case: dict[str, Any]) -> None:
    sent = [(k, str(v)) for k, v in case["sent"].items()]
    result = _rewrite(case["upstream"], case["credentials"], sent)
    forwarded = {
        k.lower(): v
        for k, v in result.headers
        if k.lower() in CREDENTIAL_HEADERS | PROXY_HEADERS
    }
    assert forwarded == {k.lower(): str(v) for k, v in case["forwarded"].items()}


def test_non_credential_headers_keep_their_order_and_spelling() -> None:
    sent = [("Anthropic-Version", "2023-06-01"), ("x-api-key", "k"), ("X-Custom", "a")]
    result = _rewrite("anthropic", "auto", sent)
    assert result.headers[:2] == [
        ("Anthropic-Version", "2023-06-01"),
        ("X-Custom", "a"),
    ]


def test_cookie_and_goog_header_removed_in_strip_mode() -> None:
    kept, removed = filter_credentials(
        [("Cookie", "a=b"), ("x-goog-api-key", "k"), ("accept", "*/*")], None, "strip"
    )
    assert kept == [("accept", "*/*")]
    assert removed == ["cookie", "x-goog-api-key"]


def test_claude_oauth_is_not_kept_for_openai() -> None:
    result = _rewrite("openai", "auto", [("authorization", "Bearer sk-ant-oat01-X")])
    assert "authorization" not in {k for k, _ in result.headers}


def test_chatgpt_jwt_without_account_id_is_removed() -> None:
    token = "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJGQUtFIn0.RkFLRQ"
    result = _rewrite("openai-codex", "auto", [("authorization", token)])
    assert "authorization" not in {k for k, _ in result.headers}


def test_websocket_key_subprotocol_is_removed_and_others_kept() -> None:
    kept, removed = filter_credentials(
        [("Sec-WebSocket-Protocol", "realtime, openai-insecure-api-key.sk-FAKE")],
        Api.OPENAI_RESPONSES,
        "auto",
    )
    assert kept == [("Sec-WebSocket-Protocol", "realtime")]
    assert removed == ["sec-websocket-protocol"]


@pytest.mark.parametrize("param", ["key", "api_key", "apikey", "access_token", "KEY"])
def test_credential_query_parameters_are_removed(param: str) -> None:
    url = f"{SAMPLE_URLS['google']}?alt=sse&{param}=SECRET&x=a%20b"
    result = _rewrite("google", "auto", [], url)
    assert result.url == f"{GW}/v1beta/models/g:generateContent?alt=sse&x=a%20b"


def test_passthrough_keeps_query_key() -> None:
    url = f"{SAMPLE_URLS['google']}?key=SECRET"
    assert _rewrite("google", "passthrough", [], url).url.endswith("?key=SECRET")


def test_provenance_added_when_client_sent_none() -> None:
    headers = dict(_rewrite("anthropic", "auto", []).headers)
    assert headers["Referer"] == "urn:aperture-proxy"
    assert headers["X-Title"].startswith("aperture-proxy/")


@pytest.mark.parametrize("name", ["Referer", "HTTP-Referer", "X-Title"])
def test_provenance_never_clobbers_client_attribution(name: str) -> None:
    result = _rewrite("openai", "auto", [(name, "https://agent.example")])
    attribution = [
        (k, v)
        for k, v in result.headers
        if k.lower() in ("referer", "http-referer", "x-title")
    ]
    assert attribution == [(name, "https://agent.example")]


def test_client_session_id_is_kept() -> None:
    result = _rewrite("anthropic", "auto", [("X-Session-Id", "pi-123")])
    assert [v for k, v in result.headers if k.lower() == "x-session-id"] == ["pi-123"]
    assert (result.session_id, result.session_source) == ("pi-123", "client")


def test_codex_session_header_becomes_the_session_id() -> None:
    view = RequestView("POST", "/", [("session_id", "0199-codex")], b"{}", "c1")
    assert derive_session_id(view) == ("0199-codex", "session_id")


def test_claude_code_legacy_user_id_gives_the_session() -> None:
    uid = (
        "user_abc_account_11111111-2222-3333-4444-555555555555_session_"
        "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
    )
    body = json.dumps({"model": "m", "metadata": {"user_id": uid}}).encode()
    view = RequestView("POST", "/", [], body, "c1")
    assert derive_session_id(view) == (
        "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
        "metadata.user_id",
    )


def test_claude_code_json_user_id_gives_the_session() -> None:
    uid = json.dumps({"device_id": "d", "session_id": "s-42"})
    body = json.dumps({"metadata": {"user_id": uid}}).encode()
    assert derive_session_id(RequestView("POST", "/", [], body, "c1"))[0] == "s-42"


def test_two_connections_get_different_fallback_ids() -> None:
    a = derive_session_id(RequestView("POST", "/", [], b"{}", "conn-a"))
    b = derive_session_id(RequestView("POST", "/", [], b"{}", "conn-b"))
    assert a != b
    assert a == ("conn-conn-a", "connection")


def test_garbage_body_falls_back_to_the_connection() -> None:
    view = RequestView("POST", "/", [], b'{"metadata": not json', "c9")
    assert derive_session_id(view) == ("conn-c9", "connection")


@pytest.mark.parametrize(
    ("api", "remainder", "body", "expected"),
    [
        (Api.ANTHROPIC_MESSAGES, "/v1/messages", b'{"model": "claude-x"}', "claude-x"),
        (Api.OPENAI_RESPONSES, "/responses", b'{"input": "model"}', None),
        (
            Api.GOOGLE_GENERATIVE_AI,
            "/models/gemini-2.5-pro:generateContent",
            None,
            "gemini-2.5-pro",
        ),
        (
            Api.BEDROCK,
            "/model/anthropic.claude-v1%3A0/converse",
            None,
            "anthropic.claude-v1:0",
        ),
        (Api.OPENAI_COMPLETIONS, "/chat/completions", b'not json "model"', None),
    ],
)
def test_request_model(
    api: Api, remainder: str, body: bytes | None, expected: str | None
) -> None:
    assert request_model(api, remainder, body) == expected


def test_builtin_registry_has_the_spec_table() -> None:
    assert set(BUILTIN_BY_ID) >= {
        "anthropic",
        "openai",
        "openai-codex",
        "google",
        "google-vertex",
        "amazon-bedrock",
        "groq",
        "cerebras",
        "xai",
        "openrouter",
        "mistral",
        "deepseek",
        "zai",
        "huggingface",
    }


@pytest.mark.parametrize(
    "name",
    [
        "openai-api-key",
        "apikey",
        "X-ApiKey",
        "x-auth-token",
        "helicone-auth",
        "ocp-apim-subscription-key",
        "x-portkey-api-key",
        "x-client-secret",
        "x-auth",
    ],
)
def test_headers_shaped_like_secrets_are_removed(name: str) -> None:
    kept, removed = filter_credentials(
        [(name, "SECRET"), ("x-trace", "t")], None, "auto"
    )
    assert kept == [("x-trace", "t")]
    assert removed == [name.lower()]


@pytest.mark.parametrize(
    "name",
    [
        "anthropic-beta",
        "x-goog-api-client",
        "sec-websocket-key",
        "x-session-id",
        "openai-organization",
        "x-author",
        "x-stainless-os",
    ],
)
def test_ordinary_headers_are_not_mistaken_for_secrets(name: str) -> None:
    kept, _ = filter_credentials([(name, "v")], None, "auto")
    assert kept == [(name, "v")]


def test_a_body_nested_too_deep_to_read_is_forwarded_unread() -> None:
    body = b'{"metadata": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    assert request_model(Api.ANTHROPIC_MESSAGES, "/v1/messages", body) is None
    assert derive_session_id(RequestView("POST", "/", [], body, "c")) == (
        "conn-c",
        "connection",
    )
