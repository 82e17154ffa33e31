"""Checking a Pi `models.json` against Pi's own rules, before Pi silently drops it.

Pi (0.73) validates the file with a schema and a few extra rules, and when any
fails it ignores every custom model in it, printing one warning. This check
reports each problem on its own line with its JSON path::

    >>> validate_document({"providers": {"x": {"models": [{"id": "m"}]}}})
    ['providers.x.baseUrl: required when the provider defines models', \
'providers.x.apiKey: required when the provider defines models', \
'providers.x.models[0].api: no API here or on the provider; set "api" on either']

Pi accepts unknown keys without a word; they are reported here as likely typos.
Models of the providers aperture-proxy generates (`aperture`, `aperture-…`)
must also carry their capability fields, which `aperture-proxy sync` fills in.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from aperture_proxy.dedicated.files import OutputError, parse_json_document
from aperture_proxy.dedicated.pi import is_aperture_provider

__all__ = ["CAPABILITY_FIELDS", "validate_document", "validate_file"]

# pi-ai 0.73: the APIs it can stream, and the providers it ships models for.
KNOWN_APIS = frozenset(
    {
        "openai-completions",
        "mistral-conversations",
        "openai-responses",
        "azure-openai-responses",
        "openai-codex-responses",
        "anthropic-messages",
        "bedrock-converse-stream",
        "google-generative-ai",
        "google-vertex",
    }
)
BUILT_IN_PROVIDERS = frozenset(
    [
        "amazon-bedrock",
        "anthropic",
        "azure-openai-responses",
        "cerebras",
        "cloudflare-ai-gateway",
        "cloudflare-workers-ai",
        "deepseek",
        "fireworks",
        "github-copilot",
        "google",
        "google-vertex",
        "groq",
        "huggingface",
        "kimi-coding",
        "minimax",
        "minimax-cn",
        "mistral",
        "moonshotai",
        "moonshotai-cn",
        "openai",
        "openai-codex",
        "opencode",
        "opencode-go",
        "openrouter",
        "vercel-ai-gateway",
        "xai",
        "xiaomi",
        "xiaomi-token-plan-ams",
        "xiaomi-token-plan-cn",
        "xiaomi-token-plan-sgp",
        "zai",
    ]
)
CAPABILITY_FIELDS = ("contextWindow", "maxTokens", "input", "reasoning")
COST_FIELDS = ("input", "output", "cacheRead", "cacheWrite")
COMPAT_FIELDS = frozenset(
    [
        "supportsStore",
        "supportsDeveloperRole",
        "supportsReasoningEffort",
        "supportsUsageInStreaming",
        "maxTokensField",
        "requiresToolResultName",
        "requiresAssistantAfterToolResult",
        "requiresThinkingAsText",
        "requiresReasoningContentOnAssistantMessages",
        "thinkingFormat",
        "cacheControlFormat",
        "openRouterRouting",
        "vercelGatewayRouting",
        "supportsStrictMode",
        "supportsLongCacheRetention",
        "sendSessionIdHeader",
        "supportsEagerToolInputStreaming",
    ]
)
THINKING_LEVELS = frozenset({"off", "minimal", "low", "medium", "high", "xhigh"})

Check = Callable[[Any, str, list[str]], None]


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float | Decimal)


def _string(value: Any, where: str, out: list[str]) -> None:
    if not isinstance(value, str) or not value:
        out.append(f"{where}: expected a non-empty string, got {_show(value)}")


def _boolean(value: Any, where: str, out: list[str]) -> None:
    if not isinstance(value, bool):
        out.append(f"{where}: expected true or false, got {_show(value)}")


def _positive(value: Any, where: str, out: list[str]) -> None:
    if not _is_number(value) or value <= 0:
        out.append(f"{where}: expected a positive number of tokens, got {_show(value)}")


def _string_map(value: Any, where: str, out: list[str]) -> None:
    if not isinstance(value, dict):
        out.append(f"{where}: expected an object of strings, got {_show(value)}")
        return
    for key, item in value.items():
        if not isinstance(item, str):
            out.append(f"{where}.{key}: expected a string, got {_show(item)}")


def _input(value: Any, where: str, out: list[str]) -> None:
    if not isinstance(value, list) or any(v not in ("text", "image") for v in value):
        out.append(
            f'{where}: expected ["text"] or ["text", "image"], got {_show(value)}'
        )


def _cost(partial: bool) -> Check:
    def check(value: Any, where: str, out: list[str]) -> None:
        if not isinstance(value, dict):
            out.append(
                f"{where}: expected an object of four prices, got {_show(value)}"
            )
            return
        _unknown(value, COST_FIELDS, where, out)
        for name in COST_FIELDS:
            if name in value:
                if not _is_number(value[name]):
                    out.append(
                        f"{where}.{name}: expected a number, got {_show(value[name])}"
                    )
            elif not partial:
                out.append(
                    f"{where}.{name}: missing; Pi needs all four of "
                    f"{', '.join(COST_FIELDS)} when cost is given"
                )

    return check


def _compat(value: Any, where: str, out: list[str]) -> None:
    if not isinstance(value, dict):
        out.append(f"{where}: expected an object, got {_show(value)}")
        return
    _unknown(value, COMPAT_FIELDS, where, out)


def _thinking(value: Any, where: str, out: list[str]) -> None:
    if not isinstance(value, dict):
        out.append(f"{where}: expected an object, got {_show(value)}")
        return
    _unknown(value, THINKING_LEVELS, where, out)
    for level, item in value.items():
        if item is not None and not isinstance(item, str):
            out.append(f"{where}.{level}: expected a string or null, got {_show(item)}")


MODEL_FIELDS: dict[str, Check] = {
    "id": _string,
    "name": _string,
    "api": _string,
    "baseUrl": _string,
    "reasoning": _boolean,
    "thinkingLevelMap": _thinking,
    "input": _input,
    "cost": _cost(partial=False),
    "contextWindow": _positive,
    "maxTokens": _positive,
    "headers": _string_map,
    "compat": _compat,
}
OVERRIDE_FIELDS: dict[str, Check] = {
    **{k: v for k, v in MODEL_FIELDS.items() if k not in ("id", "api", "baseUrl")},
    "cost": _cost(partial=True),
}
PROVIDER_FIELDS: dict[str, Check] = {
    "name": _string,
    "baseUrl": _string,
    "apiKey": _string,
    "api": _string,
    "headers": _string_map,
    "compat": _compat,
    "authHeader": _boolean,
}


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, Decimal):
        return str(value)
    text = repr(value) if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= 40 else text[:37] + "…"


def _unknown(data: Mapping[str, Any], known: Any, where: str, out: list[str]) -> None:
    names = sorted(known)
    for key in data:
        if key in known:
            continue
        lowered = {n.lower(): n for n in names}
        guess = lowered.get(str(key).lower()) or next(
            iter(difflib.get_close_matches(str(key), names, n=1, cutoff=0.7)), None
        )
        hint = f"did you mean {guess!r}?" if guess else "Pi ignores it"
        out.append(f"{where}.{key}: unknown key, likely a typo; {hint}")


def _fields(
    data: Mapping[str, Any], checks: Mapping[str, Check], where: str, out: list[str]
) -> None:
    for key, check in checks.items():
        if key in data:
            check(data[key], f"{where}.{key}", out)


def _model(
    model: Any, where: str, provider: Mapping[str, Any], name: str, out: list[str]
) -> None:
    if not isinstance(model, dict):
        out.append(f"{where}: expected a model object, got {_show(model)}")
        return
    if "id" not in model:
        out.append(f"{where}.id: required")
    _unknown(model, MODEL_FIELDS, where, out)
    _fields(model, MODEL_FIELDS, where, out)
    api = model.get("api") or provider.get("api")
    if not api and name not in BUILT_IN_PROVIDERS:
        out.append(f'{where}.api: no API here or on the provider; set "api" on either')
    elif isinstance(api, str) and api and api not in KNOWN_APIS:
        out.append(
            f"{where}.api: unknown API {api!r}; Pi knows "
            + ", ".join(sorted(KNOWN_APIS))
        )
    if is_aperture_provider(name):
        for field in CAPABILITY_FIELDS:
            if field not in model:
                out.append(
                    f"{where}.{field}: missing; aperture models carry their "
                    "capabilities (run `aperture-proxy sync`)"
                )


def _provider(name: str, provider: Any, out: list[str]) -> None:
    where = f"providers.{name}"
    if not isinstance(provider, dict):
        out.append(f"{where}: expected a provider object, got {_show(provider)}")
        return
    _unknown(provider, {*PROVIDER_FIELDS, "models", "modelOverrides"}, where, out)
    _fields(provider, PROVIDER_FIELDS, where, out)
    models = provider.get("models", [])
    if not isinstance(models, list):
        out.append(f"{where}.models: expected an array, got {_show(models)}")
        models = []
    overrides = provider.get("modelOverrides", {})
    if not isinstance(overrides, dict):
        out.append(
            f"{where}.modelOverrides: expected an object, got {_show(overrides)}"
        )
        overrides = {}
    for model_id, override in overrides.items():
        at = f"{where}.modelOverrides.{model_id}"
        if not isinstance(override, dict):
            out.append(f"{at}: expected an object, got {_show(override)}")
            continue
        _unknown(override, OVERRIDE_FIELDS, at, out)
        _fields(override, OVERRIDE_FIELDS, at, out)

    if not models:
        if not any(k in provider for k in ("baseUrl", "headers", "compat")) and not (
            overrides
        ):
            out.append(
                f"{where}: defines nothing; give baseUrl, headers, compat, "
                "modelOverrides or models"
            )
    elif name not in BUILT_IN_PROVIDERS:
        for key in ("baseUrl", "apiKey"):
            if not provider.get(key):
                out.append(f"{where}.{key}: required when the provider defines models")
    seen: dict[str, int] = {}
    for index, model in enumerate(models):
        at = f"{where}.models[{index}]"
        _model(model, at, provider, name, out)
        ident = model.get("id") if isinstance(model, dict) else None
        if isinstance(ident, str):
            if ident in seen:
                out.append(
                    f"{at}.id: {ident!r} repeats models[{seen[ident]}]; Pi keeps only "
                    "the last"
                )
            seen.setdefault(ident, index)


def validate_document(doc: Mapping[str, Any]) -> list[str]:
    """Every problem of a parsed models.json, one line each with its JSON path."""
    out: list[str] = []
    _unknown(doc, {"providers"}, "(top level)", out)
    providers = doc.get("providers")
    if providers is None:
        out.append("providers: required")
        return out
    if not isinstance(providers, dict):
        out.append(
            f"providers: expected an object of providers, got {_show(providers)}"
        )
        return out
    for name, provider in providers.items():
        _provider(str(name), provider, out)
    return out


def validate_file(path: Path) -> list[str]:
    """Every problem of the models.json at `path` (reading problems included)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return [f"{path}: no such file; generate it with `aperture-proxy generate pi`"]
    except (OSError, UnicodeDecodeError) as exc:
        return [f"{path}: cannot be read ({exc})"]
    try:
        doc, _ = parse_json_document(text, path)
    except OutputError as exc:
        return [str(exc).replace("; fix it or move it away, it was left untouched", "")]
    return validate_document(doc)
