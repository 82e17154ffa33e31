"""Bedrock answers: Converse JSON, InvokeModel JSON, and AWS event stream framing."""

import base64
import json

import httpx

from .conftest import decode_eventstream

REPLY = "Hello from the simulated Aperture gateway."
_MODEL = "anthropic.claude-sonnet-4-5-20250929-v1:0"
_BASE = f"/bedrock/model/{_MODEL.replace(':', '%3A')}"
_CONVERSE = {"messages": [{"role": "user", "content": [{"text": "hi"}]}]}
_INVOKE = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 64, "messages": []}


def test_converse_answers_one_message(client: httpx.Client) -> None:
    body = client.post(f"{_BASE}/converse", json=_CONVERSE).json()

    assert body["output"] == {
        "message": {"role": "assistant", "content": [{"text": REPLY}]}
    }
    assert body["stopReason"] == "end_turn"
    assert set(body["usage"]) == {"inputTokens", "outputTokens", "totalTokens"}


def test_converse_stream_is_an_eventstream(client: httpx.Client) -> None:
    response = client.post(f"{_BASE}/converse-stream", json=_CONVERSE)

    assert response.headers["content-type"] == "application/vnd.amazon.eventstream"


def test_converse_stream_frames_decode_with_valid_crcs(client: httpx.Client) -> None:
    raw = client.post(f"{_BASE}/converse-stream", json=_CONVERSE).content

    messages = decode_eventstream(raw)

    assert [h[":event-type"] for h, _ in messages] == [
        "messageStart",
        *["contentBlockDelta"] * 5,
        "contentBlockStop",
        "messageStop",
        "metadata",
    ]
    assert {(h[":message-type"], h[":content-type"]) for h, _ in messages} == {
        ("event", "application/json")
    }


def test_converse_stream_deltas_carry_the_reply(client: httpx.Client) -> None:
    raw = client.post(f"{_BASE}/converse-stream", json=_CONVERSE).content

    payloads = [json.loads(p) for _, p in decode_eventstream(raw)]

    assert payloads[0] == {"role": "assistant"}
    assert "".join(p["delta"]["text"] for p in payloads[1:6]) == REPLY
    assert payloads[7] == {"stopReason": "end_turn"}


def test_invoke_answers_an_anthropic_message(client: httpx.Client) -> None:
    body = client.post(f"{_BASE}/invoke", json=_INVOKE).json()

    assert body["type"] == "message"
    assert body["model"] == _MODEL
    assert body["content"] == [{"type": "text", "text": REPLY}]


def test_invoke_stream_chunks_wrap_anthropic_events(client: httpx.Client) -> None:
    raw = client.post(f"{_BASE}/invoke-with-response-stream", json=_INVOKE).content

    messages = decode_eventstream(raw)
    events = [json.loads(base64.b64decode(json.loads(p)["bytes"])) for _, p in messages]

    assert {h[":event-type"] for h, _ in messages} == {"chunk"}
    assert [e["type"] for e in events] == [
        "message_start",
        "content_block_start",
        *["content_block_delta"] * 5,
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert events[0]["message"]["model"] == _MODEL


def test_model_id_with_a_literal_colon_is_routed(client: httpx.Client) -> None:
    response = client.post(f"/bedrock/model/{_MODEL}/invoke", json=_INVOKE)

    assert response.json()["model"] == _MODEL


def test_bad_json_gets_a_bedrock_error(client: httpx.Client) -> None:
    response = client.post(f"{_BASE}/converse", content=b"nope")

    assert response.status_code == 400
    assert response.headers["x-amzn-errortype"] == "ValidationException"
    assert response.json()["message"].startswith("simulated gateway: body is not JSON")
