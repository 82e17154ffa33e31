"""`aperture-proxy check`: the models the gateway lacks, per configured upstream."""

from __future__ import annotations

from typing import Any

from aperture_proxy.check import plan_checks
from aperture_proxy.sim import SimSettings, SimulatedGateway
from aperture_proxy.upstreams import builtin
from tests.onboarding.conftest import Home


def configure(home: Home, gateway: SimulatedGateway, *upstreams: str) -> None:
    entries = "".join(f"    - {{ id: {u} }}\n" for u in upstreams)
    home.write_config(
        f"baseUrl: {gateway.url}\nproxy:\n  upstreamProviders:\n{entries}"
    )


def test_named_models_the_gateway_serves_exit_0(
    gateway: SimulatedGateway, home: Home, run: Any
) -> None:
    configure(home, gateway, "anthropic", "openai")

    result = run("check", "--model", "claude-sonnet-4-5", "--model", "gpt-5.1")

    assert result.code == 0, result.err
    assert result.out == "the gateway serves all 2 checked models\n"


def test_named_models_the_gateway_lacks_are_grouped_by_provider(
    gateway: SimulatedGateway, home: Home, run: Any
) -> None:
    configure(home, gateway, "anthropic", "openai", "google")

    result = run(
        "check",
        "--model", "claude-sonnet-4-5",  # served
        "--model", "claude-opus-4-7",  # the catalogue places it at anthropic
        "--model", "google/gemini-3-pro-preview",  # placed by its prefix
        "--model", "openai/gpt-5.1",  # served
        "--model", "house-model",  # no catalogue knows it, no provider serves it
    )  # fmt: skip

    assert result.code == 1
    assert result.out == (
        "the gateway lacks 3 of 5 checked models:\n"
        "anthropic: claude-opus-4-7\n"
        "google (gateway gemini): gemini-3-pro-preview\n"
        "any provider: house-model\n"
    )


def test_without_models_the_catalogue_s_are_checked_five_then_n_more(
    gateway: SimulatedGateway, home: Home, run: Any
) -> None:
    configure(home, gateway, "zai", "deepseek", "groq")

    result = run("check")

    assert result.code == 1
    assert result.out == (
        "note: groq: no models known for it; name some with --model groq/MODEL\n"
        "the gateway lacks 10 of 11 checked models:\n"
        "zai: glm-4.5, glm-4.5-air, glm-4.7, glm-5-turbo, glm-5.1 and 1 more\n"
        "deepseek (no matching gateway provider): deepseek-chat, deepseek-reasoner, "
        "deepseek-v4-flash, deepseek-v4-pro\n"
    )


def test_an_unmatched_upstream_counts_models_any_provider_serves(
    gateway: SimulatedGateway, home: Home, run: Any
) -> None:
    configure(home, gateway, "openrouter")

    result = run("check", "--model", "openrouter/glm-4.6")

    assert result.code == 0, result.out
    assert result.out == "the gateway serves all 1 checked models\n"


def test_an_unreachable_gateway_exits_2(home: Home, run: Any, closed_port: int) -> None:
    result = run("check", "--gateway", f"http://127.0.0.1:{closed_port}")

    assert result.code == 2
    assert result.out == ""
    assert result.err == (
        f"error: GET http://127.0.0.1:{closed_port}/api/providers failed: connection "
        "refused. Check the gateway URL and that this machine is connected to the "
        "tailnet (`tailscale status`).\n"
    )


def test_a_failing_catalogue_exits_2(
    gateway: SimulatedGateway, home: Home, run: Any
) -> None:
    gateway.settings = SimSettings(fault="catalogue_down")
    result = run("check", "--gateway", gateway.url)
    assert result.code == 2
    assert f"GET {gateway.url}/api/providers failed: HTTP 500" in result.err


def test_no_gateway_configured_points_at_onboard(home: Home, run: Any) -> None:
    result = run("check")
    assert result.code == 2
    assert "run `aperture-proxy onboard`" in result.err


def test_a_name_several_upstreams_know_is_checked_at_each() -> None:
    plan = plan_checks(builtin(["openai", "openai-codex"]), ["gpt-5.1"])
    assert plan.models == {"openai": ["gpt-5.1"], "openai-codex": ["gpt-5.1"]}
