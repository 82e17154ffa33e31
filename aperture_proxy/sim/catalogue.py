"""The providers and models the simulated gateway serves, with public list prices."""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

# A fixed creation time keeps /v1/models byte-identical between runs.
_CREATED = 1_735_689_600  # 2025-01-01T00:00:00Z


@dataclass(frozen=True)
class Price:
    """USD per million tokens, as providers publish them."""

    input: str
    output: str
    cache_read: str = "0"
    cache_write: str = "0"

    def per_token(self) -> dict[str, str]:
        """The gateway's form: decimal strings in USD per single token."""

        def one(per_million: str) -> str:
            return format(Decimal(per_million) / 1_000_000, "f")

        return {
            "input": one(self.input),
            "output": one(self.output),
            "input_cache_read": one(self.cache_read),
            "input_cache_write": one(self.cache_write),
        }


@dataclass(frozen=True)
class SimProvider:
    """One gateway provider; ``enabled=False`` hides its models from /v1/models."""

    id: str
    name: str
    description: str
    compatibility: tuple[str, ...]
    models: dict[str, Price] = field(default_factory=dict)
    enabled: bool = True

    def as_provider(self) -> dict[str, Any]:
        """The provider's entry in ``GET /api/providers``."""
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "models": list(self.models),
            "compatibility": {flag: True for flag in self.compatibility},
        }


_SONNET = Price("3", "15", "0.30", "3.75")
_OPUS = Price("15", "75", "1.50", "18.75")
_HAIKU = Price("1", "5", "0.10", "1.25")
_GPT_5_1 = Price("1.25", "10", "0.125")
_GEMINI_PRO = Price("1.25", "10", "0.125")

DEFAULT_CATALOGUE: tuple[SimProvider, ...] = (
    SimProvider(
        "anthropic",
        "Anthropic",
        "Claude models through the Anthropic Messages API",
        ("anthropic_messages",),
        {
            "claude-sonnet-4-5": _SONNET,
            "claude-opus-4-1": _OPUS,
            "claude-haiku-4-5": _HAIKU,
        },
    ),
    SimProvider(
        "openai",
        "OpenAI",
        "OpenAI models through Chat Completions and Responses",
        ("openai_chat", "openai_responses"),
        {
            "gpt-5.1": _GPT_5_1,
            "gpt-5.1-codex": _GPT_5_1,
            "gpt-4.1-mini": Price("0.40", "1.60", "0.10"),
        },
    ),
    SimProvider(
        "openai-codex",
        "ChatGPT Codex",
        "ChatGPT subscription logins for Codex (passthrough)",
        ("openai_responses",),
        {"gpt-5.1-codex": _GPT_5_1},
    ),
    SimProvider(
        "gemini",
        "Google Gemini",
        "Gemini models through the Gemini API",
        ("gemini_generate_content",),
        {
            "gemini-2.5-pro": _GEMINI_PRO,
            "gemini-2.5-flash": Price("0.30", "2.50", "0.03"),
        },
    ),
    SimProvider(
        "vertex",
        "Google Vertex AI",
        "Gemini and Claude models on Vertex AI",
        ("google_generate_content", "google_raw_predict"),
        {
            "gemini-2.5-pro": _GEMINI_PRO,
            "claude-sonnet-4-5@20250929": _SONNET,
        },
    ),
    SimProvider(
        "bedrock",
        "Amazon Bedrock",
        "Claude on Amazon Bedrock through Converse and InvokeModel",
        ("bedrock_converse", "bedrock_model_invoke"),
        {"anthropic.claude-sonnet-4-5-20250929-v1:0": _SONNET},
    ),
    SimProvider(
        "zai",
        "Z.AI",
        "GLM coding plan through an OpenAI-compatible API",
        ("openai_chat",),
        {"glm-4.6": Price("0.60", "2.20", "0.11")},
    ),
    SimProvider(
        "legacy",
        "Legacy",
        "A disabled provider: listed here, absent from /v1/models",
        ("openai_chat",),
        {"old-model": Price("0.50", "1.50")},
        enabled=False,
    ),
)


def providers_body(catalogue: tuple[SimProvider, ...]) -> list[dict[str, Any]]:
    """``GET /api/providers``: every provider, disabled ones included."""
    return [provider.as_provider() for provider in catalogue]


def models_body(catalogue: tuple[SimProvider, ...]) -> dict[str, Any]:
    """``GET /v1/models``: one entry per enabled (provider, model) pair.

    A model id served by two providers appears twice, once per provider, so a
    client can tell from ``metadata.provider`` which provider it is granted on.
    """
    data = [
        {
            "id": model,
            "object": "model",
            "created": _CREATED,
            "owned_by": provider.id,
            "pricing": price.per_token(),
            "metadata": {"provider": {"id": provider.id, "name": provider.name}},
        }
        for provider in catalogue
        if provider.enabled
        for model, price in provider.models.items()
    ]
    return {"object": "list", "data": data}


def codex_model_ids(catalogue: tuple[SimProvider, ...]) -> list[str]:
    """The models ``/codex/models`` lists: every enabled Responses-API model, once."""
    ids = [
        model
        for provider in catalogue
        if provider.enabled and "openai_responses" in provider.compatibility
        for model in provider.models
    ]
    return list(dict.fromkeys(ids))
