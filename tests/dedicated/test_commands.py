"""The commands around the writers: outages, --cached, sync, validate, onboard."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
import yaml

from aperture_proxy.sim import SimSettings, SimulatedGateway
from tests.dedicated.conftest import CannedGateway, Home, by_id, read_json


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# --- the gateway is down ---


@pytest.mark.parametrize("fmt", ["pi", "opencode", "codex", "claude-code", "litellm"])
def test_an_unreachable_gateway_writes_nothing(
    fmt: str, home: Home, run: Any, tmp_path: Path
) -> None:
    url = closed_port_url()
    result = run("generate", fmt, "--gateway", url)
    assert result.code == 1
    assert result.err == (
        f"error: GET {url}/api/providers failed: connection refused. Check the "
        "gateway URL and that this machine is connected to the tailnet (`tailscale "
        "status`).\nNothing was written. Pass --cached to use the last catalogue "
        "fetched from this gateway.\n"
    )
    written = [p for p in home.root.rglob("*") if p.is_file()]
    assert written == []
    assert not (tmp_path / "config.yaml").exists()


def test_a_failing_catalogue_writes_nothing(
    gw: SimulatedGateway, home: Home, run: Any
) -> None:
    gw.settings = SimSettings(fault="catalogue_down")
    result = run("generate", "pi", "--gateway", gw.url)
    assert result.code == 1
    assert f"GET {gw.url}/api/providers failed: HTTP 500" in result.err
    assert not home.pi.exists()


def test_cached_uses_the_last_catalogue_when_the_gateway_is_down(
    canned: CannedGateway, home: Home, run: Any
) -> None:
    canned.serve("/api/providers", [{"id": "acme", "models": ["m1"]}])
    canned.serve("/v1/models", {"data": [{"id": "m1"}]})
    assert run("generate", "pi", "--gateway", canned.url, "--dry-run").code == 0
    canned.serve("/api/providers", b"down", 503)

    result = run("generate", "pi", "--gateway", canned.url, "--cached")

    assert result.code == 0, result.err
    assert result.err.startswith(
        "warning: the gateway did not answer (HTTP 503: down); using the catalogue "
        "cached "
    )
    assert [m["id"] for m in read_json(home.pi)["providers"]["aperture"]["models"]] == [
        "m1"
    ]


def test_cached_without_a_cache_is_an_error(home: Home, run: Any) -> None:
    url = closed_port_url()
    result = run("generate", "pi", "--gateway", url, "--cached")
    assert result.code == 1
    assert result.err.endswith(
        f"Nothing was written: there is no cached catalogue of {url} yet (one is "
        "saved whenever the gateway answers).\n"
    )
    assert not home.pi.exists()


def test_no_gateway_configured_is_a_usage_error(run: Any) -> None:
    result = run("generate", "pi")
    assert result.code == 2
    assert result.err.startswith("error: no Aperture gateway configured")


def test_an_unreadable_capability_catalogue_writes_nothing(
    gw: SimulatedGateway, home: Home, run: Any, tmp_path: Path
) -> None:
    missing = tmp_path / "nope.json"
    result = run("generate", "pi", "--gateway", gw.url, "--capabilities", str(missing))
    assert result.code == 1
    assert result.err == (
        f"error: {missing}: cannot read the capability catalogue (No such file or "
        "directory)\nNothing was written.\n"
    )
    assert not home.pi.exists()


def test_a_pointed_catalogue_fills_unknown_models(
    canned: CannedGateway, home: Home, run: Any, tmp_path: Path
) -> None:
    canned.serve("/api/providers", [{"id": "acme", "models": ["acme-large"]}])
    canned.serve("/v1/models", {"data": [{"id": "acme-large"}]})
    caps = tmp_path / "caps.json"
    caps.write_text(
        json.dumps(
            {
                "acme": {
                    "models": {
                        "acme-large": {
                            "limit": {"context": 32768, "output": 4096},
                            "reasoning": True,
                            "modalities": {"input": ["text", "image"]},
                        }
                    }
                }
            }
        )
    )
    result = run("generate", "pi", "--gateway", canned.url, "--capabilities", str(caps))
    assert result.code == 0, result.err
    (model,) = read_json(home.pi)["providers"]["aperture"]["models"]
    assert (model["contextWindow"], model["maxTokens"]) == (32768, 4096)
    assert (model["reasoning"], model["input"]) == (True, ["text", "image"])


# --- sync ---


def test_sync_replaces_defaults_and_lists_what_is_left(
    canned: CannedGateway, home: Home, run: Any
) -> None:
    canned.serve("/api/providers", [{"id": "zai", "models": ["glm-4.6", "mystery"]}])
    canned.serve("/v1/models", {"data": [{"id": "glm-4.6"}, {"id": "mystery"}]})
    # A file another tool wrote: its values count as the user's...
    home.pi.parent.mkdir(parents=True)
    seed = {
        "providers": {
            "aperture": {
                "baseUrl": f"{canned.url}/v1",
                "apiKey": "-",
                "api": "openai-completions",
                "models": [
                    {"id": "glm-4.6", "contextWindow": 128000, "maxTokens": 8192},
                    {"id": "mystery", "contextWindow": 128000, "maxTokens": 2048},
                ],
            }
        }
    }
    home.pi.write_text(json.dumps(seed), encoding="utf-8")

    # ...so generate keeps them,
    assert run("generate", "pi", "--gateway", canned.url).code == 0
    glm = by_id(read_json(home.pi)["providers"]["aperture"]["models"])["glm-4.6"]
    assert (glm["contextWindow"], glm["maxTokens"]) == (128000, 8192)

    # while sync replaces the ones still on the safe defaults.
    result = run("sync", "--gateway", canned.url)
    assert result.code == 0, result.err
    models = by_id(read_json(home.pi)["providers"]["aperture"]["models"])
    assert (models["glm-4.6"]["contextWindow"], models["glm-4.6"]["maxTokens"]) == (
        204800,
        131072,
    )
    assert models["mystery"]["maxTokens"] == 2048
    assert result.out.endswith(
        "provider  model    on the safe defaults\n"
        "aperture  mystery  contextWindow, input, reasoning\n"
    )


def test_sync_says_when_nothing_is_on_defaults(
    gw: SimulatedGateway, home: Home, run: Any
) -> None:
    result = run("sync", "--gateway", gw.url)
    assert result.code == 0
    assert result.out.endswith("every aperture model has real capability values\n")


# --- validate ---


def test_validate_accepts_a_generated_file(
    gw: SimulatedGateway, home: Home, run: Any
) -> None:
    assert run("generate", "pi", "--gateway", gw.url).code == 0
    result = run("validate")
    assert (result.code, result.out) == (0, f"{home.pi}: valid\n")


def test_validate_prints_one_line_per_problem(home: Home, run: Any) -> None:
    home.pi.parent.mkdir(parents=True)
    doc = {
        "providers": {
            "aperture": {
                "baseUrl": "http://ai/v1",
                "apiKey": "-",
                "models": [{"id": "m", "contextwindow": 5, "maxTokens": -1}],
            }
        }
    }
    home.pi.write_text(json.dumps(doc), encoding="utf-8")
    result = run("validate", str(home.pi))
    assert result.code == 1
    where = f"{home.pi}: providers.aperture.models[0]"
    assert result.out.splitlines() == [
        f"{where}.contextwindow: unknown key, likely a typo; did you mean "
        "'contextWindow'?",
        f"{where}.maxTokens: expected a positive number of tokens, got -1",
        f'{where}.api: no API here or on the provider; set "api" on either',
        f"{where}.contextWindow: missing; aperture models carry their capabilities "
        "(run `aperture-proxy sync`)",
        f"{where}.input: missing; aperture models carry their capabilities (run "
        "`aperture-proxy sync`)",
        f"{where}.reasoning: missing; aperture models carry their capabilities (run "
        "`aperture-proxy sync`)",
    ]


def test_validate_of_a_missing_file(home: Home, run: Any) -> None:
    result = run("validate")
    assert result.code == 1
    assert result.out == (
        f"{home.pi}: no such file; generate it with `aperture-proxy generate pi`\n"
    )


# --- onboard ---


def test_onboard_without_a_terminal_or_yes_says_how_to_script_it(
    home: Home, run: Any
) -> None:
    result = run("onboard")
    assert result.code == 2
    assert result.err == (
        "error: onboard asks its questions in a terminal; in a script pass --yes "
        "and answer with flags, e.g. `aperture-proxy onboard --yes --gateway ai "
        "--enable proxy --upstream anthropic`\n"
    )
    assert not home.config.exists()


def test_onboard_complete_refuses_until_validation_passes(home: Home, run: Any) -> None:
    home.config.parent.mkdir(parents=True)
    home.config.write_text(
        "baseUrl: http://ai.example-tailnet.ts.net\ndedicated:\n  enabled: true\n",
        encoding="utf-8",
    )
    result = run("onboard", "--complete")
    assert result.code == 1
    assert result.err == (
        "onboarding is not complete:\n"
        f"  {home.pi}: no such file; generate it with `aperture-proxy generate pi`\n"
    )
    assert "onboardingDone" not in home.config.read_text(encoding="utf-8")


def test_onboard_complete_marks_onboarding_done(
    gw: SimulatedGateway, home: Home, run: Any
) -> None:
    home.config.parent.mkdir(parents=True)
    home.config.write_text("dedicated:\n  enabled: true\n", encoding="utf-8")
    assert run("generate", "pi", "--gateway", gw.url).code == 0

    result = run("onboard", "--complete", "--gateway", gw.url)

    assert result.code == 0, result.err
    saved = yaml.safe_load(home.config.read_text(encoding="utf-8"))
    assert saved["onboardingDone"] is True
    assert saved["baseUrl"] == gw.url
    assert saved["dedicated"]["enabled"] is True


def test_onboard_complete_needs_a_gateway(home: Home, run: Any) -> None:
    result = run("onboard", "--complete")
    assert result.code == 1
    assert "no gateway URL: pass --gateway URL or set baseUrl in the config" in (
        result.err
    )
