"""The configuration file: its model, where it lives, loading and writing."""

from __future__ import annotations

import ipaddress
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

import platformdirs
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from aperture_proxy._config_errors import describe_validation_error, kind_of, show

__all__ = [
    "Config",
    "ConfigError",
    "ConnectorSettings",
    "DedicatedProvider",
    "DedicatedSettings",
    "PinnedTool",
    "ProxySettings",
    "UpstreamSetting",
    "default_config_path",
    "import_seed_config",
    "load_config",
    "normalize_gateway_url",
    "read_config_data",
    "resolve_config_path",
    "write_config",
    "write_text_atomic",
]

APP_NAME = "aperture-proxy"
CONFIG_ENV = "APERTURE_PROXY_CONFIG"
GATEWAY_ENV = "APERTURE_URL"

ApiName = Literal[
    "anthropic-messages",
    "openai-completions",
    "openai-responses",
    "openai-codex-responses",
    "google-generative-ai",
    "google-vertex",
    "bedrock",
]


class ConfigError(Exception):
    """A configuration problem, worded for the person who has to fix it.

    `path` is the file involved (if any) and `problems` one line per bad key.
    """

    def __init__(
        self, message: str, *, path: Path | None = None, problems: Sequence[str] = ()
    ) -> None:
        super().__init__(message)
        self.path = path
        self.problems = list(problems)


# --- the gateway URL ---

_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_HOST_RE = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_gateway_url(value: str) -> str:
    """Reduce a gateway URL as people type it to the gateway's origin.

    A bare host gets `http://`; path, query, fragment (so also a trailing `/v1`)
    are removed; the host is lowercased and default ports are dropped.

        assert normalize_gateway_url("ai") == "http://ai"
        assert normalize_gateway_url("HTTP://AI.Example-Tailnet.ts.net/v1/") == (
            "http://ai.example-tailnet.ts.net"
        )
        assert normalize_gateway_url("https://ai:443") == "https://ai"
        assert normalize_gateway_url("ai:8443") == "http://ai:8443"

    Raises ValueError, with a message naming the value, for anything that is not
    an http:// or https:// URL with a host.
    """
    text = value.strip()
    if not text:
        raise ValueError(
            "the gateway URL is empty; expected a host such as ai or a URL such "
            "as http://ai.example-tailnet.ts.net"
        )
    if not _SCHEME_RE.match(text):
        text = "http://" + text
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError(
            f"{value!r} uses {scheme}://; expected an http:// or https:// URL "
            "such as http://ai.example-tailnet.ts.net"
        )
    if parts.username is not None or parts.password is not None:
        # Aperture authenticates by tailnet identity; a password here is a leak.
        raise ValueError(
            f"the gateway URL must not contain a user name or password (got "
            f"{scheme}://…@{parts.hostname}); Aperture identifies callers by "
            "their tailnet identity"
        )
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise ValueError(f"{value!r} has no host name; expected e.g. http://ai")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise ValueError(
            f"{value!r} has an invalid port; expected a number from 1 to 65535"
        )
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(f"{value!r} has an invalid IPv6 host") from None
        host = f"[{host}]"
    elif not _HOST_RE.fullmatch(host):
        raise ValueError(
            f"{value!r} has an invalid host name {host!r}; expected letters, "
            "digits, '-' and '.' only"
        )
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


# --- the model ---


