"""What the simulated gateway records, and reading it in-process or over HTTP."""

import base64
import socket
import threading
import time

import httpx

from aperture_proxy.sim import RecordedRequest, SimulatedGateway

_CHAT = {"model": "gpt-5.1", "messages": [{"role": "user", "content": "hi"}]}


def _raw_request(gw: SimulatedGateway, request: bytes) -> bytes:
    host, port = gw.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_records_method_path_and_query_exactly(
    gw: SimulatedGateway, client: httpx.Client
) -> None:
    client.post("/v1/chat/completions?beta=true&x=%2Fa", json=_CHAT)

    (record,) = gw.requests()
    assert record.method == "POST"
    assert record.path == "/v1/chat/completions?beta=true&x=%2Fa"


def test_records_the_path_still_percent_encoded(
    gw: SimulatedGateway, client: httpx.Client
) -> None:
    path = "/bedrock/model/anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse"
    client.post(path, json={"messages": []})

    assert gw.requests()[0].path == path


def test_records_header_names_as_sent_in_order(gw: SimulatedGateway) -> None:
    _raw_request(
        gw,
        b"POST /v1/messages HTTP/1.1\r\nHost: gw\r\nX-Api-KEY: k1\r\n"
        b"x-session-id: s\r\nX-Dup: 1\r\nX-Dup: 2\r\nContent-Length: 2\r\n"
        b"Connection: close\r\n\r\n{}",
    )

    assert gw.requests()[0].headers == [
        ("Host", "gw"),
        ("X-Api-KEY", "k1"),
        ("x-session-id", "s"),
        ("X-Dup", "1"),
        ("X-Dup", "2"),
        ("Content-Length", "2"),
        ("Connection", "close"),
    ]


def test_header_lookup_ignores_case(gw: SimulatedGateway, client: httpx.Client) -> None:
    client.post("/v1/messages", json={}, headers={"X-Session-Id": "abc"})

    record = gw.requests()[0]
    assert record.header("x-session-id") == "abc"
    assert record.header("authorization") is None


def test_records_a_utf8_body_as_text(
    gw: SimulatedGateway, client: httpx.Client
) -> None:
    client.post("/v1/messages", content='{"text": "héllo"}'.encode())

    record = gw.requests()[0]
    assert record.body == '{"text": "héllo"}'
    assert record.body_base64 is False


def test_records_a_binary_body_as_base64(
    gw: SimulatedGateway, client: httpx.Client
) -> None:
    client.post("/v1/messages", content=b"\x1f\x8b\x08\xff")

    record = gw.requests()[0]
    assert record.body == base64.b64encode(b"\x1f\x8b\x08\xff").decode()
    assert record.body_base64 is True
    assert record.body_bytes() == b"\x1f\x8b\x08\xff"


def test_records_unrouted_requests(gw: SimulatedGateway, client: httpx.Client) -> None:
    client.get("/api/event_logging/batch")

    assert [(r.method, r.path) for r in gw.requests()] == [
        ("GET", "/api/event_logging/batch")
    ]


def test_records_before_answering(gw: SimulatedGateway, client: httpx.Client) -> None:
    gw.settings.fault = "stall"
    gw.settings.stall_seconds = 1.0
    thread = threading.Thread(
        target=lambda: client.post("/v1/chat/completions", json=_CHAT)
    )
    thread.start()

    deadline = time.monotonic() + 0.8
    while not gw.requests() and time.monotonic() < deadline:
        time.sleep(0.02)
    recorded_while_stalled = len(gw.requests())
    thread.join()

    assert recorded_while_stalled == 1


def test_timestamp_is_the_arrival_time(
    gw: SimulatedGateway, client: httpx.Client
) -> None:
    before = time.time()
    client.get("/v1/models")

    assert before <= gw.requests()[0].timestamp <= time.time()


def test_clear_forgets_the_record(gw: SimulatedGateway, client: httpx.Client) -> None:
    client.get("/v1/models")
    gw.clear()

    assert gw.requests() == []


def test_control_endpoint_serves_the_record(
    gw: SimulatedGateway, client: httpx.Client
) -> None:
    client.post("/v1/messages?beta=true", json={"model": "m"})

    records = client.get("/_sim/requests").json()
    assert [RecordedRequest.model_validate(r) for r in records] == gw.requests()
    assert records[0]["path"] == "/v1/messages?beta=true"
    assert records[0]["body"] == '{"model":"m"}'


def test_control_endpoints_are_not_recorded(
    gw: SimulatedGateway, client: httpx.Client
) -> None:
    client.get("/_sim/requests")
    client.get("/_sim/settings")

    assert gw.requests() == []


def test_delete_clears_the_record(gw: SimulatedGateway, client: httpx.Client) -> None:
    client.get("/v1/models")
    client.get("/api/providers")

    response = client.delete("/_sim/requests")

    assert response.json() == {"cleared": 2}
    assert gw.requests() == []
