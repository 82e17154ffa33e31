"""Faults through a real proxy: failing hooks, gateway down, restarts, rate limits,
WebSocket upgrades, and hosts that must never be decrypted."""

from __future__ import annotations

import contextlib
import json
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from aperture_proxy.agent_env import agent_environment
from aperture_proxy.demo import free_port, wait_for_port
from aperture_proxy.sim import SimulatedGateway
from tests.helpers.tls_server import OriginServer

from .conftest import Proxy, start_proxy

# As in tests/helpers/broken_addon.py, which cannot be imported outside mitmdump.
INJECTED_SECRET = "sk-INJECTED-SECRET-0000"

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SECRET = "sk-proj-FAULTKEY-0042"


def llm_requests(gateway: SimulatedGateway) -> list[str]:
    """Requests other than the catalogue fetches a starting proxy makes."""
    catalogue = ("/api/", "/v1/models", "/aperture/")
    return [r.path for r in gateway.requests() if not r.path.startswith(catalogue)]


@contextlib.contextmanager
def mitmdump(
    script: Path, confdir: Path, options: list[str], env: dict[str, str] | None = None
) -> Iterator[tuple[str, Path]]:
    """``mitmdump -s SCRIPT`` on a free port; yields (proxy URL, log file)."""
    port = free_port()
    log = confdir / f"mitmdump-{port}.log"
    command = [
        sys.executable,
        "-c",
        "from mitmproxy.tools.main import mitmdump; mitmdump()",
        "-s",
        str(script),
        "--listen-host",
        "127.0.0.1",
        "--listen-port",
        str(port),
        "--set",
        f"confdir={confdir}",
        "--set",
        "termlog_verbosity=debug",
        *[arg for option in options for arg in ("--set", option)],
    ]
    full_env = {**__import__("os").environ, **(env or {})}
    full_env["PYTHONPATH"] = str(ROOT)
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=full_env
        )
        try:
            wait_for_port(port, process, 30)
            yield f"http://127.0.0.1:{port}", log
        finally:
            process.terminate()
            process.wait(timeout=10)


def _client(proxy_url: str, confdir: Path) -> httpx.Client:
    env = agent_environment(proxy_url.removeprefix("http://"), confdir)
    context = ssl.create_default_context(cafile=env["SSL_CERT_FILE"])
    return httpx.Client(proxy=proxy_url, verify=context, timeout=20, trust_env=False)


@pytest.mark.parametrize(
    "broken", ["rewrite_request", "request_model", "RequestView", "filter_query"]
)
def test_a_failing_hook_forwards_nothing_and_leaks_no_key(
    tmp_path: Path, gateway: SimulatedGateway, broken: str
) -> None:
    with OriginServer(tmp_path) as origin:
        config = tmp_path / "config.yaml"
        config.write_text(
            "proxy:\n  upstreamProviders:\n"
            f"    - {{id: canary, baseUrl: 'https://localhost:{origin.port}/v1',"
            " api: openai-completions, apiPaths: [/chat/]}\n"
        )
        options = [
            f"aperture_gateway={gateway.url}",
            f"aperture_config={config}",
            # Trust the origin's own certificate, so that a request the addon let
            # through would really arrive there and fail this test.
            "ssl_insecure=true",
        ]
        script = ROOT / "tests" / "helpers" / "broken_addon.py"
        env = {"APERTURE_TEST_BREAK": broken}
        with (
            mitmdump(script, tmp_path, options, env) as (proxy_url, log),
            _client(proxy_url, tmp_path) as client,
        ):
            base = f"https://localhost:{origin.port}/v1"
            headers = {"authorization": f"Bearer {SECRET}"}
            try:
                response = client.post(
                    f"{base}/chat/completions", headers=headers, json={"model": "m"}
                )
            except httpx.HTTPError:
                response = None  # the last-resort path kills the flow outright
            # A control on the same proxy: a non-API path of that host does reach
            # the origin, so the check above could have failed.
            control = client.get(f"{base}/status")
        log_text = log.read_text(errors="replace")
    assert origin.paths == ["/v1/status"]
    assert control.text == "origin"
    if response is not None:
        assert response.status_code == 502
        error = response.json()["error"]
        assert "nothing was forwarded" in error["message"]
        assert SECRET not in response.text
    assert llm_requests(gateway) == []
    assert "internal error in request hook (RuntimeError)" in log_text
    assert SECRET not in log_text
    assert INJECTED_SECRET not in log_text


