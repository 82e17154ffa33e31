"""The onboarding wizard and the settings menu, typed at in a real terminal."""

from __future__ import annotations

from aperture_proxy.sim import SimulatedGateway
from tests.onboarding.conftest import Home
from tests.onboarding.terminal import (
    CLEAR_LINE,
    CTRL_C,
    DOWN,
    ENTER,
    SPACE,
    Terminal,
)


def upstream(entry_id: str) -> dict[str, object]:
    return {
        "id": entry_id,
        "enabled": True,
        "credentials": "auto",
        "shouldCheckGatewayModels": False,
        "onMissingModel": "warn",
    }


def test_wizard_from_a_dead_url_to_a_written_file(
    gateway: SimulatedGateway, home: Home, closed_port: int
) -> None:
    term = Terminal("onboard")
    dead = f"127.0.0.1:{closed_port}"
    live = gateway.url.removeprefix("http://")

    # A bare host, then a health check that fails, a retry that fails again.
    term.answer("Aperture gateway URL", dead, ENTER)
    term.expect(f"using http://{dead}")
    term.expect(f"✗ GET http://{dead}/api/providers failed: connection refused.")
    term.answer("What now?", ENTER)  # Try again
    term.expect(f"✗ GET http://{dead}/api/providers failed: connection refused.")
    term.answer("What now?", DOWN, ENTER)  # Change the URL
    term.answer("Aperture gateway URL", CLEAR_LINE, live, ENTER)
    term.expect(f"✓ {gateway.url} answers: 7 providers, 11 models")
    term.expect("gemini        Google Gemini     2 models")

    # proxy is ticked already; tick dedicated and connectors.
    term.answer("Which capabilities should be on?", DOWN, SPACE, DOWN, SPACE, ENTER)

    # Matched upstreams come ticked; keep anthropic, openai-codex and google,
    # untick the rest and tick groq from the unmatched ones.
    term.expect("Which upstreams should be rerouted")
    term.answer(
        "google          ← gateway gemini (matched by id)",
        DOWN, SPACE,  # openai off
        DOWN, DOWN,  # openai-codex, google
        DOWN, SPACE,  # google-vertex off
        DOWN, SPACE,  # amazon-bedrock off
        DOWN, SPACE,  # zai off
        DOWN, SPACE,  # groq on (past the heading)
        ENTER,
    )  # fmt: skip
    term.answer("Check that the gateway serves the model", "n")

    term.answer(
        "Which gateway providers become models",
        SPACE, DOWN, DOWN, DOWN, SPACE, ENTER,  # anthropic, gemini
    )  # fmt: skip

    term.answer("Offer the discovery tools", "n")
    term.answer(
        "Which tools should be pinned",
        DOWN, SPACE,  # github_get_issue
        *[DOWN] * 6, SPACE,  # weather_forecast, in the "other" group
        ENTER,
    )  # fmt: skip
    term.expect(f"Wrote {home.config}")
    assert term.finish() == 0

    saved = home.saved()
    assert saved["baseUrl"] == gateway.url
    assert saved["onboardingDone"] is False
    assert saved["proxy"] == {
        "enabled": True,
        "listen": "127.0.0.1:8080",
        "upstreamProviders": [
            upstream("anthropic"),
            upstream("openai-codex"),
            upstream("google"),
            upstream("groq"),
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
        "pinnedTools": [
            {"connectorId": "github", "toolName": "github_get_issue"},
            {"connectorId": "other", "toolName": "weather_forecast"},
        ],
    }


def test_wizard_keeps_an_unchecked_url_when_asked(home: Home, closed_port: int) -> None:
    term = Terminal("onboard")
    term.answer("Aperture gateway URL", f"127.0.0.1:{closed_port}", ENTER)
    term.answer("What now?", DOWN, DOWN, ENTER)  # Keep this URL without checking
    term.answer("Which capabilities should be on?", ENTER)  # proxy only
    # Without a catalogue the default selection comes ticked.
    term.answer("Which upstreams should be rerouted", ENTER)
    term.answer("Check that the gateway serves the model", ENTER)  # yes
    term.expect("Wrote")
    assert term.finish() == 0

    saved = home.saved()
    assert saved["baseUrl"] == f"http://127.0.0.1:{closed_port}"
    assert [
        (u["id"], u["shouldCheckGatewayModels"])
        for u in saved["proxy"]["upstreamProviders"]
    ] == [
        ("anthropic", True),
        ("openai", True),
        ("openai-codex", True),
        ("google", True),
    ]


def test_ctrl_c_in_the_wizard_writes_nothing(home: Home) -> None:
    term = Terminal("onboard")
    term.answer("Aperture gateway URL", CTRL_C)
    term.expect("onboarding cancelled; nothing was written")
    assert term.finish() == 130
    assert not home.config.exists()


def test_settings_menu_changes_one_upstream_and_the_listen_address(
    gateway: SimulatedGateway, home: Home
) -> None:
    home.write_config(
        f"baseUrl: {gateway.url}\n"
        "proxy:\n  upstreamProviders: [{id: anthropic}, {id: openai}]\n"
    )
    term = Terminal("settings")

    term.answer("Change which section?", *[DOWN] * 3, ENTER)  # One upstream's options
    term.answer("Which upstream?", DOWN, ENTER)  # openai
    term.answer("openai: client credentials", DOWN, ENTER)  # strip
    term.answer("openai: check that the gateway serves", "y")
    term.answer("openai: when the gateway lacks the model", DOWN, ENTER)  # block
    term.answer("Change which section?", *[DOWN] * 4, ENTER)  # listen address
    term.answer("Listen address", CLEAR_LINE, "127.0.0.1:9", ENTER)
    term.answer("Change which section?", *[DOWN] * 7, ENTER)  # Save and quit
    term.expect(f"Wrote {home.config}")
    assert term.finish() == 0

    proxy = home.saved()["proxy"]
    assert proxy["listen"] == "127.0.0.1:9"
    assert proxy["upstreamProviders"][1] == {
        "id": "openai",
        "enabled": True,
        "credentials": "strip",
        "shouldCheckGatewayModels": True,
        "onMissingModel": "block",
    }
    assert proxy["upstreamProviders"][0]["credentials"] == "auto"


def test_settings_listen_prompt_refuses_a_bad_address(
    gateway: SimulatedGateway, home: Home
) -> None:
    original = f"baseUrl: {gateway.url}\n"
    home.write_config(original)
    term = Terminal("settings")

    term.answer("Change which section?", *[DOWN] * 4, ENTER)
    term.answer("Listen address", CLEAR_LINE, "8080", ENTER)
    term.expect("'8080' is not a listen address")
    term.child.send(CLEAR_LINE + "127.0.0.1:8081" + ENTER)
    term.answer("Change which section?", *[DOWN] * 8, ENTER)  # Quit without saving
    term.expect("nothing was written")
    assert term.finish() == 0
    assert home.config.read_text(encoding="utf-8") == original
