"""Pacing and shape of streamed answers, and the routes that are not there."""

import itertools
import time

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from aperture_proxy.sim import SimulatedGateway
from aperture_proxy.sim.streaming import split_reply

from .conftest import sse_json

_GEMINI_SSE = "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"


def test_events_arrive_spread_over_time(
    gw: SimulatedGateway, client: httpx.Client
) -> None:
    gw.settings.delay = 0.2
    arrivals = []

    with client.stream("POST", _GEMINI_SSE, json={}) as response:
        for line in response.iter_lines():
            if line.startswith("data: "):
                arrivals.append(time.monotonic())

    assert len(arrivals) == 5
    assert arrivals[-1] - arrivals[0] >= 0.6


def test_first_event_arrives_before_the_stream_ends(
    gw: SimulatedGateway, client: httpx.Client
) -> None:
    gw.settings.delay = 0.2

    with client.stream("POST", _GEMINI_SSE, json={}) as response:
        lines = response.iter_lines()
        first = next(line for line in lines if line)
        first_at = time.monotonic()
        for _ in lines:
            pass
        end_at = time.monotonic()

    assert first.startswith("data: ")
    assert end_at - first_at >= 0.6


@pytest.mark.parametrize("chunks", [1, 3, 12])
def test_chunks_sets_the_number_of_content_events(
    gw: SimulatedGateway, client: httpx.Client, chunks: int
) -> None:
    gw.settings.chunks = chunks

    objects = sse_json(client.post(_GEMINI_SSE, json={}).text)

    assert len(objects) == chunks


def test_the_reply_setting_is_what_is_streamed(
    gw: SimulatedGateway, client: httpx.Client
) -> None:
    gw.settings.reply = "Ünïcode ✓ reply"

    objects = sse_json(client.post(_GEMINI_SSE, json={}).text)

    text = "".join(o["candidates"][0]["content"]["parts"][0]["text"] for o in objects)
    assert text == "Ünïcode ✓ reply"


def test_stamped_events_start_with_their_send_time(
    gw: SimulatedGateway, client: httpx.Client
) -> None:
    gw.settings.stamp_events = True
    gw.settings.chunks = 3
    gw.settings.delay = 0.05
    before = time.time()

    text = client.post(
        "/v1/chat/completions", json={"model": "gpt-5.1", "stream": True}
    ).text

    after = time.time()
    blocks = [block.split("\n") for block in text.split("\n\n") if block]
    stamps = [float(lines[0].removeprefix(": sent_at=")) for lines in blocks]
    assert all(lines[0].startswith(": sent_at=") for lines in blocks)
    assert all(lines[1].startswith("data: ") for lines in blocks)
    assert len(stamps) == 3 + 3  # role chunk, content, stop chunk, [DONE]
    assert before <= stamps[0] and stamps[-1] <= after
    assert all(b - a >= 0.04 for a, b in itertools.pairwise(stamps))


def test_stamping_leaves_a_json_array_stream_unchanged(
    gw: SimulatedGateway, client: httpx.Client
) -> None:
    path = "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    plain = client.post(path, json={}).json()
    gw.settings.stamp_events = True

    stamped = client.post(path, json={}).json()

    assert len(stamped) == len(plain) == 5


@given(st.text(max_size=200), st.integers(min_value=1, max_value=50))
def test_split_reply_pieces_join_back_to_the_reply(reply: str, chunks: int) -> None:
    pieces = split_reply(reply, chunks)

    assert len(pieces) == chunks
    assert "".join(pieces) == reply


@pytest.mark.parametrize(
    ("path", "body", "key", "model"),
    [
        ("/v1/messages", {"model": "claude-opus-4-1"}, "model", "claude-opus-4-1"),
        ("/v1/chat/completions", {"model": "glm-4.6"}, "model", "glm-4.6"),
        ("/v1/responses", {"model": "gpt-4.1-mini"}, "model", "gpt-4.1-mini"),
        (
            "/v1beta/models/gemini-2.5-flash:generateContent",
            {},
            "modelVersion",
            "gemini-2.5-flash",
        ),
    ],
)
def test_the_requested_model_is_echoed(
    client: httpx.Client, path: str, body: dict[str, str], key: str, model: str
) -> None:
    assert client.post(path, json=body).json()[key] == model


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/messages"),
        ("POST", "/v1/messages/"),
        ("POST", "/v2/chat/completions"),
        ("GET", "/"),
        ("PUT", "/api/providers"),
        ("POST", "/_sim/unknown"),
    ],
)
def test_anything_else_is_404_naming_the_request(
    client: httpx.Client, method: str, path: str
) -> None:
    response = client.request(method, path)

    assert response.status_code == 404
    assert response.json() == {
        "error": {"message": f"simulated gateway: no route for {method} {path}"}
    }
