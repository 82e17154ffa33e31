"""Connectors: the gateway's MCP tools as discovery tools, pinned tools and stubs.

`client` talks to `<gateway>/v1/mcp` and `/api/connectors`; `catalogue`,
`search` and `pins` decide what is shown and exposed; `server` is the stdio
MCP server of `aperture-proxy mcp`; `stubs` writes agent configuration.
Nothing here imports mitmproxy.
"""

from aperture_proxy.connectors.catalogue import (
    OTHER,
    ConnectorCatalogue,
    ConnectorInfo,
    ConnectorTool,
    parse_connectors,
)
from aperture_proxy.connectors.client import (
    ConnectorError,
    GatewayMcp,
    fetch_connectors,
    load_catalogue,
)
from aperture_proxy.connectors.names import NameMap, sanitise
from aperture_proxy.connectors.pins import ResolvedPin, resolve_pins
from aperture_proxy.connectors.search import DEFAULT_LIMIT, search

__all__ = [
    "DEFAULT_LIMIT",
    "OTHER",
    "ConnectorCatalogue",
    "ConnectorError",
    "ConnectorInfo",
    "ConnectorTool",
    "GatewayMcp",
    "NameMap",
    "ResolvedPin",
    "fetch_connectors",
    "load_catalogue",
    "parse_connectors",
    "resolve_pins",
    "sanitise",
    "search",
]
