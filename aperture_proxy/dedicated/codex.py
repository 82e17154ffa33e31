"""The Codex writer: `[model_providers.aperture]` in Codex's `config.toml`.

Codex speaks only the Responses API to custom providers (`wire_api =
"responses"`), so only models whose gateway provider speaks it count, and
`supports_websockets = false` keeps Codex on HTTP/SSE (the gateway has no
WebSocket route). Codex's config holds no model list for a provider; the
table's header comment names the models, and one is picked per run:
`codex -c model_provider=aperture -m gpt-5.1`. (Per-model `[profiles.…]`
tables are not written: Codex 0.171 treats them as legacy and refuses
`--profile` for any name that still has one.)

A model id that several gateway providers serve is one `-m` value: the request
(`<gateway>/v1/responses` with that id) is the same for all of them and the
gateway picks the provider. Only a provider whose upstream base ends in a
non-v1 version is reached at another base URL, through its own
`[model_providers.aperture-<gateway provider>]`.

The rest of the file, comments included, is kept as it is (tomlkit round-trips
it); keys inside our own tables that did not change keep their formatting too.
The header comment of our tables is rewritten on every run.
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
TABLE = "model_providers"
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
    """`[model_providers.aperture]` (and `aperture-<provider>`) in config.toml."""

    name: str = "codex"
    speaks: tuple[Api, ...] = (Api.OPENAI_RESPONSES,)

    def default_path(self, env: Mapping[str, str]) -> Path:
        """`$CODEX_HOME/config.toml`, else `~/.codex/config.toml`."""
        home = environ_path(env, HOME_ENV) or Path.home() / ".codex"
        return home / "config.toml"

    def tables(
        self, catalogue: ModelCatalogue
    ) -> tuple[dict[str, Any], dict[str, list[str]], list[str]]:
        """The generated provider tables, their model ids, and notes for people."""
        placed, left_out = place(catalogue, self.speaks)
        main_base = f"{catalogue.gateway}/v1"
        tables: dict[str, Any] = {}
        models: dict[str, list[str]] = {}
        notes: list[str] = []
        for entry in placed:
            model = entry.model
            base = model.base_url(entry.api)
            main = base == main_base
            table = PROVIDER if main else f"{PROVIDER}-{model.provider}"
            label = "Aperture" if main else f"Aperture ({model.provider_name})"
            tables.setdefault(table, _provider_table(label, base))
            ids = models.setdefault(table, [])
            if model.id in ids:
                notes.append(
                    f"codex: {model.id} is also served by {model.provider}; "
                    f"`-c model_provider={table} -m {model.id}` reaches both (the "
                    "gateway picks the provider)"
                )
                continue
            ids.append(model.id)
        for table, ids in models.items():
            notes.append(
                f"codex: run `codex -c model_provider={table} -m MODEL` with MODEL "
                f"one of {', '.join(ids)}"
            )
        return tables, models, notes + left_out_note("codex", left_out)

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
        container = doc.get(TABLE)
        if container is not None and not isinstance(container, Mapping):
            raise OutputError(
                f"{path}: {TABLE} is not a table; fix it or move the file away, it "
                "was left untouched"
            )
        generated, models, notes = self.tables(catalogue)
        current = {name: _plain(value) for name, value in (container or {}).items()}
        was = base.get(TABLE, MISSING) if isinstance(base, dict) else MISSING
        merged = merge_owned(current, _owned, generated, was, replaceable)
        _apply(doc, merged, models)
        return Plan(path, old, tomlkit.dumps(doc), {TABLE: generated}, notes)


def _apply(doc: Any, merged: dict[str, Any], models: dict[str, list[str]]) -> None:
    """Write the merged owned tables into the document, touching nothing else."""
    container = doc.get(TABLE)
    if container is None:
        if not any(_owned(name) for name in merged):
            return
        container = tomlkit.table(is_super_table=True)
        doc[TABLE] = container
    for name in [n for n in container if _owned(n) and n not in merged]:
        del container[name]
    for name, values in merged.items():
        if not _owned(name):
            continue
        if name not in container or not isinstance(container[name], Table):
            table = tomlkit.table()
            for field, value in values.items():
                table[field] = value
            container[name] = table
        else:
            existing: Table = container[name]
            for field in [f for f in existing if f not in values]:
                del existing[field]
            for field, value in values.items():
                if field not in existing or not same(_plain(existing[field]), value):
                    existing[field] = value
        if name in models:
            container[name].comment(f"models: {', '.join(models[name])}")
