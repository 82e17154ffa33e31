"""The connectors section of the setup: discovery tools and pins from the gateway.

Shared by `onboard` and `settings`, like the sections in setup_steps. The pin
checklist shows the tools the gateway's `/v1/mcp` serves, grouped by connector;
their names and descriptions come from the network and are shown without
control characters.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import anyio

from aperture_proxy.config import Config, PinnedTool
from aperture_proxy.connectors.catalogue import ConnectorCatalogue
from aperture_proxy.prompts import Option, Prompter, printable
from aperture_proxy.setup_steps import SetupFailed

__all__ = ["choose_connectors", "fetch_tools", "parse_pin"]


def parse_pin(text: str) -> PinnedTool:
    """`CONNECTOR/TOOL` as a pin; the tool name may itself contain slashes.

    >>> parse_pin("github/github_list_repos").tool_name
    'github_list_repos'
    """
    connector, slash, tool = text.partition("/")
    if not slash or not connector or not tool:
        raise SetupFailed(
            f"--pin {text!r}: expected CONNECTOR/TOOL such as github/github_list_repos"
        )
    return PinnedTool(connector_id=connector, tool_name=tool)


def fetch_tools(gateway: str, timeout: float = 20.0) -> ConnectorCatalogue:
    """The gateway's connectors and tools; raises ConnectorError."""
    from aperture_proxy.connectors.client import GatewayMcp
    from aperture_proxy.connectors.loading import load_catalogue

    # The SDK logs each transport failure with a traceback; the caller words it.
    logging.getLogger("mcp").setLevel(logging.CRITICAL)

    async def run() -> ConnectorCatalogue:
        async with GatewayMcp(gateway, timeout=timeout) as mcp:
            return await load_catalogue(mcp)

    return anyio.run(run)


def _pin_options(
    tools: ConnectorCatalogue, current: Sequence[PinnedTool]
) -> list[Option[PinnedTool]]:
    pinned = {p.tool_name for p in current}
    options: list[Option[PinnedTool]] = []
    for connector, group in tools.groups().items():
        if not group:
            continue
        options.append(Option(f"— {printable(connector, 40)} —", heading=True))
        for tool in group:
            title = f"{printable(tool.name, 50)}  {printable(tool.description, 60)}"
            pin = PinnedTool(connector_id=connector, tool_name=tool.name)
            options.append(Option(title, pin, tool.name in pinned))
    gone = [p for p in current if tools.tool(p.tool_name) is None]
    if gone:
        options.append(
            Option("— pinned, but not served by the gateway now —", heading=True)
        )
        options += [
            Option(
                f"{printable(p.connector_id, 40)}/{printable(p.tool_name, 50)}", p, True
            )
            for p in gone
        ]
    return options


def choose_connectors(
    ui: Prompter,
    config: Config,
    gateway: str,
    *,
    discovery: bool | None,
    pins: Sequence[PinnedTool] | None,
    ask_gateway_tools: bool = True,
) -> None:
    """Discovery tools on or off, and the pinned tools picked from the gateway's."""
    from aperture_proxy.connectors.client import ConnectorError

    if discovery is None:
        discovery = ui.confirm(
            "Offer the discovery tools (list, search, describe and call any "
            "connector tool)?",
            default=config.connectors.discovery_tools,
        )
    config.connectors.discovery_tools = discovery
    wanted = ask_gateway_tools and (ui.interactive or pins)
    tools = None
    if wanted:
        ui.say(f"Asking {gateway}/v1/mcp for its tools …")
        try:
            tools = fetch_tools(gateway)
        except ConnectorError as exc:
            ui.say(f"✗ {exc}")
            ui.say("  pinned tools are not checked against the gateway")
    if pins is not None:
        if tools is not None:
            missing = [p for p in pins if tools.tool(p.tool_name) is None]
            if missing:
                names = ", ".join(f"{p.connector_id}/{p.tool_name}" for p in missing)
                raise SetupFailed(
                    f"--pin {names}: the gateway serves no such tool; "
                    "`aperture-proxy connectors search` finds tools"
                )
        chosen = list(pins)
    elif tools is not None and ui.interactive:
        chosen = ui.checkbox(
            "Which tools should be pinned (exposed as tools of their own)?",
            _pin_options(tools, config.connectors.pinned_tools),
        )
    else:
        chosen = list(config.connectors.pinned_tools)
    config.connectors.pinned_tools = chosen
    shown = ", ".join(printable(f"{p.connector_id}/{p.tool_name}", 60) for p in chosen)
    ui.say(
        f"discovery tools: {'on' if discovery else 'off'}; pinned: {shown or 'none'}"
    )
