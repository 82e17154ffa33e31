"""The configuration file: URL normalisation, loading, errors, seed import, writing."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from aperture_proxy import config as config_mod
from aperture_proxy.config import (
    Config,
    ConfigError,
    DedicatedProvider,
    UpstreamSetting,
    default_config_path,
    import_seed_config,
    load_config,
    normalize_gateway_url,
    resolve_config_path,
    write_config,
)

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "config.yaml"


def write(tmp_path: Path, text: str, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problem_of(path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(write(path, text), env={})
    message = str(caught.value)
    assert message.startswith(str(path / "config.yaml"))
    return message


# --- normalize_gateway_url ---

NORMALISED = [
    ("ai", "http://ai"),
    ("ai.example-tailnet.ts.net", "http://ai.example-tailnet.ts.net"),
    ("http://ai.example-tailnet.ts.net/", "http://ai.example-tailnet.ts.net"),
    ("http://ai.example-tailnet.ts.net/v1", "http://ai.example-tailnet.ts.net"),
    ("http://ai.example-tailnet.ts.net/v1/", "http://ai.example-tailnet.ts.net"),
    (
        "https://ai.example-tailnet.ts.net/ui/?tab=1#x",
        "https://ai.example-tailnet.ts.net",
    ),
    ("ai/v1/models?limit=5", "http://ai"),
    ("HTTP://AI.Example-Tailnet.TS.net", "http://ai.example-tailnet.ts.net"),
    ("https://ai:443", "https://ai"),
    ("http://ai:80/", "http://ai"),
    ("http://ai:443", "http://ai:443"),
    ("https://ai:80", "https://ai:80"),
    ("ai:8080", "http://ai:8080"),
    ("127.0.0.1:9999/v1", "http://127.0.0.1:9999"),
    ("http://[::1]:8080/", "http://[::1]:8080"),
    ("  ai  ", "http://ai"),
]


@pytest.mark.parametrize(("value", "expected"), NORMALISED)
def test_gateway_url_is_normalised_to_its_origin(value: str, expected: str) -> None:
    assert normalize_gateway_url(value) == expected


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("ftp://ai", "expected an http:// or https:// URL"),
        ("", "empty"),
        ("   ", "empty"),
        ("http://", "no host"),
        ("http://a b", "invalid host name"),
        ("ai:99999", "invalid port"),
        ("ai:0", "invalid port"),
        ("http://me:secret@ai", "must not contain a user name or password"),
    ],
)
def test_gateway_url_that_is_not_http_is_rejected(value: str, words: str) -> None:
    with pytest.raises(ValueError) as caught:
        normalize_gateway_url(value)
    assert words in str(caught.value)
    assert "secret" not in str(caught.value)


# --- where the file lives ---


def test_default_path_follows_xdg_config_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert default_config_path() == tmp_path / "aperture-proxy" / "config.yaml"


def test_config_flag_wins_over_environment(tmp_path: Path) -> None:
    env = {"APERTURE_PROXY_CONFIG": str(tmp_path / "env.yaml")}
    flag = str(tmp_path / "flag.yaml")
    assert resolve_config_path(flag, env) == tmp_path / "flag.yaml"
    assert resolve_config_path(None, env) == tmp_path / "env.yaml"
    assert resolve_config_path(None, {}) == default_config_path()


def test_load_reads_the_file_named_by_aperture_proxy_config(tmp_path: Path) -> None:
    path = write(tmp_path, "baseUrl: ai\n", name="elsewhere.yaml")
    config = load_config(env={"APERTURE_PROXY_CONFIG": str(path)})
    assert config.base_url == "http://ai"


# --- loading ---


def test_missing_file_gives_the_defaults(tmp_path: Path) -> None:
    config = load_config(tmp_path / "absent.yaml", env={})
    assert config == Config()
    assert config.base_url is None
    assert config.proxy.enabled is True
    assert config.proxy.listen == "127.0.0.1:8080"
    assert [u.id for u in config.proxy.upstream_providers] == [
        "anthropic",
        "openai",
        "openai-codex",
        "google",
    ]
    assert all(
        u.enabled and u.credentials == "auto" for u in config.proxy.upstream_providers
    )
    assert config.dedicated.enabled is False
    assert config.connectors.enabled is False
    assert config.connectors.discovery_tools is True


def test_missing_file_that_must_exist_says_how_to_create_one(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={}, must_exist=True)
    message = str(caught.value)
    assert message.startswith(str(path))
    assert "Create it with `aperture-proxy onboard`" in message
    assert "examples/config.yaml" in message
    assert "aperture-proxy config import" in message


def test_empty_file_gives_the_defaults(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "# nothing yet\n"), env={}) == Config()


def test_spec_example_loads(tmp_path: Path) -> None:
    text = """\
