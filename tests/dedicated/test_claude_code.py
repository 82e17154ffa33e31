"""`aperture-proxy generate claude-code`: the env block of Claude Code's settings."""

from __future__ import annotations

import json
from typing import Any

import pytest

from aperture_proxy.sim import SimulatedGateway
from tests.dedicated.conftest import CannedGateway, Home, read_json


def test_generate_writes_the_env_block(
    gw: SimulatedGateway, home: Home, run: Any
) -> None:
    result = run("generate", "claude-code", "--gateway", gw.url)
    assert result.code == 0, result.err
    assert read_json(home.claude) == {
        "env": {
            "ANTHROPIC_BASE_URL": gw.url,
            "ANTHROPIC_AUTH_TOKEN": "aperture",
            "ANTHROPIC_DEFAULT_OPUS_MODEL": "claude-opus-4-1",
            "ANTHROPIC_DEFAULT_SONNET_MODEL": "claude-sonnet-4-5",
            "ANTHROPIC_DEFAULT_HAIKU_MODEL": "claude-haiku-4-5",
        }
    }


@pytest.mark.parametrize(
    ("models", "tiers"),
    [
        (
            ["claude-3-5-haiku-20241022", "claude-haiku-4-5", "claude-opus-4-20250514"],
            {"opus": "claude-opus-4-20250514", "haiku": "claude-haiku-4-5"},
        ),
        (
            ["claude-sonnet-4-5-20250929", "claude-sonnet-4-5", "claude-sonnet-4"],
            {"sonnet": "claude-sonnet-4-5-20250929"},
        ),
        (
            ["claude-opus-4-1", "claude-opus-4-5", "claude-3-opus-20240229"],
            {"opus": "claude-opus-4-5"},
        ),
    ],
)
def test_each_tier_names_the_newest_model(
    models: list[str],
    tiers: dict[str, str],
    canned: CannedGateway,
    home: Home,
    run: Any,
) -> None:
    flags = {"anthropic_messages": True}
    canned.serve(
        "/api/providers", [{"id": "a", "models": models, "compatibility": flags}]
    )
    canned.serve("/v1/models", {"data": [{"id": m} for m in models]})
    assert run("generate", "claude-code", "--gateway", canned.url).code == 0
    env = read_json(home.claude)["env"]
    chosen = {
        tier: env[f"ANTHROPIC_DEFAULT_{tier.upper()}_MODEL"]
        for tier in ("opus", "sonnet", "haiku")
        if f"ANTHROPIC_DEFAULT_{tier.upper()}_MODEL" in env
    }
    assert chosen == tiers


def test_other_settings_and_the_users_choices_are_kept(
    gw: SimulatedGateway, home: Home, run: Any
) -> None:
    assert run("generate", "claude-code", "--gateway", gw.url).code == 0
    doc = read_json(home.claude)
    doc["env"]["ANTHROPIC_DEFAULT_OPUS_MODEL"] = "claude-opus-4-0"
    doc["env"]["DISABLE_TELEMETRY"] = "1"
    doc["permissions"] = {"allow": ["Bash(ls:*)"]}
    home.claude.write_text(json.dumps(doc), encoding="utf-8")

    assert run("generate", "claude-code", "--gateway", gw.url).code == 0

    again = read_json(home.claude)
    assert again["permissions"] == {"allow": ["Bash(ls:*)"]}
    assert again["env"]["DISABLE_TELEMETRY"] == "1"
    assert again["env"]["ANTHROPIC_DEFAULT_OPUS_MODEL"] == "claude-opus-4-0"
    assert again["env"]["ANTHROPIC_DEFAULT_SONNET_MODEL"] == "claude-sonnet-4-5"


def test_a_gateway_without_anthropic_models_configures_nothing(
    canned: CannedGateway, home: Home, run: Any
) -> None:
    flags = {"openai_chat": True}
    canned.serve(
        "/api/providers", [{"id": "o", "models": ["m"], "compatibility": flags}]
    )
    canned.serve("/v1/models", {"data": [{"id": "m"}]})
    home.claude.parent.mkdir(parents=True)
    home.claude.write_text('{"model": "opus"}', encoding="utf-8")
    result = run("generate", "claude-code", "--gateway", canned.url)
    assert result.code == 0
    assert read_json(home.claude) == {"model": "opus"}
    assert "claude-code: the gateway serves no Anthropic-format model" in result.err


def test_env_that_is_not_an_object_is_an_error(
    gw: SimulatedGateway, home: Home, run: Any
) -> None:
    home.claude.parent.mkdir(parents=True)
    home.claude.write_text('{"env": ["A=1"]}', encoding="utf-8")
    result = run("generate", "claude-code", "--gateway", gw.url)
    assert result.code == 1
    assert f"error: {home.claude}: env is not an object" in result.err
    assert home.claude.read_text(encoding="utf-8") == '{"env": ["A=1"]}'
