"""`aperture-proxy generate opencode`: provider.aperture in opencode.json."""

from __future__ import annotations

import json
from typing import Any

from aperture_proxy.sim import SimulatedGateway
from tests.dedicated.conftest import Home, read_json


def providers(home: Home) -> dict[str, Any]:
    return read_json(home.opencode)["provider"]


def test_generate_writes_provider_aperture(
    gw: SimulatedGateway, home: Home, run: Any
) -> None:
    result = run("generate", "opencode", "--gateway", gw.url)
    assert result.code == 0, result.err
    doc = read_json(home.opencode)
    assert doc["$schema"] == "https://opencode.ai/config.json"
    main = doc["provider"]["aperture"]
    assert {k: main[k] for k in ("npm", "name", "options")} == {
        "npm": "@ai-sdk/openai-compatible",
        "name": "Aperture",
        "options": {"baseURL": f"{gw.url}/v1", "apiKey": "-"},
    }
    assert main["whitelist"] == [
        "claude-sonnet-4-5",
        "claude-opus-4-1",
        "claude-haiku-4-5",
        "gpt-5.1",
        "gpt-5.1-codex",
        "gpt-4.1-mini",
        "glm-4.6",
    ]
    assert main["models"]["claude-sonnet-4-5"] == {
        "name": "claude-sonnet-4-5 (Anthropic)",
        "attachment": True,
        "reasoning": True,
        "modalities": {"input": ["text", "image"], "output": ["text"]},
        "limit": {"context": 200000, "output": 64000},
        "cost": {"input": 3, "output": 15, "cache_read": 0.3, "cache_write": 3.75},
        "provider": {"npm": "@ai-sdk/anthropic"},
    }
    # OpenAI chat models use the provider's package, so name none of their own.
    assert "provider" not in main["models"]["glm-4.6"]
    assert main["models"]["glm-4.6"]["limit"] == {"context": 204800, "output": 131072}


def test_a_different_base_url_gets_its_own_provider(
    gw: SimulatedGateway, home: Home, run: Any
) -> None:
    assert run("generate", "opencode", "--gateway", gw.url).code == 0
    gemini = providers(home)["aperture-gemini"]
    assert {k: gemini[k] for k in ("npm", "name", "options", "whitelist")} == {
        "npm": "@ai-sdk/google",
        "name": "Aperture (Google Gemini)",
        "options": {"baseURL": f"{gw.url}/v1beta", "apiKey": "-"},
        "whitelist": ["gemini-2.5-pro", "gemini-2.5-flash"],
    }


def test_a_shared_model_id_goes_to_the_providers_own_section(
    gw: SimulatedGateway, home: Home, run: Any
) -> None:
    result = run("generate", "opencode", "--gateway", gw.url)
    codex = providers(home)["aperture-openai-codex"]
    assert codex["npm"] == "@ai-sdk/openai"
    assert codex["options"]["baseURL"] == f"{gw.url}/v1"
    assert list(codex["models"]) == ["gpt-5.1-codex"]
    assert (
        "note: opencode: gpt-5.1-codex is served by openai, openai-codex: openai → "
        "provider.aperture (@ai-sdk/openai-compatible); openai-codex → "
        "provider.aperture-openai-codex (@ai-sdk/openai)\n"
    ) in result.err


def test_user_edits_and_own_models_survive_and_are_whitelisted(
    gw: SimulatedGateway, home: Home, run: Any
) -> None:
    assert run("generate", "opencode", "--gateway", gw.url).code == 0
    doc = read_json(home.opencode)
    main = doc["provider"]["aperture"]
    main["models"]["gpt-5.1"]["limit"]["context"] = 300000
    main["models"]["my-model"] = {"name": "mine", "limit": {"context": 1, "output": 1}}
    doc["theme"] = "tokyonight"
    home.opencode.write_text(json.dumps(doc), encoding="utf-8")

    assert run("generate", "opencode", "--gateway", gw.url).code == 0

    again = read_json(home.opencode)
    main = again["provider"]["aperture"]
    assert main["models"]["gpt-5.1"]["limit"] == {"context": 300000, "output": 128000}
    assert main["models"]["my-model"] == {
        "name": "mine",
        "limit": {"context": 1, "output": 1},
    }
    assert main["whitelist"][-1] == "my-model"
    assert again["theme"] == "tokyonight"


def test_other_providers_are_kept(gw: SimulatedGateway, home: Home, run: Any) -> None:
    home.opencode.parent.mkdir(parents=True)
    ollama = {"npm": "@ai-sdk/openai-compatible", "models": {"llama": {}}}
    home.opencode.write_text(
        json.dumps({"provider": {"ollama": ollama}, "model": "ollama/llama"}),
        encoding="utf-8",
    )
    assert run("generate", "opencode", "--gateway", gw.url).code == 0
    doc = read_json(home.opencode)
    assert doc["model"] == "ollama/llama"
    assert doc["provider"]["ollama"] == ollama
    assert "$schema" not in doc


def test_opencode_config_variable_names_the_file(
    gw: SimulatedGateway, run: Any, monkeypatch: Any, tmp_path: Any
) -> None:
    target = tmp_path / "project" / "opencode.json"
    monkeypatch.setenv("OPENCODE_CONFIG", str(target))
    assert run("generate", "opencode", "--gateway", gw.url).code == 0
    assert "aperture" in read_json(target)["provider"]
