"""Model capabilities from catalogues (yours, one you point at, the shipped one)."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import platformdirs

from aperture_proxy.config import APP_NAME

__all__ = [
    "DEFAULTS",
    "Capabilities",
    "CapabilityCatalogue",
    "CapabilityError",
    "CapabilityResolver",
    "ModelFacts",
    "load_catalogue",
    "parse_catalogue",
    "resolver_for",
    "shipped_catalogue",
    "user_catalogue_path",
]

log = logging.getLogger(__name__)

CAPABILITIES_ENV = "APERTURE_CAPABILITIES"
# models.dev's api.json is a few megabytes; far more is not a capability catalogue.
MAX_CATALOGUE_BYTES = 64 * 1024 * 1024

# The safe defaults (SPEC §4.1) for a model no catalogue knows.
DEFAULT_CONTEXT = 128_000
DEFAULT_MAX_OUTPUT = 8_192
DEFAULT_INPUT: tuple[str, ...] = ("text",)
DEFAULT_REASONING = False
DEFAULTS: dict[str, object] = {
    "context": DEFAULT_CONTEXT,
    "max_output": DEFAULT_MAX_OUTPUT,
    "input": DEFAULT_INPUT,
    "reasoning": DEFAULT_REASONING,
}
DEFAULTS_SOURCE = "defaults"

# Cost names in USD per million tokens and their models.dev spelling.
COST_NAMES = {
    "input": "input",
    "output": "output",
    "cacheRead": "cache_read",
    "cacheWrite": "cache_write",
}

# Gateway provider ids differ from the catalogues' (models.dev) provider ids.
PROVIDER_ALIASES: dict[str, tuple[str, ...]] = {
    "gemini": ("google",),
    "google-gemini": ("google",),
    "google-ai-studio": ("google",),
    "vertex": ("google-vertex",),
    "vertex-ai": ("google-vertex",),
    "vertexai": ("google-vertex",),
    "bedrock": ("amazon-bedrock",),
    "aws-bedrock": ("amazon-bedrock",),
    "claude": ("anthropic",),
    "z-ai": ("zai",),
    "zhipu": ("zai",),
    "x-ai": ("xai",),
    "grok": ("xai",),
    "chatgpt": ("openai-codex",),
    "codex": ("openai-codex",),
}


class CapabilityError(Exception):
    """A capability catalogue could not be read; names the file or URL."""


@dataclass(frozen=True)
class ModelFacts:
    """What one catalogue says about one model; None where it says nothing."""

    context: int | None = None
    max_output: int | None = None
    input: tuple[str, ...] | None = None
    reasoning: bool | None = None
    cost: Mapping[str, Decimal] = field(default_factory=dict)


@dataclass
class CapabilityCatalogue:
    """A models.dev-shaped catalogue: facts by provider id, then by model id."""

    name: str
    providers: dict[str, dict[str, ModelFacts]]

    def __post_init__(self) -> None:
        self._owners: dict[str, list[str]] = {}
        for provider, models in self.providers.items():
            for model in models:
                self._owners.setdefault(model, []).append(provider)

    def lookup(self, provider_ids: Sequence[str], model_id: str) -> ModelFacts | None:
        """By provider and id first, then by an id only one provider has.

        An id that several providers list is ambiguous and matches nothing: their
        facts often differ (the same model has a smaller window on a
        subscription backend than on the API).
        """
        for provider in provider_ids:
            facts = self.providers.get(provider, {}).get(model_id)
            if facts is not None:
                return facts
        owners = self._owners.get(model_id, [])
        if len(owners) == 1:
            return self.providers[owners[0]][model_id]
        return None


def _positive_int(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if value <= 0 or value != int(value):
        return None
    return int(value)


def _decimal(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() and number >= 0 else None


def _facts(raw: Mapping[str, object]) -> ModelFacts:
    limit = raw.get("limit")
    limit = limit if isinstance(limit, Mapping) else {}
    modalities = raw.get("modalities")
    kinds = modalities.get("input") if isinstance(modalities, Mapping) else None
    inputs: tuple[str, ...] | None = None
    if isinstance(kinds, list) and all(isinstance(k, str) for k in kinds):
        # Agents only distinguish text from text plus images.
        inputs = ("text", "image") if "image" in kinds else ("text",)
    reasoning = raw.get("reasoning")
    cost_raw = raw.get("cost")
    cost: dict[str, Decimal] = {}
    if isinstance(cost_raw, Mapping):
        for name, key in COST_NAMES.items():
            price = _decimal(cost_raw.get(key))
            if price is not None:
                cost[name] = price
    return ModelFacts(
        context=_positive_int(limit.get("context")),
        max_output=_positive_int(limit.get("output")),
        input=inputs,
        reasoning=reasoning if isinstance(reasoning, bool) else None,
        cost=cost,
    )


def parse_catalogue(raw: object, name: str) -> tuple[CapabilityCatalogue, list[str]]:
    """Read a models.dev `api.json`-shaped document leniently.

    `{provider: {models: {id: {limit: {context, output}, reasoning, modalities:
    {input}, cost}}}}`; entries of another shape are skipped and counted in the
    returned warnings. Raises CapabilityError when the top level is not an object.
    """
    if not isinstance(raw, Mapping):
        raise CapabilityError(
            f"{name}: expected an object of providers such as "
            '{"anthropic": {"models": {"claude-sonnet-4-5": {...}}}}'
        )
    providers: dict[str, dict[str, ModelFacts]] = {}
    skipped: list[str] = []
    for provider, entry in raw.items():
        models = entry.get("models") if isinstance(entry, Mapping) else None
        if not isinstance(provider, str) or not isinstance(models, Mapping):
            skipped.append(str(provider))
            continue
        providers[provider] = {
            model: _facts(facts)
            for model, facts in models.items()
            if isinstance(model, str) and isinstance(facts, Mapping)
        }
    warnings = []
    if skipped:
        shown = ", ".join(skipped[:5]) + (" …" if len(skipped) > 5 else "")
        warnings.append(
            f"{name}: skipped {len(skipped)} entries without models: {shown}"
        )
    return CapabilityCatalogue(name, providers), warnings


def _fetch(url: str, timeout: float) -> bytes:
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=True) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code != 200:
                raise CapabilityError(
                    f"GET {url} failed: HTTP {response.status_code}; check the "
                    "capability catalogue URL"
                )
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_CATALOGUE_BYTES:
                    raise CapabilityError(
                        f"GET {url}: the answer is larger than "
                        f"{MAX_CATALOGUE_BYTES // 2**20} MiB; not a catalogue"
                    )
            return bytes(body)
    except httpx.HTTPError as exc:
        raise CapabilityError(
            f"GET {url} failed: {type(exc).__name__} ({exc}); check the capability "
            "catalogue URL or pass a file instead"
        ) from None


def load_catalogue(
    source: str, *, timeout: float = 20.0
) -> tuple[CapabilityCatalogue, list[str]]:
    """Load a capability catalogue from a file path or an http(s) URL."""
    if source.startswith(("http://", "https://")):
        body = _fetch(source, timeout)
    else:
        path = Path(source).expanduser()
        try:
            body = path.read_bytes()
        except OSError as exc:
            raise CapabilityError(
                f"{path}: cannot read the capability catalogue ({exc.strerror or exc})"
            ) from None
    try:
        raw = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CapabilityError(
            f"{source}: not JSON ({exc}); expected a models.dev-style api.json"
        ) from None
    return parse_catalogue(raw, source)


def shipped_catalogue() -> CapabilityCatalogue:
    """Facts about well-known models, shipped with the package."""
    text = (
        resources.files("aperture_proxy.dedicated")
        .joinpath("capabilities.json")
        .read_text(encoding="utf-8")
    )
    catalogue, _ = parse_catalogue(json.loads(text), "shipped catalogue")
    return catalogue


def user_catalogue_path() -> Path:
    """Your own capability entries: `~/.config/aperture-proxy/capabilities.json`."""
    return platformdirs.user_config_path(APP_NAME) / "capabilities.json"


@dataclass(frozen=True)
class Capabilities:
    """A model's resolved capabilities, with the source of each field."""

    context: int
    max_output: int
    input: tuple[str, ...]
    reasoning: bool
    cost: Mapping[str, Decimal]
    sources: Mapping[str, str]

    @property
    def on_defaults(self) -> list[str]:
        """The fields no catalogue knew, left on the safe defaults."""
        return [f for f in DEFAULTS if self.sources.get(f) == DEFAULTS_SOURCE]


