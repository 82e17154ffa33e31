"""Matching gateway providers to upstreams (SPEC §3.3) and the routing table."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aperture_proxy.gateway import Catalogue, GatewayProvider
from aperture_proxy.providers import (
    api_from_compatibility,
    base_url_matches,
    format_table,
    match_providers,
    provider_for,
)
from aperture_proxy.upstreams import (
    BUILTIN_UPSTREAMS,
    Api,
    UpstreamOverride,
    builtin,
    resolve_upstream,
)

GW = "http://ai.example-tailnet.ts.net"


def catalogue(*providers: GatewayProvider) -> Catalogue:
    return Catalogue(
        gateway=GW, providers=list(providers), models={}, fetched_at=datetime.now(UTC)
    )


@pytest.mark.parametrize(
    ("aperture", "registry", "expected"),
    [
        (
            "https://chatgpt.com/backend-api/codex",
            "https://chatgpt.com/backend-api",
            True,
        ),
        ("https://api.openai.com/v1", "https://api.openai.com/v1", True),
        ("https://api.openai.com/v1/", "https://api.openai.com/v1", True),
        ("https://api.openai.com", "https://api.openai.com/v1", True),
        ("https://API.anthropic.com:443", "https://api.anthropic.com", True),
        ("https://api.anthropic.com", "https://api.openai.com/v1", False),
        # After /v1 goes, any child of the base is the same provider...
        ("https://openrouter.ai/api/v10", "https://openrouter.ai/api/v1", True),
        # ...but only on a segment boundary.
        ("https://openrouter.ai/apix", "https://openrouter.ai/api/v1", False),
        ("http://api.openai.com/v1", "https://api.openai.com/v1", False),
        (
            "https://x.aiplatform.googleapis.com",
            "https://{location}-aiplatform.googleapis.com",
            False,
        ),
    ],
)
def test_base_url_matching(aperture: str, registry: str, expected: bool) -> None:
    assert base_url_matches(aperture, registry) is expected


def test_base_url_match_wins_over_id() -> None:
    codex = GatewayProvider(
        id="chatgpt", name="ChatGPT", base_url="https://chatgpt.com/backend-api/codex"
    )
    rows = match_providers(catalogue(codex), list(BUILTIN_UPSTREAMS))
    assert rows[0].upstream is not None
    assert (rows[0].upstream.id, rows[0].how) == ("openai-codex", "base URL")
    assert rows[0].target == GW


def test_admin_base_urls_are_used_for_matching() -> None:
    provider = GatewayProvider(id="claude", name="Claude")
    rows = match_providers(
        catalogue(provider),
        list(BUILTIN_UPSTREAMS),
        {"claude": "https://api.anthropic.com"},
    )
    assert rows[0].upstream is not None and rows[0].upstream.id == "anthropic"


def test_equal_id_matches_when_no_base_url_is_known() -> None:
    rows = match_providers(
        catalogue(GatewayProvider(id="openai", name="OpenAI")), list(BUILTIN_UPSTREAMS)
    )
    assert rows[0].how == "id"
    assert rows[0].target == f"{GW}/v1"
    assert provider_for(rows, "openai") == "openai"


def test_a_pin_in_the_config_wins() -> None:
    pinned = resolve_upstream(UpstreamOverride(id="anthropic", gateway_provider="team"))
    rows = match_providers(catalogue(GatewayProvider(id="team", name="T")), [pinned])
    assert (rows[0].how, provider_for(rows, "anthropic")) == ("pinned", "team")


def test_unmatched_provider_takes_its_api_from_compatibility() -> None:
    gemini = GatewayProvider(
        id="g", name="G", compatibility={"gemini_generate_content": True}
    )
    rows = match_providers(catalogue(gemini), list(BUILTIN_UPSTREAMS))
    assert rows[0].upstream is None
    assert (rows[0].api, rows[0].target) == (Api.GOOGLE_GENERATIVE_AI, f"{GW}/v1beta")


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ({"openai_chat": True, "anthropic_messages": True}, Api.OPENAI_COMPLETIONS),
        (
            {"anthropic_messages": True, "openai_responses": True},
            Api.ANTHROPIC_MESSAGES,
        ),
        ({"openai_responses": True}, Api.OPENAI_RESPONSES),
        ({"google_generate_content": True}, Api.GOOGLE_VERTEX),
        ({"bedrock_converse": True}, Api.BEDROCK),
        ({"openai_chat": False}, Api.OPENAI_COMPLETIONS),
        ({}, Api.OPENAI_COMPLETIONS),
    ],
)
def test_api_from_compatibility(flags: dict[str, bool], expected: Api) -> None:
    assert api_from_compatibility(flags) is expected


def test_table_shows_every_column_and_shortens_model_lists() -> None:
    provider = GatewayProvider(
        id="openai", name="OpenAI", models=[f"m{i}" for i in range(6)]
    )
    table = format_table(match_providers(catalogue(provider), builtin(["openai"])))
    header, row = table.splitlines()
    assert header.split() == [
        "gateway",
        "provider",
        "upstream",
        "matched",
        "by",
        "API",
        "target",
        "models",
    ]
    assert row.split()[:5] == ["openai", "openai", "id", "openai-responses", f"{GW}/v1"]
    assert row.endswith("m0, m1, m2, m3, … 2 more")


def test_an_upstream_no_gateway_provider_matches_still_gets_a_row() -> None:
    rows = match_providers(catalogue(), builtin(["groq"]))
    assert [(r.provider, r.upstream and r.upstream.id, r.target) for r in rows] == [
        (None, "groq", f"{GW}/v1")
    ]
    assert format_table(rows).splitlines()[1].split()[:2] == ["-", "groq"]


@pytest.mark.parametrize(
    ("gateway_id", "upstream_id"),
    [("gemini", "google"), ("vertex", "google-vertex"), ("bedrock", "amazon-bedrock")],
)
def test_common_gateway_ids_match_their_upstream(
    gateway_id: str, upstream_id: str
) -> None:
    gateway_provider = GatewayProvider(id=gateway_id, name=gateway_id)
    rows = match_providers(catalogue(gateway_provider), list(BUILTIN_UPSTREAMS))
    assert provider_for(rows, upstream_id) == gateway_id
