"""Routing: every case of tests/cases/routing.yaml, plus matching rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from aperture_proxy.config import normalize_gateway_url
from aperture_proxy.rewrite import RequestView, rewrite_request
from aperture_proxy.routing import (
    RouteTable,
    gateway_base,
    is_version_segment,
    join_gateway,
)
from aperture_proxy.upstreams import (
    BUILTIN_UPSTREAMS,
    Api,
    UnknownUpstreamError,
    UpstreamOverride,
    builtin,
    resolve_upstream,
)

CASES = yaml.safe_load((Path(__file__).parent / "cases" / "routing.yaml").read_text())


def _target(case: dict[str, Any]) -> str:
    gateway = normalize_gateway_url(case.get("gateway", CASES["gateway"]))
    selected = case.get("selected")
    upstreams = builtin(selected) if selected else list(BUILTIN_UPSTREAMS)
    route = RouteTable.build(upstreams, gateway).lookup_url(case["url"])
    if route is None:
        return "passthrough"
    # The target a client's request is sent to includes credential removal.
    view = RequestView(method="POST", path=route.remainder, headers=[])
    return rewrite_request(view, route).url


@pytest.mark.parametrize(
    "case", CASES["cases"], ids=[c["name"] for c in CASES["cases"]]
)
def test_routing_case(case: dict[str, Any]) -> None:
    assert _target(case) == case["target"]


GW = "http://ai.example-tailnet.ts.net"


def lookup(url: str, ids: list[str] | None = None) -> str | None:
    upstreams = builtin(ids) if ids else list(BUILTIN_UPSTREAMS)
    route = RouteTable.build(upstreams, GW).lookup_url(url)
    return route.target if route else None


def test_trailing_slash_of_the_request_does_not_change_the_match() -> None:
    assert lookup("https://api.openai.com/v1/") == f"{GW}/v1/"


def test_base_path_itself_matches() -> None:
    assert lookup("https://api.openai.com/v1") == f"{GW}/v1"


def test_scheme_must_be_equal() -> None:
    assert lookup("http://api.openai.com/v1/chat/completions") is None


def test_non_default_port_does_not_match_the_default() -> None:
    assert lookup("https://api.openai.com:8443/v1/chat/completions") is None


def test_longest_base_path_wins() -> None:
    general = UpstreamOverride(
        id="general", base_urls=("https://llm.test",), api="anthropic-messages"
    )
    specific = UpstreamOverride(
        id="specific",
        base_urls=("https://llm.test/openai/v1",),
        api="openai-completions",
    )
    table = RouteTable.build(
        [resolve_upstream(general), resolve_upstream(specific)], GW
    )
    route = table.lookup_url("https://llm.test/openai/v1/chat/completions")
    assert route is not None
    assert route.upstream.id == "specific"
    assert route.target == f"{GW}/v1/chat/completions"


def test_vertex_global_host_is_matched() -> None:
    url = "https://aiplatform.googleapis.com/v1/projects/p/locations/global/x"
    assert lookup(url) == f"{GW}/v1/projects/p/locations/global/x"


def test_region_placeholder_does_not_match_other_domains() -> None:
    assert (
        lookup("https://bedrock-runtime.us-east-1.amazonaws.com.evil.test/model/x")
        is None
    )


def test_openai_path_decides_between_chat_and_responses() -> None:
    table = RouteTable.build(builtin(["openai"]), GW)
    chat = table.lookup_url("https://api.openai.com/v1/chat/completions")
    responses = table.lookup_url("https://api.openai.com/v1/responses")
    assert chat is not None and chat.api is Api.OPENAI_COMPLETIONS
    assert responses is not None and responses.api is Api.OPENAI_RESPONSES


@pytest.mark.parametrize(
    ("segment", "expected"),
    [
        ("v1", True),
        ("v4", True),
        ("v1beta", True),
        ("v2alpha", True),
        ("v", False),
        ("version", False),
        ("api", False),
        ("V1", False),
        ("v1-beta", False),
    ],
)
def test_version_segment(segment: str, expected: bool) -> None:
    assert is_version_segment(segment) is expected


@pytest.mark.parametrize(
    ("api", "base_path", "expected"),
    [
        (Api.ANTHROPIC_MESSAGES, "", GW),
        (Api.OPENAI_CODEX_RESPONSES, "/backend-api", GW),
        (Api.GOOGLE_VERTEX, "", GW),
        (Api.GOOGLE_GENERATIVE_AI, "/v1beta", f"{GW}/v1beta"),
        (Api.BEDROCK, "", f"{GW}/bedrock"),
        (Api.OPENAI_COMPLETIONS, "/openai/v1", f"{GW}/v1"),
        (Api.OPENAI_COMPLETIONS, "/api/coding/paas/v4", GW),
        (Api.OPENAI_RESPONSES, "", f"{GW}/v1"),
    ],
)
def test_gateway_base_per_api(api: Api, base_path: str, expected: str) -> None:
    assert gateway_base(GW, api, base_path) == expected


def test_join_never_doubles_a_version() -> None:
    assert join_gateway(f"{GW}/v1", "/v1") == f"{GW}/v1"
    assert join_gateway(f"{GW}/v1", "/v1?x=1") == f"{GW}/v1?x=1"
    assert join_gateway(f"{GW}/v1", "/v10/x") == f"{GW}/v1/v10/x"


def test_allow_hosts_patterns_admit_a_port_and_nothing_else() -> None:
    import re

    patterns = RouteTable.build(builtin(["anthropic", "amazon-bedrock"]), GW)
    compiled = [re.compile(p) for p in patterns.host_patterns()]

    def allowed(host: str) -> bool:
        return any(p.search(host) for p in compiled)

    assert allowed("api.anthropic.com:443")
    assert allowed("api.anthropic.com")
    assert allowed("bedrock-runtime.eu-west-1.amazonaws.com:443")
    assert not allowed("xapi.anthropic.com:443")
    assert not allowed("api.anthropic.com.evil.test:443")
    assert not allowed("github.com:443")


def test_unknown_upstream_without_definition_is_an_error_naming_it() -> None:
    with pytest.raises(UnknownUpstreamError, match=r"'myllm'.*baseUrls and api"):
        resolve_upstream(UpstreamOverride(id="myllm"))


def test_user_entry_overrides_builtin_base_url() -> None:
    upstream = resolve_upstream(
        UpstreamOverride(id="anthropic", base_urls=("https://claude.corp.test",))
    )
    assert upstream.base_urls == ("https://claude.corp.test",)
    assert upstream.api is Api.ANTHROPIC_MESSAGES
    assert upstream.api_paths == ("/v1/messages", "/v1/models", "/v1/complete")


def test_gemini_v1_calls_go_to_the_gateway_v1beta_route() -> None:
    url = "https://generativelanguage.googleapis.com/v1/models/g:streamGenerateContent"
    assert lookup(url) == f"{GW}/v1beta/models/g:streamGenerateContent"
