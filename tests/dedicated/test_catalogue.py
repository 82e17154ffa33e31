"""The dedicated model catalogue (SPEC §4.1): providers, APIs, base URLs, costs."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from aperture_proxy.config import DedicatedSettings
from aperture_proxy.dedicated.capabilities import CapabilityResolver, resolver_for
from aperture_proxy.dedicated.catalogue import (
    ModelCatalogue,
    build_catalogue,
    provider_apis,
)
from aperture_proxy.gateway import discover_sync
from aperture_proxy.sim import SimulatedGateway
from aperture_proxy.upstreams import Api
from tests.dedicated.conftest import CannedGateway

CASES = yaml.safe_load(
    (Path(__file__).parents[1] / "cases" / "discovery.yaml").read_text("utf-8")
)["cases"]


def shipped_only(tmp_path: Path) -> CapabilityResolver:
    resolver, _ = resolver_for(env={}, user_path=tmp_path / "no-user-file.json")
    return resolver


def catalogue_of(
    url: str, tmp_path: Path, settings: DedicatedSettings | None = None
) -> ModelCatalogue:
    discovered = discover_sync(url, cache_dir=tmp_path / "cache")
    return build_catalogue(
        discovered, settings or DedicatedSettings(), shipped_only(tmp_path)
    )


def shape(catalogue: ModelCatalogue) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for model in catalogue.models:
        result.setdefault(model.provider, []).append(model.id)
    return result


# --- the shared discovery cases ---


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_discovery_case(
    case: dict[str, Any], canned: CannedGateway, tmp_path: Path
) -> None:
    canned.serve("/api/providers", case["api_providers"])
    if "v1_models" in case:
        canned.serve("/v1/models", case["v1_models"])
    if "v1_models_status" in case:
        canned.serve("/v1/models", b"internal error", case["v1_models_status"])

    catalogue = catalogue_of(canned.url, tmp_path)

    assert shape(catalogue) == case["catalogue"]
    for model_id, costs in case.get("cost", {}).items():
        (model,) = [m for m in catalogue.models if m.id == model_id]
        assert set(model.cost) == set(costs)
        for name, per_million in costs.items():
            assert abs(float(model.cost[name]) - per_million) < 1e-9


# --- the provider filter ---


def test_an_empty_provider_list_keeps_every_provider(
    gw: SimulatedGateway, tmp_path: Path
) -> None:
    catalogue = catalogue_of(gw.url, tmp_path)
    assert list(shape(catalogue)) == [
        "anthropic",
        "openai",
        "openai-codex",
        "gemini",
        "vertex",
        "bedrock",
        "zai",
    ]


def test_a_provider_list_keeps_only_enabled_entries(
    gw: SimulatedGateway, tmp_path: Path
) -> None:
    settings = DedicatedSettings.model_validate(
        {
            "providers": [
                {"id": "zai", "enabled": True},
                {"id": "anthropic", "enabled": True},
                {"id": "openai", "enabled": False},
            ]
        }
    )
    catalogue = catalogue_of(gw.url, tmp_path, settings)
    # Gateway order, not the order of the list.
    assert shape(catalogue) == {
        "anthropic": ["claude-sonnet-4-5", "claude-opus-4-1", "claude-haiku-4-5"],
        "zai": ["glm-4.6"],
    }


def test_a_listed_provider_the_gateway_lacks_is_a_warning(
    gw: SimulatedGateway, tmp_path: Path
) -> None:
    settings = DedicatedSettings.model_validate({"providers": ["zai", "mistral"]})
    catalogue = catalogue_of(gw.url, tmp_path, settings)
    assert shape(catalogue) == {"zai": ["glm-4.6"]}
    assert catalogue.warnings == [
        "dedicated.providers lists 'mistral', which the gateway does not offer (or "
        "grants no models of)"
    ]


# --- API and base URL per model ---


@pytest.mark.parametrize(
    ("flags", "apis"),
    [
        ("openai_chat openai_responses", "openai-completions openai-responses"),
        ("openai_responses anthropic_messages", "anthropic-messages openai-responses"),
        ("gemini_generate_content", "google-generative-ai"),
        ("google_generate_content google_raw_predict", "google-vertex"),
        ("bedrock_converse bedrock_model_invoke", "bedrock"),
        ("", "openai-completions"),
        ("experimental_gemini_cli_vertex_compat", "openai-completions"),
    ],
)
def test_the_api_comes_from_compatibility_flags(flags: str, apis: str) -> None:
    compatibility = dict.fromkeys(flags.split(), True)
    assert [str(api) for api in provider_apis(compatibility)] == apis.split()


def test_base_urls_follow_the_gateway_base_per_api(
    gw: SimulatedGateway, tmp_path: Path
) -> None:
    catalogue = catalogue_of(gw.url, tmp_path)
    bases = {(m.provider, m.id): (str(m.api), m.base_url()) for m in catalogue.models}
    assert bases[("anthropic", "claude-sonnet-4-5")] == ("anthropic-messages", gw.url)
    assert bases[("openai", "gpt-5.1")] == ("openai-completions", f"{gw.url}/v1")
    assert bases[("openai-codex", "gpt-5.1-codex")] == (
        "openai-responses",
        f"{gw.url}/v1",
    )
    assert bases[("gemini", "gemini-2.5-pro")] == (
        "google-generative-ai",
        f"{gw.url}/v1beta",
    )
    assert bases[("vertex", "gemini-2.5-pro")] == ("google-vertex", gw.url)
    assert bases[("bedrock", "anthropic.claude-sonnet-4-5-20250929-v1:0")] == (
        "bedrock",
        f"{gw.url}/bedrock",
    )


def test_a_known_upstream_base_with_a_non_v1_version_uses_the_root(
    canned: CannedGateway, tmp_path: Path
) -> None:
    canned.serve(
        "/api/providers",
        [
            {
                "id": "zai",
                "models": ["glm-4.6"],
                "compatibility": {"openai_chat": True},
                "baseurl": "https://api.z.ai/api/coding/paas/v4",
            }
        ],
    )
    canned.serve("/v1/models", {"data": [{"id": "glm-4.6"}]})
    (model,) = catalogue_of(canned.url, tmp_path).models
    assert model.base_url() == canned.url
    assert model.base_url(Api.ANTHROPIC_MESSAGES) == canned.url


def test_a_model_id_two_providers_serve_is_kept_per_provider(
    gw: SimulatedGateway, tmp_path: Path
) -> None:
    catalogue = catalogue_of(gw.url, tmp_path)
    assert catalogue.shared_ids() == {
        "gpt-5.1-codex": ["openai", "openai-codex"],
        "gemini-2.5-pro": ["gemini", "vertex"],
    }
    codex = [m for m in catalogue.models if m.id == "gpt-5.1-codex"]
    assert [(m.provider, m.first_of_id, m.shared_with) for m in codex] == [
        ("openai", True, ("openai-codex",)),
        ("openai-codex", False, ("openai",)),
    ]


# --- costs ---


def test_an_unpriced_field_keeps_the_capability_catalogues_cost(
    canned: CannedGateway, tmp_path: Path
) -> None:
    canned.serve("/api/providers", [{"id": "acme", "models": ["m1"]}])
    canned.serve(
        "/v1/models", {"data": [{"id": "m1", "pricing": {"input": "0.000002"}}]}
    )
    pointed = tmp_path / "caps.json"
    pointed.write_text(
        json.dumps(
            {
                "acme": {
                    "models": {
                        "m1": {"cost": {"input": 9, "output": 8, "cache_read": 0.5}}
                    }
                }
            }
        )
    )
    resolver, _ = resolver_for(str(pointed), env={}, user_path=tmp_path / "none")
    discovered = discover_sync(canned.url, cache_dir=tmp_path / "cache")
    (model,) = build_catalogue(discovered, DedicatedSettings(), resolver).models
    assert model.cost == {
        "input": Decimal("2"),
        "output": Decimal("8"),
        "cacheRead": Decimal("0.5"),
    }
    assert model.complete_cost() == {
        "input": Decimal("2"),
        "output": Decimal("8"),
        "cacheRead": Decimal("0.5"),
        "cacheWrite": Decimal("0"),
    }


def test_a_model_without_any_price_has_no_cost(
    canned: CannedGateway, tmp_path: Path
) -> None:
    canned.serve("/api/providers", [{"id": "acme", "models": ["m1"]}])
    canned.serve("/v1/models", {"data": [{"id": "m1"}]})
    (model,) = catalogue_of(canned.url, tmp_path).models
    assert model.cost == {}
    assert model.complete_cost() is None


def test_tiny_prices_stay_exact(canned: CannedGateway, tmp_path: Path) -> None:
    canned.serve("/api/providers", [{"id": "acme", "models": ["m1"]}])
    pricing = {"input": "0.0000000003", "output": "3E-7"}
    canned.serve("/v1/models", {"data": [{"id": "m1", "pricing": pricing}]})
    (model,) = catalogue_of(canned.url, tmp_path).models
    assert model.cost == {"input": Decimal("0.0003"), "output": Decimal("0.3")}
