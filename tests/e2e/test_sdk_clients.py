"""The official SDKs and curl, through a real proxy, against the simulated gateway.

Each client reaches the proxy only through ``HTTPS_PROXY`` and trusts its CA through
the variables ``aperture-proxy env`` prints. Assertions are on what the gateway
recorded: the rewritten path, no credential, a session id, and every other header
and the body byte for byte.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import time
from typing import Any

import httpx
import pytest

from aperture_proxy.rewrite import CREDENTIAL_HEADERS
from aperture_proxy.sim import SimulatedGateway

from .conftest import Proxy

pytestmark = pytest.mark.e2e

REPLY = "Hello from the simulated Aperture gateway."
OPENAI_KEY = "sk-proj-TESTKEY-openai-0001"
ANTHROPIC_KEY = "sk-ant-api03-TESTKEY-anthropic-0002"
GOOGLE_KEY = "AIzaTESTKEY-google-0003"
# Headers that a proxy hop legitimately changes or adds.
HOP_HEADERS = {
    "host",
    "content-length",
    "connection",
    "x-session-id",
    "referer",
    "x-title",
    "accept-encoding",
    "transfer-encoding",
}


class Capture:
    """Records what an SDK really sent, via an httpx request hook."""

    def __init__(self) -> None:
        self.requests: list[Any] = []

    def __call__(self, request: Any) -> None:
        request.read()
        self.requests.append(request)

    def client(self, module: Any = httpx) -> Any:
        """An SDK's HTTP client; some SDKs use the ``httpx2`` fork instead."""
        return module.Client(event_hooks={"request": [self]}, timeout=30)


def only(gateway: SimulatedGateway, prefix: str):  # type: ignore[no-untyped-def]
    records = [r for r in gateway.requests() if r.path.startswith(prefix)]
    assert len(records) == 1, [r.path for r in gateway.requests()]
    return records[0]


def assert_forwarded_faithfully(record: Any, sent: Any, key: str) -> None:
    recorded = [(k.lower(), v) for k, v in record.headers]
    names = {k for k, _ in recorded}
    assert not names & CREDENTIAL_HEADERS, names & CREDENTIAL_HEADERS
    assert all(key not in v for _, v in recorded)
    assert key not in record.path
    assert dict(recorded)["x-session-id"]
    expected = [
        (k.lower(), v)
        for k, v in sent.headers.multi_items()
        if k.lower() not in CREDENTIAL_HEADERS | HOP_HEADERS
    ]
    kept = [(k, v) for k, v in recorded if k not in HOP_HEADERS]
    assert kept == expected
    assert record.body == sent.content.decode()


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_openai_chat_completions(
    gateway: SimulatedGateway, client_env: dict[str, str], stream: bool
) -> None:
    from openai import OpenAI

    capture = Capture()
    client = OpenAI(api_key=OPENAI_KEY, max_retries=0, http_client=capture.client())
    messages = [{"role": "user", "content": "hi"}]
    if stream:
        chunks = client.chat.completions.create(
            model="gpt-5.1", messages=messages, stream=True
        )
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    else:
        answer = client.chat.completions.create(model="gpt-5.1", messages=messages)
        text = answer.choices[0].message.content or ""
    assert text == REPLY
    record = only(gateway, "/v1/chat/completions")
    assert record.path == "/v1/chat/completions"
    assert_forwarded_faithfully(record, capture.requests[0], OPENAI_KEY)


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_openai_responses(
    gateway: SimulatedGateway, client_env: dict[str, str], stream: bool
) -> None:
    from openai import OpenAI

    capture = Capture()
    client = OpenAI(api_key=OPENAI_KEY, max_retries=0, http_client=capture.client())
    if stream:
        events = client.responses.create(model="gpt-5.1", input="hi", stream=True)
        text = "".join(
            e.delta for e in events if e.type == "response.output_text.delta"
        )
    else:
        text = client.responses.create(model="gpt-5.1", input="hi").output_text
    assert text == REPLY
    record = only(gateway, "/v1/responses")
    assert_forwarded_faithfully(record, capture.requests[0], OPENAI_KEY)


def test_anthropic_messages_stream(
    gateway: SimulatedGateway, client_env: dict[str, str]
) -> None:
    import httpx2
    from anthropic import Anthropic

    capture = Capture()
    client = Anthropic(
        api_key=ANTHROPIC_KEY, max_retries=0, http_client=capture.client(httpx2)
    )
    with client.messages.stream(
        model="claude-sonnet-4-5",
        max_tokens=32,
        messages=[{"role": "user", "content": "hi"}],
    ) as stream:
        text = "".join(stream.text_stream)
    assert text == REPLY
    record = only(gateway, "/v1/messages")
    assert record.path == "/v1/messages"
    assert_forwarded_faithfully(record, capture.requests[0], ANTHROPIC_KEY)