baseUrl: http://ai.example-tailnet.ts.net
onboardingDone: true
proxy:
  enabled: true
  listen: 127.0.0.1:8080
  upstreamProviders:
    - { id: anthropic, shouldCheckGatewayModels: true }
    - { id: openai-codex, credentials: auto }
dedicated:
  enabled: true
  providers: []                 # empty = every gateway provider
connectors:
  enabled: false
  discoveryTools: true
  pinnedTools:
    - { connectorId: github, toolName: github_list_repos }
"""
    config = load_config(write(tmp_path, text), env={})
    assert config.base_url == "http://ai.example-tailnet.ts.net"
    assert config.onboarding_done is True
    assert config.proxy.upstream_providers == [
        UpstreamSetting(id="anthropic", should_check_gateway_models=True),
        UpstreamSetting(id="openai-codex"),
    ]
    assert config.dedicated.enabled is True
    assert config.connectors.pinned_tools[0].connector_id == "github"
    assert config.connectors.pinned_tools[0].tool_name == "github_list_repos"


def test_json_content_is_accepted(tmp_path: Path) -> None:
    text = json.dumps({"baseUrl": "ai/v1", "proxy": {"listen": "[::1]:9000"}})
    config = load_config(write(tmp_path, text, name="config.json"), env={})
    assert config.base_url == "http://ai"
    assert (config.proxy.listen_host, config.proxy.listen_port) == ("::1", 9000)


def test_new_upstream_with_a_single_base_url(tmp_path: Path) -> None:
    text = """\
proxy:
  upstreamProviders:
    - id: my-llm
      baseUrl: https://llm.internal.example/v1
      api: openai-completions
      apiPaths: [/chat/completions]
      gatewayProvider: internal
      credentials: strip
      onMissingModel: block
"""
    (entry,) = load_config(write(tmp_path, text), env={}).proxy.upstream_providers
    assert entry.base_urls == ["https://llm.internal.example/v1"]
    assert entry.api == "openai-completions"
    assert entry.api_paths == ["/chat/completions"]
    assert entry.gateway_provider == "internal"
    assert entry.credentials == "strip"
    assert entry.on_missing_model == "block"


def test_upstream_entry_by_id() -> None:
    proxy = Config().proxy
    assert proxy.upstream("openai-codex") == UpstreamSetting(id="openai-codex")
    assert proxy.upstream("groq") is None


def test_dedicated_providers_may_be_plain_ids(tmp_path: Path) -> None:
    text = "dedicated:\n  providers: [anthropic, {id: google, enabled: false}]\n"
    config = load_config(write(tmp_path, text), env={})
    assert config.dedicated.providers == [
        DedicatedProvider(id="anthropic", enabled=True),
        DedicatedProvider(id="google", enabled=False),
    ]


# --- errors a person can cause ---


def test_yaml_syntax_error_names_file_line_and_column(tmp_path: Path) -> None:
    message = problem_of(tmp_path, "proxy:\n  enabled: true\n   listen: x\n")
    assert "line 3, column 10" in message
    assert "not valid YAML" in message


def test_duplicate_key_is_an_error_not_silently_the_last(tmp_path: Path) -> None:
    message = problem_of(tmp_path, "proxy:\n  enabled: true\n  enabled: false\n")
    assert "line 3" in message
    assert "'enabled' appears twice" in message


def test_merge_keys_may_override_what_they_merge(tmp_path: Path) -> None:
    text = """\
proxy:
  upstreamProviders:
    - &strict {id: anthropic, credentials: strip}
    - {<<: *strict, id: openai, credentials: passthrough}
