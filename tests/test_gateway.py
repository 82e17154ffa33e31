"""Gateway discovery against a real HTTP server on 127.0.0.1, and its disk cache."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from aperture_proxy import gateway as gateway_mod
from aperture_proxy.catalogue_cache import cache_path, default_cache_dir
from aperture_proxy.gateway import (
    Catalogue,
    DiscoveryError,
    GatewayClient,
    GatewayModel,
    GatewayProvider,
    discover,
    discover_sync,
    intersect,
    load_cached,
    parse_models,
    parse_providers,
)

CASES = yaml.safe_load(
    (Path(__file__).parent / "cases" / "discovery.yaml").read_text(encoding="utf-8")
)["cases"]

# The cost names of the cases (SPEC §4.1) and the pricing fields they come from.
COST_FIELDS = {
    "input": "input",
    "output": "output",
    "cacheRead": "input_cache_read",
    "cacheWrite": "input_cache_write",
}


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    delay: float = 0.0


class FakeGateway:
    """Canned answers per path on 127.0.0.1, counting what it was asked."""

    def __init__(self) -> None:
        self.answers: dict[str, Answer] = {}
        self.hits: Counter[str] = Counter()
        self.release = threading.Event()
        # Requests held at once, and how many must arrive before delays end early.
        self.in_flight = self.peak = 0
        self.together = 0
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with owner.lock:
                    owner.hits[self.path] += 1
                    owner.in_flight += 1
                    owner.peak = max(owner.peak, owner.in_flight)
                    if owner.together and owner.in_flight >= owner.together:
                        owner.release.set()
                try:
                    self._answer()
                finally:
                    with owner.lock:
                        owner.in_flight -= 1

            def _answer(self) -> None:
                answer = owner.answers.get(self.path, Answer(404, b'{"error":"no"}'))
                if answer.delay:
                    owner.release.wait(answer.delay)
                try:
                    self.send_response(answer.status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)
                except OSError:
                    pass  # the client gave up waiting, which is the point

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, args=(0.05,), daemon=True
        )
        self.thread.start()

    def serve(
        self, path: str, body: object, *, status: int = 200, delay: float = 0.0
    ) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.answers[path] = Answer(status, raw, delay)

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway() -> Iterator[FakeGateway]:
    fake = FakeGateway()
    yield fake
    fake.stop()


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def shape(catalogue: Catalogue) -> list[tuple[str, list[str]]]:
    return [(p.id, p.models) for p in catalogue.providers]


# --- the shared discovery cases ---


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_discovery_case(
    case: dict[str, Any], gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.serve("/api/providers", case["api_providers"])
    if "v1_models" in case:
        gateway.serve("/v1/models", case["v1_models"])
    if "v1_models_status" in case:
        gateway.serve("/v1/models", b"internal error", status=case["v1_models_status"])

    catalogue = discover_sync(gateway.url, cache_dir=tmp_path)

    assert shape(catalogue) == list(case["catalogue"].items())
    assert catalogue.from_cache is False
    for model_id, costs in case.get("cost", {}).items():
        pricing = catalogue.models[model_id].pricing
        assert pricing is not None
        for name, per_million in costs.items():
            price = getattr(pricing, COST_FIELDS[name])
            assert isinstance(price, Decimal)
            assert abs(float(price * 1_000_000) - per_million) < 1e-9


def test_unfiltered_providers_are_said_so(gateway: FakeGateway, tmp_path: Path) -> None:
    gateway.serve("/api/providers", [{"id": "openai", "models": ["gpt-5.1"]}])
    gateway.serve("/v1/models", b"internal error", status=500)
    catalogue = discover_sync(gateway.url, cache_dir=tmp_path)
    assert catalogue.warnings == [
        f"GET {gateway.url}/v1/models failed: HTTP 500: internal error. The gateway "
        "itself failed; try again shortly. — the providers are not filtered: "
        "disabled providers and models you are not granted may be listed"
    ]
    assert catalogue.models == {}


def test_malformed_entries_are_named_in_warnings(
    gateway: FakeGateway, tmp_path: Path
) -> None:
    (case,) = [c for c in CASES if c["name"].startswith("a malformed provider")]
    gateway.serve("/api/providers", case["api_providers"])
    gateway.serve("/v1/models", case["v1_models"])
    catalogue = discover_sync(gateway.url, cache_dir=tmp_path)
    assert catalogue.warnings == [
        "/api/providers: dropped entry 1 (name 'no-id-here'): it has no id",
        "/api/providers: dropped entry 2 (id 'bad-models'): models.0: input should "
        "be a valid string (got 1)",
    ]


def test_exact_decimal_strings_are_kept(gateway: FakeGateway, tmp_path: Path) -> None:
    gateway.serve("/api/providers", [{"id": "a", "models": ["m"]}])
    pricing = {"input": "0.0000003", "web_search": "0.01"}
    gateway.serve("/v1/models", {"data": [{"id": "m", "pricing": pricing}]})
    catalogue = discover_sync(gateway.url, cache_dir=tmp_path)
    stored = catalogue.models["m"].pricing
    assert stored is not None
    assert stored.input == Decimal("0.0000003")
    assert stored.web_search == Decimal("0.01")
    assert stored.output is None


# --- talking to the gateway ---


def test_the_fetches_run_concurrently(gateway: FakeGateway, tmp_path: Path) -> None:
    # Each answer is held until all three requests are in: fetched one after the
    # other, they would never be held together.
    gateway.together = 3
    gateway.serve("/api/providers", [{"id": "a", "models": ["m"]}], delay=5)
    gateway.serve("/v1/models", {"data": [{"id": "m"}]}, delay=5)
    gateway.serve("/aperture/config", {"error": "admins only"}, status=403, delay=5)
    catalogue = discover_sync(gateway.url, cache_dir=tmp_path, timeout=20)
    assert shape(catalogue) == [("a", ["m"])]
    assert gateway.peak == 3
    assert gateway.hits == Counter(
        {"/api/providers": 1, "/v1/models": 1, "/aperture/config": 1}
    )


def test_connection_refused_names_url_and_cause(tmp_path: Path) -> None:
    url = closed_port_url()
    with pytest.raises(DiscoveryError) as caught:
        discover_sync(url, cache_dir=tmp_path)
    assert str(caught.value) == (
        f"GET {url}/api/providers failed: connection refused. Check the gateway URL "
        "and that this machine is connected to the tailnet (`tailscale status`)."
    )
    assert caught.value.url == f"{url}/api/providers"


def test_a_stalled_gateway_times_out(gateway: FakeGateway, tmp_path: Path) -> None:
    gateway.serve("/api/providers", [], delay=10)
    gateway.serve("/v1/models", {"data": []})
    started = time.monotonic()
    with pytest.raises(DiscoveryError) as caught:
        discover_sync(gateway.url, cache_dir=tmp_path, timeout=0.3)
    assert time.monotonic() - started < 2
    assert str(caught.value).startswith(
        f"GET {gateway.url}/api/providers failed: timeout after 0.3 s. Check the"
    )


def test_an_answer_that_is_not_json(gateway: FakeGateway, tmp_path: Path) -> None:
    gateway.serve("/api/providers", b"<html><body>Sign in</body></html>")
    with pytest.raises(DiscoveryError) as caught:
        discover_sync(gateway.url, cache_dir=tmp_path)
    assert str(caught.value) == (
        f"GET {gateway.url}/api/providers failed: the answer is not JSON (it starts "
        "with '<html><body>Sign in</body></html>'). Check that the URL points at an "
        "Aperture gateway (its dashboard is at /ui/)."
    )


def test_an_error_status_quotes_the_start_of_the_body(
    gateway: FakeGateway, tmp_path: Path
) -> None:
    body = "upstream exploded: " + "x" * 400
    gateway.serve("/api/providers", body.encode(), status=500)
    with pytest.raises(DiscoveryError) as caught:
        discover_sync(gateway.url, cache_dir=tmp_path)
    message = str(caught.value)
    assert message.startswith(
        f"GET {gateway.url}/api/providers failed: HTTP 500: upstream exploded: xxx"
    )
    assert body[:200] + "…" in message
    assert body[:201] not in message


def test_a_refusal_suggests_asking_for_a_grant(
    gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.serve("/api/providers", {"error": "forbidden"}, status=403)
    with pytest.raises(DiscoveryError) as caught:
        discover_sync(gateway.url, cache_dir=tmp_path)
    assert "HTTP 403" in str(caught.value)
    assert "refused this machine's tailnet identity" in str(caught.value)


def test_a_provider_list_of_the_wrong_shape(
    gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.serve("/api/providers", {"items": []})
    with pytest.raises(DiscoveryError) as caught:
        discover_sync(gateway.url, cache_dir=tmp_path)
    assert str(caught.value).startswith(
        f"GET {gateway.url}/api/providers failed: the provider list is an object; "
        "expected an array of providers"
    )


def test_a_huge_answer_is_refused(
    gateway: FakeGateway, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gateway_mod, "MAX_ANSWER_BYTES", 1024)
    gateway.serve("/api/providers", [{"id": "p" * 100}] * 20)
    with pytest.raises(DiscoveryError) as caught:
        discover_sync(gateway.url, cache_dir=tmp_path)
    assert str(caught.value).startswith(
        f"GET {gateway.url}/api/providers failed: the answer is larger than 1024 bytes."
    )


def test_an_unusable_gateway_url(tmp_path: Path) -> None:
    with pytest.raises(DiscoveryError) as caught:
        discover_sync("ftp://ai", cache_dir=tmp_path)
    assert str(caught.value).startswith("the gateway URL is not usable: 'ftp://ai'")


def test_proxy_variables_are_not_used(
    gateway: FakeGateway, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A proxy that does not exist: if it were used, discovery would fail.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy"):
        monkeypatch.setenv(name, closed_port_url())
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    gateway.serve("/api/providers", [{"id": "a", "models": ["m"]}])
    gateway.serve("/v1/models", {"data": [{"id": "m"}]})
    assert shape(discover_sync(gateway.url, cache_dir=tmp_path)) == [("a", ["m"])]


# --- /aperture/config ---


def admin_config(gateway: FakeGateway) -> dict[str, str] | None:
    async def fetch() -> dict[str, str] | None:
        async with GatewayClient(gateway.url) as client:
            return await client.fetch_admin_config()

    return asyncio.run(fetch())


def test_admin_config_refused_is_none(gateway: FakeGateway) -> None:
    gateway.serve("/aperture/config", {"error": "forbidden"}, status=403)
    assert admin_config(gateway) is None


def test_admin_config_missing_is_none(gateway: FakeGateway) -> None:
    assert admin_config(gateway) is None


HUJSON = """{
  // upstreams, as the admin wrote them
  "providers": {
    "anthropic": {"baseurl": "https://api.anthropic.com",},
    "codex": {"baseUrl": "https://chatgpt.com/backend-api/codex"}, /* ChatGPT */
    "no-url": {"models": ["x",],},
  },
}"""


def test_admin_config_hujson_is_parsed(gateway: FakeGateway) -> None:
    gateway.serve("/aperture/config", {"config": HUJSON})
    assert admin_config(gateway) == {
        "anthropic": "https://api.anthropic.com",
        "codex": "https://chatgpt.com/backend-api/codex",
    }


def test_admin_config_as_an_object(gateway: FakeGateway) -> None:
    config = {"providers": {"zai": {"base_url": "https://api.z.ai/api/coding/paas/v4"}}}
    gateway.serve("/aperture/config", {"config": config})
    assert admin_config(gateway) == {"zai": "https://api.z.ai/api/coding/paas/v4"}


def test_admin_config_that_is_broken_hujson(gateway: FakeGateway) -> None:
    gateway.serve("/aperture/config", {"config": "{ providers: "})
    with pytest.raises(DiscoveryError) as caught:
        admin_config(gateway)
    assert str(caught.value).startswith(
        f"GET {gateway.url}/aperture/config failed: its config is not valid HuJSON"
    )


def test_discovery_fills_base_urls_from_admin_config(
    gateway: FakeGateway, tmp_path: Path
) -> None:
    gateway.serve(
        "/api/providers",
        [
            {"id": "anthropic", "models": ["c"]},
            {"id": "own", "models": ["o"], "baseUrl": "https://own.example/v1"},
        ],
    )
    gateway.serve("/v1/models", {"data": [{"id": "c"}, {"id": "o"}]})
    providers = {
        "anthropic": {"baseurl": "https://api.anthropic.com"},
        "own": {"baseurl": "https://ignored.example"},
    }
    gateway.serve("/aperture/config", {"config": {"providers": providers}})
    catalogue = discover_sync(gateway.url, cache_dir=tmp_path)
    assert [(p.id, p.base_url) for p in catalogue.providers] == [
        ("anthropic", "https://api.anthropic.com"),
        ("own", "https://own.example/v1"),
    ]
    assert catalogue.warnings == []


# --- the cache ---


def serve_good_catalogue(gateway: FakeGateway) -> None:
    gateway.serve("/api/providers", [{"id": "a", "models": ["m", "n"]}])
    gateway.serve("/v1/models", {"data": [{"id": "m"}]})


def age_cache(url: str, cache_dir: Path, hours: float) -> None:
    path = cache_path(url, cache_dir)
    document = json.loads(path.read_text())
    then = datetime.now(UTC) - timedelta(hours=hours)
    document["catalogue"]["fetched_at"] = then.isoformat()
    path.write_text(json.dumps(document))


def test_the_cache_is_used_while_the_gateway_is_down(
    gateway: FakeGateway, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    serve_good_catalogue(gateway)
    fresh = discover_sync(gateway.url, cache_dir=tmp_path)
    age_cache(gateway.url, tmp_path, hours=3)
    gateway.stop()

    with caplog.at_level(logging.INFO, logger="aperture_proxy.gateway"):
        cached = discover_sync(gateway.url, cache_dir=tmp_path)

    assert cached.from_cache is True
    assert shape(cached) == shape(fresh) == [("a", ["m"])]
    assert cached.warnings[0].startswith(
        f"using the catalogue cached 3.0 h ago because GET {gateway.url}/api/providers "
        "failed: connection refused."
    )
    assert cached.warnings[0] in caplog.messages
    assert 10_700 < cached.age_seconds() < 10_900


def test_use_cache_false_does_not_fall_back(
    gateway: FakeGateway, tmp_path: Path
) -> None:
    serve_good_catalogue(gateway)
    discover_sync(gateway.url, cache_dir=tmp_path)
    gateway.stop()
    with pytest.raises(DiscoveryError, match="connection refused"):
        discover_sync(gateway.url, cache_dir=tmp_path, use_cache=False)


def test_a_corrupt_cache_is_ignored_and_replaced(
    gateway: FakeGateway, tmp_path: Path
) -> None:
    path = cache_path(gateway.url, tmp_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{ not json")
    serve_good_catalogue(gateway)
    catalogue = discover_sync(gateway.url, cache_dir=tmp_path)
    assert catalogue.from_cache is False
    reread = load_cached(gateway.url, tmp_path)
    assert reread is not None
    assert shape(reread) == [("a", ["m"])]
    assert reread.from_cache is True


def test_a_corrupt_cache_while_down_is_named_in_the_error(tmp_path: Path) -> None:
    url = closed_port_url()
    path = cache_path(url, tmp_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"format": 1, "catalogue": {"gateway": 5}}')
    with pytest.raises(DiscoveryError) as caught:
        discover_sync(url, cache_dir=tmp_path)
    message = str(caught.value)
    assert "connection refused" in message
    assert f"The cached catalogue was no help: {path} is not a usable" in message


def test_load_cached_ignores_a_corrupt_file_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = cache_path("http://ai", tmp_path)
    path.write_bytes(b"\x00\xff garbage")
    with caplog.at_level(logging.WARNING):
        assert load_cached("http://ai", tmp_path) is None
    assert caplog.messages[0].startswith("ignored the cached catalogue: ")


def test_load_cached_without_a_file_is_none(tmp_path: Path) -> None:
    assert load_cached("http://ai", tmp_path) is None


def test_cache_files_are_per_origin_and_readable() -> None:
    one = cache_path("http://ai.example-tailnet.ts.net/v1", Path("/c"))
    assert one.parent == Path("/c")
    assert one.name.startswith("http-ai-example-tailnet-ts-net-")
    assert one.name.endswith(".json")
    assert one == cache_path("ai.example-tailnet.ts.net", Path("/c"))
    assert one != cache_path("https://ai.example-tailnet.ts.net", Path("/c"))
    assert one != cache_path("http://ai.example-tailnet.ts.net:8080", Path("/c"))


def test_default_cache_dir_follows_xdg(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "aperture-proxy" / "catalogue"


def test_an_unwritable_cache_is_a_warning(gateway: FakeGateway, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    serve_good_catalogue(gateway)
    catalogue = discover_sync(gateway.url, cache_dir=blocker / "cache")
    assert shape(catalogue) == [("a", ["m"])]
    assert catalogue.warnings[-1].startswith("the catalogue cache was not written")


def test_discover_is_awaitable(gateway: FakeGateway, tmp_path: Path) -> None:
    serve_good_catalogue(gateway)
    catalogue = asyncio.run(discover(gateway.url, cache_dir=tmp_path))
    assert catalogue.gateway == gateway.url


# --- the parsers on their own ---


def test_provider_defaults_and_base_url_spellings() -> None:
    raw = [
        {"id": "a", "name": None},
        {"id": "b", "baseurl": "https://b.example"},
        {"id": "c", "base_url": "https://c.example", "compatibility": {"x_new": True}},
    ]
    providers, warnings = parse_providers(raw)
    assert providers == [
        GatewayProvider(id="a", name="a"),
        GatewayProvider(id="b", name="b", base_url="https://b.example"),
        GatewayProvider(
            id="c",
            name="c",
            base_url="https://c.example",
            compatibility={"x_new": True},
        ),
    ]
    assert warnings == []


def test_keyed_providers_take_the_key_as_id() -> None:
    providers, _ = parse_providers({"providers": {"x": {"models": ["m"]}}})
    assert providers == [GatewayProvider(id="x", name="x", models=["m"])]


def test_odd_provider_entries_are_dropped_with_their_reason() -> None:
    raw = [
        "openai",
        {"id": "a", "compatibility": {"openai_chat": "yes"}},
        {"id": "b"},
        {"id": "b", "name": "again"},
    ]
    providers, warnings = parse_providers(raw)
    assert [p.id for p in providers] == ["b"]
    assert warnings == [
        "/api/providers: dropped entry 0: expected an object, got a str",
        "/api/providers: dropped entry 1 (id 'a'): compatibility.openai_chat: input "
        "should be a valid boolean (got 'yes')",
        "/api/providers: dropped entry 3 (id 'b'): the id 'b' is listed twice",
    ]


@pytest.mark.parametrize("raw", [None, "providers", 5, {"providers": 5}])
def test_a_provider_document_of_no_known_shape_raises(raw: object) -> None:
    with pytest.raises(DiscoveryError, match="expected an array of providers"):
        parse_providers(raw)


def test_models_keep_metadata_and_drop_bad_prices() -> None:
    raw = {
        "object": "list",
        "data": [
            {
                "id": "m",
                "metadata": {"provider": {"id": "anthropic", "name": "Anthropic"}},
                "pricing": {"input": "cheap", "output": "-1", "input_cache_read": 0},
            },
            {"object": "model"},
            {"id": "m", "pricing": {"input": "1"}},
        ],
    }
    models, warnings = parse_models(raw)
    assert list(models) == ["m"]
    assert models["m"].provider_id == "anthropic"
    assert models["m"].provider_name == "Anthropic"
    assert models["m"].pricing is not None
    assert models["m"].pricing.input is None
    assert models["m"].pricing.input_cache_read == Decimal(0)
    assert warnings == [
        "/v1/models: ignored pricing.input of model 'm': 'cheap' is not a price",
        "/v1/models: ignored pricing.output of model 'm': '-1' is not a price",
        "/v1/models: dropped entry 1: it has no id",
    ]


def test_a_model_document_without_data_raises() -> None:
    with pytest.raises(DiscoveryError, match="without a data array"):
        parse_models({"object": "list"})


def test_intersect_with_no_models_keeps_everything_and_warns() -> None:
    providers = [GatewayProvider(id="a", name="a", models=["m"])]
    kept, warnings = intersect(providers, {})
    assert kept == providers
    assert warnings[0].startswith("/v1/models listed no models")


def test_intersect_with_no_overlap_warns_about_the_empty_catalogue() -> None:
    providers = [GatewayProvider(id="a", name="a", models=["m"])]
    kept, warnings = intersect(providers, {"z": GatewayModel(id="z")})
    assert kept == []
    assert warnings == [
        "none of the 1 models of /v1/models belongs to a provider of /api/providers, "
        "so the catalogue is empty"
    ]


def test_catalogue_lookup_and_age() -> None:
    fetched = datetime(2025, 1, 1, tzinfo=UTC)
    catalogue = Catalogue(
        gateway="http://ai",
        providers=[GatewayProvider(id="a", name="A")],
        models={},
        fetched_at=fetched,
    )
    assert catalogue.provider("a") == GatewayProvider(id="a", name="A")
    assert catalogue.provider("b") is None
    assert catalogue.age_seconds(fetched + timedelta(minutes=2)) == 120.0
