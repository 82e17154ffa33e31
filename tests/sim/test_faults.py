"""Injected faults: how each one looks on the wire."""

import threading
import time

import httpx
import pytest

from aperture_proxy.sim import GARBAGE, SimulatedGateway

from .conftest import parse_sse

_MESSAGES = {"model": "claude-sonnet-4-5", "messages": [], "stream": True}
_CHAT = {"model": "gpt-5.1", "messages": []}


def _read_until_cut(client: httpx.Client, path: str, body: object) -> list[str]:
    """The SSE data lines that arrived before the connection broke."""
    lines = []
    with (
        pytest.raises(httpx.RemoteProtocolError),
        client.stream("POST", path, json=body) as response,
    ):
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("data: "):
                lines.append(line)
    return lines


def test_status_429_answers_with_retry_after(
    gw: SimulatedGateway, client: httpx.Client
) -> None:
    gw.settings.fault = "status_429"
    gw.settings.retry_after = 11

    response = client.post("/v1/messages", json=_MESSAGES)

    assert response.status_code == 429
    assert response.headers["retry-after"] == "11"
    assert response.json() == {
        "error": {
            "message": "quota exhausted for this caller (simulated gateway); "
            "retry after 11 seconds",
            "type": "rate_limit",
        }
    }


def test_restarting_answers_503_with_the_restart_message(
    gw: SimulatedGateway, client: httpx.Client
) -> None:
    gw.settings.fault = "restarting"

    response = client.post("/v1/chat/completions", json=_CHAT)

    assert response.status_code == 503
    assert response.headers["retry-after"] == "7"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text == "aperture is restarting, please retry"


def test_stall_answers_normally_after_the_stall(
    gw: SimulatedGateway, client: httpx.Client
) -> None:
    gw.settings.fault = "stall"
    gw.settings.stall_seconds = 0.5

    started = time.monotonic()
    response = client.post("/v1/chat/completions", json=_CHAT)

    assert time.monotonic() - started >= 0.5
    assert response.status_code == 200
    assert response.json()["model"] == "gpt-5.1"


def test_stall_does_not_hold_up_other_requests(
    gw: SimulatedGateway, client: httpx.Client
) -> None:
    gw.settings.fault = "stall"
    # Long enough that the other request is surely answered while this one stalls,
    # however loaded the machine is.
    gw.settings.stall_seconds = 5.0
    stalled = threading.Thread(
        target=lambda: httpx.post(
            f"{gw.url}/v1/chat/completions", json=_CHAT, trust_env=False, timeout=30
        )
    )
    stalled.start()
    time.sleep(0.1)

    response = client.get("/v1/models")
    still_stalled = stalled.is_alive()
    stalled.join()

    assert response.status_code == 200
    assert still_stalled


def test_cut_drops_the_stream_after_fault_after_content_events(
    gw: SimulatedGateway, client: httpx.Client
) -> None:
    gw.settings.fault = "cut"
    gw.settings.fault_after = 3

    lines = _read_until_cut(client, "/v1/messages", _MESSAGES)

    kinds = [line.split('"type":"')[1].split('"')[0] for line in lines]
    assert (
        kinds == ["message_start", "content_block_start"] + ["content_block_delta"] * 3
    )


def test_cut_with_fault_after_zero_sends_only_the_opening_events(
    gw: SimulatedGateway, client: httpx.Client
) -> None:
    gw.settings.fault = "cut"
    gw.settings.fault_after = 0
    body = {"model": "gpt-5.1", "input": "hi", "stream": True}

    lines = _read_until_cut(client, "/v1/responses", body)

    assert len(lines) == 4  # created, in_progress, item added, part added


def test_cut_drops_a_plain_answer_halfway(
    gw: SimulatedGateway, client: httpx.Client
) -> None:
    gw.settings.fault = "cut"

    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/v1/chat/completions", json=_CHAT)


def test_garbage_follows_fault_after_content_events(
    gw: SimulatedGateway, client: httpx.Client
) -> None:
    gw.settings.fault = "garbage"

    raw = client.post("/v1/messages", json=_MESSAGES).content

    assert raw.endswith(GARBAGE)
    events = parse_sse(raw[: -len(GARBAGE)].decode())
    assert [name for name, _ in events] == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
    ]


def test_garbage_is_not_utf8() -> None:
    with pytest.raises(UnicodeDecodeError):
        GARBAGE.decode("utf-8")


def test_garbage_replaces_a_plain_answer(
    gw: SimulatedGateway, client: httpx.Client
) -> None:
    gw.settings.fault = "garbage"

    response = client.post("/v1/chat/completions", json=_CHAT)

    assert response.status_code == 200
    assert response.content == GARBAGE


@pytest.mark.parametrize("path", ["/api/providers", "/v1/models"])
def test_catalogue_down_fails_the_catalogue(
    gw: SimulatedGateway, client: httpx.Client, path: str
) -> None:
    gw.settings.fault = "catalogue_down"

    response = client.get(path)

    assert response.status_code == 500
    assert response.json() == {
        "error": {
            "message": "simulated gateway: catalogue unavailable (fault catalogue_down)"
        }
    }


def test_catalogue_down_leaves_llm_paths_working(
    gw: SimulatedGateway, client: httpx.Client
) -> None:
    gw.settings.fault = "catalogue_down"

    assert client.post("/v1/chat/completions", json=_CHAT).status_code == 200


def test_llm_faults_leave_the_catalogue_working(
    gw: SimulatedGateway, client: httpx.Client
) -> None:
    gw.settings.fault = "status_429"

    assert client.get("/api/providers").status_code == 200


def test_faulted_requests_are_recorded(
    gw: SimulatedGateway, client: httpx.Client
) -> None:
    gw.settings.fault = "restarting"

    client.post("/v1/chat/completions?x=1", json=_CHAT)

    assert [r.path for r in gw.requests()] == ["/v1/chat/completions?x=1"]
