"""The Codex writer: `[model_providers.aperture]` and a profile per model.

Codex speaks only the Responses API to custom providers (`wire_api =
"responses"`), so only models whose gateway provider speaks it are written, and
`supports_websockets = false` keeps Codex on HTTP/SSE (the gateway has no
WebSocket route). Codex config lists no models, so each model gets a profile
`[profiles."aperture-<model id>"]` naming the provider and the model:
`codex --profile aperture-gpt-5.1`.

A model id that several gateway providers serve gets one profile: the request
is the same for every one of them (`<gateway>/v1/responses` with that model
id), and the gateway chooses the provider. Only a provider whose upstream base
ends in a non-v1 version is reached at another base URL; it gets its own
`[model_providers.aperture-<gateway provider>]` and, for such a shared id, a
profile `aperture-<gateway provider>-<model id>`.

The rest of the file, comments included, is kept as it is (tomlkit round-trips
it); keys inside our own tables that did not change keep their formatting too.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import ParseError
from tomlkit.items import Table

from aperture_proxy.dedicated.catalogue import ModelCatalogue
from aperture_proxy.dedicated.files import OutputError, environ_path
from aperture_proxy.dedicated.merge import MISSING, Replaceable, same
from aperture_proxy.dedicated.writer import Plan, left_out_note, merge_owned, place
from aperture_proxy.upstreams import Api

__all__ = ["CodexWriter"]

PROVIDER = "aperture"
TABLES = ("model_providers", "profiles")
HOME_ENV = "CODEX_HOME"


def _owned(name: str) -> bool:
    return name == PROVIDER or name.startswith(f"{PROVIDER}-")


def _plain(item: Any) -> Any:
    return item.unwrap() if hasattr(item, "unwrap") else item


def _provider_table(name: str, base_url: str) -> dict[str, Any]:
    return {
        "name": name,
        "base_url": base_url,
        "wire_api": "responses",
        "supports_websockets": False,
        "requires_openai_auth": False,
    }


class CodexWriter:
    """`[model_providers.aperture]` and `[profiles."aperture-…"]` in config.toml."""

    name: str = "codex"
    speaks: tuple[Api, ...] = (Api.OPENAI_RESPONSES,)

    def default_path(self, env: Mapping[str, str]) -> Path:
        """`$CODEX_HOME/config.toml`, else `~/.codex/config.toml`."""
        home = environ_path(env, HOME_ENV) or Path.home() / ".codex"
        return home / "config.toml"

    def tables(self, catalogue: ModelCatalogue) -> tuple[dict[str, Any], list[str]]:
        """The generated `model_providers` and `profiles`, and notes for people."""
        placed, left_out = place(catalogue, self.speaks)
        main_base = f"{catalogue.gateway}/v1"
        providers: dict[str, Any] = {}
        profiles: dict[str, Any] = {}
        seen: dict[tuple[str, str], str] = {}  # (model id, provider table) → profile
        notes: list[str] = []
        for entry in placed:
            base = entry.model.base_url(entry.api)
            table = (
                PROVIDER if base == main_base else f"{PROVIDER}-{entry.model.provider}"
            )
            label = (
                "Aperture"
                if table == PROVIDER
                else (f"Aperture ({entry.model.provider_name})")
            )
            providers.setdefault(table, _provider_table(label, base))
            key = (entry.model.id, table)
            if key in seen:
                notes.append(
                    f"codex: {entry.model.id} is also served by "
                    f"{entry.model.provider}; profile {seen[key]} reaches both (the "
                    "gateway picks the provider)"
                )
                continue
            taken = any(mid == entry.model.id for mid, _ in seen)
            profile = (
                f"{PROVIDER}-{entry.model.provider}-{entry.model.id}"
                if taken
                else f"{PROVIDER}-{entry.model.id}"
            )
            seen[key] = profile
            profiles[profile] = {"model_provider": table, "model": entry.model.id}
        notes += left_out_note("codex", left_out)
        return {"model_providers": providers, "profiles": profiles}, notes

    def render(
        self,
        catalogue: ModelCatalogue,
        old: str | None,
        path: Path,
        base: Any,
        replaceable: Replaceable | None = None,
    ) -> Plan:
        """Merge the generated tables into the TOML document, keeping the rest."""
        try:
            doc = tomlkit.parse(old) if old is not None else tomlkit.document()
        except ParseError as exc:
            raise OutputError(
                f"{path}: line {exc.line}, column {exc.col}: not valid TOML; fix it "
                "or move it away, it was left untouched"
            ) from None
        generated, notes = self.tables(catalogue)
        for key in TABLES:
            container = doc.get(key)
            if container is not None and not isinstance(container, Mapping):
                raise OutputError(
                    f"{path}: {key} is not a table; fix it or move the file away, it "
                    "was left untouched"
                )
            current = {name: _plain(value) for name, value in (container or {}).items()}
            was = base.get(key, MISSING) if isinstance(base, dict) else MISSING
            merged = merge_owned(current, _owned, generated[key], was, replaceable)
            _apply(doc, key, merged)
        return Plan(path, old, tomlkit.dumps(doc), generated, notes)


def _apply(doc: Any, key: str, merged: dict[str, Any]) -> None:
    """Write the merged owned tables into the document, touching nothing else."""
    container = doc.get(key)
    if container is None:
        if not any(_owned(name) for name in merged):
            return
        container = tomlkit.table(is_super_table=True)
        doc[key] = container
    for name in [n for n in container if _owned(n) and n not in merged]:
        del container[name]
    for name, values in merged.items():
        if not _owned(name):
            continue
        if name not in container or not isinstance(container[name], Mapping):
            table = tomlkit.table()
            for field, value in values.items():
                table[field] = value
            container[name] = table
            continue
        existing: Table = container[name]
        for field in [f for f in existing if f not in values]:
            del existing[field]
        for field, value in values.items():
            if field not in existing or not same(_plain(existing[field]), value):
                existing[field] = value