def test_mitmdump_script_entry_tunnels_other_hosts_untouched(
    tmp_path: Path, gateway: SimulatedGateway
) -> None:
    script = ROOT / "addons" / "aperture.py"
    with (
        OriginServer(tmp_path) as origin,
        mitmdump(script, tmp_path, [f"aperture_gateway={gateway.url}"]) as (url, _),
    ):
        # Trust only the origin's own certificate: a decrypting proxy would fail it.
        context = ssl.create_default_context(cafile=str(origin.cert))
        with httpx.Client(proxy=url, verify=context, trust_env=False) as client:
            response = client.get(f"https://127.0.0.1:{origin.port}/hello")
    assert response.text == "origin"
    assert origin.paths == ["/hello"]


def test_non_llm_host_is_not_decrypted_by_the_cli_proxy(
    proxy: Proxy, tmp_path: Path
) -> None:
    with OriginServer(tmp_path) as origin:
        context = ssl.create_default_context(cafile=str(origin.cert))
        with httpx.Client(proxy=proxy.url, verify=context, trust_env=False) as client:
            response = client.get(f"https://localhost:{origin.port}/x?token=abc")
    assert response.status_code == 200
    assert origin.headers[0].get("authorization") is None
    assert origin.paths == ["/x?token=abc"]


def test_gateway_down_gives_a_provider_shaped_error_then_recovers(
    tmp_path: Path,
) -> None:
    from anthropic import Anthropic, APIStatusError

    port = free_port()
    gateway_url = f"http://127.0.0.1:{port}"
    with start_proxy(gateway_url, tmp_path / "p") as proxy:
        env = proxy.env
        import httpx2

        context = ssl.create_default_context(cafile=env["SSL_CERT_FILE"])
        http_client = httpx2.Client(
            proxy=proxy.url, verify=context, trust_env=False, timeout=20
        )
        client = Anthropic(api_key=SECRET, max_retries=0, http_client=http_client)

        def ask() -> str:
            message = client.messages.create(
                model="claude-sonnet-4-5",
                max_tokens=8,
                messages=[{"role": "user", "content": "hi"}],
            )
            return message.content[0].text  # type: ignore[union-attr]

        with pytest.raises(APIStatusError) as caught:
            ask()
        assert caught.value.status_code == 502
        body = caught.value.response.json()
        assert body["type"] == "error"
        assert body["error"]["type"] == "api_error"
        message = body["error"]["message"]
        assert gateway_url in message
        assert "refused" in message.lower()

        with SimulatedGateway(port=port) as gateway:
            assert ask() == gateway.settings.reply
            assert [r.path for r in gateway.requests()] == ["/v1/messages"]
        assert SECRET not in proxy.log_text()


def test_restarting_gateway_becomes_503_with_retry_after(
    gateway: SimulatedGateway, client_env: dict[str, str]
) -> None:
    from anthropic import Anthropic, APIStatusError

    client = Anthropic(api_key=SECRET, max_retries=0)
    gateway.settings.fault = "restarting"
    with pytest.raises(APIStatusError) as caught:
        client.messages.create(model="claude-sonnet-4-5", max_tokens=8, messages=[])
    response = caught.value.response
    assert response.status_code == 503
    assert response.headers["retry-after"] == "7"
    assert response.json()["error"]["type"] == "overloaded_error"
    assert "restarting" in response.json()["error"]["message"]

    gateway.settings.fault = "none"
    answer = client.messages.create(
        model="claude-sonnet-4-5",
        max_tokens=8,
        messages=[{"role": "user", "content": "x"}],
    )
    assert answer.content[0].text == gateway.settings.reply  # type: ignore[union-attr]


def test_quota_exhausted_is_a_429_in_openai_shape(
    gateway: SimulatedGateway, client_env: dict[str, str]
) -> None:
    from openai import OpenAI, RateLimitError

    client = OpenAI(api_key=SECRET, max_retries=0)
    gateway.settings.fault = "status_429"
    with pytest.raises(RateLimitError) as caught:
        client.responses.create(model="gpt-5.1", input="hi")
    response = caught.value.response
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    error = response.json()["error"]
    assert error["type"] == "rate_limit_error"
    assert "quota exhausted" in error["message"]
    gateway.settings.fault = "none"
    assert client.responses.create(model="gpt-5.1", input="hi").output_text


def test_gemini_gets_google_shaped_restart_error(
    gateway: SimulatedGateway, client_env: dict[str, str]
) -> None:
    gateway.settings.fault = "restarting"
    with httpx.Client(timeout=20) as client:
        response = client.post(
            "https://generativelanguage.googleapis.com/v1beta/models/g:generateContent",
            json={"contents": []},
        )
    assert response.status_code == 503
    assert response.json()["error"]["status"] == "UNAVAILABLE"
    assert response.json()["error"]["code"] == 503


