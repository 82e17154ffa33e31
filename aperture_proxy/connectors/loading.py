"""Reading the connector catalogue: `/api/connectors` and the MCP tools, together."""

from __future__ import annotations

import anyio
import mcp.types as types

from aperture_proxy.catalogue_cache import DiscoveryError
from aperture_proxy.connectors.catalogue import (
    ConnectorCatalogue,
    ConnectorInfo,
    parse_connectors,
)
from aperture_proxy.connectors.client import ConnectorError, GatewayMcp
from aperture_proxy.gateway import GatewayClient

__all__ = ["fetch_connectors", "load_catalogue"]


class _ConnectorsApi(GatewayClient):
    """The gateway's plain JSON endpoints, plus `/api/connectors`."""

    async def fetch_connectors(self) -> object:
        return await self._get_json("/api/connectors")


async def fetch_connectors(gateway: str, *, timeout: float = 10.0) -> object:
    """The JSON of `GET /api/connectors`; raises DiscoveryError."""
    api = _ConnectorsApi(gateway, timeout=timeout)
    async with api:
        return await api.fetch_connectors()


async def load_catalogue(mcp: GatewayMcp) -> ConnectorCatalogue:
    """The gateway's tools (`/v1/mcp`) grouped under its connectors.

    Both are fetched concurrently. Without `/api/connectors` every tool is
    grouped under `other`, with a warning; without the tools, ConnectorError.
    """
    raw_connectors: object = None
    connectors_error: DiscoveryError | None = None
    tools: list[types.Tool] = []
    tools_error: ConnectorError | None = None

    async def get_connectors() -> None:
        nonlocal raw_connectors, connectors_error
        try:
            raw_connectors = await fetch_connectors(mcp.gateway, timeout=mcp.timeout)
        except DiscoveryError as exc:
            connectors_error = exc

    async def get_tools() -> None:
        # Kept, not raised: a task group would wrap it into an ExceptionGroup.
        nonlocal tools, tools_error
        try:
            tools = await mcp.list_tools()
        except ConnectorError as exc:
            tools_error = exc

    async with anyio.create_task_group() as group:
        group.start_soon(get_connectors)
        group.start_soon(get_tools)
    if tools_error is not None:
        raise tools_error

    warnings: list[str] = []
    connectors: list[ConnectorInfo] = []
    try:
        if connectors_error is not None:
            raise connectors_error
        connectors, warnings = parse_connectors(raw_connectors)
    except DiscoveryError as exc:
        problem = str(exc) if exc.url else f"{mcp.gateway}/api/connectors: {exc}"
        warnings.append(
            f"the connector list is unavailable ({problem}); tools are grouped "
            "under other"
        )
    entries = []
    seen: set[str] = set()
    for tool in tools:
        if tool.name in seen:
            warnings.append(
                f"the gateway lists the tool {tool.name!r} twice; the first one is used"
            )
            continue
        seen.add(tool.name)
        entries.append((tool.name, tool.description or "", tool.input_schema))
    return ConnectorCatalogue.build(connectors, entries, warnings)
