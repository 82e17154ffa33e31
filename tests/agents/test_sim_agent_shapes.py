"""Request shapes of the real agents that the simulated gateway must answer.

Quick checks, without the agents, of what the agent tests found they need:
Codex's model listing on the ChatGPT backend path, and the JSON-mode answers
Gemini CLI's model router asks for before every prompt.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from google import genai
from google.genai import types

from aperture_proxy.sim import SimSettings, SimulatedGateway
from aperture_proxy.sim.wire_google import schema_instance

REPLY = "Hello from the simulated Aperture gateway."
ROUTER_SCHEMA = {
    "type": "OBJECT",
    "properties": {
        "complexity_reasoning": {"type": "STRING"},
        "complexity_score": {"type": "INTEGER"},
    },
    "required": ["complexity_reasoning", "complexity_score"],
}


@pytest.fixture
def sim(gateway: SimulatedGateway) -> Iterator[SimulatedGateway]:
    gateway.clear()
    gateway.settings = SimSettings()
    yield gateway


def test_codex_models_lists_every_responses_model_once(sim: SimulatedGateway) -> None:
    response = httpx.get(f"{sim.url}/codex/models?client_version=0.171.0")

    assert response.status_code == 200
    models = response.json()["models"]
    assert [m["slug"] for m in models] == ["gpt-5.1", "gpt-5.1-codex", "gpt-4.1-mini"]
    assert [m["priority"] for m in models] == [0, 1, 2]
    assert all(m["supported_in_api"] and m["base_instructions"] for m in models)


def test_codex_models_fails_with_the_catalogue(sim: SimulatedGateway) -> None:
    sim.settings.fault = "catalogue_down"

    response = httpx.get(f"{sim.url}/codex/models")

    assert response.status_code == 500


def test_gemini_json_mode_answers_with_the_requested_object(
    sim: SimulatedGateway,
) -> None:
    options = types.HttpOptions(base_url=sim.url, api_version="v1beta")
    config = types.GenerateContentConfig(
        response_mime_type="application/json", response_json_schema=ROUTER_SCHEMA
    )
    with genai.Client(api_key="AIza-test", http_options=options) as client:
        response = client.models.generate_content(
            model="gemini-2.5-flash", contents="read package.json", config=config
        )

    assert json.loads(response.text or "") == {
        "complexity_reasoning": REPLY,
        "complexity_score": 1,
    }


def test_gemini_json_mode_streams_json_split_across_chunks(
    sim: SimulatedGateway,
) -> None:
    body = {
        "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
        "generationConfig": {
            "responseMimeType": "application/json",
            "responseSchema": {"type": "ARRAY", "items": {"type": "STRING"}},
        },
    }
    url = f"{sim.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"

    response = httpx.post(url, json=body)

    events = [
        json.loads(line.removeprefix("data: "))
        for line in response.text.splitlines()
        if line.startswith("data: ")
    ]
    assert len(events) == 5
    text = "".join(e["candidates"][0]["content"]["parts"][0]["text"] for e in events)
    assert json.loads(text) == [REPLY]


def test_gemini_plain_requests_keep_the_plain_reply(sim: SimulatedGateway) -> None:
    body = {
        "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
        "generationConfig": {"responseMimeType": "text/plain"},
    }

    response = httpx.post(
        f"{sim.url}/v1beta/models/gemini-2.5-flash:generateContent", json=body
    )

    assert response.json()["candidates"][0]["content"]["parts"][0]["text"] == REPLY


@pytest.mark.parametrize(
    ("schema", "instance"),
    [
        ({"type": "string"}, "t"),
        ({"type": ["null", "integer"], "minimum": 5}, 5),
        ({"type": "number"}, 1.0),
        ({"type": "BOOLEAN"}, True),
        ({"enum": ["low", "high"]}, "low"),
        ({"anyOf": [{"type": "integer"}, {"type": "string"}]}, 1),
        ({"type": "object", "properties": {"a": {}, "b": {"type": "integer"}}},
         {"a": "t", "b": 1}),
        ({"type": "array", "items": {"type": "object", "properties": {}}}, [{}]),
        (None, "t"),
    ],
)  # fmt: skip
def test_schema_instance(schema: object, instance: object) -> None:
    assert schema_instance(schema, "t") == instance
