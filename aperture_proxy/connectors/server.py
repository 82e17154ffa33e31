"""`aperture-proxy mcp`: the gateway's connectors as a local stdio MCP server.

It exposes the four discovery tools (when `connectors.discoveryTools` is on)
and every pinned tool under a safe name, with the gateway's input schema
passed through untouched; calls are forwarded to the gateway's `/v1/mcp`.

Pins are resolved once, at start. When the gateway cannot be reached then,
the server still starts and the discovery tools keep trying, but pinned tools
appear only after a restart, because many agents read the tool list once.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import mcp.types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from mcp.shared.exceptions import MCPError

from aperture_proxy import __version__
from aperture_proxy.config import ConnectorSettings
from aperture_proxy.connectors.catalogue import ConnectorCatalogue
from aperture_proxy.connectors.client import ConnectorError, GatewayMcp
from aperture_proxy.connectors.loading import load_catalogue
from aperture_proxy.connectors.pins import ResolvedPin, resolve_pins
from aperture_proxy.connectors.search import DEFAULT_LIMIT, search
from aperture_proxy.connectors.views import (
    format_catalogue,
    format_search,
    format_tool,
)

__all__ = ["DISCOVERY_TOOLS", "ConnectorServer", "serve_stdio"]

log = logging.getLogger(__name__)

LIST = "aperture_connector_list"
SEARCH = "aperture_connector_tool_search"
DESCRIBE = "aperture_connector_tool_describe"
CALL = "aperture_connector_tool_call"
DISCOVERY_TOOLS = (LIST, SEARCH, DESCRIBE, CALL)

_TOOL_ARG = {"type": "string", "description": "The tool's exact name on the gateway"}

_DISCOVERY: tuple[types.Tool, ...] = (
    types.Tool(
        name=LIST,
        description="List the Aperture gateway's connectors with their status "
        "and how many tools each serves.",
        input_schema={"type": "object", "properties": {}},
    ),
    types.Tool(
        name=SEARCH,
        description="Search the gateway's connector tools by name or description. "
        "Results are ranked: exact name, name prefix, name substring, then "
        "description. An empty query or * lists every tool.",
        input_schema={
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "Text to look for"},
                "limit": {
                    "type": "integer",
                    "minimum": 1,
                    "description": f"Most results to return (default {DEFAULT_LIMIT})",
                },
                "connector": {
                    "type": "string",
                    "description": "Only tools of this connector id, e.g. github",
                },
            },
        },
    ),
    types.Tool(
        name=DESCRIBE,
        description="Show a connector tool's full description and input schema. "
        f"Use it before {CALL}.",
        input_schema={
            "type": "object",
            "properties": {"tool": _TOOL_ARG},
            "required": ["tool"],
        },
    ),
    types.Tool(
        name=CALL,
        description="Call a connector tool on the gateway with JSON arguments "
        f"that match its input schema (see {DESCRIBE}).",
        input_schema={
            "type": "object",
            "properties": {
                "tool": _TOOL_ARG,
                "args": {
                    "type": "object",
                    "description": "The tool's arguments (a JSON object, or a "
                    "string holding one)",
                },
            },
            "required": ["tool"],
        },
    ),
)


def _text(text: str, *, error: bool = False) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(text=text)], is_error=error)


class _BadArguments(Exception):
    """Arguments of a discovery tool that cannot be used; the message says why."""


def _string(arguments: dict[str, Any], key: str, *, required: bool = False) -> str:
    value = arguments.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise _BadArguments(f"{key!r} must be a non-empty string, got {value!r:.60}")
    return value


def _call_arguments(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else {}
        except ValueError as exc:
            raise _BadArguments(f"'args' is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise _BadArguments(
            f"'args' must be a JSON object, got {type(value).__name__}; "
            f"see {DESCRIBE} for the tool's input schema"
        )
    return value


class ConnectorServer:
    """The tools of `aperture-proxy mcp`, and how each call is answered."""

    def __init__(self, mcp: GatewayMcp, settings: ConnectorSettings) -> None:
        self.mcp = mcp
        self.settings = settings
        self.catalogue: ConnectorCatalogue | None = None
        self.pins: dict[str, ResolvedPin] = {}

    async def start(self) -> list[str]:
        """Read the gateway's catalogue and resolve the pins; returns warnings."""
        if not self.settings.enabled:
            return [
                "connectors are disabled (connectors.enabled is false); serving "
                "no tools. Set connectors.enabled: true in the config file"
            ]
        try:
            catalogue = await self._catalogue()
        except ConnectorError as exc:
            warning = f"the gateway's tools are unavailable: {exc}"
            if self.settings.pinned_tools:
                warning += (
                    "; pinned tools are not exposed until aperture-proxy mcp restarts"
                )
            return [warning]
        resolved, warnings = resolve_pins(
            self.settings.pinned_tools, catalogue, reserved=DISCOVERY_TOOLS
        )
        self.pins = {pin.name: pin for pin in resolved}
        return catalogue.warnings + warnings

    async def _catalogue(self) -> ConnectorCatalogue:
        if self.catalogue is None:
            self.catalogue = await load_catalogue(self.mcp)
        return self.catalogue

    def tools(self) -> list[types.Tool]:
        """The tools this server lists, discovery tools first."""
        if not self.settings.enabled:
            return []
        tools = list(_DISCOVERY) if self.settings.discovery_tools else []
        tools += [
            types.Tool(
                name=pin.name,
                description=pin.tool.description,
                input_schema=pin.tool.input_schema,
            )
            for pin in self.pins.values()
        ]
        return tools

    async def call(self, name: str, arguments: dict[str, Any]) -> types.CallToolResult:
        """Answer one `tools/call`; gateway failures become `isError` results."""
        pin = self.pins.get(name)
        discovery = self.settings.enabled and self.settings.discovery_tools
        if pin is None and not (discovery and name in DISCOVERY_TOOLS):
            raise MCPError(types.INVALID_PARAMS, f"unknown tool {name!r}")
        try:
            if pin is not None:
                # The gateway's result, content and all, goes back unchanged.
                return await self.mcp.call_tool(pin.tool.name, arguments)
            return await self._discovery(name, arguments)
        except _BadArguments as exc:
            return _text(f"{name}: {exc}", error=True)
        except ConnectorError as exc:
            log.warning("%s failed: %s", name, exc)
            return _text(str(exc), error=True)

    async def _discovery(
        self, name: str, arguments: dict[str, Any]
    ) -> types.CallToolResult:
        if name == CALL:
            tool = _string(arguments, "tool", required=True)
            return await self.mcp.call_tool(
                tool, _call_arguments(arguments.get("args"))
            )
        catalogue = await self._catalogue()
        if name == LIST:
            return _text(format_catalogue(catalogue, with_tools=False))
        if name == SEARCH:
            query = _string(arguments, "query")
            limit = arguments.get("limit", DEFAULT_LIMIT)
            if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
                raise _BadArguments(
                    f"'limit' must be a whole number from 1, got {limit!r}"
                )
            connector = _string(arguments, "connector") or None
            found = search(catalogue.tools, query, limit=limit, connector=connector)
            return _text(format_search(found, query))
        wanted = _string(arguments, "tool", required=True)
        described = catalogue.tool(wanted)
        if described is None:
            return _text(
                f"no tool named {wanted!r:.80} on the gateway; {SEARCH} finds tools",
                error=True,
            )
        return _text(format_tool(described))


async def serve_stdio(
    gateway: str, settings: ConnectorSettings, *, timeout: float = 60.0
) -> None:
    """Serve the connector tools over stdin/stdout until the client hangs up."""
    async with GatewayMcp(gateway, timeout=timeout) as mcp:
        connectors = ConnectorServer(mcp, settings)
        for warning in await connectors.start():
            log.warning("%s", warning)

        async def list_tools(
            ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
        ) -> types.ListToolsResult:
            return types.ListToolsResult(tools=connectors.tools())

        async def call_tool(
            ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
        ) -> types.CallToolResult:
            return await connectors.call(params.name, params.arguments or {})

        server: Server[Any] = Server(
            "aperture-proxy",
            version=__version__,
            instructions="Tools of the Aperture gateway's connectors. Use "
            f"{SEARCH} to find a tool, {DESCRIBE} to read its input schema and "
            f"{CALL} to run it.",
            on_list_tools=list_tools,
            on_call_tool=call_tool,
        )
        log.info("serving %d tools of %s over stdio", len(connectors.tools()), mcp.url)
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())
