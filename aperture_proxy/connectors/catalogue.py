"""The connector catalogue: `/api/connectors` entries and the MCP tools under them."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from aperture_proxy.catalogue_cache import DiscoveryError

__all__ = [
    "OTHER",
    "ConnectorCatalogue",
    "ConnectorInfo",
    "ConnectorTool",
    "parse_connectors",
]

OTHER = "other"
"""The group of tools whose name starts with no known connector id."""

_TEXT_FIELDS = ("description", "protocol", "provider", "category", "status")


@dataclass(frozen=True)
class ConnectorInfo:
    """One entry of `GET /api/connectors`."""

    id: str
    description: str = ""
    protocol: str = ""
    provider: str = ""
    category: str = ""
    status: str = ""
    auth_type: str | None = None


@dataclass(frozen=True)
class ConnectorTool:
    """One tool of the gateway's `/v1/mcp`, as the gateway describes it.

    `input_schema` is kept exactly as received; nothing here interprets it.
    """

    name: str
    description: str
    input_schema: dict[str, Any]
    connector: str = OTHER


def _entries(raw: object) -> list[Any]:
    if isinstance(raw, dict) and "connectors" in raw:
        raw = raw["connectors"]
    if isinstance(raw, dict):
        # A map keyed by id, like /api/providers may be.
        return [
            {"id": key, **value} if isinstance(value, dict) else value
            for key, value in raw.items()
        ]
    if isinstance(raw, list):
        return raw
    raise DiscoveryError(
        'expected {"connectors": [...]} with one entry per connector, got '
        f"{type(raw).__name__}"
    )


def _show(value: object) -> str:
    text = json.dumps(value, ensure_ascii=True, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def parse_connectors(raw: object) -> tuple[list[ConnectorInfo], list[str]]:
    """Connectors from the JSON of `/api/connectors`, and one warning per bad entry.

    Accepts `{"connectors": [...]}`, a bare list, or a map keyed by id. An
    entry without a string `id` is dropped with a warning; a text field of
    the wrong type is left empty. Raises DiscoveryError for any other shape.
    """
    connectors: list[ConnectorInfo] = []
    warnings: list[str] = []
    seen: set[str] = set()
    for index, entry in enumerate(_entries(raw)):
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            warnings.append(
                f"connector entry {index} dropped: expected an object with a "
                f"string id, got {_show(entry)}"
            )
            continue
        ident = entry["id"].strip()
        if not ident or ident in seen:
            warnings.append(
                f"connector entry {index} dropped: id {_show(ident)} "
                "is empty or listed twice"
            )
            continue
        seen.add(ident)
        texts = {k: entry[k] for k in _TEXT_FIELDS if isinstance(entry.get(k), str)}
        auth = entry.get("auth_type")
        connectors.append(
            ConnectorInfo(
                id=ident, auth_type=auth if isinstance(auth, str) else None, **texts
            )
        )
    return connectors, warnings


def connector_of(tool_name: str, connector_ids: Iterable[str]) -> str:
    """The connector a tool belongs to: the longest id that prefixes `id_`.

    Compared case-insensitively; `other` when no known id matches.

    >>> connector_of("github_list_repos", ["git", "github"])
    'github'
    >>> connector_of("weather_forecast", ["github"])
    'other'
    """
    lowered = tool_name.lower()
    best = OTHER
    for ident in connector_ids:
        if lowered.startswith(ident.lower() + "_") and (
            best == OTHER or len(ident) > len(best)
        ):
            best = ident
    return best


@dataclass
class ConnectorCatalogue:
    """What the gateway offers: its connectors and every tool, in gateway order."""

    connectors: list[ConnectorInfo]
    tools: list[ConnectorTool]
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def build(
        cls,
        connectors: list[ConnectorInfo],
        tools: Iterable[tuple[str, str, dict[str, Any]]],
        warnings: Iterable[str] = (),
    ) -> ConnectorCatalogue:
        """Group `(name, description, schema)` tools under `connectors`."""
        ids = [c.id for c in connectors]
        grouped = [
            ConnectorTool(name, description, schema, connector_of(name, ids))
            for name, description, schema in tools
        ]
        return cls(connectors, grouped, list(warnings))

    def tool(self, name: str) -> ConnectorTool | None:
        """The tool called exactly `name`, if the gateway serves it."""
        return next((t for t in self.tools if t.name == name), None)

    def groups(self) -> dict[str, list[ConnectorTool]]:
        """Tools by connector id: connectors in gateway order, then `other`.

        Every connector appears, with an empty list when it serves no tool.
        """
        groups: dict[str, list[ConnectorTool]] = {c.id: [] for c in self.connectors}
        for tool in self.tools:
            groups.setdefault(tool.connector, []).append(tool)
        if OTHER in groups:
            groups[OTHER] = groups.pop(OTHER)
        return groups