"""
    upstreams = load_config(write(tmp_path, text), env={}).proxy.upstream_providers
    assert [(u.id, u.credentials) for u in upstreams] == [
        ("anthropic", "strip"),
        ("openai", "passthrough"),
    ]


def test_top_level_that_is_not_a_mapping(tmp_path: Path) -> None:
    message = problem_of(tmp_path, "- baseUrl: ai\n")
    assert "the top level is a list; expected a mapping of settings" in message
    assert "`aperture-proxy onboard` writes a good one" in message


def test_unknown_top_level_key_suggests_the_close_one(tmp_path: Path) -> None:
    message = problem_of(tmp_path, "baseURL: http://ai\n")
    assert "baseURL (line 1): unknown key; did you mean 'baseUrl'?" in message


def test_snake_case_key_suggests_the_camel_case_one(tmp_path: Path) -> None:
    message = problem_of(tmp_path, "onboarding_done: true\n")
    assert "onboarding_done (line 1): unknown key; did you mean 'onboardingDone'?" in (
        message
    )


def test_unknown_nested_key_has_its_dotted_path(tmp_path: Path) -> None:
    text = (
        "proxy:\n  upstreamProviders:\n    - id: anthropic\n      credential: strip\n"
    )
    message = problem_of(tmp_path, text)
    assert (
        "proxy.upstreamProviders[0].credential (line 4): unknown key; "
        "did you mean 'credentials'?"
    ) in message


def test_unknown_key_without_a_close_match_lists_the_known_ones(tmp_path: Path) -> None:
    message = problem_of(tmp_path, "connectors:\n  zzz: 1\n")
    assert "connectors.zzz (line 2): unknown key (known keys: enabled, " in message


def test_mode_key_explains_the_independent_flags(tmp_path: Path) -> None:
    message = problem_of(tmp_path, "mode: proxy\n")
    assert "mode (line 1): unknown key; there is no `mode` setting" in message
    assert "proxy.enabled, dedicated.enabled and connectors.enabled" in message


WRONG_TYPES = [
    (
        "baseUrl: ftp://ai\n",
        "baseUrl (line 1): 'ftp://ai' uses ftp://; expected an http",
    ),
    ("baseUrl: 5\n", "baseUrl (line 1): got 5; expected a URL such as http://ai"),
    ("onboardingDone: maybe\n", 'onboardingDone (line 1): got "maybe"; expected true'),
    ("proxy: on\n", "proxy (line 1): got true; expected a mapping of keys"),
    ("proxy:\n  enabled: 'yes'\n", 'proxy.enabled (line 2): got "yes"; expected true'),
    (
        "proxy:\n  listen: 8080\n",
        "proxy.listen (line 2): got 8080; expected a quoted host:port such as "
        "'127.0.0.1:8080'",
    ),
    (
        "proxy:\n  listen: localhost\n",
        "proxy.listen (line 2): 'localhost' is not a listen address; expected "
        "host:port such as 127.0.0.1:8080",
    ),
    (
        "proxy:\n  listen: 'x:70000'\n",
        "proxy.listen (line 2): 'x:70000' has port 70000",
    ),
    (
        "proxy:\n  upstreamProviders: anthropic\n",
        'proxy.upstreamProviders (line 2): got "anthropic"; expected a list',
    ),
    (
        "proxy:\n  upstreamProviders:\n    - {id: a}\n"
        "    - {id: b, credentials: nope}\n",
        'proxy.upstreamProviders[1].credentials (line 4): got "nope"; expected one of '
        "'auto', 'strip' or 'passthrough'",
    ),
    (
        "proxy:\n  upstreamProviders:\n    - {credentials: strip}\n",
        "proxy.upstreamProviders[0].id (line 3): this key is required",
    ),
    (
        "proxy:\n  upstreamProviders:\n    - {id: a, onMissingModel: stop}\n",
        'proxy.upstreamProviders[0].onMissingModel (line 3): got "stop"; expected '
        "one of 'warn' or 'block'",
    ),
    (
        "proxy:\n  upstreamProviders:\n    - {id: a, api: grpc}\n",
        'proxy.upstreamProviders[0].api (line 3): got "grpc"; expected one of',
    ),
    (
        "proxy:\n  upstreamProviders:\n    - {id: a, baseUrls: [ftp://x]}\n",
        "proxy.upstreamProviders[0].baseUrls (line 3): 'ftp://x' is not a base URL",
    ),
    (
        "proxy:\n  upstreamProviders:\n    - {id: a, baseUrl: 5}\n",
        "proxy.upstreamProviders[0] (line 3): baseUrl must be a URL string",
    ),
    (
        "proxy:\n  upstreamProviders:\n    - {id: a, apiPaths: [v1/chat]}\n",
        "proxy.upstreamProviders[0].apiPaths (line 3): 'v1/chat' is not a path prefix",
    ),
    (
        "proxy:\n  upstreamProviders:\n    - {id: anthropic}\n    - {id: anthropic}\n",
        "proxy.upstreamProviders (line 2): the id 'anthropic' appears twice "
        "([0] and [1])",
    ),
    (
        "proxy:\n  upstreamProviders:\n    - {id: 'has space'}\n",
        "proxy.upstreamProviders[0].id (line 3): 'has space' is not a provider id",
    ),
    ("dedicated:\n  enabled: 1\n", "dedicated.enabled (line 2): got 1; expected true"),
    (
        "dedicated:\n  providers: [anthropic, 5]\n",
        "dedicated.providers[1] (line 2): got 5; expected a mapping of keys",
    ),
    ("connectors: []\n", "connectors (line 1): got a list; expected a mapping of keys"),
    (
        "connectors:\n  pinnedTools:\n    - {connectorId: github}\n",
        "connectors.pinnedTools[0].toolName (line 3): this key is required",
    ),
    (
        "connectors:\n  discoveryTools: null\n",
        "connectors.discoveryTools (line 2): got null; expected true or false",
    ),
]


@pytest.mark.parametrize(("text", "expected"), WRONG_TYPES)
def test_wrong_value_names_file_key_and_expectation(
    tmp_path: Path, text: str, expected: str
) -> None:
    assert expected in problem_of(tmp_path, text)


def test_every_problem_is_reported_at_once_in_file_order(tmp_path: Path) -> None:
    text = """\
