"""`config set KEY VALUE` and `config show --sources`."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.onboarding.conftest import Home

# --- config set ---


def test_set_writes_the_value_and_keeps_the_rest(home: Home, run: Any) -> None:
    home.write_config("baseUrl: http://ai\nproxy:\n  listen: 127.0.0.1:8080\n")

    result = run("config", "set", "proxy.listen", "127.0.0.1:9090")

    assert result.code == 0, result.err
    assert result.out == (
        f'proxy.listen: "127.0.0.1:8080" → "127.0.0.1:9090" in {home.config}\n'
    )
    assert home.saved() == {
        "baseUrl": "http://ai",
        "proxy": {"listen": "127.0.0.1:9090"},
    }
    assert home.config.stat().st_mode & 0o777 == 0o600


def test_set_creates_a_missing_file(home: Home, run: Any) -> None:
    result = run("config", "set", "baseUrl", "ai")
    assert result.code == 0, result.err
    assert result.out == f'baseUrl: (not set) → "ai" in {home.config}\n'
    assert home.saved() == {"baseUrl": "ai"}


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        (
            "proxy.listen",
            "8080",
            "  proxy.listen: '8080' is not a listen address; expected host:port such "
            "as 127.0.0.1:8080 or [::1]:8080",
        ),
        (
            "proxy.upstreamProviders[0].credentials",
            "keep",
            '  proxy.upstreamProviders[0].credentials: got "keep"; expected one of '
            "'auto', 'strip' or 'passthrough'",
        ),
        (
            "proxy.enabled",
            "maybe",
            '  proxy.enabled: got "maybe"; expected true or false',
        ),
        (
            "baseUrl",
            "ftp://ai",
            "  baseUrl: 'ftp://ai' uses ftp://; expected an http:// or https:// URL "
            "such as http://ai.example-tailnet.ts.net",
        ),
        (
            "connectors.pinnedTools",
            "[github_list_repos]",
            '  connectors.pinnedTools[0]: got "github_list_repos"; expected a mapping '
            "of keys",
        ),
        (
            "proxy.upstreamProviders[4]",
            "{id: acme}",
            "  proxy.upstreamProviders[4]: 'acme' is not a built-in upstream",
        ),
    ],
)
def test_set_rejects_a_bad_value_naming_the_key_and_leaves_the_file(
    home: Home, run: Any, key: str, value: str, problem: str
) -> None:
    original = "baseUrl: http://ai  # mine\nproxy:\n  enabled: true\n"
    home.write_config(original)
    before = home.config.stat().st_mtime_ns

    result = run("config", "set", key, value)

    assert result.code == 2
    first, second = result.err.splitlines()[:2]
    assert first == (
        f"error: config set {key} {value}: rejected; {home.config} is unchanged:"
    )
    assert second.startswith(problem)
    assert home.config.read_text(encoding="utf-8") == original
    assert home.config.stat().st_mtime_ns == before
    assert not home.config.with_name("config.yaml.bak").exists()


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (
            "proxy.listn",
            "error: proxy.listn: unknown key; did you mean 'listen'? (known keys "
            "here: enabled, listen, upstreamProviders)",
        ),
        ("proxy..listen", "error: 'proxy..listen' is not a key; expected dotted"),
        ("proxy[0]", "error: proxy is not a list; drop [N]"),
        ("proxy.listen.port", "error: proxy.listen holds a value, not keys"),
        (
            "proxy.upstreamProviders[9].id",
            "error: proxy.upstreamProviders[9]: the list has 4 entries; use an index "
            "up to 4 ([4] adds one)",
        ),
    ],
)
def test_set_rejects_a_bad_key(home: Home, run: Any, key: str, message: str) -> None:
    home.write_config("baseUrl: http://ai\n")

    result = run("config", "set", key, "x")

    assert result.code == 2
    assert result.err.startswith(message)
    assert home.config.read_text(encoding="utf-8") == "baseUrl: http://ai\n"


def test_set_through_a_default_list_writes_the_list_in_effect(
    home: Home, run: Any
) -> None:
    result = run("config", "set", "proxy.upstreamProviders[1].credentials", "strip")

    assert result.code == 0, result.err
    entries = home.saved()["proxy"]["upstreamProviders"]
    assert [(e["id"], e["credentials"]) for e in entries] == [
        ("anthropic", "auto"),
        ("openai", "strip"),
        ("openai-codex", "auto"),
        ("google", "auto"),
    ]


def test_set_adds_a_list_entry_at_the_next_index(home: Home, run: Any) -> None:
    home.write_config("proxy:\n  upstreamProviders: [{id: anthropic}]\n")

    result = run(
        "config", "set", "proxy.upstreamProviders[1]", "{id: zai, credentials: strip}"
    )

    assert result.code == 0, result.err
    assert home.saved()["proxy"]["upstreamProviders"] == [
        {"id": "anthropic"},
        {"id": "zai", "credentials": "strip"},
    ]


def test_set_null_removes_the_key_so_the_default_applies(home: Home, run: Any) -> None:
    home.write_config("baseUrl: http://ai\nproxy:\n  listen: 127.0.0.1:9\n")

    result = run("config", "set", "proxy.listen", "null")

    assert result.code == 0, result.err
    assert result.out == f'proxy.listen: "127.0.0.1:9" → (default) in {home.config}\n'
    assert home.saved() == {"baseUrl": "http://ai", "proxy": {}}


def test_set_keeps_a_number_as_text_where_a_string_is_expected(
    home: Home, run: Any
) -> None:
    home.write_config("proxy:\n  upstreamProviders: [{id: anthropic}]\n")

    result = run("config", "set", "proxy.upstreamProviders[0].gatewayProvider", "42")

    assert result.code == 0, result.err
    assert home.saved()["proxy"]["upstreamProviders"] == [
        {"id": "anthropic", "gatewayProvider": "42"}
    ]


def test_set_a_list_value(home: Home, run: Any) -> None:
    result = run("config", "set", "dedicated.providers", "[anthropic, gemini]")
    assert result.code == 0, result.err
    assert home.saved() == {"dedicated": {"providers": ["anthropic", "gemini"]}}


def test_set_on_a_shorthand_entry_expands_it(home: Home, run: Any) -> None:
    home.write_config("dedicated:\n  providers: [anthropic, gemini]\n")

    result = run("config", "set", "dedicated.providers[1].enabled", "false")

    assert result.code == 0, result.err
    assert home.saved()["dedicated"]["providers"] == [
        "anthropic",
        {"id": "gemini", "enabled": False},
    ]


def test_set_that_mends_a_broken_file_is_accepted(home: Home, run: Any) -> None:
    home.write_config("proxy:\n  listen: 8080\n")
    assert run("config", "show").code == 2

    result = run("config", "set", "proxy.listen", "127.0.0.1:8080")

    assert result.code == 0, result.err
    assert home.saved() == {"proxy": {"listen": "127.0.0.1:8080"}}


def test_set_lists_the_problems_the_file_still_has(home: Home, run: Any) -> None:
    original = "proxy:\n  listen: 8080\n  enabled: maybe\n"
    home.write_config(original)

    result = run("config", "set", "proxy.listen", "127.0.0.1:8080")

    assert result.code == 2
    assert result.err.splitlines()[1:] == [
        '  proxy.enabled: got "maybe"; expected true or false'
    ]
    assert home.config.read_text(encoding="utf-8") == original


def test_set_backs_up_a_commented_file(home: Home, run: Any) -> None:
    original = "# the office gateway\nbaseUrl: http://ai\n"
    home.write_config(original)

    result = run("config", "set", "proxy.enabled", "false")

    assert result.code == 0, result.err
    backup = home.config.with_name("config.yaml.bak")
    assert backup.read_text(encoding="utf-8") == original
    assert result.out.startswith(
        f"the previous file (with its comments) is saved as {backup}\n"
    )
    assert home.saved() == {"baseUrl": "http://ai", "proxy": {"enabled": False}}


# --- config show --sources ---


def _sources(out: str) -> dict[str, str]:
    """`key: value  # source` lines as {key path (last part): source}."""
    found = {}
    for line in out.splitlines():
        if "  # " in line and not line.startswith("#"):
            key = line.split(":", 1)[0].strip().removeprefix("- ")
            found.setdefault(key, line.rsplit("  # ", 1)[1])
    return found


def test_show_sources_names_file_and_default(home: Home, run: Any) -> None:
    home.write_config(
        "baseUrl: ai\nproxy:\n  listen: 127.0.0.1:9000\n"
        "  upstreamProviders:\n    - { id: anthropic, credentials: strip }\n"
    )

    result = run("config", "show", "--sources")

    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == f"# the effective configuration; file: {home.config}"
    assert "baseUrl: http://ai  # file" in lines
    assert "onboardingDone: false  # default" in lines
    assert "  enabled: true  # default" in lines
    assert "  listen: 127.0.0.1:9000  # file" in lines
    assert "  upstreamProviders:  # file" in lines
    assert "  - id: anthropic  # file" in lines
    assert "    credentials: strip  # file" in lines
    assert "    shouldCheckGatewayModels: false  # default" in lines
    assert "  pinnedTools: []  # default" in lines


def test_show_sources_names_the_environment_and_the_flag(
    home: Home, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    home.write_config("baseUrl: http://from-file\n")
    monkeypatch.setenv("APERTURE_URL", "http://from-env")

    from_env = run("config", "show", "--sources")
    from_flag = run("config", "--gateway", "http://from-flag", "show", "--sources")

    assert "baseUrl: http://from-env  # env APERTURE_URL\n" in from_env.out
    assert "baseUrl: http://from-flag  # flag --gateway\n" in from_flag.out


def test_show_sources_of_a_missing_file_are_defaults(
    home: Home, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = home.root / "none.yaml"
    monkeypatch.setenv("APERTURE_PROXY_CONFIG", str(target))

    result = run("config", "show", "--sources")

    assert result.out.splitlines()[0] == (
        f"# the effective configuration; file: {target} (from "
        "APERTURE_PROXY_CONFIG), which does not exist: defaults"
    )
    assert set(_sources(result.out).values()) == {"default"}


def test_show_sources_is_the_same_yaml_as_show(home: Home, run: Any) -> None:
    home.write_config(
        "baseUrl: ai\nproxy:\n  upstreamProviders:\n"
        "    - { id: corp, baseUrl: 'https://llm.corp.example/v1', "
        "api: openai-completions, apiPaths: [/v1/chat] }\n"
        "connectors:\n  pinnedTools: [{connectorId: github, toolName: 'a: b'}]\n"
    )

    plain = run("config", "show").out
    annotated = run("config", "show", "--sources").out

    assert yaml.safe_load(annotated) == yaml.safe_load(plain)
    assert "    baseUrls: ['https://llm.corp.example/v1']  # file" in annotated


def test_show_sources_of_a_named_missing_file_is_an_error(home: Home, run: Any) -> None:
    target = home.root / "typo.yaml"

    result = run("config", "--config", str(target), "show", "--sources")

    assert result.code == 2
    assert result.err.startswith(f"error: {target}: no such file. Create it with ")
