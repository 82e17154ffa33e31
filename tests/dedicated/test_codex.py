"""`aperture-proxy generate codex`: a Responses provider table in config.toml."""

from __future__ import annotations

import tomllib
from typing import Any

from aperture_proxy.sim import SimulatedGateway
from tests.dedicated.conftest import CannedGateway, Home

USER_TOML = """\
# my Codex settings
model = "o3"  # the default
approval_policy = "on-request"

[model_providers.ollama]
name = "Ollama"
base_url = "http://localhost:11434/v1"

[profiles.fast]
model = "gpt-4.1-mini"
"""


def load(home: Home) -> dict[str, Any]:
    return tomllib.loads(home.codex.read_text(encoding="utf-8"))


def test_generate_writes_the_provider_table(
    gw: SimulatedGateway, home: Home, run: Any
) -> None:
    result = run("generate", "codex", "--gateway", gw.url)
    assert result.code == 0, result.err
    assert load(home) == {
        "model_providers": {
            "aperture": {
                "name": "Aperture",
                "base_url": f"{gw.url}/v1",
                "wire_api": "responses",
                "supports_websockets": False,
                "requires_openai_auth": False,
            }
        }
    }
    assert home.codex.read_text(encoding="utf-8").startswith(
        "[model_providers.aperture] # models: gpt-5.1, gpt-5.1-codex, gpt-4.1-mini\n"
    )


def test_the_output_says_how_to_pick_a_model(
    gw: SimulatedGateway, home: Home, run: Any
) -> None:
    result = run("generate", "codex", "--gateway", gw.url)
    assert (
        "note: codex: run `codex -c model_provider=aperture -m MODEL` with MODEL one "
        "of gpt-5.1, gpt-5.1-codex, gpt-4.1-mini\n"
    ) in result.err
    assert (
        "note: codex: gpt-5.1-codex is also served by openai-codex; `-c "
        "model_provider=aperture -m gpt-5.1-codex` reaches both (the gateway picks "
        "the provider)\n"
    ) in result.err


def test_only_responses_models_are_listed(
    gw: SimulatedGateway, home: Home, run: Any
) -> None:
    result = run("generate", "codex", "--gateway", gw.url)
    first = home.codex.read_text(encoding="utf-8").splitlines()[0]
    assert "claude" not in first and "glm" not in first
    assert "anthropic (anthropic-messages): claude-sonnet-4-5" in result.err


def test_the_users_toml_and_comments_are_kept(
    gw: SimulatedGateway, home: Home, run: Any
) -> None:
    home.codex.parent.mkdir(parents=True)
    home.codex.write_text(USER_TOML, encoding="utf-8")
    assert run("generate", "codex", "--gateway", gw.url).code == 0
    lines = home.codex.read_text(encoding="utf-8").splitlines()
    # Every line of the user's file is still there, comments included, in order.
    positions = [lines.index(line) for line in USER_TOML.splitlines() if line]
    assert positions == sorted(positions)
    doc = load(home)
    assert doc["model"] == "o3"
    assert doc["profiles"] == {"fast": {"model": "gpt-4.1-mini"}}
    assert list(doc["model_providers"]) == ["ollama", "aperture"]


def test_user_edits_in_our_table_survive(
    gw: SimulatedGateway, home: Home, run: Any
) -> None:
    assert run("generate", "codex", "--gateway", gw.url).code == 0
    text = home.codex.read_text(encoding="utf-8")
    text = text.replace(
        "requires_openai_auth = false", "requires_openai_auth = false # mine"
    )
    text = text.replace("supports_websockets = false", "supports_websockets = true")
    text += "stream_max_retries = 9\n"
    home.codex.write_text(text, encoding="utf-8")

    assert run("generate", "codex", "--gateway", gw.url).code == 0

    again = home.codex.read_text(encoding="utf-8")
    assert "requires_openai_auth = false # mine" in again
    table = load(home)["model_providers"]["aperture"]
    assert table["supports_websockets"] is True
    assert table["stream_max_retries"] == 9


def test_a_table_no_longer_generated_is_removed(
    canned: CannedGateway, home: Home, run: Any
) -> None:
    flags = {"openai_responses": True}
    glm = {
        "id": "glm",
        "models": ["m"],
        "compatibility": flags,
        "base_url": "https://api.z.ai/api/coding/paas/v4",
    }
    canned.serve("/api/providers", [glm])
    canned.serve("/v1/models", {"data": [{"id": "m"}]})
    assert run("generate", "codex", "--gateway", canned.url).code == 0
    assert list(load(home)["model_providers"]) == ["aperture-glm"]
    canned.serve(
        "/api/providers", [{"id": "o", "models": ["m"], "compatibility": flags}]
    )
    assert run("generate", "codex", "--gateway", canned.url).code == 0
    assert list(load(home)["model_providers"]) == ["aperture"]


def test_a_non_v1_upstream_gets_its_own_provider_table(
    canned: CannedGateway, home: Home, run: Any
) -> None:
    flags = {"openai_responses": True}
    canned.serve(
        "/api/providers",
        [
            {"id": "o", "models": ["m"], "compatibility": flags},
            {
                "id": "glm",
                "models": ["m"],
                "compatibility": flags,
                "base_url": "https://api.z.ai/api/coding/paas/v4",
            },
        ],
    )
    canned.serve("/v1/models", {"data": [{"id": "m"}]})
    assert run("generate", "codex", "--gateway", canned.url).code == 0
    tables = load(home)["model_providers"]
    assert tables["aperture"]["base_url"] == f"{canned.url}/v1"
    assert tables["aperture-glm"]["base_url"] == canned.url


def test_invalid_toml_is_an_error_and_left_untouched(
    gw: SimulatedGateway, home: Home, run: Any
) -> None:
    home.codex.parent.mkdir(parents=True)
    home.codex.write_text("model = \n", encoding="utf-8")
    result = run("generate", "codex", "--gateway", gw.url)
    assert result.code == 1
    assert f"error: {home.codex}: line 1, column 8: not valid TOML" in result.err
    assert home.codex.read_text(encoding="utf-8") == "model = \n"


def test_model_providers_that_is_not_a_table_is_an_error(
    gw: SimulatedGateway, home: Home, run: Any
) -> None:
    home.codex.parent.mkdir(parents=True)
    home.codex.write_text('model_providers = "x"\n', encoding="utf-8")
    result = run("generate", "codex", "--gateway", gw.url)
    assert result.code == 1
    assert f"error: {home.codex}: model_providers is not a table" in result.err
