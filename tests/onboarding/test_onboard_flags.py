"""`aperture-proxy onboard --yes` driven by flags alone, as a script would."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from aperture_proxy.sim import SimSettings, SimulatedGateway
from tests.onboarding.conftest import PYTHON, Home, child_env


def bare(gw: SimulatedGateway) -> str:
    return gw.url.removeprefix("http://")


def upstream(entry_id: str, *, check: bool, enabled: bool = True) -> dict[str, Any]:
    return {
        "id": entry_id,
        "enabled": enabled,
        "credentials": "auto",
        "shouldCheckGatewayModels": check,
        "onMissingModel": "warn",
    }


def test_every_answer_comes_from_a_flag(
    gateway: SimulatedGateway, home: Home, run: Any
) -> None:
    result = run(
        "onboard", "--yes", "--gateway", bare(gateway),
        "--enable", "proxy,dedicated", "--enable", "connectors",
        "--upstream", "anthropic", "--upstream", "openai", "--no-check-models",
        "--dedicated-provider", "anthropic", "--dedicated-provider", "gemini",
        "--no-discovery-tools", "--pin", "github/github_list_repos",
    )  # fmt: skip

    assert result.code == 0, result.err
    saved = home.saved()
    assert saved["baseUrl"] == gateway.url
    assert saved["onboardingDone"] is False  # dedicated: the Pi file is not there
    assert saved["proxy"] == {
        "enabled": True,
        "listen": "127.0.0.1:8080",
        "upstreamProviders": [
            upstream("anthropic", check=False),
            upstream("openai", check=False),
        ],
    }
    assert saved["dedicated"] == {
        "enabled": True,
        "providers": [
            {"id": "anthropic", "enabled": True},
            {"id": "gemini", "enabled": True},
        ],
    }
    assert saved["connectors"] == {
        "enabled": True,
        "discoveryTools": False,
        "pinnedTools": [{"connectorId": "github", "toolName": "github_list_repos"}],
    }
    assert f"Wrote {home.config}\n" in result.out
    assert "  aperture-proxy generate pi " in result.out
    assert "  aperture-proxy onboard --complete " in result.out


def test_yes_reroutes_every_upstream_a_gateway_provider_matches(
    gateway: SimulatedGateway, home: Home, run: Any
) -> None:
    result = run("onboard", "--yes", "--gateway", gateway.url)

    assert result.code == 0, result.err
    saved = home.saved()
    assert saved["onboardingDone"] is True
    assert [u["id"] for u in saved["proxy"]["upstreamProviders"]] == [
        "anthropic",
        "openai",
        "openai-codex",
        "google",
        "google-vertex",
        "amazon-bedrock",
        "zai",
    ]
    assert all(
        u["shouldCheckGatewayModels"] for u in saved["proxy"]["upstreamProviders"]
    )
    assert saved["dedicated"]["enabled"] is False
    assert saved["connectors"]["enabled"] is False
    assert "  google         ← gateway gemini (matched by id)\n" in result.out
    assert "✓ " + gateway.url + " answers: 7 providers, 11 models\n" in result.out


def test_an_unreachable_gateway_writes_nothing(
    home: Home, run: Any, closed_port: int
) -> None:
    result = run("onboard", "--yes", "--gateway", f"127.0.0.1:{closed_port}")

    assert result.code == 1
    assert result.err == (
        f"error: GET http://127.0.0.1:{closed_port}/api/providers failed: connection "
        "refused. Check the gateway URL and that this machine is connected to the "
        "tailnet (`tailscale status`).\nNothing was written. Pass --skip-check to "
        "save the URL without asking the gateway.\n"
    )
    assert not home.config.exists()


def test_skip_check_saves_the_url_and_the_default_upstreams(
    home: Home, run: Any, closed_port: int
) -> None:
    result = run(
        "onboard", "--yes", "--skip-check", "--gateway", f"127.0.0.1:{closed_port}"
    )

    assert result.code == 0, result.err
    saved = home.saved()
    assert saved["baseUrl"] == f"http://127.0.0.1:{closed_port}"
    assert [u["id"] for u in saved["proxy"]["upstreamProviders"]] == [
        "anthropic",
        "openai",
        "openai-codex",
        "google",
    ]


def test_an_unknown_upstream_is_named_and_nothing_is_written(
    gateway: SimulatedGateway, home: Home, run: Any
) -> None:
    result = run("onboard", "--yes", "--gateway", gateway.url, "--upstream", "acme")

    assert result.code == 1
    assert result.err.startswith(
        "error: --upstream acme: not a built-in upstream (anthropic, openai, "
    )
    assert not home.config.exists()


def test_a_pin_the_gateway_does_not_serve_is_refused(
    gateway: SimulatedGateway, home: Home, run: Any
) -> None:
    result = run(
        "onboard", "--yes", "--gateway", gateway.url,
        "--enable", "connectors", "--pin", "github/no_such_tool",
    )  # fmt: skip

    assert result.code == 1
    assert result.err == (
        "error: --pin github/no_such_tool: the gateway serves no such tool; "
        "`aperture-proxy connectors search` finds tools\n"
    )
    assert not home.config.exists()


def test_a_pin_without_a_connector_is_a_usage_error(
    gateway: SimulatedGateway, run: Any
) -> None:
    result = run(
        "onboard", "--yes", "--gateway", gateway.url, "--enable", "connectors",
        "--pin", "github_list_repos",
    )  # fmt: skip
    assert result.code == 1
    assert "expected CONNECTOR/TOOL such as github/github_list_repos" in result.err


def test_a_flag_for_a_capability_left_off_is_a_usage_error(
    gateway: SimulatedGateway, home: Home, run: Any
) -> None:
    result = run(
        "onboard", "--yes", "--gateway", gateway.url,
        "--enable", "dedicated", "--upstream", "anthropic",
    )  # fmt: skip

    assert result.code == 2
    assert result.err == (
        "error: --upstream is a proxy setting, but proxy is not enabled; add it to "
        "--enable\n"
    )
    assert not home.config.exists()


def test_an_unknown_capability_is_named(gateway: SimulatedGateway, run: Any) -> None:
    result = run("onboard", "--yes", "--gateway", gateway.url, "--enable", "proxy,web")
    assert result.code == 2
    assert result.err == (
        "error: --enable web: expected a comma-separated list of proxy, dedicated, "
        "connectors (or none)\n"
    )


def test_a_bad_gateway_flag_is_named(run: Any, home: Home) -> None:
    result = run("onboard", "--yes", "--gateway", "ftp://ai")
    assert result.code == 1
    assert result.err.startswith("error: --gateway 'ftp://ai': 'ftp://ai' uses ftp://")
    assert not home.config.exists()


def test_entries_already_listed_keep_their_settings(
    gateway: SimulatedGateway, home: Home, run: Any
) -> None:
    home.write_config(
        "proxy:\n"
        "  listen: 127.0.0.1:9999\n"
        "  upstreamProviders:\n"
        "    - { id: anthropic, credentials: strip }\n"
        "    - { id: openai, onMissingModel: block }\n"
    )

    result = run(
        "onboard", "--yes", "--gateway", gateway.url, "--upstream", "anthropic"
    )

    assert result.code == 0, result.err
    proxy = home.saved()["proxy"]
    assert proxy["listen"] == "127.0.0.1:9999"
    assert proxy["upstreamProviders"] == [
        {**upstream("anthropic", check=True), "credentials": "strip"},
        {**upstream("openai", check=False, enabled=False), "onMissingModel": "block"},
    ]


def test_a_file_with_comments_is_kept_as_a_backup(
    gateway: SimulatedGateway, home: Home, run: Any
) -> None:
    original = "# my gateway\nbaseUrl: http://old-gateway\n"
    home.write_config(original)

    result = run("onboard", "--yes", "--gateway", gateway.url)

    assert result.code == 0, result.err
    backup = home.config.with_name("config.yaml.bak")
    assert backup.read_text(encoding="utf-8") == original
    assert f"the previous file (with its comments) is saved as {backup}\n" in (
        result.out
    )
    assert home.saved()["baseUrl"] == gateway.url
    assert home.config.stat().st_mode & 0o777 == 0o600


def test_the_next_commands_name_an_explicit_config_file(
    gateway: SimulatedGateway, run: Any, home: Home
) -> None:
    target = home.root / "elsewhere" / "aperture.yaml"
    result = run(
        "onboard", "--yes", "--gateway", gateway.url, "--config", str(target),
        "--enable", "proxy,connectors",
    )  # fmt: skip

    assert result.code == 0, result.err
    assert target.exists()
    steps = result.out.split("Next:\n", 1)[1].splitlines()
    assert [line.split("#")[0].strip() for line in steps] == [
        f"aperture-proxy run --config {target}",
        f'eval "$(aperture-proxy env --config {target})"',
        f"aperture-proxy connectors list --config {target}",
        f"aperture-proxy mcp --config {target}",
        f"aperture-proxy doctor --config {target}",
    ]


def test_yes_without_a_terminal_never_prompts(
    gateway: SimulatedGateway, home: Home
) -> None:
    done = subprocess.run(
        [PYTHON, "-m", "aperture_proxy", "onboard", "--yes", "--gateway", gateway.url],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        env=child_env(),
        check=False,
    )
    assert done.returncode == 0, done.stderr
    # questionary starts every question with "?"; none was asked.
    assert not [line for line in done.stdout.splitlines() if line.startswith("?")]
    assert home.saved()["baseUrl"] == gateway.url


def test_a_bad_dedicated_provider_id_is_named(
    gateway: SimulatedGateway, home: Home, run: Any
) -> None:
    result = run(
        "onboard", "--yes", "--gateway", gateway.url, "--enable", "dedicated",
        "--dedicated-provider", "no such",
    )  # fmt: skip

    assert result.code == 1
    assert result.err == (
        "error: --dedicated-provider: 'no such' is not a provider id; expected "
        "letters, digits, '.', '_' or '-', such as openai-codex\n"
    )
    assert not home.config.exists()


def test_a_dedicated_provider_the_gateway_lacks_stays_with_a_note(
    gateway: SimulatedGateway, home: Home, run: Any
) -> None:
    result = run(
        "onboard", "--yes", "--gateway", gateway.url, "--enable", "dedicated",
        "--dedicated-provider", "legacy",
    )  # fmt: skip

    assert result.code == 0, result.err
    assert (
        "note: the gateway serves no provider 'legacy' to this machine now; it "
        "stays in the filter\n"
    ) in result.out
    assert home.saved()["dedicated"]["providers"] == [{"id": "legacy", "enabled": True}]


def test_yes_takes_the_gateway_from_aperture_url(
    gateway: SimulatedGateway, home: Home, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APERTURE_URL", bare(gateway))
    result = run("onboard", "--yes")
    assert result.code == 0, result.err
    assert home.saved()["baseUrl"] == gateway.url


def test_a_bad_aperture_url_is_named_as_such(
    home: Home, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APERTURE_URL", "ftp://ai")
    result = run("onboard", "--yes")
    assert result.code == 1
    assert result.err.startswith("error: APERTURE_URL 'ftp://ai': 'ftp://ai' uses")
    assert not home.config.exists()


def test_pins_are_kept_unchecked_when_the_tools_cannot_be_listed(
    gateway: SimulatedGateway, home: Home, run: Any
) -> None:
    gateway.settings = SimSettings(mcp_fault="error")

    result = run(
        "onboard", "--yes", "--gateway", gateway.url, "--enable", "connectors",
        "--pin", "github/github_list_repos",
    )  # fmt: skip

    assert result.code == 0, result.err
    assert "  pinned tools are not checked against the gateway\n" in result.out
    assert [line for line in result.out.splitlines() if line.startswith("✗ ")]
    assert home.saved()["connectors"]["pinnedTools"] == [
        {"connectorId": "github", "toolName": "github_list_repos"}
    ]
