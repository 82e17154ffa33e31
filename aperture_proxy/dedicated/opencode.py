"""The opencode writer: `provider.aperture` in `opencode.json`.

opencode builds one AI SDK client per provider, and a provider's
`options.baseURL` overrides every model's own URL. So `provider.aperture` holds
the models reachable under `<gateway>/v1` (OpenAI chat through
`@ai-sdk/openai-compatible`, OpenAI responses through `@ai-sdk/openai` and
Anthropic messages through `@ai-sdk/anthropic`, chosen per model with
`provider.npm`), and a gateway provider whose base differs (Gemini under
`/v1beta`, an OpenAI-style upstream with a non-v1 version) gets its own
`provider.aperture-<gateway provider>`. A model id that several gateway
providers serve stays in `provider.aperture` for the first of them; the others'
copies go to `provider.aperture-<gateway provider>`
(`opencode -m aperture-openai-codex/gpt-5.1-codex`). Each provider lists its
model ids in `whitelist`. Vertex and Bedrock need cloud credentials in their AI
SDK clients, so providers that only speak those are left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aperture_proxy.dedicated.catalogue import ModelCatalogue
from aperture_proxy.dedicated.files import (
    dump_json,
    environ_path,
    json_section,
)
from aperture_proxy.dedicated.merge import Replaceable, same
from aperture_proxy.dedicated.writer import (
    Placed,
    Plan,
    left_out_note,
    merge_owned,
    place,
    shared_note,
)
from aperture_proxy.upstreams import Api

__all__ = ["NPM", "OpencodeWriter", "sdk_base_url"]

PROVIDER = "aperture"
SCHEMA = "https://opencode.ai/config.json"
CONFIG_ENV = "OPENCODE_CONFIG"

# The AI SDK package opencode loads for each API.
NPM: dict[Api, str] = {
    Api.OPENAI_COMPLETIONS: "@ai-sdk/openai-compatible",
    Api.OPENAI_RESPONSES: "@ai-sdk/openai",
    Api.ANTHROPIC_MESSAGES: "@ai-sdk/anthropic",
    Api.GOOGLE_GENERATIVE_AI: "@ai-sdk/google",
}
COST_NAMES = {
    "input": "input",
    "output": "output",
    "cacheRead": "cache_read",
    "cacheWrite": "cache_write",
}


def sdk_base_url(entry: Placed) -> str:
    """The AI SDK `baseURL`: the gateway base, plus `/v1` for Anthropic's SDK.

    Anthropic clients append `/v1/messages` to the gateway root, but the AI SDK
    appends only `/messages` to its base URL.
    """
    base = entry.model.base_url(entry.api)
    return f"{base}/v1" if entry.api is Api.ANTHROPIC_MESSAGES else base


def _owned(name: str) -> bool:
    return name == PROVIDER or name.startswith(f"{PROVIDER}-")


def _section_name(entry: Placed, main_base: str) -> str:
    if entry.primary and sdk_base_url(entry) == main_base:
        return PROVIDER
    return f"{PROVIDER}-{entry.model.provider}"


def _model(entry: Placed, section_npm: str) -> dict[str, Any]:
    model, caps = entry.model, entry.model.capabilities
    fields: dict[str, Any] = {
        "name": f"{model.id} ({model.provider_name})",
        "attachment": "image" in caps.input,
        "reasoning": caps.reasoning,
        "modalities": {"input": list(caps.input), "output": ["text"]},
        "limit": {"context": caps.context, "output": caps.max_output},
    }
    cost = model.complete_cost()
    if cost is not None:
        fields["cost"] = {COST_NAMES[name]: price for name, price in cost.items()}
    if NPM[entry.api] != section_npm:
        fields["provider"] = {"npm": NPM[entry.api]}
    return fields


class OpencodeWriter:
    """`provider.aperture` (and `aperture-<provider>`) in opencode's config."""

    name: str = "opencode"
    speaks: tuple[Api, ...] = tuple(NPM)

    def default_path(self, env: Mapping[str, str]) -> Path:
        """OPENCODE_CONFIG, else the global `~/.config/opencode/opencode.json`."""
        configured = environ_path(env, CONFIG_ENV)
        if configured is not None:
            return configured
        # opencode uses ~/.config on every platform, not the platform's own place.
        xdg = env.get("XDG_CONFIG_HOME")
        root = Path(xdg).expanduser() if xdg else Path.home() / ".config"
        return root / "opencode" / "opencode.json"

    def sections(self, catalogue: ModelCatalogue) -> tuple[dict[str, Any], list[str]]:
        """The generated providers, and notes for people."""
        placed, left_out = place(catalogue, self.speaks)
        main_base = f"{catalogue.gateway}/v1"
        sections: dict[str, Any] = {}
        for entry in placed:
            name = _section_name(entry, main_base)
            if name not in sections:
                main = name == PROVIDER
                npm = NPM[Api.OPENAI_COMPLETIONS] if main else NPM[entry.api]
                label = (
                    "Aperture" if main else f"Aperture ({entry.model.provider_name})"
                )
                sections[name] = {
                    "npm": npm,
                    "name": label,
                    "options": {"baseURL": sdk_base_url(entry), "apiKey": "-"},
                    "models": {},
                    "whitelist": [],
                }
            section = sections[name]
            section["models"][entry.model.id] = _model(entry, section["npm"])
            section["whitelist"].append(entry.model.id)
        if PROVIDER in sections:
            sections[PROVIDER]["options"]["baseURL"] = main_base
        notes = shared_note(
            "opencode",
            placed,
            lambda e: f"provider.{_section_name(e, main_base)} ({NPM[e.api]})",
        )
        return sections, notes + left_out_note("opencode", left_out)

    def render(
        self,
        catalogue: ModelCatalogue,
        old: str | None,
        path: Path,
        base: Any,
        replaceable: Replaceable | None = None,
    ) -> Plan:
        """Merge the generated providers into the file's `provider`."""
        doc, providers, lossy = json_section(old, path, "provider")
        generated, notes = self.sections(catalogue)
        merged = merge_owned(providers, _owned, generated, base, replaceable)
        for name, section in merged.items():
            if name in generated and isinstance(section, dict):
                _whitelist_every_model(section, generated[name])
        if not doc:
            doc["$schema"] = SCHEMA
        doc["provider"] = merged
        if lossy:
            notes.append(f"opencode: the comments in {path} cannot be kept")
        return Plan(path, old, dump_json(doc), generated, notes, lossy)


def _whitelist_every_model(section: dict[str, Any], generated: dict[str, Any]) -> None:
    """Let the whitelist name models the user added too, unless they edited it.

    The generated whitelist is updated alike, so the next merge sees it unedited.
    """
    models = section.get("models")
    if not isinstance(models, dict) or not same(
        section.get("whitelist"), generated["whitelist"]
    ):
        return
    section["whitelist"] = list(models)
    generated["whitelist"] = list(models)
