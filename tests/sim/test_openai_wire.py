"""Chat Completions and Responses answers, parsed by the official openai SDK."""

from collections.abc import Iterator

import httpx
import openai
import pytest

from aperture_proxy.sim import SimulatedGateway

from .conftest import parse_sse, sse_json

REPLY = "Hello from the simulated Aperture gateway."
_USER = [{"role": "user", "content": "hi"}]


@pytest.fixture
def sdk(gw: SimulatedGateway) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{gw.url}/v1", api_key="sk-test", max_retries=0) as c:
        yield c


def test_chat_completion_parses(sdk: openai.OpenAI) -> None:
    completion = sdk.chat.completions.create(model="gpt-5.1", messages=_USER)

    assert completion.model == "gpt-5.1"
    assert completion.choices[0].message.content == REPLY
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None


def test_chat_stream_parses_piece_by_piece(
    gw: SimulatedGateway, sdk: openai.OpenAI
) -> None:
    gw.settings.chunks = 4
    gw.settings.reply = "abcdefgh"
    stream = sdk.chat.completions.create(model="glm-4.6", messages=_USER, stream=True)

    chunks = list(stream)
    pieces = [c.choices[0].delta.content for c in chunks if c.choices]
    assert pieces == ["", "ab", "cd", "ef", "gh", None]
    assert {c.model for c in chunks} == {"glm-4.6"}
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_chat_stream_ends_with_done(client: httpx.Client) -> None:
    body = {"model": "gpt-5.1", "messages": _USER, "stream": True}
    events = parse_sse(client.post("/v1/chat/completions", json=body).text)

    assert events[-1] == (None, "[DONE]")
    assert len(events) == 1 + 5 + 1 + 1


def test_chat_stream_sends_usage_only_when_asked(sdk: openai.OpenAI) -> None:
    stream = sdk.chat.completions.create(
        model="gpt-5.1",
        messages=_USER,
        stream=True,
        stream_options={"include_usage": True},
    )

    chunks = list(stream)
    assert [c.usage is not None for c in chunks] == [False] * 7 + [True]
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == (len(REPLY) + 3) // 4


def test_chat_stream_without_usage_has_no_usage_key(client: httpx.Client) -> None:
    body = {"model": "gpt-5.1", "messages": _USER, "stream": True}
    objects = sse_json(client.post("/v1/chat/completions", json=body).text[:-14])

    assert all("usage" not in o for o in objects)


def test_chat_completions_without_v1_prefix(gw: SimulatedGateway) -> None:
    with openai.OpenAI(base_url=gw.url, api_key="k", max_retries=0) as sdk:
        completion = sdk.chat.completions.create(model="glm-4.6", messages=_USER)

    assert completion.choices[0].message.content == REPLY
    assert gw.requests()[0].path == "/chat/completions"


def test_response_parses(sdk: openai.OpenAI) -> None:
    response = sdk.responses.create(model="gpt-5.1", input="hi")

    assert response.model == "gpt-5.1"
    assert response.status == "completed"
    assert response.output_text == REPLY
    assert response.usage is not None
    assert response.usage.output_tokens == (len(REPLY) + 3) // 4


def test_responses_stream_event_sequence(
    gw: SimulatedGateway, sdk: openai.OpenAI
) -> None:
    gw.settings.chunks = 2
    stream = sdk.responses.create(model="gpt-5.1-codex", input="hi", stream=True)

    events = list(stream)
    assert [e.type for e in events] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [e.sequence_number for e in events] == list(range(10))


def test_responses_stream_helper_accumulates_the_reply(sdk: openai.OpenAI) -> None:
    with sdk.responses.stream(model="gpt-5.1", input="hi") as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()

    assert "".join(deltas) == REPLY
    assert len(deltas) == 5
    assert final.output_text == REPLY
    assert final.model == "gpt-5.1"


def test_responses_event_lines_name_the_data_type(client: httpx.Client) -> None:
    body = {"model": "gpt-5.1", "input": "hi", "stream": True}
    events = parse_sse(client.post("/v1/responses", json=body).text)

    assert all(name is not None and f'"type":"{name}"' in data for name, data in events)


def test_codex_responses_path_streams(gw: SimulatedGateway) -> None:
    codex = openai.OpenAI(base_url=f"{gw.url}/codex", api_key="k", max_retries=0)
    with codex, codex.responses.stream(model="gpt-5.1-codex", input="hi") as stream:
        final = stream.get_final_response()

    assert final.output_text == REPLY
    assert gw.requests()[0].path == "/codex/responses"


def test_responses_without_v1_prefix(client: httpx.Client) -> None:
    response = client.post("/responses", json={"model": "gpt-5.1", "input": "hi"})

    assert response.json()["output"][0]["content"][0]["text"] == REPLY


def test_bad_json_gets_an_openai_error(client: httpx.Client) -> None:
    response = client.post("/v1/chat/completions", content=b"{not json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith("simulated gateway: body is not JSON: ")


def test_missing_model_gets_an_openai_error(client: httpx.Client) -> None:
    response = client.post("/v1/responses", json={"input": "hi"})

    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "message": "simulated gateway: body has no 'model' string",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    }
