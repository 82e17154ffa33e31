"""Ranking connector tools against a query over their names and descriptions."""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aperture_proxy.connectors.catalogue import ConnectorTool

__all__ = ["DEFAULT_LIMIT", "Match", "rank", "search"]

DEFAULT_LIMIT = 15


class Match(IntEnum):
    """How a tool matched a query, best first."""

    EXACT_NAME = 0
    NAME_PREFIX = 1
    NAME_SUBSTRING = 2
    DESCRIPTION = 3


def rank(tool: ConnectorTool, query: str) -> Match | None:
    """How `tool` matches `query` (case-insensitive), or None when it does not.

    >>> from aperture_proxy.connectors.catalogue import ConnectorTool
    >>> t = ConnectorTool("github_list_repos", "List repositories", {})
    >>> rank(t, "GitHub_List_Repos"), rank(t, "github"), rank(t, "repos")
    (<Match.EXACT_NAME: 0>, <Match.NAME_PREFIX: 1>, <Match.NAME_SUBSTRING: 2>)
    >>> rank(t, "repositories"), rank(t, "gitlab")
    (<Match.DESCRIPTION: 3>, None)
    """
    needle = query.strip().casefold()
    name = tool.name.casefold()
    if name == needle:
        return Match.EXACT_NAME
    if name.startswith(needle):
        return Match.NAME_PREFIX
    if needle in name:
        return Match.NAME_SUBSTRING
    if needle in tool.description.casefold():
        return Match.DESCRIPTION
    return None


def search(
    tools: Sequence[ConnectorTool],
    query: str = "",
    *,
    limit: int = DEFAULT_LIMIT,
    connector: str | None = None,
) -> list[ConnectorTool]:
    """The tools matching `query`, best match first, at most `limit` of them.

    Within one kind of match the gateway's order is kept. An empty query or
    `*` matches every tool. `connector` keeps only the tools of that connector
    id (case-insensitive). Raises ValueError for a limit below 1.
    """
    if limit < 1:
        raise ValueError(f"the limit must be at least 1, got {limit}")
    if connector:
        wanted = connector.strip().casefold()
        tools = [t for t in tools if t.connector.casefold() == wanted]
    if query.strip() in ("", "*"):
        return list(tools[:limit])
    ranked = []
    for index, tool in enumerate(tools):
        match = rank(tool, query)
        if match is not None:
            ranked.append((match, index, tool))
    ranked.sort(key=lambda item: (item[0], item[1]))
    return [tool for _, _, tool in ranked[:limit]]
