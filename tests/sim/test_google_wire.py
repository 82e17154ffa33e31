"""generateContent answers (Gemini API and Vertex), parsed by the google-genai SDK."""

import json
from collections.abc import Iterator

import httpx
import pytest
from google import genai
from google.genai import errors, types

from aperture_proxy.sim import SimulatedGateway

from .conftest import sse_json

REPLY = "Hello from the simulated Aperture gateway."
_STREAM = "/v1beta/models/gemini-2.5-pro:streamGenerateContent"


@pytest.fixture
def sdk(gw: SimulatedGateway) -> Iterator[genai.Client]:
    # v1beta is what the spec routes (and what Gemini CLI uses); this SDK
    # defaults to v1, which is served too.
    options = types.HttpOptions(base_url=gw.url, api_version="v1beta")
    with genai.Client(api_key="AIza-test", http_options=options) as c:
        yield c


def test_generate_content_parses(sdk: genai.Client) -> None:
    response = sdk.models.generate_content(model="gemini-2.5-flash", contents="hi")

    assert response.text == REPLY
    assert response.model_version == "gemini-2.5-flash"
    assert response.candidates is not None
    assert response.candidates[0].finish_reason == types.FinishReason.STOP


def test_generate_content_stream_parses_piece_by_piece(
    gw: SimulatedGateway, sdk: genai.Client
) -> None:
    gw.settings.reply = "abcdef"
    gw.settings.chunks = 3

    chunks = list(
        sdk.models.generate_content_stream(model="gemini-2.5-pro", contents="hi")
    )

    assert [c.text for c in chunks] == ["ab", "cd", "ef"]
    assert gw.requests()[0].path == f"{_STREAM}?alt=sse"


def test_sdk_default_v1_path_is_served(gw: SimulatedGateway) -> None:
    options = types.HttpOptions(base_url=gw.url)
    with genai.Client(api_key="AIza-test", http_options=options) as sdk:
        response = sdk.models.generate_content(model="gemini-2.5-pro", contents="hi")

    assert response.text == REPLY
    assert gw.requests()[0].path == "/v1/models/gemini-2.5-pro:generateContent"


def test_only_the_last_chunk_has_a_finish_reason(client: httpx.Client) -> None:
    objects = sse_json(client.post(f"{_STREAM}?alt=sse", json={}).text)

    reasons = [o["candidates"][0].get("finishReason") for o in objects]
    assert reasons == [None, None, None, None, "STOP"]


def test_stream_without_alt_sse_is_a_json_array(client: httpx.Client) -> None:
    response = client.post(_STREAM, json={"contents": []})

    assert response.headers["content-type"] == "application/json; charset=UTF-8"
    chunks = json.loads(response.text)
    assert "".join(
        c["candidates"][0]["content"]["parts"][0]["text"] for c in chunks
    ) == (REPLY)
    assert len(chunks) == 5


def test_vertex_stream_echoes_the_model_from_the_path(client: httpx.Client) -> None:
    path = (
        "/v1/projects/p/locations/us-central1/publishers/google/models/"
        "gemini-2.5-pro:streamGenerateContent?alt=sse"
    )
    objects = sse_json(client.post(path, json={}).text)

    assert {o["modelVersion"] for o in objects} == {"gemini-2.5-pro"}


def test_vertex_v1beta1_generate_content(client: httpx.Client) -> None:
    path = (
        "/v1beta1/projects/p/locations/global/publishers/google/models/"
        "gemini-2.5-flash:generateContent"
    )
    body = client.post(path, json={}).json()

    assert body["candidates"][0]["content"] == {
        "parts": [{"text": REPLY}],
        "role": "model",
    }


def test_bad_json_gets_a_google_error(client: httpx.Client) -> None:
    response = client.post(
        "/v1beta/models/gemini-2.5-pro:generateContent", content=b"{"
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["status"]) == (400, "INVALID_ARGUMENT")
    assert error["message"].startswith("simulated gateway: body is not JSON")


def test_unknown_method_suffix_is_not_routed(client: httpx.Client) -> None:
    response = client.post("/v1beta/models/gemini-2.5-pro:countTokens", json={})

    assert response.status_code == 404


def test_sdk_surfaces_a_google_error(gw: SimulatedGateway, sdk: genai.Client) -> None:
    gw.settings.fault = "status_429"

    with pytest.raises(errors.ClientError) as raised:
        sdk.models.generate_content(model="gemini-2.5-pro", contents="hi")

    assert raised.value.code == 429
