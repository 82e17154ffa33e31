"""The MCP client against the simulated gateway's `/v1/mcp` and `/api/connectors`."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import mcp.types as types
import pytest

from aperture_proxy.connectors.client import ConnectorError, GatewayMcp
from aperture_proxy.connectors.loading import load_catalogue
from aperture_proxy.sim import SimulatedGateway
from aperture_proxy.sim.mcp import CONNECTORS, PAGE_SIZE, TOOLS


def _with_mcp[T](
    url: str, use: Callable[[GatewayMcp], Awaitable[T]], timeout: float = 10.0
) -> T:
    async def run() -> T:
        async with GatewayMcp(url, timeout=timeout) as mcp:
            return await use(mcp)

    return anyio.run(run)


def _text(result: types.CallToolResult) -> str:
    assert len(result.content) == 1
    block = result.content[0]
    assert isinstance(block, types.TextContent)
    return block.text


def _mcp_posts(gw: SimulatedGateway) -> list[dict[str, Any]]:
    return [
        json.loads(r.body)
        for r in gw.requests()
        if r.path == "/v1/mcp" and r.method == "POST"
    ]


def test_list_tools_follows_every_page(gw: SimulatedGateway) -> None:
    tools = _with_mcp(gw.url, lambda mcp: mcp.list_tools())

    assert [t.name for t in tools] == [t.name for t in TOOLS]
    pages = [m for m in _mcp_posts(gw) if m.get("method") == "tools/list"]
    assert len(pages) == math.ceil(len(TOOLS) / PAGE_SIZE) == 3
    assert [m.get("params", {}).get("cursor") for m in pages] == [None, "4", "8"]


def test_requests_carry_the_session_and_accept_sse(gw: SimulatedGateway) -> None:
    _with_mcp(gw.url, lambda mcp: mcp.list_tools())

    posts = [r for r in gw.requests() if r.method == "POST"]
    headers = [{k.lower(): v for k, v in r.headers} for r in posts]
    assert "mcp-session-id" not in headers[0]  # initialize opens the session
    session = headers[1]["mcp-session-id"]
    assert all(h["mcp-session-id"] == session for h in headers[1:])
    assert all("text/event-stream" in h["accept"] for h in headers)


def test_the_input_schema_arrives_untouched(gw: SimulatedGateway) -> None:
    tools = _with_mcp(gw.url, lambda mcp: mcp.list_tools())

    served = {t.name: t.input_schema for t in TOOLS}
    assert {t.name: t.input_schema for t in tools} == served
    huge = json.dumps(served["github_search_code"])
    assert len(huge) > 300_000


def test_call_returns_the_gateway_result(gw: SimulatedGateway) -> None:
    result = _with_mcp(
        gw.url, lambda mcp: mcp.call_tool("github_list_repos", {"owner": "octo"})
    )

    assert result.is_error is False
    assert _text(result) == "octo/hello-world\nocto/spoon-knife"


def test_an_is_error_result_is_returned_not_raised(gw: SimulatedGateway) -> None:
    result = _with_mcp(
        gw.url, lambda mcp: mcp.call_tool("jira_create_issue", {"summary": "x"})
    )

    assert result.is_error is True
    assert _text(result).startswith("jira: the connector is misconfigured")


def test_an_mcp_error_names_the_call_and_the_gateway_message(
    gw: SimulatedGateway,
) -> None:
    with pytest.raises(ConnectorError) as caught:
        _with_mcp(gw.url, lambda mcp: mcp.call_tool("notion_search", {}))

    assert str(caught.value) == (
        f"{gw.url}/v1/mcp: the gateway answered tools/call 'notion_search' with "
        "MCP error -32600: notion: this caller has no access to the connector "
        "(simulated gateway)"
    )


def test_an_unknown_tool_is_the_gateway_mcp_error(gw: SimulatedGateway) -> None:
    with pytest.raises(ConnectorError, match="MCP error -32602: Unknown tool: nope"):
        _with_mcp(gw.url, lambda mcp: mcp.call_tool("nope", {}))


def test_a_failing_tools_list_is_a_clear_error(gw: SimulatedGateway) -> None:
    gw.settings.mcp_fault = "error"

    with pytest.raises(ConnectorError) as caught:
        _with_mcp(gw.url, lambda mcp: mcp.list_tools())

    assert str(caught.value) == (
        f"{gw.url}/v1/mcp: the gateway answered tools/list with MCP error -32603: "
        "simulated gateway: tools/list failed (fault mcp_fault=error)"
    )


def test_an_unreachable_gateway_is_named_with_its_cause(
    own_gw: SimulatedGateway,
) -> None:
    url = own_gw.url
    own_gw.stop()

    with pytest.raises(ConnectorError) as caught:
        _with_mcp(url, lambda mcp: mcp.list_tools())

    assert str(caught.value) == (
        f"{url}/v1/mcp: connection refused. Check the gateway URL and that this "
        "machine is connected to the tailnet (`tailscale status`)."
    )


def test_a_gateway_without_mcp_says_so(gw: SimulatedGateway) -> None:
    async def use(mcp: GatewayMcp) -> object:
        mcp.url = gw.url + "/v1/not-mcp"
        return await mcp.list_tools()

    with pytest.raises(ConnectorError, match="the gateway has no MCP endpoint here"):
        _with_mcp(gw.url, use)


def test_a_slow_answer_times_out_and_the_session_still_works(
    gw: SimulatedGateway,
) -> None:
    gw.settings.mcp_fault = "stall"
    gw.settings.stall_seconds = 5

    async def use(mcp: GatewayMcp) -> types.CallToolResult:
        with pytest.raises(ConnectorError) as caught:
            await mcp.call_tool("weather_forecast", {"city": "Oslo"})
        assert str(caught.value) == (
            f"{gw.url}/v1/mcp: no answer to tools/call 'weather_forecast' within 0.5 s"
        )
        gw.settings.mcp_fault = "none"
        return await mcp.call_tool("weather_forecast", {"city": "Oslo"})

    result = _with_mcp(gw.url, use, timeout=0.5)

    assert _text(result) == 'weather_forecast called with {"city": "Oslo"}'


def test_an_expired_session_is_replaced_once(
    own_gw: SimulatedGateway, caplog: pytest.LogCaptureFixture
) -> None:
    async def use(mcp: GatewayMcp) -> types.CallToolResult:
        await mcp.list_tools()
        # A restarted gateway has forgotten every session.
        own_gw.stop()
        own_gw.start()
        own_gw.clear()
        return await mcp.call_tool("github_list_repos", {"owner": "o"})

    with caplog.at_level(logging.WARNING):
        result = _with_mcp(own_gw.url, use)

    assert _text(result) == "o/hello-world\no/spoon-knife"
    methods = [m.get("method") for m in _mcp_posts(own_gw)]
    assert methods[:3] == ["tools/call", "initialize", "notifications/initialized"]
    assert methods.count("tools/call") == 2
    assert (
        caplog.messages.count(
            "the MCP session expired during tools/call 'github_list_repos'; "
            "opening a new one"
        )
        == 1
    )


def test_a_session_that_expires_again_is_a_clear_error(gw: SimulatedGateway) -> None:
    gw.settings.mcp_session_requests = 0

    with pytest.raises(ConnectorError) as caught:
        _with_mcp(gw.url, lambda mcp: mcp.call_tool("github_list_repos", {}))

    assert str(caught.value) == (
        f"{gw.url}/v1/mcp: the gateway ended the MCP session (HTTP 404) during "
        "tools/call 'github_list_repos', and again right after a new session was "
        "opened. The gateway may be restarting; try again shortly."
    )
    calls = [m for m in _mcp_posts(gw) if m.get("method") == "tools/call"]
    assert len(calls) == 2


def test_the_gateway_coming_back_is_picked_up(own_gw: SimulatedGateway) -> None:
    async def use(mcp: GatewayMcp) -> list[str]:
        outcomes = []
        await mcp.list_tools()
        own_gw.stop()
        for _ in range(2):
            try:
                await mcp.call_tool("github_list_repos", {"owner": "o"})
            except ConnectorError as exc:
                outcomes.append(exc.cause)
        own_gw.start()
        result = await mcp.call_tool("github_list_repos", {"owner": "o"})
        outcomes.append(_text(result))
        return outcomes

    assert _with_mcp(own_gw.url, use) == [
        "connection refused",
        "connection refused",
        "o/hello-world\no/spoon-knife",
    ]


def test_the_catalogue_groups_tools_under_their_connectors(
    gw: SimulatedGateway,
) -> None:
    catalogue = _with_mcp(gw.url, load_catalogue)

    assert [c.id for c in catalogue.connectors] == [c["id"] for c in CONNECTORS]
    assert [c.status for c in catalogue.connectors] == [
        "Ready",
        "Needs auth",
        "Misconfigured",
        "No access",
    ]
    assert {k: [t.name for t in v] for k, v in catalogue.groups().items()} == {
        "github": ["github_list_repos", "github_get_issue", "github_search_code"],
        "linear": ["linear_search_issues"],
        "jira": ["jira_create_issue"],
        "notion": ["notion_search"],
        "other": ["github.list-repos", "weather_forecast", TOOLS[-1].name],
    }
    assert catalogue.warnings == []


def test_without_the_connector_list_every_tool_is_other(gw: SimulatedGateway) -> None:
    gw.settings.mcp_fault = "connectors_down"

    catalogue = _with_mcp(gw.url, load_catalogue)

    assert list(catalogue.groups()) == ["other"]
    assert len(catalogue.tools) == len(TOOLS)
    assert catalogue.warnings == [
        f"the connector list is unavailable (GET {gw.url}/api/connectors failed: "
        'HTTP 500: {"error":{"message":"simulated gateway: connectors '
        'unavailable (fault connectors_down)"}}. The gateway itself failed; try '
        "again shortly.); tools are grouped under other"
    ]
