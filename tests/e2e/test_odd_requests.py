"""Odd requests through a real proxy: empty, huge and compressed bodies, long
headers, plain-HTTP absolute-form requests. Each is handled correctly or gets a
clear error, and the proxy keeps serving."""

from __future__ import annotations

import gzip
import hashlib
import json
import socket
from pathlib import Path

import httpx
import pytest
from backports import zstd

from aperture_proxy.sim import SimulatedGateway

from .conftest import Proxy, start_proxy

pytestmark = pytest.mark.e2e

CHAT = "https://api.openai.com/v1/chat/completions"
MESSAGES = "https://api.anthropic.com/v1/messages"


def only(gateway: SimulatedGateway, prefix: str):  # type: ignore[no-untyped-def]
    records = [r for r in gateway.requests() if r.path.startswith(prefix)]
    assert len(records) == 1, [r.path for r in gateway.requests()]
    return records[0]


def still_serving(client: httpx.Client) -> None:
    answer = client.post(CHAT, json={"model": "gpt-5.1", "messages": []})
    assert answer.status_code == 200


@pytest.fixture
def client(client_env: dict[str, str]) -> httpx.Client:
    return httpx.Client(timeout=60)


def test_an_empty_body_reaches_the_gateway_as_empty(
    gateway: SimulatedGateway, client: httpx.Client
) -> None:
    answer = client.post(MESSAGES, content=b"", headers={"x-api-key": "k"})
    record = only(gateway, "/v1/messages")
    assert record.body_bytes() == b""
    assert record.header("content-length") == "0"
    # The gateway's own complaint, in Anthropic's shape, reaches the agent.
    assert answer.status_code == 400
    assert answer.json()["type"] == "error"
    still_serving(client)


def test_a_50_mb_body_arrives_byte_for_byte(
    gateway: SimulatedGateway, client: httpx.Client
) -> None:
    filler = "x" * (50 * 1024 * 1024)
    body = json.dumps({"model": "gpt-5.1", "messages": [], "filler": filler}).encode()
    answer = client.post(
        CHAT, content=body, headers={"content-type": "application/json"}
    )
    assert answer.status_code == 200
    record = only(gateway, "/v1/chat/completions")
    assert hashlib.sha256(record.body_bytes()).digest() == hashlib.sha256(body).digest()
    assert record.header("content-length") == str(len(body))


@pytest.mark.parametrize(
    ("encoding", "compress"), [("gzip", gzip.compress), ("zstd", zstd.compress)]
)
def test_a_compressed_body_reaches_the_gateway_unchanged(
    gateway: SimulatedGateway, client: httpx.Client, encoding: str, compress: object
) -> None:
    plain = json.dumps({"model": "claude-sonnet-4-5", "metadata": {"user_id": "u"}})
    body = compress(plain.encode())  # type: ignore[operator]
    client.post(
        MESSAGES,
        content=body,
        headers={"content-encoding": encoding, "content-type": "application/json"},
    )
    record = only(gateway, "/v1/messages")
    assert record.body_bytes() == body
    assert record.header("content-encoding") == encoding
    still_serving(client)


def test_a_long_header_is_forwarded(
    gateway: SimulatedGateway, client: httpx.Client
) -> None:
    value = "v" * 8000
    answer = client.post(
        CHAT, json={"model": "m", "messages": []}, headers={"x-long": value}
    )
    assert answer.status_code == 200
    assert only(gateway, "/v1/chat/completions").header("x-long") == value


def test_an_oversized_header_gets_a_clear_refusal(
    gateway: SimulatedGateway, client: httpx.Client
) -> None:
    answer = client.post(
        CHAT, json={"model": "m", "messages": []}, headers={"x-huge": "v" * 200_000}
    )
    # The gateway (uvicorn here) refuses headers this size: with a 4xx when it
    # reads the request first, or by closing the connection mid-request, which the
    # proxy answers with a 502. Either way the agent gets an answer, not a hang.
    assert answer.status_code in (400, 431, 502)
    assert answer.text
    still_serving(client)


def test_absolute_form_plain_http_is_rerouted_when_it_matches(
    tmp_path: Path, gateway: SimulatedGateway
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        "proxy:\n  upstreamProviders:\n"
        "    - {id: plain, baseUrl: 'http://llm.local.test/v1', "
        "api: openai-completions, credentials: strip}\n"
    )
    with start_proxy(gateway.url, tmp_path / "p", config=config) as proxy:
        payload = b'{"model": "m", "messages": []}'
        head = (
            b"POST http://llm.local.test/v1/chat/completions HTTP/1.1\r\n"
            b"Host: llm.local.test\r\nAuthorization: Bearer SECRET\r\n"
            b"Content-Type: application/json\r\nConnection: close\r\n"
            b"Content-Length: %d\r\n\r\n" % len(payload)
        )
        status, body = _raw_http(proxy, head + payload)
    assert status == 200, body
    record = only(gateway, "/v1/chat/completions")
    assert record.header("authorization") is None
    assert "SECRET" not in proxy.log_text()


def _raw_http(proxy: Proxy, request: bytes) -> tuple[int, bytes]:
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=20) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def test_a_chunked_upload_reaches_the_gateway_with_its_length(
    gateway: SimulatedGateway, client: httpx.Client
) -> None:
    parts = [b'{"model": "gpt-5.1", ', b'"messages": []}']
    answer = client.post(
        CHAT, content=iter(parts), headers={"content-type": "application/json"}
    )
    assert answer.status_code == 200
    record = only(gateway, "/v1/chat/completions")
    assert record.header("transfer-encoding") is None
    assert record.header("content-length") == str(len(b"".join(parts)))
    assert record.body_bytes() == b"".join(parts)
