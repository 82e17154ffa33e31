"""Leak scanner: unique fake secrets in every credential form, across upstreams and
credential modes, through a proxy at full verbosity with flow saving and mitmweb on.

Every place a secret could end up is searched afterwards: the proxy's stdout and
stderr, the saved flows, mitmweb's flow API, every file in the proxy's confdir, and
what the gateway recorded (where the mode strips credentials). Zero hits, or the test
names each secret and where it was found.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from aperture_proxy.demo import free_port
from aperture_proxy.sim import SimulatedGateway
from tests.helpers.proxy_fixtures import Proxy, start_proxy
from tests.helpers.tls_server import OriginServer

pytestmark = pytest.mark.e2e

MODES = ("auto", "strip", "passthrough")
API_URLS = {
    "anthropic": "https://api.anthropic.com/v1/messages",
    "openai": "https://api.openai.com/v1/chat/completions",
    "openai-codex": "https://chatgpt.com/backend-api/codex/responses",
    "google": "https://generativelanguage.googleapis.com/v1beta/models/g:generateContent",
    "google-vertex": "https://us-east5-aiplatform.googleapis.com/v1/projects/p/"
    "locations/us-east5/publishers/google/models/g:generateContent",
    "amazon-bedrock": "https://bedrock-runtime.us-east-1.amazonaws.com/model/m/converse",
    "groq": "https://api.groq.com/openai/v1/chat/completions",
}
WEB_TOKEN = "leak-scan-web-token"
_counter = itertools.count()


@dataclass
class Planted:
    """Secrets planted in one run, and which ones may rightly reach the gateway."""

    secrets: dict[str, str] = field(default_factory=dict)  # secret -> where planted
    forwarded_ok: set[str] = field(default_factory=set)

    def new(self, where: str, forwarded: bool = False) -> str:
        secret = f"PLANTED{next(_counter):05d}SECRET"
        self.secrets[secret] = where
        if forwarded:
            self.forwarded_ok.add(secret)
        return secret


def _requests(
    upstream: str, mode: str, planted: Planted
) -> Iterator[tuple[str, dict[str, str], str | None]]:
    """(url, headers, websocket subprotocol) for every credential form."""
    url = API_URLS[upstream]
    passthrough = mode == "passthrough"
    where = f"{upstream}/{mode}"

    def s(form: str, kept: bool = False) -> str:
        return planted.new(f"{where} {form}", forwarded=passthrough or kept)

    query = "&".join(
        f"{name}={s('?' + name)}"
        for name in ("key", "api_key", "apikey", "access_token")
    )
    yield (
        f"{url}?alt=sse&{query}",
        {
            "authorization": f"Bearer sk-{s('authorization bearer key')}",
            "x-api-key": s("x-api-key"),
            "api-key": s("api-key"),
            "anthropic-api-key": s("anthropic-api-key"),
            "x-goog-api-key": s("x-goog-api-key"),
            "cookie": f"session={s('cookie')}",
            "x-amz-security-token": s("x-amz-security-token"),
            "x-amz-date": s("x-amz-date"),
            "x-amz-content-sha256": s("x-amz-content-sha256"),
            "proxy-authorization": f"Basic {s('proxy-authorization')}",
        },
        None,
    )
    auto_kept = mode == "auto"
    yield (
        url,
        {
            "authorization": f"Bearer sk-ant-oat01-"
            f"{s('claude oauth', kept=auto_kept and upstream == 'anthropic')}"
        },
        None,
    )
    codex_kept = auto_kept and upstream == "openai-codex"
    yield (
        url,
        {
            "authorization": f"Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0."
            f"{s('chatgpt oauth', kept=codex_kept)}",
            "chatgpt-account-id": s("chatgpt-account-id", kept=codex_kept),
        },
        None,
    )
    yield (
        url,
        {
            "authorization": "AWS4-HMAC-SHA256 Credential="
            f"{s('aws sigv4')}/20261204/us-east-1/bedrock/aws4_request, "
            "SignedHeaders=host, Signature=00ff"
        },
        None,
    )
    yield (
        url,
        {"authorization": f"Bearer {s('websocket auth')}"},
        (f"openai-insecure-api-key.{s('websocket subprotocol')}"),
    )


def _send(proxy: Proxy, url: str, headers: dict[str, str], ws: str | None) -> None:
    context = ssl.create_default_context(cafile=proxy.bundle)
    if ws is not None:
        from websockets.sync.client import connect

        wss = url.replace("https://", "wss://")
        with contextlib.suppress(Exception):  # a refused upgrade is expected
            connect(
                wss,
                proxy=proxy.url,
                ssl=context,
                additional_headers=headers,
                subprotocols=[ws],
                open_timeout=10,
            ).close()  # type: ignore[list-item]
        return
    with httpx.Client(
        proxy=proxy.url, verify=context, trust_env=False, timeout=20
    ) as client:
        client.post(url, headers=headers, json={"model": "m", "messages": []})


def _scan(
    text: str,
    planted: Planted,
    place: str,
    hits: list[str],
    skip: set[str] = frozenset(),
) -> None:  # type: ignore[assignment]
    for secret, where in planted.secrets.items():
        if secret not in skip and secret in text:
            hits.append(f"{secret} ({where}) found in {place}")


def _flow_api(port: int) -> list[object]:
    answer = httpx.get(
        f"http://127.0.0.1:{port}/flows",
        headers={"authorization": f"Bearer {WEB_TOKEN}"},
        timeout=10,
    )
    assert answer.status_code == 200
    flows: list[object] = answer.json()
    return flows


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("ui", ["mitmdump", "mitmweb"])
def test_no_secret_is_stored_logged_or_forwarded(
    mode: str, ui: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    planted = Planted()
    monkeypatch.setenv("APERTURE_PROXY_WEB_TOKEN", WEB_TOKEN)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    web_port = free_port()
    with OriginServer(tmp_path) as origin, SimulatedGateway() as gateway:
        config = tmp_path / "config.yaml"
        entries = [f"    - {{id: {u}, credentials: {mode}}}" for u in API_URLS]
        # A host the proxy decrypts whose other paths go to the real server: here a
        # local origin, so that traffic the proxy passes through is scanned too.
        entries.append(
            f"    - {{id: origin, baseUrl: 'https://localhost:{origin.port}/v1',"
            f" api: openai-completions, apiPaths: [/chat/], credentials: {mode}}}"
        )
        config.write_text("proxy:\n  upstreamProviders:\n" + "\n".join(entries) + "\n")
        # mitmweb has no dumper, so no flow_detail; mitmdump prints every flow whole.
        if ui == "mitmweb":
            shown = ["--web", "--web-port", str(web_port)]
        else:
            shown = ["--set", "flow_detail=4"]
        extra = [
            *shown,
            "--set",
            "termlog_verbosity=debug",
            "--set",
            "ssl_insecure=true",
        ]
        with start_proxy(
            gateway.url, tmp_path / "p", config=config, extra=extra
        ) as proxy:
            for upstream in API_URLS:
                for url, headers, ws in _requests(upstream, mode, planted):
                    _send(proxy, url, headers, ws)
            origin_secret = planted.new(f"origin/{mode} x-api-key", forwarded=True)
            origin_url = (
                f"https://localhost:{origin.port}/v1/status?key={origin_secret}"
            )
            _send(proxy, origin_url, {"x-api-key": origin_secret}, None)
            time.sleep(0.5)
            flows = _flow_api(web_port) if ui == "mitmweb" else []
        log_text = proxy.log_text()
        confdir_files = {
            p: p.read_bytes() for p in proxy.confdir.rglob("*") if p.is_file()
        }

    hits: list[str] = []
    _scan(log_text, planted, "the proxy's output", hits)
    _scan(json.dumps(flows), planted, "mitmweb's flow API", hits)
    for path, data in confdir_files.items():
        _scan(data.decode("latin-1"), planted, str(path.name), hits)
    recorded = json.dumps([r.model_dump() for r in gateway.requests()])
    _scan(recorded, planted, "the gateway's record", hits, skip=planted.forwarded_ok)
    assert not hits, "\n".join(hits)

    # The scan saw real traffic: every rerouted request and the origin's.
    if ui == "mitmweb":
        assert len(flows) >= len(API_URLS) * 5
    else:
        assert log_text.count("rerouted ") >= len(API_URLS) * 4
    assert origin.headers[-1]["x-api-key"] == origin_secret
    if mode == "passthrough":
        assert planted.forwarded_ok & set(planted.secrets)
        assert any(s in recorded for s in planted.forwarded_ok)
