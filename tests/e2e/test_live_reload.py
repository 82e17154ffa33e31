"""The running proxy follows config file changes without dropping a stream."""

from __future__ import annotations

import ssl
import threading
import time
from pathlib import Path

import httpx
import pytest

from aperture_proxy.sim import SimulatedGateway

from .conftest import start_proxy

pytestmark = pytest.mark.e2e

CHAT = "https://api.openai.com/v1/chat/completions"
KEY = "sk-proj-RELOAD-0001"


def _trust(bundle: str) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=bundle)


def _config(path: Path, credentials: str) -> None:
    entry = f"{{id: openai, credentials: {credentials}}}"
    path.write_text(f"proxy:\n  upstreamProviders:\n    - {entry}\n")


def test_a_config_edit_applies_to_the_next_request_not_to_a_running_stream(
    tmp_path: Path, gateway: SimulatedGateway
) -> None:
    config = tmp_path / "config.yaml"
    _config(config, "passthrough")
    with start_proxy(gateway.url, tmp_path / "p", config=config) as proxy:
        gateway.settings.chunks = 10
        gateway.settings.delay = 0.3
        headers = {"authorization": f"Bearer {KEY}"}
        body = {"model": "gpt-5.1", "stream": True, "messages": []}
        streamed: list[str] = []

        def stream() -> None:
            with (
                httpx.Client(
                    proxy=proxy.url,
                    verify=_trust(proxy.bundle),
                    timeout=30,
                    trust_env=False,
                ) as client,
                client.stream("POST", CHAT, json=body, headers=headers) as response,
            ):
                streamed.extend(response.iter_lines())

        reader = threading.Thread(target=stream)
        reader.start()
        time.sleep(1.0)  # the stream is flowing
        _config(config, "strip")
        deadline = time.monotonic() + 10
        while "config file" not in proxy.log_text():
            assert time.monotonic() < deadline, proxy.log_text()
            time.sleep(0.1)
        reader.join(timeout=30)
        assert "data: [DONE]" in streamed  # the stream finished whole

        gateway.settings.delay = 0
        with httpx.Client(
            proxy=proxy.url, verify=_trust(proxy.bundle), timeout=30, trust_env=False
        ) as client:
            after = client.post(
                CHAT, json={"model": "gpt-5.1", "messages": []}, headers=headers
            )
        assert after.status_code == 200

    posts = [r for r in gateway.requests() if r.method == "POST"]
    assert [r.header("authorization") for r in posts] == [f"Bearer {KEY}", None]


def test_a_broken_edit_keeps_the_old_config(
    tmp_path: Path, gateway: SimulatedGateway
) -> None:
    config = tmp_path / "config.yaml"
    _config(config, "strip")
    with start_proxy(gateway.url, tmp_path / "p", config=config) as proxy:
        config.write_text(
            "proxy:\n  upstreamProviders: [{id: openai, credentials: x}]\n"
        )
        deadline = time.monotonic() + 10
        while "config change not applied" not in proxy.log_text():
            assert time.monotonic() < deadline, proxy.log_text()
            time.sleep(0.1)
        assert "proxy.upstreamProviders[0].credentials" in proxy.log_text()
        with httpx.Client(
            proxy=proxy.url, verify=_trust(proxy.bundle), timeout=30, trust_env=False
        ) as client:
            answer = client.post(
                CHAT,
                json={"model": "gpt-5.1", "messages": []},
                headers={"authorization": f"Bearer {KEY}"},
            )
    assert answer.status_code == 200
    posts = [r for r in gateway.requests() if r.method == "POST"]
    assert [r.header("authorization") for r in posts] == [None]