class _Section(BaseModel):
    """Settings read from a file: camelCase keys, no unknown keys, no coercion."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        extra="forbid",
        strict=True,
        validate_assignment=True,
    )

    # Keys a file may use besides the fields' own; a before-validator folds them in.
    shorthand_keys: ClassVar[tuple[str, ...]] = ()


_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_UPSTREAM_URL_RE = re.compile(r"https?://[^/\s]+(/\S*)?")


def _check_id(value: str) -> str:
    if not _ID_RE.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a provider id; expected letters, digits, '.', '_' "
            "or '-', such as openai-codex"
        )
    return value


def _check_unique_ids(entries: Sequence[UpstreamSetting | DedicatedProvider]) -> None:
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        if entry.id in seen:
            raise ValueError(
                f"the id {entry.id!r} appears twice ([{seen[entry.id]}] and "
                f"[{index}]); list each provider once"
            )
        seen[entry.id] = index


class UpstreamSetting(_Section):
    """One entry of `proxy.upstreamProviders`: a built-in upstream or a new one."""

    shorthand_keys: ClassVar[tuple[str, ...]] = ("baseUrl",)

    id: str
    enabled: bool = True
    credentials: Literal["auto", "strip", "passthrough"] = "auto"
    should_check_gateway_models: bool = False
    on_missing_model: Literal["warn", "block"] = "warn"
    gateway_provider: str | None = None
    base_urls: list[str] = Field(default_factory=list, exclude_if=lambda v: not v)
    api: ApiName | None = None
    api_paths: list[str] | None = None

    @model_validator(mode="before")
    @classmethod
    def _single_base_url(cls, data: Any) -> Any:
        # People naturally write one `baseUrl`; keep one field in the model.
        if not isinstance(data, dict) or "baseUrl" not in data:
            return data
        data = dict(data)
        single = data.pop("baseUrl")
        if "baseUrls" in data:
            raise ValueError("give either baseUrl or baseUrls, not both")
        if not isinstance(single, str):
            raise ValueError(
                f"baseUrl must be a URL string such as https://api.example.com/v1; "
                f"got {show(single)}"
            )
        data["baseUrls"] = [single]
        return data

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        return _check_id(value)

    @field_validator("base_urls")
    @classmethod
    def _valid_base_urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if not _UPSTREAM_URL_RE.fullmatch(url):
                raise ValueError(
                    f"{url!r} is not a base URL; expected an http:// or https:// "
                    "URL such as https://api.example.com/v1"
                )
        return value

    @field_validator("api_paths")
    @classmethod
    def _valid_api_paths(cls, value: list[str] | None) -> list[str] | None:
        for path in value or []:
            if not path.startswith("/"):
                raise ValueError(
                    f"{path!r} is not a path prefix; expected one starting with /, "
                    "such as /v1/messages"
                )
        return value

    @model_validator(mode="after")
    def _known_or_defined(self) -> UpstreamSetting:
        # Imported here: the registry module imports this one for type hints.
        from aperture_proxy.upstreams import BUILTIN_BY_ID

        if self.id in BUILTIN_BY_ID or (self.base_urls and self.api):
            return self
        missing = " and ".join(
            key
            for key, value in (("baseUrl", self.base_urls), ("api", self.api))
            if not value
        )
        raise ValueError(
            f"{self.id!r} is not a built-in upstream ({', '.join(BUILTIN_BY_ID)}); "
            f"to define your own, give it {missing}"
        )


def _default_upstreams() -> list[UpstreamSetting]:
    return [
        UpstreamSetting(id=name)
        for name in ("anthropic", "openai", "openai-codex", "google")
    ]


_LISTEN_RE = re.compile(
    r"\[(?P<v6>[0-9A-Fa-f:.]+)\]:(?P<p6>\d+)|(?P<host>[^\s:/\[\]]+):(?P<port>\d+)"
)


def _split_listen(value: str) -> tuple[str, int]:
    match = _LISTEN_RE.fullmatch(value)
    expected = "expected host:port such as 127.0.0.1:8080 or [::1]:8080"
    if match is None:
        raise ValueError(f"{value!r} is not a listen address; {expected}")
    host = match["v6"] or match["host"]
    port = int(match["p6"] or match["port"])
    if match["v6"]:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(
                f"{value!r} has an invalid IPv6 address; {expected}"
            ) from None
    if not 1 <= port <= 65535:
        raise ValueError(f"{value!r} has port {port}; expected 1 to 65535")
    return host, port


class ProxySettings(_Section):
    """The `proxy` capability: which upstreams are rerouted, and where we listen."""

    enabled: bool = True
    listen: str = "127.0.0.1:8080"
    upstream_providers: list[UpstreamSetting] = Field(
        default_factory=_default_upstreams
    )

    @field_validator("listen")
    @classmethod
    def _valid_listen(cls, value: str) -> str:
        _split_listen(value)
        return value

    @field_validator("upstream_providers")
    @classmethod
    def _unique_upstreams(cls, value: list[UpstreamSetting]) -> list[UpstreamSetting]:
        _check_unique_ids(value)
        return value

    @property
    def listen_host(self) -> str:
        """The host part of `listen`, without IPv6 brackets."""
        return _split_listen(self.listen)[0]

    @property
    def listen_port(self) -> int:
        """The port part of `listen`."""
        return _split_listen(self.listen)[1]

    def upstream(self, id: str) -> UpstreamSetting | None:
        """The entry for upstream `id`, if the config lists it."""
        return next((u for u in self.upstream_providers if u.id == id), None)


class DedicatedProvider(_Section):
    """One gateway provider filter of the dedicated capability."""

    id: str
    enabled: bool = True

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        return _check_id(value)


class DedicatedSettings(_Section):
    """The `dedicated` capability: an `aperture` provider built from the gateway."""

    enabled: bool = False
    providers: list[DedicatedProvider] = Field(default_factory=list)

    @field_validator("providers", mode="before")
    @classmethod
    def _plain_ids(cls, value: Any) -> Any:
        # A list of ids is the short way of enabling just those providers.
        if not isinstance(value, list):
            return value
        return [{"id": v, "enabled": True} if isinstance(v, str) else v for v in value]

    @field_validator("providers")
    @classmethod
    def _unique_providers(
        cls, value: list[DedicatedProvider]
    ) -> list[DedicatedProvider]:
        _check_unique_ids(value)
        return value


class PinnedTool(_Section):
    """A connector tool exposed as a first-class tool."""

    connector_id: str
    tool_name: str


class ConnectorSettings(_Section):
    """The `connectors` capability: the gateway's MCP tools."""

    enabled: bool = False
    discovery_tools: bool = True
    pinned_tools: list[PinnedTool] = Field(default_factory=list)


