"""`aperture-proxy mcp` as a real child process, driven by the SDK's stdio client."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import mcp.types as types
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.shared.exceptions import MCPError

from aperture_proxy.connectors.names import sanitise
from aperture_proxy.connectors.server import DISCOVERY_TOOLS
from aperture_proxy.sim import SimulatedGateway
from aperture_proxy.sim.mcp import HOSTILE_NAME, TOOLS
from tests.connectors.conftest import child_env, write_config

_SCHEMAS = {t.name: t.input_schema for t in TOOLS}


@asynccontextmanager
async def _server(gateway: str, config: Path, stderr: Path) -> AsyncIterator[Client]:
    params = StdioServerParameters(
        command=sys.executable,
        args=[
            "-m",
            "aperture_proxy",
            "mcp",
            "--gateway",
            gateway,
            "--config",
            str(config),
        ],
        env=child_env(),
    )
    with stderr.open("w", encoding="utf-8") as errlog:
        transport = stdio_client(params, errlog=errlog)
        async with Client(transport, mode="legacy", cache=None) as client:
            yield client


def _drive[T](
    gateway: str, config: Path, stderr: Path, use: Callable[[Client], Awaitable[T]]
) -> T:
    async def run() -> T:
        async with _server(gateway, config, stderr) as client:
            return await use(client)

    return anyio.run(run)


def _text(result: types.CallToolResult) -> str:
    assert len(result.content) == 1
    block = result.content[0]
    assert isinstance(block, types.TextContent)
    return block.text


async def _names(client: Client) -> list[str]:
    return [t.name for t in (await client.list_tools()).tools]


def test_lists_the_discovery_tools_and_each_pinned_tool(
    gw: SimulatedGateway, tmp_path: Path
) -> None:
    config = write_config(
        tmp_path,
        pins=[("github", "github_list_repos"), ("github", "github_search_code")],
    )

    names = _drive(gw.url, config, tmp_path / "err", _names)

    assert names == [*DISCOVERY_TOOLS, "github_list_repos", "github_search_code"]


def test_pinned_schemas_are_passed_through_untouched(
    gw: SimulatedGateway, tmp_path: Path
) -> None:
    config = write_config(
        tmp_path, pins=[("github", "github_search_code"), ("x", HOSTILE_NAME)]
    )

    async def use(client: Client) -> dict[str, object]:
        listed = (await client.list_tools()).tools
        return {t.name: t.input_schema for t in listed if t.name not in DISCOVERY_TOOLS}

    schemas = _drive(gw.url, config, tmp_path / "err", use)

    assert schemas == {
        "github_search_code": _SCHEMAS["github_search_code"],
        sanitise(HOSTILE_NAME): _SCHEMAS[HOSTILE_NAME],
    }


def test_a_pinned_tool_call_returns_the_gateway_result(
    gw: SimulatedGateway, tmp_path: Path
) -> None:
    config = write_config(tmp_path, pins=[("github", "github_list_repos")])

    result = _drive(
        gw.url,
        config,
        tmp_path / "err",
        lambda c: c.call_tool("github_list_repos", {"owner": "octo"}),
    )

    assert (result.is_error, _text(result)) == (
        False,
        "octo/hello-world\nocto/spoon-knife",
    )
    calls = [
        json.loads(r.body)
        for r in gw.requests()
        if r.method == "POST" and "tools/call" in r.body
    ]
    assert [c["params"] for c in calls] == [
        {"name": "github_list_repos", "arguments": {"owner": "octo"}}
    ]


def test_a_hostile_pinned_tool_is_called_by_its_gateway_name(
    gw: SimulatedGateway, tmp_path: Path
) -> None:
    config = write_config(tmp_path, pins=[("x", HOSTILE_NAME)])

    result = _drive(
        gw.url,
        config,
        tmp_path / "err",
        lambda c: c.call_tool(sanitise(HOSTILE_NAME), {}),
    )

    assert _text(result) == f"{HOSTILE_NAME} called with {{}}"


def test_the_discovery_call_tool_reaches_the_gateway(
    gw: SimulatedGateway, tmp_path: Path
) -> None:
    config = write_config(tmp_path)

    async def use(client: Client) -> list[str]:
        as_object = await client.call_tool(
            "aperture_connector_tool_call",
            {"tool": "weather_forecast", "args": {"city": "Oslo"}},
        )
        as_string = await client.call_tool(
            "aperture_connector_tool_call",
            {"tool": "weather_forecast", "args": '{"city": "Bergen"}'},
        )
        return [_text(as_object), _text(as_string)]

    assert _drive(gw.url, config, tmp_path / "err", use) == [
        'weather_forecast called with {"city": "Oslo"}',
        'weather_forecast called with {"city": "Bergen"}',
    ]


def test_the_discovery_search_ranks_and_names_connectors(
    gw: SimulatedGateway, tmp_path: Path
) -> None:
    config = write_config(tmp_path)

    result = _drive(
        gw.url,
        config,
        tmp_path / "err",
        lambda c: c.call_tool(
            "aperture_connector_tool_search", {"query": "repos", "limit": 3}
        ),
    )

    assert _text(result) == (
        "github_list_repos  [github]  List the repositories of a GitHub user or "
        "organisation\n"
        "github.list-repos  [other]  A second spelling that reduces to the same "
        "name as github_list_repos\n"
        "github_get_issue  [github]  Get one issue of a repository"
    )


def test_the_discovery_list_shows_status_and_tool_counts(
    gw: SimulatedGateway, tmp_path: Path
) -> None:
    config = write_config(tmp_path)

    result = _drive(
        gw.url,
        config,
        tmp_path / "err",
        lambda c: c.call_tool("aperture_connector_list", {}),
    )

    assert _text(result).splitlines() == [
        "github (GitHub) — Ready — 3 tools — Repositories, issues and pull "
        "requests on GitHub",
        "linear (Linear) — Needs auth — 1 tool — Issues and projects in Linear",
        "jira (Atlassian) — Misconfigured — 1 tool — Issues in Jira",
        "notion (Notion) — No access — 1 tool — Pages and databases in Notion",
        "other — 3 tools with no known connector",
    ]


def test_the_discovery_describe_shows_the_full_schema(
    gw: SimulatedGateway, tmp_path: Path
) -> None:
    config = write_config(tmp_path)

    result = _drive(
        gw.url,
        config,
        tmp_path / "err",
        lambda c: c.call_tool(
            "aperture_connector_tool_describe", {"tool": "github_search_code"}
        ),
    )

    head, _, schema = _text(result).partition("\n\nInput schema:\n")
    assert head == "github_search_code  [github]\n\nSearch code across repositories"
    assert json.loads(schema) == _SCHEMAS["github_search_code"]


def test_an_is_error_result_passes_through(
    gw: SimulatedGateway, tmp_path: Path
) -> None:
    config = write_config(tmp_path, pins=[("jira", "jira_create_issue")])

    result = _drive(
        gw.url,
        config,
        tmp_path / "err",
        lambda c: c.call_tool("jira_create_issue", {"summary": "x"}),
    )

    assert result.is_error is True
    assert _text(result).startswith("jira: the connector is misconfigured")


def test_an_mcp_error_is_a_tool_error_and_the_server_keeps_serving(
    gw: SimulatedGateway, tmp_path: Path
) -> None:
    config = write_config(tmp_path, pins=[("notion", "notion_search")])

    async def use(client: Client) -> tuple[types.CallToolResult, list[str]]:
        failed = await client.call_tool("notion_search", {"query": "x"})
        return failed, await _names(client)

    failed, names = _drive(gw.url, config, tmp_path / "err", use)

    assert failed.is_error is True
    assert _text(failed) == (
        f"{gw.url}/v1/mcp: the gateway answered tools/call 'notion_search' with "
        "MCP error -32600: notion: this caller has no access to the connector "
        "(simulated gateway)"
    )
    assert names == [*DISCOVERY_TOOLS, "notion_search"]


def test_a_missing_pin_is_skipped_with_one_warning(
    gw: SimulatedGateway, tmp_path: Path
) -> None:
    config = write_config(
        tmp_path,
        pins=[("github", "github_delete_everything"), ("github", "github_get_issue")],
    )

    names = _drive(gw.url, config, tmp_path / "err", _names)

    assert names == [*DISCOVERY_TOOLS, "github_get_issue"]
    warnings = [
        line
        for line in (tmp_path / "err").read_text().splitlines()
        if "github_delete_everything" in line
    ]
    assert warnings == [
        "WARNING aperture_proxy.connectors.server: pinned tool "
        "'github_delete_everything' (connector 'github') is not served by the "
        "gateway; skipped. Remove it from connectors.pinnedTools or find its new "
        "name with `aperture-proxy connectors search`"
    ]


def test_an_unknown_tool_is_an_mcp_error(gw: SimulatedGateway, tmp_path: Path) -> None:
    config = write_config(tmp_path)

    async def use(client: Client) -> MCPError:
        with pytest.raises(MCPError) as caught:
            await client.call_tool("github_list_repos", {})
        return caught.value

    error = _drive(gw.url, config, tmp_path / "err", use)

    assert (error.code, error.message) == (
        types.INVALID_PARAMS,
        "unknown tool 'github_list_repos'",
    )


def test_an_unreachable_gateway_at_start_still_serves_and_recovers(
    own_gw: SimulatedGateway, tmp_path: Path
) -> None:
    config = write_config(tmp_path, pins=[("github", "github_list_repos")])
    own_gw.stop()

    async def use(client: Client) -> tuple[list[str], types.CallToolResult, str]:
        names = await _names(client)
        down = await client.call_tool("aperture_connector_tool_search", {"query": "x"})
        own_gw.start()
        up = await client.call_tool(
            "aperture_connector_tool_search", {"query": "weather"}
        )
        return names, down, _text(up)

    names, down, up = _drive(own_gw.url, config, tmp_path / "err", use)

    assert names == list(DISCOVERY_TOOLS)
    assert down.is_error is True
    assert _text(down) == (
        f"{own_gw.url}/v1/mcp: connection refused. Check the gateway URL and that "
        "this machine is connected to the tailnet (`tailscale status`)."
    )
    assert up.startswith("weather_forecast  [other]")
    assert (
        "pinned tools are not exposed until aperture-proxy mcp restarts"
        in (tmp_path / "err").read_text()
    )


def test_an_expired_session_is_replaced_then_reported(
    own_gw: SimulatedGateway, tmp_path: Path
) -> None:
    config = write_config(tmp_path, pins=[("github", "github_list_repos")])

    async def use(client: Client) -> list[types.CallToolResult]:
        own_gw.stop()
        own_gw.start()  # the gateway forgot every session
        replaced = await client.call_tool("github_list_repos", {"owner": "a"})
        own_gw.settings.mcp_session_requests = 0  # every session ends at once
        failing = await client.call_tool("github_list_repos", {"owner": "b"})
        own_gw.settings.mcp_session_requests = None
        recovered = await client.call_tool("github_list_repos", {"owner": "c"})
        return [replaced, failing, recovered]

    replaced, failing, recovered = _drive(own_gw.url, config, tmp_path / "err", use)

    assert _text(replaced) == "a/hello-world\na/spoon-knife"
    assert failing.is_error is True
    assert _text(failing) == (
        f"{own_gw.url}/v1/mcp: the gateway ended the MCP session (HTTP 404) during "
        "tools/call 'github_list_repos', and again right after a new session was "
        "opened. The gateway may be restarting; try again shortly."
    )
    assert _text(recovered) == "c/hello-world\nc/spoon-knife"


def test_without_discovery_tools_only_pins_are_listed(
    gw: SimulatedGateway, tmp_path: Path
) -> None:
    config = write_config(
        tmp_path, pins=[("linear", "linear_search_issues")], discovery=False
    )

    assert _drive(gw.url, config, tmp_path / "err", _names) == ["linear_search_issues"]


def test_disabled_connectors_serve_no_tools_and_say_why(
    gw: SimulatedGateway, tmp_path: Path
) -> None:
    config = write_config(
        tmp_path, pins=[("github", "github_list_repos")], enabled=False
    )

    assert _drive(gw.url, config, tmp_path / "err", _names) == []
    assert (
        "connectors are disabled (connectors.enabled is false)"
        in (tmp_path / "err").read_text()
    )
    assert gw.requests() == []