def test_google_genai_stream_generate_content(
    gateway: SimulatedGateway, client_env: dict[str, str]
) -> None:
    from google import genai

    client = genai.Client(api_key=GOOGLE_KEY)
    stream = client.models.generate_content_stream(
        model="gemini-2.5-flash", contents="hi"
    )
    assert "".join(chunk.text or "" for chunk in stream) == REPLY
    record = only(gateway, "/v1beta/models/gemini-2.5-flash:streamGenerateContent")
    assert (
        record.path == "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    )
    assert all(GOOGLE_KEY not in v for _, v in record.headers)
    assert {k.lower() for k, _ in record.headers}.isdisjoint(CREDENTIAL_HEADERS)
    assert record.header("x-session-id")


def _curl(proxy: Proxy, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "curl",
            "-sS",
            "--http2",
            "--proxy",
            proxy.url,
            "--cacert",
            proxy.bundle,
            "--max-time",
            "30",
            *args,
        ],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
    )


def test_curl_http2_body_without_content_length(
    gateway: SimulatedGateway, proxy: Proxy
) -> None:
    body = json.dumps(
        {"model": "gpt-5.1", "messages": [{"role": "user", "content": "é"}]}
    )
    result = _curl(
        proxy,
        "https://api.openai.com/v1/chat/completions",
        "-H",
        f"Authorization: Bearer {OPENAI_KEY}",
        "-H",
        "Content-Type: application/json",
        "-H",
        "X-Trace: abc",
        "--data-binary",
        body,
        "-w",
        "\n%{http_version}",
    )
    assert result.returncode == 0, result.stderr
    answer, _, version = result.stdout.rpartition("\n")
    assert version == "2"
    assert json.loads(answer)["choices"][0]["message"]["content"] == REPLY
    record = only(gateway, "/v1/chat/completions")
    assert record.body == body
    assert record.header("content-length") == str(len(body.encode()))
    assert record.header("x-trace") == "abc"
    assert record.header("authorization") is None


def test_curl_gemini_query_key_is_removed(
    gateway: SimulatedGateway, proxy: Proxy
) -> None:
    url = (
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro"
        f":generateContent?key={GOOGLE_KEY}"
    )
    body = '{"contents": [{"parts": [{"text": "hi"}]}]}'
    result = _curl(proxy, url, "-H", "Content-Type: application/json", "-d", body)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["candidates"][0]["content"]["parts"][0]["text"]
    record = only(gateway, "/v1beta/models/gemini-2.5-pro:generateContent")
    assert record.path == "/v1beta/models/gemini-2.5-pro:generateContent"


def test_stream_events_arrive_as_they_are_sent(
    gateway: SimulatedGateway, client_env: dict[str, str]
) -> None:
    gateway.settings.chunks = 5
    gateway.settings.delay = 0.2
    body = {
        "model": "gpt-5.1",
        "stream": True,
        "messages": [{"role": "user", "content": "hi"}],
    }
    arrivals: list[float] = []
    with (
        httpx.Client(timeout=30) as client,
        client.stream(
            "POST", "https://api.openai.com/v1/chat/completions", json=body
        ) as response,
    ):
        assert response.status_code == 200
        for line in response.iter_lines():
            if not line.startswith("data: {"):
                continue
            choices = json.loads(line[len("data: ") :])["choices"]
            if choices and choices[0]["delta"].get("content"):
                arrivals.append(time.monotonic())
    assert len(arrivals) == 5
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    # Buffered delivery would put every event at the end, with gaps near zero.
    assert arrivals[-1] - arrivals[0] >= 0.6
    assert min(gaps) >= 0.1


def test_rerouted_flow_is_noted_for_mitmweb(
    gateway: SimulatedGateway, proxy: Proxy, client_env: dict[str, str]
) -> None:
    from mitmproxy import io

    with httpx.Client(timeout=30) as client:
        response = client.post(
            "https://api.anthropic.com/v1/messages?beta=true",
            headers={"x-api-key": ANTHROPIC_KEY},
            json={"model": "claude-sonnet-4-5", "max_tokens": 5, "messages": []},
        )
    assert response.status_code == 200
    deadline = time.monotonic() + 5
    flows = []
    while time.monotonic() < deadline:
        with open(proxy.flows, "rb") as f:
            flows = [
                fl
                for fl in io.FlowReader(f).stream()
                if fl.metadata.get("aperture", {})
                .get("original_url", "")
                .endswith("/v1/messages?beta=true")
            ]
        if flows:
            break
        time.sleep(0.1)
    assert len(flows) == 1
    flow = flows[0]
    assert flow.comment == "anthropic → anthropic /v1/messages"
    assert flow.marked
    meta = flow.metadata["aperture"]
    assert meta["upstream"] == "anthropic"
    assert meta["gateway_provider"] == "anthropic"
    assert meta["api"] == "anthropic-messages"
    assert meta["target"] == f"{gateway.url}/v1/messages?beta=true"
    assert meta["original_url"] == "https://api.anthropic.com/v1/messages?beta=true"
    assert ANTHROPIC_KEY not in proxy.log_text()
