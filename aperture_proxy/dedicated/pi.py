"""The Pi writer: `providers.aperture` in Pi's `models.json`.

Pi keys models by id within a provider (a second entry with the same id silently
replaces the first), so a model id that several gateway providers serve goes into
`providers.aperture` once, through the first provider in gateway order; each
further provider's copy goes into its own provider `aperture-<gateway provider>`
(`pi --model aperture-openai-codex/gpt-5.1-codex`). Every model carries its own
`api` and `baseUrl` (the gateway base for its API), cost in USD per million
tokens, and `apiKey: "-"`: the gateway authenticates by tailnet identity.

Pi reaches the gateway in four of its APIs plus Bedrock (its Bedrock client takes
a custom endpoint; set `AWS_BEDROCK_SKIP_AUTH=1` so it does not look for AWS
credentials). Vertex needs a Google Cloud project in Pi, so a provider that only
speaks Vertex is left out, and the output says so.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aperture_proxy.dedicated.catalogue import ModelCatalogue
from aperture_proxy.dedicated.files import (
    OutputError,
    dump_json,
    environ_path,
    json_section,
)
from aperture_proxy.dedicated.merge import Replaceable
from aperture_proxy.dedicated.writer import (
    Placed,
    Plan,
    left_out_note,
    merge_owned,
    place,
    shared_note,
)
from aperture_proxy.upstreams import Api

__all__ = [
    "PI_API",
    "PiWriter",
    "aperture_models",
    "is_aperture_provider",
    "pi_agent_dir",
]

PROVIDER = "aperture"
API_KEY = "-"
AGENT_DIR_ENV = "PI_CODING_AGENT_DIR"

# Our API names → Pi's (they match except for Bedrock).
PI_API: dict[Api, str] = {
    Api.OPENAI_COMPLETIONS: "openai-completions",
    Api.ANTHROPIC_MESSAGES: "anthropic-messages",
    Api.OPENAI_RESPONSES: "openai-responses",
    Api.GOOGLE_GENERATIVE_AI: "google-generative-ai",
    Api.BEDROCK: "bedrock-converse-stream",
}


def pi_agent_dir(env: Mapping[str, str] = os.environ) -> Path:
    """Pi's agent directory: PI_CODING_AGENT_DIR, else `~/.pi/agent`."""
    return environ_path(env, AGENT_DIR_ENV) or Path.home() / ".pi" / "agent"


def is_aperture_provider(name: str) -> bool:
    """Whether a Pi provider name is one aperture-proxy generates."""
    return name == PROVIDER or name.startswith(f"{PROVIDER}-")


def _section_name(entry: Placed) -> str:
    return PROVIDER if entry.primary else f"{PROVIDER}-{entry.model.provider}"


def _model(entry: Placed) -> dict[str, Any]:
    model, caps = entry.model, entry.model.capabilities
    fields: dict[str, Any] = {
        "id": model.id,
        "name": f"{model.id} ({model.provider_name})",
        "api": PI_API[entry.api],
        "baseUrl": model.base_url(entry.api),
        "reasoning": caps.reasoning,
        "input": list(caps.input),
        "contextWindow": caps.context,
        "maxTokens": caps.max_output,
    }
    cost = model.complete_cost()
    if cost is not None:
        fields["cost"] = cost
    return fields


def _models_by_id(models: Any, where: str, path: Path) -> dict[str, Any]:
    """A models array as a mapping by id, so entries merge one by one."""
    if not isinstance(models, list):
        raise OutputError(
            f"{path}: {where}.models is not an array; fix it or move the file away, "
            "it was left untouched"
        )
    keyed: dict[str, Any] = {}
    for index, entry in enumerate(models):
        ident = entry.get("id") if isinstance(entry, dict) else None
        if not isinstance(ident, str):
            # Not a model Pi can load; kept as it is under a key no id can have.
            keyed[f"\0{index}"] = entry
        elif ident in keyed:
            raise OutputError(
                f"{path}: {where}.models[{index}]: the id {ident!r} appears twice and "
                "Pi keeps only the last; remove one, the file was left untouched"
            )
        else:
            keyed[ident] = entry
    return keyed


class PiWriter:
    """`providers.aperture` (and `aperture-<provider>`) in Pi's models.json."""

    name: str = "pi"
    speaks: tuple[Api, ...] = tuple(PI_API)

    def default_path(self, env: Mapping[str, str]) -> Path:
        """`$PI_CODING_AGENT_DIR/models.json`, else `~/.pi/agent/models.json`."""
        return pi_agent_dir(env) / "models.json"

    def sections(self, catalogue: ModelCatalogue) -> tuple[dict[str, Any], list[str]]:
        """The generated providers (models keyed by id), and notes for people."""
        placed, left_out = place(catalogue, self.speaks)
        sections: dict[str, Any] = {}
        for entry in placed:
            name = _section_name(entry)
            if name not in sections:
                sections[name] = {
                    "baseUrl": entry.model.base_url(entry.api),
                    "api": PI_API[entry.api],
                    "apiKey": API_KEY,
                    "models": {},
                }
            sections[name]["models"][entry.model.id] = _model(entry)
        if PROVIDER in sections:
            # A model a user adds by hand gets the most common route by default.
            sections[PROVIDER]["baseUrl"] = f"{catalogue.gateway}/v1"
            sections[PROVIDER]["api"] = PI_API[Api.OPENAI_COMPLETIONS]
        notes = shared_note(
            "pi", placed, lambda e: f"providers.{_section_name(e)} ({PI_API[e.api]})"
        )
        return sections, notes + left_out_note("pi", left_out)

    def placements(self, catalogue: ModelCatalogue) -> dict[tuple[str, str], Placed]:
        """Where each reachable model goes: (Pi provider, model id) → placement."""
        placed, _ = place(catalogue, self.speaks)
        return {(_section_name(e), e.model.id): e for e in placed}

    def render(
        self,
        catalogue: ModelCatalogue,
        old: str | None,
        path: Path,
        base: Any,
        replaceable: Replaceable | None = None,
    ) -> Plan:
        """Merge the generated providers into the file's `providers`."""
        doc, providers, lossy = json_section(old, path, "providers")
        current: dict[str, Any] = {}
        for name, section in providers.items():
            if is_aperture_provider(name) and isinstance(section, dict):
                section = dict(section)
                if "models" in section:
                    where = f"providers.{name}"
                    section["models"] = _models_by_id(section["models"], where, path)
            current[name] = section

        generated, notes = self.sections(catalogue)
        merged = merge_owned(
            current, is_aperture_provider, generated, base, replaceable=replaceable
        )
        for name, section in merged.items():
            models = section.get("models") if isinstance(section, dict) else None
            if is_aperture_provider(name) and isinstance(models, dict):
                # A new mapping: the merged one may be the generated one itself.
                merged[name] = {**section, "models": list(models.values())}
        doc["providers"] = merged
        if lossy:
            notes.append(f"pi: the comments in {path} cannot be kept")
        return Plan(path, old, dump_json(doc), generated, notes, lossy)


def aperture_models(doc: Mapping[str, Any]) -> list[tuple[str, int, dict[str, Any]]]:
    """(provider, index, model) for every model of the aperture providers."""
    providers = doc.get("providers")
    found: list[tuple[str, int, dict[str, Any]]] = []
    if not isinstance(providers, dict):
        return found
    for name, section in providers.items():
        models = section.get("models") if isinstance(section, dict) else None
        if not is_aperture_provider(name) or not isinstance(models, list):
            continue
        found += [(name, i, m) for i, m in enumerate(models) if isinstance(m, dict)]
    return found