class Config(_Section):
    """The whole configuration file. The three `enabled` flags are independent."""

    base_url: str | None = None
    onboarding_done: bool = False
    proxy: ProxySettings = Field(default_factory=ProxySettings)
    dedicated: DedicatedSettings = Field(default_factory=DedicatedSettings)
    connectors: ConnectorSettings = Field(default_factory=ConnectorSettings)

    @field_validator("base_url")
    @classmethod
    def _normalise_base_url(cls, value: str | None) -> str | None:
        # The Pi extension writes "" for "not set yet".
        if value is None or not value.strip():
            return None
        return normalize_gateway_url(value)

    def to_yaml(self) -> str:
        """The config as YAML with camelCase keys, in the model's field order."""
        data = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        return yaml.safe_dump(
            data, sort_keys=False, allow_unicode=True, default_flow_style=False
        )


# --- where the file lives ---


def default_config_path() -> Path:
    """`~/.config/aperture-proxy/config.yaml` on Linux (honours XDG_CONFIG_HOME)."""
    return platformdirs.user_config_path(APP_NAME) / "config.yaml"


def resolve_config_path(
    cli_path: str | None, env: Mapping[str, str] = os.environ
) -> Path:
    """The config file to use: `--config`, then APERTURE_PROXY_CONFIG, then default."""
    if cli_path:
        return Path(cli_path).expanduser()
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV]).expanduser()
    return default_config_path()


# --- loading ---


class _StrictLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicate keys instead of keeping the last."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[str] = set()
    for key_node, _ in node.value:
        # Merge keys (`<<`) may be overridden on purpose; only literal repeats count.
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith("merge"):
            continue
        if key_node.value in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"the key {key_node.value!r} appears twice in this mapping",
                key_node.start_mark,
            )
        seen.add(key_node.value)
    return loader.construct_mapping(node, deep=True)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


_CREATE_HINT = (
    "Create it with `aperture-proxy onboard`, copy examples/config.yaml there, or "
    "import a Pi extension's settings with `aperture-proxy config import`."
)


