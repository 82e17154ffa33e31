"""The mitmproxy addon, one hook at a time, on flows built with mitmproxy's tflow."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from mitmproxy import exceptions, http
from mitmproxy.addons.proxyauth import ProxyAuth
from mitmproxy.addons.proxyserver import Proxyserver
from mitmproxy.flow import Error
from mitmproxy.test import taddons, tflow

from aperture_proxy import addon as addon_module
from aperture_proxy.addon import Aperture
from aperture_proxy.demo import free_port

Ctx = tuple[taddons.context, Aperture]
GW = "http://127.0.0.1:9"  # never contacted: the gateway is marked healthy


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APERTURE_PROXY_CONFIG", str(tmp_path / "none.yaml"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("APERTURE_URL", raising=False)


@pytest.fixture
def ctx(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[taddons.context, Aperture]]:
    monkeypatch.setenv("APERTURE_URL", GW)
    addon = Aperture()
    with taddons.context(Proxyserver(), ProxyAuth(), addon) as tctx:
        tctx.configure(addon)
        assert addon.health is not None
        addon.health.mark_ok()
        yield tctx, addon


def flow_for(
    url: str,
    headers: dict[str, str] | None = None,
    body: bytes = b"{}",
    http2: bool = False,
) -> http.HTTPFlow:
    request = http.Request.make("POST", url, body, headers or {})
    if http2:
        request.http_version = "HTTP/2.0"
        del request.headers["content-length"]
    flow = tflow.tflow(req=request)
    flow.live = True
    return flow


def run(addon: Aperture, flow: http.HTTPFlow) -> None:
    addon.requestheaders(flow)
    if flow.response is None:
        asyncio.run(addon.request(flow))


def test_configure_limits_decryption_to_upstream_hosts(ctx: Ctx) -> None:
    tctx, _ = ctx
    options = tctx.options
    assert options.connection_strategy == "lazy"
    assert options.upstream_cert is False
    assert r"^api\.anthropic\.com(?::\d+)?$" in options.allow_hosts
    assert not any("github" in p for p in options.allow_hosts)


def test_configure_without_a_gateway_says_how_to_set_one() -> None:
    addon = Aperture()
    with (
        taddons.context(Proxyserver(), ProxyAuth(), addon) as tctx,
        pytest.raises(exceptions.OptionsError) as err,
    ):
        tctx.configure(addon)
    assert "aperture_gateway" in str(err.value)
    assert "APERTURE_URL" in str(err.value)
    assert "write a config file with `aperture-proxy onboard`" in str(err.value)


def test_configure_with_a_bad_config_file_names_it(
    ctx,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    tctx, addon = ctx
    bad = tmp_path / "bad.yaml"
    bad.write_text("proxy:\n  listn: 1\n")
    with pytest.raises(exceptions.OptionsError) as err:
        tctx.configure(addon, aperture_config=str(bad))
    assert str(bad) in str(err.value)
    assert "proxy.listn" in str(err.value)


def test_request_is_rewritten_noted_and_stripped(ctx: Ctx) -> None:
    _, addon = ctx
    flow = flow_for(
        "https://api.anthropic.com/v1/messages?beta=true",
        {"x-api-key": "sk-ant-api03-SECRET", "anthropic-version": "2023-06-01"},
        b'{"model": "claude-sonnet-4-5"}',
    )
    run(addon, flow)
    assert flow.response is None
    assert flow.request.url == f"{GW}/v1/messages?beta=true"
    assert "x-api-key" not in flow.request.headers
    assert flow.request.headers["anthropic-version"] == "2023-06-01"
    assert flow.request.headers["x-session-id"].startswith("conn-")
    assert flow.comment == "anthropic → gateway /v1/messages"
    assert flow.marked
    meta = flow.metadata["aperture"]
    assert meta["original_url"] == "https://api.anthropic.com/v1/messages?beta=true"
    assert meta["model"] == "claude-sonnet-4-5"
    assert meta["target"] == f"{GW}/v1/messages?beta=true"


def test_non_api_path_is_left_alone(ctx: Ctx) -> None:
    _, addon = ctx
    flow = flow_for(
        "https://api.anthropic.com/api/event_logging/batch", {"x-api-key": "k"}
    )
    run(addon, flow)
    assert flow.request.url == "https://api.anthropic.com/api/event_logging/batch"
    assert flow.request.headers["x-api-key"] == "k"
    assert "aperture" not in flow.metadata


def test_http2_body_without_length_gets_one(ctx: Ctx) -> None:
    _, addon = ctx
    flow = flow_for("https://api.openai.com/v1/responses", body=b'{"a": 1}', http2=True)
    assert "content-length" not in flow.request.headers
    run(addon, flow)
    assert flow.request.headers["content-length"] == "8"


def test_websocket_upgrade_is_refused_with_426(ctx: Ctx) -> None:
    _, addon = ctx
    flow = flow_for(
        "https://chatgpt.com/backend-api/codex/responses",
        {"upgrade": "websocket", "authorization": "Bearer SECRET"},
    )
    addon.requestheaders(flow)
    assert flow.response is not None
    assert flow.response.status_code == 426
    assert "authorization" not in flow.request.headers


@pytest.mark.parametrize(
    ("status", "headers", "streamed"),
    [
        (200, {"content-type": "text/event-stream"}, True),
        (200, {"content-type": "application/vnd.amazon.eventstream"}, True),
        (
            200,
            {"content-type": "application/json", "transfer-encoding": "chunked"},
            True,
        ),
        (200, {"content-type": "application/json", "content-length": "2000000"}, True),
        (200, {"content-type": "application/json", "content-length": "2000"}, False),
        (503, {"content-type": "text/event-stream"}, False),
    ],
)
def test_streams_stream_and_small_whole_answers_and_errors_do_not(
    ctx: Ctx, status: int, headers: dict[str, str], streamed: bool
) -> None:
    _, addon = ctx
    flow = flow_for("https://api.openai.com/v1/responses")
    run(addon, flow)
    flow.response = http.Response.make(status, b"")
    del flow.response.headers["content-length"]
    flow.response.headers.update(headers)
    addon.responseheaders(flow)
    assert bool(flow.response.stream) is streamed


def test_restarting_gateway_answer_becomes_a_shaped_503(ctx: Ctx) -> None:
    _, addon = ctx
    flow = flow_for("https://generativelanguage.googleapis.com/v1beta/models/g:x")
    run(addon, flow)
    flow.response = http.Response.make(503, b"aperture is restarting, please retry")
    addon.responseheaders(flow)
    addon.response(flow)
    assert flow.response.status_code == 503
    assert flow.response.headers["retry-after"] == "5"
    assert json.loads(flow.response.content or b"")["error"]["status"] == "UNAVAILABLE"


def test_guardrail_errors_pass_through_untouched(ctx: Ctx) -> None:
    _, addon = ctx
    flow = flow_for("https://api.anthropic.com/v1/messages")
    run(addon, flow)
    blocked = (
        b'{"type":"error","error":{"type":"invalid_request_error","message":"no"}}'
    )
    flow.response = http.Response.make(400, blocked)
    addon.responseheaders(flow)
    addon.response(flow)
    assert flow.response.content == blocked


def test_a_failing_step_answers_502_and_strips_credentials(
    ctx,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    _, addon = ctx

    def boom(*args: object) -> None:
        raise ValueError("sk-LEAK")

    monkeypatch.setattr(addon_module, "rewrite_request", boom)
    flow = flow_for(
        "https://api.openai.com/v1/chat/completions?key=SECRET",
        {"authorization": "Bearer SECRET", "cookie": "s=SECRET"},
    )
    run(addon, flow)
    assert flow.response is not None
    assert flow.response.status_code == 502
    assert b"SECRET" not in (flow.response.content or b"")
    assert "SECRET" not in flow.request.url
    assert "authorization" not in flow.request.headers
    assert "cookie" not in flow.request.headers


def test_unreachable_gateway_is_answered_in_the_provider_shape(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    addon = Aperture()
    gateway = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("APERTURE_URL", gateway)
    with taddons.context(Proxyserver(), ProxyAuth(), addon) as tctx:
        tctx.configure(addon)
        flow = flow_for("https://api.anthropic.com/v1/messages")
        run(addon, flow)
    assert flow.response is not None
    assert flow.response.status_code == 502
    error = json.loads(flow.response.content or b"")["error"]
    assert error["type"] == "api_error"
    assert gateway in error["message"]
    assert "connection refused" in error["message"]


def test_credentials_are_redacted_once_a_passthrough_request_is_sent(ctx: Ctx) -> None:
    _, addon = ctx
    flow = flow_for(
        "https://api.anthropic.com/api/event_logging/batch?key=SECRET&x=1",
        {"x-api-key": "SECRET", "accept": "*/*"},
    )
    run(addon, flow)
    # Still intact while it goes to the real host...
    assert flow.request.headers["x-api-key"] == "SECRET"
    flow.response = http.Response.make(200, b"")
    addon.responseheaders(flow)
    # ...and gone before mitmproxy's dumper or flow saving can see it.
    assert flow.request.headers["x-api-key"] == "REDACTED-by-aperture-proxy"
    assert flow.request.headers["accept"] == "*/*"
    assert flow.request.query["key"] == "REDACTED-by-aperture-proxy"
    assert flow.request.query["x"] == "1"


def test_a_kept_subscription_login_is_forwarded_then_redacted(ctx: Ctx) -> None:
    _, addon = ctx
    token = "Bearer sk-ant-oat01-SECRET"
    flow = flow_for("https://api.anthropic.com/v1/messages", {"authorization": token})
    run(addon, flow)
    assert flow.request.headers["authorization"] == token
    flow.error = Error("refused")
    addon.error(flow)
    assert flow.request.headers["authorization"] == "REDACTED-by-aperture-proxy"


def test_listening_beyond_loopback_without_auth_warns(
    ctx: Ctx, caplog: pytest.LogCaptureFixture
) -> None:
    tctx, addon = ctx
    tctx.options.listen_host = "0.0.0.0"
    addon._warn_if_exposed()
    assert "other machines can use it" in caplog.text
    caplog.clear()
    tctx.options.update(listen_host="127.0.0.1")
    addon._warn_if_exposed()
    assert caplog.text == ""


def _checking(
    tctx: taddons.context, addon: Aperture, tmp_path: Path, action: str
) -> None:
    from datetime import UTC, datetime

    from aperture_proxy.gateway import Catalogue, GatewayProvider

    config = tmp_path / "check.yaml"
    config.write_text(
        "proxy:\n  upstreamProviders:\n"
        "    - {id: anthropic, shouldCheckGatewayModels: true, "
        f"onMissingModel: {action}}}\n"
    )
    tctx.configure(addon, aperture_config=str(config))
    served = GatewayProvider(id="anthropic", name="A", models=["claude-sonnet-4-5"])
    addon._use_catalogue(
        Catalogue(
            gateway=GW, providers=[served], models={}, fetched_at=datetime.now(UTC)
        )
    )
    assert addon.health is not None
    addon.health.mark_ok()


def _ask(addon: Aperture, model: str) -> http.HTTPFlow:
    body = json.dumps({"model": model}).encode()
    flow = flow_for("https://api.anthropic.com/v1/messages", {"x-api-key": "k"}, body)
    run(addon, flow)
    return flow


def test_a_missing_model_is_warned_once_and_marked(
    ctx: Ctx, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    tctx, addon = ctx
    _checking(tctx, addon, tmp_path, "warn")
    first, second = _ask(addon, "claude-nope"), _ask(addon, "claude-nope")
    assert first.response is None and second.response is None  # still forwarded
    assert first.marked == ":warning:"
    assert first.comment.endswith("(model claude-nope not served by anthropic)")
    assert caplog.text.count("does not serve the model claude-nope") == 1
    served = _ask(addon, "claude-sonnet-4-5")
    assert served.marked == ":twisted_rightwards_arrows:"


def test_a_missing_model_is_refused_in_the_providers_shape_when_blocking(
    ctx: Ctx, tmp_path: Path
) -> None:
    tctx, addon = ctx
    _checking(tctx, addon, tmp_path, "block")
    flow = _ask(addon, "claude-nope")
    assert flow.response is not None
    assert flow.response.status_code == 404
    error = json.loads(flow.response.content or b"")
    assert error["type"] == "error"
    assert error["error"]["type"] == "not_found_error"
    assert "'claude-nope'" in error["error"]["message"]
    assert _ask(addon, "claude-sonnet-4-5").response is None


def test_unconfigured_addon_refuses_instead_of_passing_through() -> None:
    addon = Aperture()
    flow = flow_for("https://api.anthropic.com/v1/messages", {"x-api-key": "SECRET"})
    addon.requestheaders(flow)
    assert flow.response is not None
    assert flow.response.status_code == 502
    assert "x-api-key" not in flow.request.headers
