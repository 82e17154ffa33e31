"""Pinned tools (`connectors.pinnedTools`) resolved against the gateway's tools."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from aperture_proxy.config import PinnedTool
from aperture_proxy.connectors.catalogue import ConnectorCatalogue, ConnectorTool
from aperture_proxy.connectors.names import NameMap

__all__ = ["ResolvedPin", "resolve_pins"]


@dataclass(frozen=True)
class ResolvedPin:
    """A pin that names a tool the gateway serves, and the safe name it gets."""

    pin: PinnedTool
    tool: ConnectorTool
    name: str


def resolve_pins(
    pins: Sequence[PinnedTool],
    catalogue: ConnectorCatalogue,
    *,
    reserved: Iterable[str] = (),
) -> tuple[list[ResolvedPin], list[str]]:
    """The pins whose tool the gateway serves, and one warning per skipped pin.

    A pin is resolved by its tool name alone (its `connectorId` only says where
    it came from); a pin listed twice counts once. Each resolved tool gets a
    safe name (`NameMap`) that avoids `reserved`.
    """
    warnings: list[str] = []
    found: list[tuple[PinnedTool, ConnectorTool]] = []
    seen: set[str] = set()
    for pin in pins:
        if pin.tool_name in seen:
            warnings.append(
                f"pinned tool {pin.tool_name!r} is listed twice in "
                "connectors.pinnedTools; it is exposed once"
            )
            continue
        seen.add(pin.tool_name)
        tool = catalogue.tool(pin.tool_name)
        if tool is None:
            warnings.append(
                f"pinned tool {pin.tool_name!r} (connector {pin.connector_id!r}) "
                "is not served by the gateway; skipped. Remove it from "
                "connectors.pinnedTools or find its new name with "
                "`aperture-proxy connectors search`"
            )
            continue
        found.append((pin, tool))
    names = NameMap((tool.name for _, tool in found), reserved=reserved)
    resolved = [ResolvedPin(pin, tool, names.safe(tool.name)) for pin, tool in found]
    return resolved, warnings
