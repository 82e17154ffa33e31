"""Anthropic Messages answers (direct and on Vertex), parsed by the anthropic SDK."""

from collections.abc import Iterator

import anthropic
import httpx
import pytest

from aperture_proxy.sim import SimulatedGateway

from .conftest import parse_sse

REPLY = "Hello from the simulated Aperture gateway."
_USER: list[anthropic.types.MessageParam] = [{"role": "user", "content": "hi"}]


@pytest.fixture
def sdk(gw: SimulatedGateway) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=gw.url, api_key="k", max_retries=0) as c:
        yield c


def test_message_parses(sdk: anthropic.Anthropic) -> None:
    message = sdk.messages.create(
        model="claude-opus-4-1", max_tokens=64, messages=_USER
    )

    assert message.model == "claude-opus-4-1"
    assert message.content[0].type == "text"
    assert message.content[0].text == REPLY
    assert message.stop_reason == "end_turn"


def test_message_stream_parses_piece_by_piece(
    gw: SimulatedGateway, sdk: anthropic.Anthropic
) -> None:
    gw.settings.reply = "abcdef"
    gw.settings.chunks = 3
    with sdk.messages.stream(
        model="claude-sonnet-4-5", max_tokens=64, messages=_USER
    ) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()

    assert pieces == ["ab", "cd", "ef"]
    assert final.content[0].type == "text"
    assert final.content[0].text == "abcdef"
    assert final.model == "claude-sonnet-4-5"
    assert final.usage.output_tokens == 2


def test_message_stream_event_sequence(client: httpx.Client) -> None:
    body = {"model": "claude-haiku-4-5", "messages": [], "stream": True}
    events = parse_sse(client.post("/v1/messages", json=body).text)

    assert [name for name, _ in events] == [
        "message_start",
        "content_block_start",
        *["content_block_delta"] * 5,
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert all(f'"type":"{name}"' in data for name, data in events)


def test_count_tokens_parses(sdk: anthropic.Anthropic) -> None:
    count = sdk.messages.count_tokens(model="claude-sonnet-4-5", messages=_USER)

    assert count.input_tokens > 0


def test_count_tokens_estimates_from_the_body_size(client: httpx.Client) -> None:
    body = b'{"model":"claude-sonnet-4-5","messages":[]}'
    response = client.post("/v1/messages/count_tokens", content=body)

    assert response.json() == {"input_tokens": (len(body) + 3) // 4}


def test_bad_json_gets_an_anthropic_error(client: httpx.Client) -> None:
    response = client.post("/v1/messages", content=b"[1, 2]")

    assert response.status_code == 400
    assert response.json() == {
        "type": "error",
        "error": {
            "type": "invalid_request_error",
            "message": "simulated gateway: body is not a JSON object",
        },
    }


def test_sdk_reports_the_error_message(sdk: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.BadRequestError) as raised:
        sdk.post("/v1/messages", cast_to=object, body=None)

    assert "simulated gateway: body is not JSON" in str(raised.value)


def test_vertex_stream_raw_predict_parses(gw: SimulatedGateway) -> None:
    with (
        anthropic.AnthropicVertex(
            region="us-east5",
            project_id="demo-project",
            access_token="ya29.test",
            base_url=f"{gw.url}/v1",
            max_retries=0,
        ) as vertex,
        vertex.messages.stream(
            model="claude-sonnet-4-5@20250929", max_tokens=64, messages=_USER
        ) as stream,
    ):
        final = stream.get_final_message()

    assert final.content[0].type == "text"
    assert final.content[0].text == REPLY
    assert final.model == "claude-sonnet-4-5@20250929"
    assert gw.requests()[0].path == (
        "/v1/projects/demo-project/locations/us-east5/publishers/anthropic/models/"
        "claude-sonnet-4-5@20250929:streamRawPredict"
    )


def test_vertex_raw_predict_answers_one_message(client: httpx.Client) -> None:
    path = (
        "/v1/projects/p/locations/global/publishers/anthropic/models/"
        "claude-opus-4-1@20250805:rawPredict"
    )
    response = client.post(path, json={"anthropic_version": "vertex-2023-10-16"})

    assert response.json()["model"] == "claude-opus-4-1@20250805"
    assert response.json()["content"] == [{"type": "text", "text": REPLY}]