def test_codex_websocket_upgrade_gets_426_at_once(
    gateway: SimulatedGateway, proxy: Proxy
) -> None:
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    context = ssl.create_default_context(cafile=proxy.bundle)
    started = time.monotonic()
    with pytest.raises(InvalidStatus) as caught:
        connect(
            "wss://chatgpt.com/backend-api/codex/responses",
            proxy=proxy.url,
            ssl=context,
            additional_headers={"authorization": f"Bearer {SECRET}"},
            subprotocols=["openai-insecure-api-key.sk-WSKEY"],  # type: ignore[list-item]
            open_timeout=10,
        )
    elapsed = time.monotonic() - started
    assert caught.value.response.status_code == 426
    assert elapsed < 2.0
    assert json.loads(caught.value.response.body or b"{}")["error"]["message"]
    assert llm_requests(gateway) == []


def test_a_stream_cut_midway_is_an_error_for_the_client_not_a_short_answer(
    gateway: SimulatedGateway, client_env: dict[str, str], proxy: Proxy
) -> None:
    gateway.settings.fault = "cut"
    gateway.settings.fault_after = 2
    body = {"model": "gpt-5.1", "stream": True, "messages": []}
    received: list[str] = []
    with httpx.Client(timeout=20) as client:
        with (
            pytest.raises(httpx.RemoteProtocolError),
            client.stream(
                "POST", "https://api.openai.com/v1/chat/completions", json=body
            ) as response,
        ):
            for line in response.iter_lines():
                received.append(line)
        assert any('"content"' in line for line in received)
        assert "data: [DONE]" not in received
        gateway.settings.fault = "none"
        again = client.post("https://api.openai.com/v1/chat/completions", json=body)
    assert again.status_code == 200
    assert "data: [DONE]" in again.text
    assert (
        f"gateway {gateway.url} failed for openai /v1/chat/completions: "
        "HTTP/1 protocol error: peer closed connection" in proxy.log_text()
    )


def test_catalogue_down_at_start_uses_the_cache_then_refreshes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aperture_proxy.gateway import discover_sync

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with SimulatedGateway() as gateway:
        discover_sync(gateway.url)  # a good catalogue from an earlier run
        gateway.settings.fault = "catalogue_down"
        extra = ["--set", "aperture_refresh=1"]
        with start_proxy(gateway.url, tmp_path / "p", extra=extra) as proxy:
            deadline = time.monotonic() + 10
            while "using the catalogue cached" not in proxy.log_text():
                assert time.monotonic() < deadline, proxy.log_text()
                time.sleep(0.1)
            # Requests keep flowing while the catalogue is stale.
            with _client(proxy.url, proxy.confdir) as client:
                answer = client.post(
                    "https://api.openai.com/v1/chat/completions",
                    json={"model": "gpt-5.1", "messages": []},
                )
            assert answer.status_code == 200
            gateway.settings.fault = "none"
            assert "gateway catalogue (fresh)" not in proxy.log_text()
            fresh = "gateway catalogue (fresh): 7 providers"
            while proxy.log_text().count(fresh) < 1:
                assert time.monotonic() < deadline + 10, proxy.log_text()
                time.sleep(0.2)


def test_a_stalled_gateway_holds_only_that_request(
    gateway: SimulatedGateway, client_env: dict[str, str]
) -> None:
    gateway.settings.fault = "stall"
    gateway.settings.stall_seconds = 30
    body = {"model": "gpt-5.1", "messages": []}
    with httpx.Client(timeout=1.5) as stalled:
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            stalled.post("https://api.openai.com/v1/chat/completions", json=body)
        assert time.monotonic() - started < 5
    gateway.settings.fault = "none"
    with httpx.Client(timeout=10) as client:
        again = client.post("https://api.openai.com/v1/chat/completions", json=body)
    assert again.status_code == 200


def test_garbage_mid_stream_reaches_the_client_unaltered(
    gateway: SimulatedGateway, client_env: dict[str, str]
) -> None:
    from aperture_proxy.sim import GARBAGE

    gateway.settings.fault = "garbage"
    body = {"model": "gpt-5.1", "stream": True, "messages": []}
    with httpx.Client(timeout=10) as client:
        raw = client.post("https://api.openai.com/v1/chat/completions", json=body)
        assert raw.status_code == 200
        # The proxy passes the gateway's bytes through; it never edits a stream.
        assert GARBAGE in raw.content
        gateway.settings.fault = "none"
        again = client.post("https://api.openai.com/v1/chat/completions", json=body)
    assert again.status_code == 200
