"""Connectors: the gateway's MCP tools as discovery tools, pinned tools and stubs.

`client` talks to `<gateway>/v1/mcp`, `loading` adds `/api/connectors`; `catalogue`,
`search` and `pins` decide what is shown and exposed; `server` is the stdio
MCP server of `aperture-proxy mcp`; `stubs` writes agent configuration.
Nothing here imports mitmproxy. Names are loaded on first use, because the
MCP SDK takes about a second to import and every CLI command imports this
package to build its parser.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aperture_proxy.connectors.catalogue import (
        OTHER,
        ConnectorCatalogue,
        ConnectorInfo,
        ConnectorTool,
        parse_connectors,
    )
    from aperture_proxy.connectors.client import ConnectorError, GatewayMcp
    from aperture_proxy.connectors.loading import fetch_connectors, load_catalogue
    from aperture_proxy.connectors.names import NameMap, sanitise
    from aperture_proxy.connectors.pins import ResolvedPin, resolve_pins
    from aperture_proxy.connectors.search import DEFAULT_LIMIT, search

_HOMES = {
    "catalogue": ["OTHER", "ConnectorCatalogue", "ConnectorInfo", "ConnectorTool"],
    "client": ["ConnectorError", "GatewayMcp"],
    "loading": ["fetch_connectors", "load_catalogue"],
    "names": ["NameMap", "sanitise"],
    "pins": ["ResolvedPin", "resolve_pins"],
    "search": ["DEFAULT_LIMIT", "search"],
}
_HOMES["catalogue"].append("parse_connectors")
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}

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


def __getattr__(name: str) -> object:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