class CapabilityResolver:
    """Field by field, the first catalogue that knows wins; then the defaults."""

    def __init__(self, catalogues: Sequence[CapabilityCatalogue]) -> None:
        self.catalogues = list(catalogues)

    def resolve(self, provider_id: str, model_id: str) -> Capabilities:
        """What `model_id` can do, as gateway provider `provider_id` serves it."""
        providers = (provider_id, *PROVIDER_ALIASES.get(provider_id.lower(), ()))
        found = [
            (catalogue.name, facts)
            for catalogue in self.catalogues
            if (facts := catalogue.lookup(providers, model_id)) is not None
        ]
        sources: dict[str, str] = {}

        def pick(name: str, default: Any) -> Any:
            for source, facts in found:
                value = getattr(facts, name)
                if value is not None:
                    sources[name] = source
                    return value
            sources[name] = DEFAULTS_SOURCE
            return default

        cost: dict[str, Decimal] = {}
        for _, facts in found:
            for name, price in facts.cost.items():
                cost.setdefault(name, price)
        return Capabilities(
            context=pick("context", DEFAULT_CONTEXT),
            max_output=pick("max_output", DEFAULT_MAX_OUTPUT),
            input=pick("input", DEFAULT_INPUT),
            reasoning=pick("reasoning", DEFAULT_REASONING),
            cost=cost,
            sources=sources,
        )


def resolver_for(
    pointed: str | None = None,
    *,
    env: Mapping[str, str] = os.environ,
    user_path: Path | None = None,
) -> tuple[CapabilityResolver, list[str]]:
    """The resolver in the order of SPEC §4.2, and warnings from loading it.

    Your own entries (`user_path`, by default the config directory's
    capabilities.json, when it exists), then the catalogue `pointed` at (or
    APERTURE_CAPABILITIES), then the shipped catalogue. Raises CapabilityError
    when a catalogue named explicitly cannot be read.
    """
    catalogues: list[CapabilityCatalogue] = []
    warnings: list[str] = []
    own = user_path or user_catalogue_path()
    if own.exists():
        catalogue, notes = load_catalogue(str(own))
        catalogue.name = f"your entries ({own})"
        catalogues.append(catalogue)
        warnings += notes
    source = pointed or env.get(CAPABILITIES_ENV)
    if source:
        catalogue, notes = load_catalogue(source)
        catalogues.append(catalogue)
        warnings += notes
    catalogues.append(shipped_catalogue())
    return CapabilityResolver(catalogues), warnings