def read_config_text(path: Path, missing_hint: str | None) -> str | None:
    """The file's text; None when it is missing and `missing_hint` is None."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if missing_hint is None:
            return None
        raise ConfigError(f"{path}: no such file. {missing_hint}", path=path) from None
    except IsADirectoryError:
        raise ConfigError(
            f"{path}: is a directory, not a configuration file; pass the path of "
            "a YAML file with --config or APERTURE_PROXY_CONFIG",
            path=path,
        ) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: is not UTF-8 text (byte {exc.start}); save it as UTF-8",
            path=path,
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot be read ({exc.strerror or exc}); check its permissions",
            path=path,
        ) from None


MAX_CONFIG_BYTES = 1024 * 1024


def _parse_yaml(text: str, path: Path) -> Any:
    if len(text) > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"{path}: is {len(text) / 1e6:.1f} MB; a config file is a few kB — "
            "is this the right file?",
            path=path,
        )
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except RecursionError:
        raise ConfigError(
            f"{path}: nested too deeply to read; a config file is a few levels deep",
            path=path,
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(
            f"{path}: {where}: {problem} — this is not valid YAML (or JSON)",
            path=path,
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(
            f"{path}: not valid YAML (or JSON): {exc}", path=path
        ) from None


def top_level_mapping(data: Any, path: Path) -> dict[str, Any]:
    """The parsed file as a mapping of settings; an empty file gives `{}`."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: the top level is {kind_of(data)}; expected a mapping of "
            "settings such as `baseUrl:` and `proxy:`; `aperture-proxy onboard` "
            "writes a good one",
            path=path,
        )
    return data


def read_config_data(path: Path) -> tuple[dict[str, Any], str]:
    """The settings the file itself holds (no defaults) and its text.

    A missing file gives `({}, "")`; any other problem is a ConfigError.
    """
    text = read_config_text(path, None)
    if not text:
        return {}, ""
    return top_level_mapping(_parse_yaml(text, path), path), text


def validate_config(data: dict[str, Any], path: Path, text: str) -> Config:
    """`data` as a Config; a ConfigError with one line per bad key otherwise.

    `text` is the file's text, used to give each bad key's line number.
    """
    try:
        return Config.model_validate(data, by_alias=True, by_name=False)
    except ValidationError as exc:
        message, problems = describe_validation_error(exc, Config, path, text)
        raise ConfigError(message, path=path, problems=problems) from None


def load_config(
    path: Path | None = None,
    *,
    gateway: str | None = None,
    env: Mapping[str, str] = os.environ,
    must_exist: bool = False,
) -> Config:
    """Read and validate the config file, then apply the gateway overrides.

    The gateway URL comes from `gateway` (the --gateway flag), else APERTURE_URL,
    else the file's `baseUrl`. A missing file gives the defaults unless
    `must_exist`. Every problem is a ConfigError naming the file and each bad key.
    """
    if path is None:
        path = resolve_config_path(None, env)
    text = read_config_text(path, _CREATE_HINT if must_exist else None)
    data = top_level_mapping(_parse_yaml(text, path) if text else None, path)
    config = validate_config(data, path, text or "")

    for source, value in (("--gateway", gateway), (GATEWAY_ENV, env.get(GATEWAY_ENV))):
        if value:
            try:
                config.base_url = normalize_gateway_url(value)
            except ValueError as exc:
                raise ConfigError(
                    f"{source}={value!r} is not a usable gateway URL: {exc}"
                ) from None
            break
    return config


# --- importing the Pi extension's aperture.json ---


def import_seed_config(seed_path: Path) -> tuple[Config, list[str]]:
    """Convert the Pi extension's `aperture.json` into a Config, with warnings.

    See aperture_proxy.config_seed, which does the work.
    """
    # Imported here because config_seed builds on this module.
    from aperture_proxy.config_seed import import_seed_config as import_seed

    return import_seed(seed_path)


# --- writing ---


def write_text_atomic(path: Path, text: str, *, mode: int = 0o600) -> None:
    """Replace `path` with `text` so readers never see half a file.

    Writes a temporary file in the same directory, then renames it over `path`;
    creates missing parent directories. Raises OSError.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_config(config: Config, path: Path) -> None:
    """Save `config` as YAML at `path` atomically, readable only by the user."""
    try:
        write_text_atomic(path, config.to_yaml(), mode=0o600)
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot write the configuration ({exc.strerror or exc}); check "
            "that the directory exists and is writable",
            path=path,
        ) from None