mode: dedicated
proxy:
  listen: 8080
  enabeld: true
dedicated:
  enabled: "no"
"""
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text), env={})
    error = caught.value
    assert str(error).splitlines()[0] == f"{tmp_path / 'config.yaml'}: 4 problems:"
    assert [p.split(" ")[0] for p in error.problems] == [
        "mode",
        "proxy.listen",
        "proxy.enabeld",
        "dedicated.enabled",
    ]
    assert error.path == tmp_path / "config.yaml"


def test_directory_instead_of_a_file_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path, env={})
    assert str(caught.value).startswith(f"{tmp_path}: is a directory")


def test_file_that_is_not_utf8_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_bytes(b"baseUrl: \xff\xfe\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    assert str(caught.value).startswith(f"{path}: is not UTF-8 text")


# --- where the gateway URL comes from ---


def test_gateway_flag_beats_environment_beats_file(tmp_path: Path) -> None:
    path = write(tmp_path, "baseUrl: file-gw\n")
    env = {"APERTURE_URL": "env-gw"}
    assert load_config(path, env={}).base_url == "http://file-gw"
    assert load_config(path, env=env).base_url == "http://env-gw"
    assert load_config(path, env=env, gateway="flag-gw/v1").base_url == "http://flag-gw"


def test_empty_aperture_url_is_ignored(tmp_path: Path) -> None:
    path = write(tmp_path, "baseUrl: file-gw\n")
    assert load_config(path, env={"APERTURE_URL": ""}).base_url == "http://file-gw"


def test_bad_gateway_flag_names_the_flag(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "absent.yaml", env={}, gateway="ftp://ai")
    assert str(caught.value).startswith("--gateway='ftp://ai' is not a usable gateway")


def test_bad_aperture_url_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "absent.yaml", env={"APERTURE_URL": "http://"})
    assert str(caught.value).startswith("APERTURE_URL='http://' is not a usable")


def test_empty_base_url_in_the_file_means_unset(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, 'baseUrl: ""\n'), env={}).base_url is None


# --- importing the Pi extension's aperture.json ---


def test_seed_import_keeps_every_setting_we_model(tmp_path: Path) -> None:
    seed = {
        "baseUrl": "http://ai.example-tailnet.ts.net/v1/",
        "onboardingDone": True,
        "proxy": {
            "enabled": True,
            "upstreamProviders": [
                {"id": "anthropic", "shouldCheckGatewayModels": True},
                {"id": "zai", "apertureProviderId": "zai-coding"},
            ],
        },
        "dedicated": {
            "enabled": True,
            "providers": [{"id": "openai", "name": "OpenAI", "enabled": True}],
        },
        "connectors": {
            "enabled": True,
            "discoveryTools": False,
            "pinnedTools": [{"connectorId": "github", "toolName": "github_list_repos"}],
        },
    }
    config, warnings = import_seed_config(write(tmp_path, json.dumps(seed), "a.json"))
    assert config.base_url == "http://ai.example-tailnet.ts.net"
    assert config.onboarding_done is True
    assert config.proxy.upstream_providers == [
        UpstreamSetting(id="anthropic", should_check_gateway_models=True),
        UpstreamSetting(id="zai", gateway_provider="zai-coding"),
    ]
    assert config.dedicated.providers == [DedicatedProvider(id="openai")]
    assert config.connectors.enabled is True
    assert config.connectors.discovery_tools is False
    assert warnings == [
        "ignored dedicated.providers[*].name: aperture-proxy does not use it"
    ]


def test_seed_keys_we_do_not_model_are_warnings_not_errors(tmp_path: Path) -> None:
    seed = {
        "$schema": "https://example.invalid/schema.json",
        "onboarding": {"enabled": True},
        "proxy": {
            "upstreamProviders": [
                {"id": "anthropic", "keepGatewayModelsOnly": True},
                {"id": "openai", "keepGatewayModelsOnly": False},
            ]
        },
        "dedicated": {"cachedModels": [{"id": "old"}]},
    }
    config, warnings = import_seed_config(write(tmp_path, json.dumps(seed), "a.json"))
    assert [u.id for u in config.proxy.upstream_providers] == ["anthropic", "openai"]
    assert warnings == [
        "ignored $schema: aperture-proxy does not use it",
        "ignored onboarding: aperture-proxy does not use it",
        "ignored proxy.upstreamProviders[*].keepGatewayModelsOnly (2 entries): "
        "aperture-proxy does not use it",
        "ignored dedicated.cachedModels: aperture-proxy does not use it",
    ]


def test_seed_legacy_mode_becomes_the_capability_flags(tmp_path: Path) -> None:
    seed = {"mode": "dedicated", "apertureProvider": True}
    config, warnings = import_seed_config(write(tmp_path, json.dumps(seed), "a.json"))
    assert config.proxy.enabled is False
    assert config.dedicated.enabled is True
    assert "converted mode: dedicated into proxy.enabled/dedicated.enabled" in warnings


def test_seed_legacy_provider_list_becomes_upstreams(tmp_path: Path) -> None:
    seed = {"providers": ["anthropic", "openai"], "checkGatewayModels": ["openai"]}
    config, _ = import_seed_config(write(tmp_path, json.dumps(seed), "a.json"))
    assert config.proxy.enabled is True
    assert config.proxy.upstream_providers == [
        UpstreamSetting(id="anthropic"),
        UpstreamSetting(id="openai", should_check_gateway_models=True),
    ]


def test_seed_legacy_provider_list_loses_to_upstream_providers(
    tmp_path: Path,
) -> None:
    seed = {"providers": ["openai"], "proxy": {"upstreamProviders": [{"id": "xai"}]}}
    config, warnings = import_seed_config(write(tmp_path, json.dumps(seed), "a.json"))
    assert [u.id for u in config.proxy.upstream_providers] == ["xai"]
    assert warnings == ["ignored providers: proxy.upstreamProviders is set"]


def test_seed_gateway_id_equal_to_the_id_is_not_a_pin(tmp_path: Path) -> None:
    seed = {"proxy": {"upstreamProviders": [{"id": "openai", "gatewayId": "openai"}]}}
    config, _ = import_seed_config(write(tmp_path, json.dumps(seed), "a.json"))
    assert config.proxy.upstream_providers[0].gateway_provider is None


def test_seed_with_a_wrong_type_names_the_seed_file_and_key(tmp_path: Path) -> None:
    seed = '{\n  "proxy": {\n    "enabled": "yes"\n  }\n}\n'
    path = write(tmp_path, seed, "aperture.json")
    with pytest.raises(ConfigError) as caught:
        import_seed_config(path)
    message = str(caught.value)
    assert message.startswith(str(path))
    assert 'proxy.enabled (line 3): got "yes"; expected true or false' in message


def test_seed_that_is_not_json(tmp_path: Path) -> None:
    path = write(tmp_path, '{"baseUrl": "ai",}', "aperture.json")
    with pytest.raises(ConfigError) as caught:
        import_seed_config(path)
    assert str(caught.value).startswith(f"{path}: line 1, column 17")
    assert "not valid JSON" in str(caught.value)


def test_missing_seed_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        import_seed_config(tmp_path / "aperture.json")
    assert str(caught.value).startswith(f"{tmp_path / 'aperture.json'}: no such file")


# --- writing ---


def test_to_yaml_round_trips_through_load(tmp_path: Path) -> None:
    config = Config.model_validate(
        {
            "baseUrl": "https://ai.example-tailnet.ts.net",
            "proxy": {
                "listen": "127.0.0.1:9090",
                "upstreamProviders": [
                    {"id": "anthropic", "credentials": "passthrough"},
                    {
                        "id": "mine",
                        "baseUrls": ["https://a.example/v1", "https://b.example/v1"],
                        "api": "openai-completions",
                        "apiPaths": ["/chat/"],
                    },
                ],
            },
            "dedicated": {"enabled": True, "providers": ["openai"]},
            "connectors": {"pinnedTools": [{"connectorId": "c", "toolName": "c_t"}]},
        }
    )
    text = config.to_yaml()
    assert text.startswith("baseUrl: https://ai.example-tailnet.ts.net\n")
    assert "upstreamProviders:" in text and "upstream_providers" not in text
    assert load_config(write(tmp_path, text), env={}) == config


def test_default_yaml_has_no_empty_new_upstream_fields() -> None:
    text = Config().to_yaml()
    assert "baseUrls" not in text
    assert "apiPaths" not in text
    assert "gatewayProvider" not in text


def test_write_config_creates_dirs_and_is_private(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "config.yaml"
    config = Config(base_url="ai")
    write_config(config, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_config(path, env={}) == config
    assert sorted(p.name for p in path.parent.iterdir()) == ["config.yaml"]


def test_write_config_replaces_the_file_in_one_step(tmp_path: Path) -> None:
    path = write(tmp_path, "baseUrl: old\n")
    before = path.stat().st_ino
    write_config(Config(base_url="new"), path)
    assert path.stat().st_ino != before
    assert load_config(path, env={}).base_url == "http://new"


def test_failed_write_leaves_the_old_file_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "baseUrl: old\n")

    def refuse(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(config_mod.os, "replace", refuse)
    with pytest.raises(ConfigError) as caught:
        write_config(Config(base_url="new"), path)
    assert str(caught.value).startswith(f"{path}: cannot write")
    assert "No space left on device" in str(caught.value)
    assert path.read_text() == "baseUrl: old\n"
    assert os.listdir(tmp_path) == ["config.yaml"]


def test_assignment_is_validated_too() -> None:
    config = Config()
    config.base_url = "AI/v1"
    assert config.base_url == "http://ai"


# --- the shipped example ---


def test_example_config_loads() -> None:
    if not EXAMPLE.exists():
        pytest.skip("examples/config.yaml is not written yet")
    config = load_config(EXAMPLE, env={}, must_exist=True)
    assert config.base_url is not None


@pytest.mark.parametrize(
    ("entry", "missing"),
    [
        ("{id: nope}", "baseUrl and api"),
        ("{id: corp, baseUrl: 'https://llm.corp.test/v1'}", "api"),
        ("{id: corp, api: openai-completions}", "baseUrl"),
    ],
)
def test_an_upstream_that_is_neither_built_in_nor_defined_is_named(
    tmp_path: Path, entry: str, missing: str
) -> None:
    problem = problem_of(tmp_path, f"proxy:\n  upstreamProviders:\n    - {entry}\n")
    assert "proxy.upstreamProviders[0] (line 3)" in problem
    assert f"to define your own, give it {missing}" in problem


def test_every_bad_upstream_is_reported_at_once(tmp_path: Path) -> None:
    text = "proxy:\n  upstreamProviders:\n    - {id: x1}\n    - {id: x2}\n"
    problem = problem_of(tmp_path, text)
    assert "2 problems" in problem
    assert "'x1' is not a built-in upstream" in problem
    assert "'x2' is not a built-in upstream" in problem


def test_a_huge_file_is_refused_with_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("# " + "x" * 2_000_000 + "\n")
    with pytest.raises(ConfigError, match="is this the right file"):
        load_config(path, env={})


def test_deep_nesting_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("proxy: " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ConfigError, match="nested too deeply"):
        load_config(path, env={})
