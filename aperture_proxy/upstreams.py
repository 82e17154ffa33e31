"""The upstream registry: well-known LLM providers agents call, and user additions."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from aperture_proxy.config import Config

CredentialMode = Literal["auto", "strip", "passthrough"]
MissingModelAction = Literal["warn", "block"]


class Api(enum.StrEnum):
    """An API format, named as Pi names it (SPEC §2.5)."""

    ANTHROPIC_MESSAGES = "anthropic-messages"
    OPENAI_COMPLETIONS = "openai-completions"
    OPENAI_RESPONSES = "openai-responses"
    OPENAI_CODEX_RESPONSES = "openai-codex-responses"
    GOOGLE_GENERATIVE_AI = "google-generative-ai"
    GOOGLE_VERTEX = "google-vertex"
    BEDROCK = "bedrock"

    @property
    def is_openai_style(self) -> bool:
        return self in (Api.OPENAI_COMPLETIONS, Api.OPENAI_RESPONSES)


@dataclass(frozen=True)
class Upstream:
    """One upstream provider as its clients see it.

    ``base_urls`` may hold ``{location}`` / ``{region}`` host patterns. ``api_paths``
    are the path prefixes under a base URL that are model API calls; an empty tuple
    means everything under the base is an API call.
    """

    id: str
    base_urls: tuple[str, ...]
    api: Api
    api_paths: tuple[str, ...] = ()
    credentials: CredentialMode = "auto"
    check_gateway_models: bool = False
    on_missing_model: MissingModelAction = "warn"
    gateway_provider: str | None = None
    # Other ids a gateway may give the same provider (matched like an equal id).
    aliases: tuple[str, ...] = ()


def _entry(
    id: str,
    base: str | tuple[str, ...],
    api: Api,
    *paths: str,
    aliases: tuple[str, ...] = (),
) -> Upstream:
    bases = (base,) if isinstance(base, str) else base
    return Upstream(id=id, base_urls=bases, api=api, api_paths=paths, aliases=aliases)


BUILTIN_UPSTREAMS: tuple[Upstream, ...] = (
    _entry(
        "anthropic",
        "https://api.anthropic.com",
        Api.ANTHROPIC_MESSAGES,
        "/v1/messages",
        "/v1/models",
        "/v1/complete",
    ),
    _entry("openai", "https://api.openai.com/v1", Api.OPENAI_RESPONSES),
    _entry(
        "openai-codex",
        "https://chatgpt.com/backend-api",
        Api.OPENAI_CODEX_RESPONSES,
        "/codex/",
    ),
    # google-genai for Python 3.x calls /v1 by default; the gateway serves the
    # Gemini API under /v1beta only, and v1beta accepts every v1 request.
    _entry(
        "google",
        (
            "https://generativelanguage.googleapis.com/v1beta",
            "https://generativelanguage.googleapis.com/v1",
        ),
        Api.GOOGLE_GENERATIVE_AI,
        aliases=("gemini",),
    ),
    _entry(
        "google-vertex",
        (
            "https://{location}-aiplatform.googleapis.com",
            "https://aiplatform.googleapis.com",
        ),
        Api.GOOGLE_VERTEX,
        "/v1/projects/",
        "/v1beta1/projects/",
        aliases=("vertex",),
    ),
    _entry(
        "amazon-bedrock",
        "https://bedrock-runtime.{region}.amazonaws.com",
        Api.BEDROCK,
        "/model/",
        aliases=("bedrock",),
    ),
    _entry("groq", "https://api.groq.com/openai/v1", Api.OPENAI_COMPLETIONS),
    _entry("cerebras", "https://api.cerebras.ai/v1", Api.OPENAI_COMPLETIONS),
    _entry("xai", "https://api.x.ai/v1", Api.OPENAI_COMPLETIONS),
    _entry("openrouter", "https://openrouter.ai/api/v1", Api.OPENAI_COMPLETIONS),
    _entry("mistral", "https://api.mistral.ai/v1", Api.OPENAI_COMPLETIONS),
    _entry(
        "deepseek",
        "https://api.deepseek.com",
        Api.OPENAI_COMPLETIONS,
        "/chat/completions",
        "/completions",
        "/models",
        "/beta/",
        "/v1/",
    ),
    _entry("zai", "https://api.z.ai/api/coding/paas/v4", Api.OPENAI_COMPLETIONS),
    _entry("huggingface", "https://router.huggingface.co/v1", Api.OPENAI_COMPLETIONS),
)

BUILTIN_BY_ID: dict[str, Upstream] = {u.id: u for u in BUILTIN_UPSTREAMS}

#: Upstreams selected when the config names none.
DEFAULT_SELECTION: tuple[str, ...] = ("anthropic", "openai", "openai-codex", "google")


class UnknownUpstreamError(ValueError):
    """A selected upstream id is neither built in nor fully defined by the user."""


@dataclass(frozen=True)
class UpstreamOverride:
    """What a user's config says about one upstream (a plain mirror of the config)."""

    id: str
    enabled: bool = True
    credentials: CredentialMode = "auto"
    check_gateway_models: bool = False
    on_missing_model: MissingModelAction = "warn"
    gateway_provider: str | None = None
    base_urls: tuple[str, ...] = ()
    api: str | None = None
    api_paths: tuple[str, ...] | None = None


def resolve_upstream(override: UpstreamOverride) -> Upstream:
    """Merge a user's entry over the built-in one of the same id.

    A user entry for an id the registry does not know must name its base URL and
    API format; the message says so.
    """
    base = BUILTIN_BY_ID.get(override.id)
    if base is None and (not override.base_urls or override.api is None):
        known = ", ".join(sorted(BUILTIN_BY_ID))
        raise UnknownUpstreamError(
            f"upstream {override.id!r} is not built in ({known}); "
            "define it with baseUrls and api"
        )
    api = Api(override.api) if override.api else base.api  # type: ignore[union-attr]
    if base is None:
        base = Upstream(id=override.id, base_urls=override.base_urls, api=api)
    return dataclasses.replace(
        base,
        base_urls=override.base_urls or base.base_urls,
        api=api,
        api_paths=(
            override.api_paths if override.api_paths is not None else base.api_paths
        ),
        credentials=override.credentials,
        check_gateway_models=override.check_gateway_models,
        on_missing_model=override.on_missing_model,
        gateway_provider=override.gateway_provider,
    )


def select_upstreams(overrides: Iterable[UpstreamOverride]) -> list[Upstream]:
    """The upstreams to reroute, in config order, without disabled entries."""
    return [resolve_upstream(o) for o in overrides if o.enabled]


def upstreams_from_config(config: Config) -> list[UpstreamOverride]:
    """The config's ``proxy.upstreamProviders`` as registry overrides."""
    return [
        UpstreamOverride(
            id=entry.id,
            enabled=entry.enabled,
            credentials=entry.credentials,
            check_gateway_models=entry.should_check_gateway_models,
            on_missing_model=entry.on_missing_model,
            gateway_provider=entry.gateway_provider,
            base_urls=tuple(entry.base_urls),
            api=entry.api,
            api_paths=tuple(entry.api_paths) if entry.api_paths is not None else None,
        )
        for entry in config.proxy.upstream_providers
    ]


def builtin(ids: Sequence[str]) -> list[Upstream]:
    """Built-in upstreams by id, with default settings (handy for tests and demos)."""
    return [BUILTIN_BY_ID[i] for i in ids]
