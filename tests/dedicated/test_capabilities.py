"""Capability sources (SPEC §4.2): order, matching, files, URLs and the defaults."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from aperture_proxy.dedicated.capabilities import (
    CapabilityError,
    parse_catalogue,
    resolver_for,
    shipped_catalogue,
)
from aperture_proxy.sim.catalogue import DEFAULT_CATALOGUE
from tests.dedicated.conftest import CannedGateway


def write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def entry(
    context: int | None = None, output: int | None = None, **rest: object
) -> dict:
    limit = {k: v for k, v in (("context", context), ("output", output)) if v}
    return {"limit": limit, **rest} if limit else dict(rest)


def test_sources_win_field_by_field_in_order(tmp_path: Path) -> None:
    own = write(
        tmp_path / "own.json",
        {"anthropic": {"models": {"claude-sonnet-4-5": entry(context=1_000_000)}}},
    )
    pointed = write(
        tmp_path / "pointed.json",
        {
            "anthropic": {
                "models": {
                    "claude-sonnet-4-5": entry(
                        context=5, output=12_345, modalities={"input": ["text"]}
                    )
                }
            }
        },
    )
    resolver, _ = resolver_for(str(pointed), env={}, user_path=own)
    caps = resolver.resolve("anthropic", "claude-sonnet-4-5")
    assert (caps.context, caps.max_output, caps.input, caps.reasoning) == (
        1_000_000,
        12_345,
        ("text",),
        True,
    )
    assert caps.sources == {
        "context": f"your entries ({own})",
        "max_output": str(pointed),
        "input": str(pointed),
        "reasoning": "shipped catalogue",
    }


def test_an_unknown_model_gets_the_safe_defaults(tmp_path: Path) -> None:
    resolver, _ = resolver_for(env={}, user_path=tmp_path / "none")
    caps = resolver.resolve("acme", "acme-large")
    assert (caps.context, caps.max_output, caps.input, caps.reasoning) == (
        128_000,
        8_192,
        ("text",),
        False,
    )
    assert caps.on_defaults == ["context", "max_output", "input", "reasoning"]


def test_the_provider_match_comes_before_the_id_match() -> None:
    catalogue, _ = parse_catalogue(
        {
            "openai": {"models": {"gpt-5.1": entry(context=400_000)}},
            "openai-codex": {"models": {"gpt-5.1": entry(context=272_000)}},
        },
        "test",
    )
    assert catalogue.lookup(["openai-codex"], "gpt-5.1").context == 272_000  # type: ignore[union-attr]
    assert catalogue.lookup(["openai"], "gpt-5.1").context == 400_000  # type: ignore[union-attr]


def test_an_id_only_one_provider_lists_matches_any_provider() -> None:
    catalogue, _ = parse_catalogue(
        {"zai": {"models": {"glm-4.6": entry(context=204_800)}}}, "test"
    )
    facts = catalogue.lookup(["my-glm-gateway-provider"], "glm-4.6")
    assert facts is not None and facts.context == 204_800


def test_an_ambiguous_id_matches_nothing() -> None:
    catalogue, _ = parse_catalogue(
        {
            "openai": {"models": {"gpt-5.1": entry(context=400_000)}},
            "openai-codex": {"models": {"gpt-5.1": entry(context=272_000)}},
        },
        "test",
    )
    assert catalogue.lookup(["acme"], "gpt-5.1") is None


def test_gateway_provider_ids_match_catalogue_aliases(tmp_path: Path) -> None:
    resolver, _ = resolver_for(env={}, user_path=tmp_path / "none")
    # Both Gemini and Vertex list gemini-2.5-pro; the alias decides.
    assert resolver.resolve("gemini", "gemini-2.5-pro").sources["context"] == (
        "shipped catalogue"
    )
    bedrock = resolver.resolve("bedrock", "anthropic.claude-sonnet-4-5-20250929-v1:0")
    assert (bedrock.context, bedrock.max_output) == (200_000, 64_000)


def test_the_shipped_catalogue_knows_every_simulated_model(tmp_path: Path) -> None:
    resolver, _ = resolver_for(env={}, user_path=tmp_path / "none")
    on_defaults = {
        (p.id, m): resolver.resolve(p.id, m).on_defaults
        for p in DEFAULT_CATALOGUE
        for m in p.models
        if p.enabled
    }
    assert {k: v for k, v in on_defaults.items() if v} == {}


def test_the_shipped_catalogue_holds_facts_only() -> None:
    catalogue = shipped_catalogue()
    assert set(catalogue.providers) >= {
        "anthropic",
        "openai",
        "google",
        "mistral",
        "deepseek",
        "xai",
        "zai",
    }
    assert all(
        not facts.cost
        for models in catalogue.providers.values()
        for facts in models.values()
    )


def test_costs_of_a_catalogue_are_per_million_decimals() -> None:
    catalogue, _ = parse_catalogue(
        {"p": {"models": {"m": {"cost": {"input": 0.3, "cache_write": 3.75}}}}}, "t"
    )
    facts = catalogue.lookup(["p"], "m")
    assert facts is not None
    assert dict(facts.cost) == {"input": Decimal("0.3"), "cacheWrite": Decimal("3.75")}


def test_odd_entries_are_skipped_with_a_count() -> None:
    catalogue, warnings = parse_catalogue(
        {"good": {"models": {"m": entry(context=10)}}, "bad": [], "worse": {"x": 1}},
        "odd.json",
    )
    assert list(catalogue.providers) == ["good"]
    assert warnings == ["odd.json: skipped 2 entries without models: bad, worse"]


def test_wrong_values_are_ignored_field_by_field() -> None:
    catalogue, _ = parse_catalogue(
        {
            "p": {
                "models": {
                    "m": {
                        "limit": {"context": -5, "output": "lots"},
                        "reasoning": "yes",
                        "modalities": {"input": ["text", "image", "pdf"]},
                    }
                }
            }
        },
        "t",
    )
    facts = catalogue.lookup(["p"], "m")
    assert facts is not None
    assert (facts.context, facts.max_output, facts.reasoning, facts.input) == (
        None,
        None,
        None,
        ("text", "image"),
    )


def test_a_catalogue_url_is_fetched(canned: CannedGateway, tmp_path: Path) -> None:
    canned.serve(
        "/api.json", {"acme": {"models": {"acme-large": entry(context=77_000)}}}
    )
    resolver, _ = resolver_for(
        f"{canned.url}/api.json", env={}, user_path=tmp_path / "none"
    )
    assert resolver.resolve("acme", "acme-large").context == 77_000


def test_the_environment_variable_points_at_a_catalogue(tmp_path: Path) -> None:
    pointed = write(tmp_path / "c.json", {"acme": {"models": {"m": entry(output=999)}}})
    resolver, _ = resolver_for(
        env={"APERTURE_CAPABILITIES": str(pointed)}, user_path=tmp_path / "none"
    )
    assert resolver.resolve("acme", "m").max_output == 999


def test_a_catalogue_url_that_fails_is_an_error(
    canned: CannedGateway, tmp_path: Path
) -> None:
    with pytest.raises(CapabilityError) as caught:
        resolver_for(f"{canned.url}/missing.json", env={}, user_path=tmp_path / "x")
    assert str(caught.value) == (
        f"GET {canned.url}/missing.json failed: HTTP 404; check the capability "
        "catalogue URL"
    )


def test_a_catalogue_file_that_is_not_json_is_an_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(CapabilityError) as caught:
        resolver_for(str(broken), env={}, user_path=tmp_path / "x")
    assert str(caught.value).startswith(f"{broken}: not JSON (")


def test_a_missing_catalogue_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CapabilityError) as caught:
        resolver_for(str(tmp_path / "nope.json"), env={}, user_path=tmp_path / "x")
    assert str(caught.value) == (
        f"{tmp_path / 'nope.json'}: cannot read the capability catalogue "
        "(No such file or directory)"
    )


def test_a_catalogue_that_is_a_list_is_an_error(tmp_path: Path) -> None:
    listed = write(tmp_path / "list.json", [1, 2])
    with pytest.raises(CapabilityError) as caught:
        resolver_for(str(listed), env={}, user_path=tmp_path / "x")
    assert str(caught.value).startswith(f"{listed}: expected an object of providers")
