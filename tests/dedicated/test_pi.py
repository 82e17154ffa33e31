"""`aperture-proxy generate pi` against the simulated gateway, and its merging."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from aperture_proxy.dedicated.files import dump_json
from aperture_proxy.sim import SimulatedGateway
from tests.dedicated.conftest import CannedGateway, Home, by_id, read_json
from tests.helpers.cli_run import Result


def aperture(home: Home) -> dict[str, Any]:
    return read_json(home.pi)["providers"]["aperture"]


def test_generate_writes_the_aperture_provider(
    gw: SimulatedGateway, home: Home, run: Any
) -> None:
    result: Result = run("generate", "pi", "--gateway", gw.url)
    assert result.code == 0, result.err
    assert result.out == f"wrote {home.pi}\n"

    provider = aperture(home)
    assert {k: provider[k] for k in ("baseUrl", "api", "apiKey")} == {
        "baseUrl": f"{gw.url}/v1",
        "api": "openai-completions",
        "apiKey": "-",
    }
    models = by_id(provider["models"])
    assert list(models) == [
        "claude-sonnet-4-5",
        "claude-opus-4-1",
        "claude-haiku-4-5",
        "gpt-5.1",
        "gpt-5.1-codex",
        "gpt-4.1-mini",
        "gemini-2.5-pro",
        "gemini-2.5-flash",
        "anthropic.claude-sonnet-4-5-20250929-v1:0",
        "glm-4.6",
    ]
    assert models["claude-sonnet-4-5"] == {
        "id": "claude-sonnet-4-5",
        "name": "claude-sonnet-4-5 (Anthropic)",
        "api": "anthropic-messages",
        "baseUrl": gw.url,
        "reasoning": True,
        "input": ["text", "image"],
        "contextWindow": 200000,
        "maxTokens": 64000,
        "cost": {"input": 3, "output": 15, "cacheRead": 0.3, "cacheWrite": 3.75},
    }
    assert models["gpt-4.1-mini"]["cost"] == {
        "input": 0.4,
        "output": 1.6,
        "cacheRead": 0.1,
        "cacheWrite": 0,
    }
    routes = {m: (v["api"], v["baseUrl"]) for m, v in models.items()}
    assert routes["gpt-5.1"] == ("openai-completions", f"{gw.url}/v1")
    assert routes["gemini-2.5-flash"] == ("google-generative-ai", f"{gw.url}/v1beta")
    assert routes["anthropic.claude-sonnet-4-5-20250929-v1:0"] == (
        "bedrock-converse-stream",
        f"{gw.url}/bedrock",
    )


def test_a_shared_model_id_gets_a_provider_per_extra_gateway_provider(
    gw: SimulatedGateway, home: Home, run: Any
) -> None:
    result = run("generate", "pi", "--gateway", gw.url)
    providers = read_json(home.pi)["providers"]
    assert list(providers) == ["aperture", "aperture-openai-codex"]
    (codex,) = providers["aperture-openai-codex"]["models"]
    assert (codex["id"], codex["api"], codex["baseUrl"]) == (
        "gpt-5.1-codex",
        "openai-responses",
        f"{gw.url}/v1",
    )
    assert by_id(providers["aperture"]["models"])["gpt-5.1-codex"]["api"] == (
        "openai-completions"
    )
    assert (
        "note: pi: gpt-5.1-codex is served by openai, openai-codex: openai → "
        "providers.aperture (openai-completions); openai-codex → "
        "providers.aperture-openai-codex (openai-responses)\n"
    ) in result.err


def test_models_pi_cannot_reach_are_named(
    gw: SimulatedGateway, home: Home, run: Any
) -> None:
    result = run("generate", "pi", "--gateway", gw.url)
    assert (
        "note: pi: left out models whose provider speaks no API pi can use here — "
        "vertex (google-vertex): gemini-2.5-pro, claude-sonnet-4-5@20250929\n"
    ) in result.err


def test_user_edits_and_own_models_survive_regeneration(
    gw: SimulatedGateway, home: Home, run: Any
) -> None:
    assert run("generate", "pi", "--gateway", gw.url).code == 0
    doc = read_json(home.pi)
    models = doc["providers"]["aperture"]["models"]
    by_id(models)["gpt-5.1"]["contextWindow"] = 123456
    models.append({"id": "my-own-model", "contextWindow": 4096, "maxTokens": 1024})
    home.pi.write_text(json.dumps(doc, indent=2), encoding="utf-8")

    assert run("generate", "pi", "--gateway", gw.url).code == 0

    again = by_id(aperture(home)["models"])
    assert again["gpt-5.1"]["contextWindow"] == 123456
    assert again["gpt-5.1"]["maxTokens"] == 128000
    assert again["my-own-model"] == {
        "id": "my-own-model",
        "contextWindow": 4096,
        "maxTokens": 1024,
    }


def test_values_the_user_left_alone_follow_the_gateway(
    canned: CannedGateway, home: Home, run: Any
) -> None:
    canned.serve("/api/providers", [{"id": "acme", "models": ["m1", "m2"]}])
    price = {"input": "0.000001", "output": "0.000002"}
    canned.serve(
        "/v1/models",
        {"data": [{"id": "m1", "pricing": price}, {"id": "m2", "pricing": price}]},
    )
    assert run("generate", "pi", "--gateway", canned.url).code == 0
    doc = read_json(home.pi)
    by_id(doc["providers"]["aperture"]["models"])["m2"]["cost"]["input"] = 7
    home.pi.write_text(json.dumps(doc), encoding="utf-8")

    # The gateway raises its prices and drops nothing.
    price = {"input": "0.000005", "output": "0.000006"}
    canned.serve(
        "/v1/models",
        {"data": [{"id": "m1", "pricing": price}, {"id": "m2", "pricing": price}]},
    )
    assert run("generate", "pi", "--gateway", canned.url).code == 0

    models = by_id(aperture(home)["models"])
    assert models["m1"]["cost"] == {
        "input": 5,
        "output": 6,
        "cacheRead": 0,
        "cacheWrite": 0,
    }
    assert models["m2"]["cost"] == {
        "input": 7,
        "output": 6,
        "cacheRead": 0,
        "cacheWrite": 0,
    }


def test_a_model_the_gateway_dropped_is_removed(
    canned: CannedGateway, home: Home, run: Any
) -> None:
    canned.serve("/api/providers", [{"id": "acme", "models": ["m1", "m2"]}])
    canned.serve("/v1/models", {"data": [{"id": "m1"}, {"id": "m2"}]})
    assert run("generate", "pi", "--gateway", canned.url).code == 0
    canned.serve("/v1/models", {"data": [{"id": "m1"}]})
    assert run("generate", "pi", "--gateway", canned.url).code == 0
    assert [m["id"] for m in aperture(home)["models"]] == ["m1"]


def test_entries_it_does_not_own_are_kept(
    gw: SimulatedGateway, home: Home, run: Any
) -> None:
    mine = {
        "$comment": "kept",
        "providers": {
            "ollama": {
                "baseUrl": "http://localhost:11434/v1",
                "api": "openai-completions",
                "apiKey": "ollama",
                "models": [{"id": "llama3.1:8b", "cost": {"input": 1e-7}}],
            }
        },
    }
    home.pi.parent.mkdir(parents=True)
    home.pi.write_text(json.dumps(mine), encoding="utf-8")
    assert run("generate", "pi", "--gateway", gw.url).code == 0
    doc = read_json(home.pi)
    assert list(doc) == ["$comment", "providers"]
    assert doc["providers"]["ollama"] == mine["providers"]["ollama"]
    assert list(doc["providers"]) == ["ollama", "aperture", "aperture-openai-codex"]
    # An exact number, written without an exponent.
    assert '"input": 0.0000001' in home.pi.read_text(encoding="utf-8")


def test_the_output_option_writes_elsewhere(
    gw: SimulatedGateway, home: Home, run: Any, tmp_path: Path
) -> None:
    target = tmp_path / "elsewhere" / "models.json"
    assert run("generate", "pi", "--gateway", gw.url, "--output", str(target)).code == 0
    assert "aperture" in read_json(target)["providers"]
    assert not home.pi.exists()


def test_dry_run_prints_a_diff_and_writes_nothing(
    gw: SimulatedGateway, home: Home, run: Any
) -> None:
    result = run("generate", "pi", "--gateway", gw.url, "--dry-run")
    assert result.code == 0
    assert result.out.startswith(f"--- /dev/null\n+++ {home.pi}\n@@ -0,0 +1,")
    assert '+    "aperture": {\n' in result.out
    assert not home.pi.exists()
    assert not home.state.exists()


def test_dry_run_on_an_existing_file_shows_only_the_change(
    gw: SimulatedGateway, home: Home, run: Any
) -> None:
    assert run("generate", "pi", "--gateway", gw.url).code == 0
    doc = read_json(home.pi)
    by_id(doc["providers"]["aperture"]["models"])["glm-4.6"].pop("maxTokens")
    home.pi.write_text(dump_json(doc), encoding="utf-8")
    before = home.pi.read_bytes()

    result = run("generate", "pi", "--gateway", gw.url, "--dry-run")

    assert home.pi.read_bytes() == before
    changed = [
        line
        for line in result.out.splitlines()
        if line.startswith(("+", "-")) and not line.startswith(("+++", "---"))
    ]
    # The missing key comes back after the model's last key, cost.
    assert changed == [
        "-          }",
        "+          },",
        '+          "maxTokens": 131072',
    ]


def test_an_unchanged_file_is_reported_up_to_date(
    gw: SimulatedGateway, home: Home, run: Any
) -> None:
    assert run("generate", "pi", "--gateway", gw.url).code == 0
    before = home.pi.stat().st_mtime_ns
    result = run("generate", "pi", "--gateway", gw.url)
    assert result.out == f"{home.pi}: up to date\n"
    assert home.pi.stat().st_mtime_ns == before


def test_an_invalid_existing_file_is_an_error_and_left_untouched(
    gw: SimulatedGateway, home: Home, run: Any
) -> None:
    home.pi.parent.mkdir(parents=True)
    home.pi.write_text('{"providers": {', encoding="utf-8")
    result = run("generate", "pi", "--gateway", gw.url)
    assert result.code == 1
    assert result.err.endswith(
        f"error: {home.pi}: line 1, column 16: Expecting property name enclosed in "
        "double quotes — not valid JSON; fix it or move it away, it was left "
        "untouched\n"
    )
    assert home.pi.read_text(encoding="utf-8") == '{"providers": {'


def test_a_file_whose_providers_is_not_an_object_is_an_error(
    gw: SimulatedGateway, home: Home, run: Any
) -> None:
    home.pi.parent.mkdir(parents=True)
    home.pi.write_text('{"providers": []}', encoding="utf-8")
    result = run("generate", "pi", "--gateway", gw.url)
    assert result.code == 1
    assert f"error: {home.pi}: providers is not an object" in result.err
    assert home.pi.read_text(encoding="utf-8") == '{"providers": []}'


def test_duplicate_ids_in_the_file_are_an_error(
    gw: SimulatedGateway, home: Home, run: Any
) -> None:
    text = json.dumps(
        {"providers": {"aperture": {"models": [{"id": "x"}, {"id": "x"}]}}}
    )
    home.pi.parent.mkdir(parents=True)
    home.pi.write_text(text, encoding="utf-8")
    result = run("generate", "pi", "--gateway", gw.url)
    assert result.code == 1
    assert (
        f"{home.pi}: providers.aperture.models[1]: the id 'x' appears twice and Pi "
        "keeps only the last"
    ) in result.err
    assert home.pi.read_text(encoding="utf-8") == text


def test_a_file_that_is_not_utf8_is_an_error(
    gw: SimulatedGateway, home: Home, run: Any
) -> None:
    home.pi.parent.mkdir(parents=True)
    home.pi.write_bytes(b'{"providers": {"\xff": {}}}')
    result = run("generate", "pi", "--gateway", gw.url)
    assert result.code == 1
    assert f"error: {home.pi}: is not UTF-8 text (byte 16)" in result.err
    assert home.pi.read_bytes() == b'{"providers": {"\xff": {}}}'


def test_a_directory_in_the_files_place_is_an_error(
    gw: SimulatedGateway, home: Home, run: Any
) -> None:
    home.pi.mkdir(parents=True)
    result = run("generate", "pi", "--gateway", gw.url)
    assert result.code == 1
    assert f"error: {home.pi}: is a directory" in result.err


def test_comments_pi_accepts_are_read_and_the_old_file_is_saved(
    gw: SimulatedGateway, home: Home, run: Any
) -> None:
    text = '{\n  // my providers\n  "providers": {"x": {"baseUrl": "u",},},\n}\n'
    home.pi.parent.mkdir(parents=True)
    home.pi.write_text(text, encoding="utf-8")
    result = run("generate", "pi", "--gateway", gw.url)
    assert result.code == 0
    assert read_json(home.pi)["providers"]["x"] == {"baseUrl": "u"}
    backup = home.pi.with_name("models.json.bak")
    assert backup.read_text(encoding="utf-8") == text
    assert f"note: pi: the comments in {home.pi} cannot be kept\n" in result.err
    assert f"saved the previous file as {backup}\n" in result.out


def test_the_write_keeps_permissions_and_symlinks(
    gw: SimulatedGateway, home: Home, run: Any, tmp_path: Path
) -> None:
    real = tmp_path / "dotfiles" / "models.json"
    real.parent.mkdir()
    real.write_text("{}", encoding="utf-8")
    real.chmod(0o640)
    home.pi.parent.mkdir(parents=True)
    home.pi.symlink_to(real)

    assert run("generate", "pi", "--gateway", gw.url).code == 0

    assert home.pi.is_symlink()
    assert "aperture" in read_json(real)["providers"]
    assert real.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in real.parent.iterdir()] == ["models.json"]


def test_a_new_file_is_private_to_the_user(
    gw: SimulatedGateway, home: Home, run: Any
) -> None:
    assert run("generate", "pi", "--gateway", gw.url).code == 0
    assert os.stat(home.pi).st_mode & 0o777 == 0o600
    assert sorted(p.name for p in home.pi.parent.iterdir()) == ["models.json"]


def test_a_place_that_cannot_be_written_is_an_error(
    gw: SimulatedGateway, run: Any, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("", encoding="utf-8")
    target = blocker / "models.json"
    result = run("generate", "pi", "--gateway", gw.url, "--output", str(target))
    assert result.code == 1
    assert result.err.endswith(
        f"error: {target}: cannot be read (Not a directory); check its permissions\n"
    )
    assert blocker.read_text(encoding="utf-8") == ""
