"""`aperture-proxy generate litellm`: model_list entries with per-token costs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from aperture_proxy.sim import SimulatedGateway
from tests.dedicated.conftest import CannedGateway

USER_CONFIG = """\
# my LiteLLM proxy
model_list:
  - model_name: local-llama
    litellm_params:
      model: ollama/llama3.1
litellm_settings:
  drop_params: true
"""


def entries(path: Path) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {e["model_name"]: e for e in doc["model_list"]}


def test_generate_writes_model_list_entries(
    gw: SimulatedGateway, run: Any, tmp_path: Path
) -> None:
    result = run("generate", "litellm", "--gateway", gw.url)
    assert result.code == 0, result.err
    assert result.out == "wrote config.yaml\n"
    listed = entries(tmp_path / "config.yaml")
    assert list(listed) == [
        "claude-sonnet-4-5",
        "claude-opus-4-1",
        "claude-haiku-4-5",
        "gpt-5.1",
        "gpt-5.1-codex",
        "gpt-4.1-mini",
        "gemini-2.5-pro",
        "gemini-2.5-flash",
        "glm-4.6",
    ]
    sonnet = listed["claude-sonnet-4-5"]
    assert sonnet["litellm_params"] == {
        "model": "anthropic/claude-sonnet-4-5",
        "api_base": gw.url,
        "api_key": "-",
    }
    info = sonnet["model_info"]
    assert info["aperture_provider"] == "anthropic"
    assert (info["max_input_tokens"], info["max_output_tokens"]) == (200000, 64000)
    assert (info["supports_vision"], info["supports_reasoning"]) == (True, True)
    for field, per_token in {
        "input_cost_per_token": 0.000003,
        "output_cost_per_token": 0.000015,
        "cache_read_input_token_cost": 0.0000003,
        "cache_creation_input_token_cost": 0.00000375,
    }.items():
        assert abs(info[field] - per_token) < 1e-15
    assert (
        listed["gemini-2.5-pro"]["litellm_params"]["model"] == "gemini/gemini-2.5-pro"
    )
    assert listed["gemini-2.5-pro"]["litellm_params"]["api_base"] == f"{gw.url}/v1beta"
    assert listed["glm-4.6"]["litellm_params"] == {
        "model": "openai/glm-4.6",
        "api_base": f"{gw.url}/v1",
        "api_key": "-",
    }


def test_costs_are_written_without_exponents(
    gw: SimulatedGateway, run: Any, tmp_path: Path
) -> None:
    assert run("generate", "litellm", "--gateway", gw.url).code == 0
    text = (tmp_path / "config.yaml").read_text(encoding="utf-8")
    assert "cache_read_input_token_cost: 0.0000003\n" in text
    assert not re.search(r"\d[eE][-+]?\d", text)


def test_a_shared_id_is_prefixed_with_its_provider(
    canned: CannedGateway, run: Any, tmp_path: Path
) -> None:
    flags = {"openai_chat": True}
    canned.serve(
        "/api/providers",
        [
            {"id": "one", "models": ["m"], "compatibility": flags},
            {"id": "two", "models": ["m"], "compatibility": flags},
        ],
    )
    canned.serve("/v1/models", {"data": [{"id": "m"}]})
    result = run("generate", "litellm", "--gateway", canned.url)
    assert list(entries(tmp_path / "config.yaml")) == ["m", "two/m"]
    assert "note: litellm: m is also served by two; that copy is model_name two/m" in (
        result.err
    )


def test_user_entries_and_settings_are_kept(
    gw: SimulatedGateway, run: Any, tmp_path: Path
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(USER_CONFIG, encoding="utf-8")
    result = run("generate", "litellm", "--gateway", gw.url)
    assert result.code == 0
    doc = yaml.safe_load(config.read_text(encoding="utf-8"))
    assert doc["model_list"][0] == {
        "model_name": "local-llama",
        "litellm_params": {"model": "ollama/llama3.1"},
    }
    assert doc["litellm_settings"] == {"drop_params": True}
    assert (tmp_path / "config.yaml.bak").read_text(encoding="utf-8") == USER_CONFIG
    assert "PyYAML cannot keep the comments" in result.err


def test_user_edits_in_generated_entries_survive(
    gw: SimulatedGateway, run: Any, tmp_path: Path
) -> None:
    config = tmp_path / "config.yaml"
    assert run("generate", "litellm", "--gateway", gw.url).code == 0
    doc = yaml.safe_load(config.read_text(encoding="utf-8"))
    doc["model_list"][0]["model_info"]["max_input_tokens"] = 1000000
    doc["model_list"][0]["litellm_params"]["rpm"] = 10
    config.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")

    assert run("generate", "litellm", "--gateway", gw.url).code == 0

    sonnet = entries(config)["claude-sonnet-4-5"]
    assert sonnet["model_info"]["max_input_tokens"] == 1000000
    assert sonnet["litellm_params"]["rpm"] == 10
    assert sonnet["model_info"]["max_output_tokens"] == 64000


def test_model_list_that_is_not_a_list_is_an_error(
    gw: SimulatedGateway, run: Any, tmp_path: Path
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("model_list: {a: 1}\n", encoding="utf-8")
    result = run("generate", "litellm", "--gateway", gw.url)
    assert result.code == 1
    assert "error: config.yaml: model_list is not a list" in result.err
    assert config.read_text(encoding="utf-8") == "model_list: {a: 1}\n"


def test_invalid_yaml_is_an_error(
    gw: SimulatedGateway, run: Any, tmp_path: Path
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("model_list: [\n", encoding="utf-8")
    result = run("generate", "litellm", "--gateway", gw.url)
    assert result.code == 1
    assert "error: config.yaml: line 2, column 1:" in result.err
    assert "not valid YAML" in result.err
