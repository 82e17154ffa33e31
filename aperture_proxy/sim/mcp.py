"""The simulated gateway's connectors: MCP tools at `/v1/mcp`, `/api/connectors`.

`/v1/mcp` is served by the official `mcp` SDK's server side (a stateful
Streamable HTTP session manager answering with SSE-framed replies), so clients
meet real session headers, real pagination and real protocol errors. The tool
set is small and fixed; some entries are hostile on purpose, the way a remote
connector could be: a name with ``../`` and quotes, a description carrying code
and comment terminators, a schema of several hundred kilobytes, and a name that
collides with another once reduced to ``[A-Za-z0-9_]``.

Tools answer deterministically by echoing their arguments. Three fail on
purpose: ``jira_create_issue`` returns an ``isError`` result, ``notion_search``
answers a JSON-RPC error, and both match their connector's status.
:class:`SimSettings` adds the connector faults: ``mcp_fault`` ``error`` makes
``tools/list`` and ``tools/call`` answer a JSON-RPC error, ``stall`` holds each
``tools/call`` for ``stall_seconds``, ``connectors_down`` makes
``/api/connectors`` answer 500; ``mcp_session_requests`` expires each session
(404 ``Session not found``) once it has answered that many requests after
``initialize``.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import mcp.types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.shared.exceptions import MCPError
from starlette.responses import JSONResponse, Response
from starlette.types import Message, Receive, Scope, Send

from aperture_proxy.sim.settings import SimSettings

__all__ = [
    "CONNECTORS",
    "HOSTILE_DESCRIPTION",
    "HOSTILE_NAME",
    "HUGE_SCHEMA_TOOL",
    "PAGE_SIZE",
    "TOOLS",
    "SimMcp",
    "connectors_body",
]

PAGE_SIZE = 4
"""Tools per `tools/list` page, small so that clients must follow `nextCursor`."""

CONNECTORS: tuple[dict[str, str], ...] = (
    {
        "id": "github",
        "description": "Repositories, issues and pull requests on GitHub",
        "protocol": "mcp",
        "provider": "GitHub",
        "category": "developer",
        "status": "Ready",
        "auth_type": "oauth",
    },
    {
        "id": "linear",
        "description": "Issues and projects in Linear",
        "protocol": "mcp",
        "provider": "Linear",
        "category": "project",
        "status": "Needs auth",
        "auth_type": "oauth",
    },
    {
        "id": "jira",
        "description": "Issues in Jira",
        "protocol": "mcp",
        "provider": "Atlassian",
        "category": "project",
        "status": "Misconfigured",
    },
    {
        "id": "notion",
        "description": "Pages and databases in Notion",
        "protocol": "mcp",
        "provider": "Notion",
        "category": "docs",
        "status": "No access",
        "auth_type": "api_key",
    },
)

HOSTILE_NAME = "../../.ssh/evil\"tool'$(id)"
"""A tool name that tries path traversal, quote breaking and shell substitution."""

HOSTILE_DESCRIPTION = (
    'Reads a file. */ </script> `rm -rf ~` ${process.exit(1)} "); '
    "require('child_process').execSync('touch /tmp/pwned'); /*\n"
    '"""\n[mcp_servers.evil]\ncommand = "sh"\n'
    "\u2028\u2029 -->\x00"
)
"""A description carrying code, comment and string terminators and a TOML table."""

HUGE_SCHEMA_TOOL = "github_search_code"
"""The tool whose input schema is several hundred kilobytes."""

_HUGE_PROPERTIES = 1500


def _object(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required}


def _huge_schema() -> dict[str, Any]:
    properties: dict[str, Any] = {
        f"filter_{index:04d}": {
            "type": "string",
            "description": f"Filter number {index} " + "narrows the search. " * 10,
            "enum": [f"value_{index}_{choice}" for choice in range(3)],
        }
        for index in range(_HUGE_PROPERTIES)
    }
    properties["query"] = {"type": "string", "description": "What to look for"}
    return _object(properties, ["query"])


def _tool(name: str, description: str, schema: dict[str, Any]) -> types.Tool:
    return types.Tool(name=name, description=description, input_schema=schema)


def _string(description: str) -> dict[str, str]:
    return {"type": "string", "description": description}


TOOLS: tuple[types.Tool, ...] = (
    _tool(
        "github_list_repos",
        "List the repositories of a GitHub user or organisation",
        _object({"owner": _string("User or organisation")}, ["owner"]),
    ),
    _tool(
        "github_get_issue",
        "Get one issue of a repository",
        _object(
            {"repo": _string("owner/name"), "number": {"type": "integer"}},
            ["repo", "number"],
        ),
    ),
    _tool(HUGE_SCHEMA_TOOL, "Search code across repositories", _huge_schema()),
    _tool(
        "github.list-repos",
        "A second spelling that reduces to the same name as github_list_repos",
        _object({}, []),
    ),
    _tool(
        "linear_search_issues",
        "Search Linear issues by text",
        _object({"query": _string("Text to search for")}, ["query"]),
    ),
    _tool(
        "jira_create_issue",
        "Create a Jira issue (its connector is misconfigured, so it fails)",
        _object({"summary": _string("Issue title")}, ["summary"]),
    ),
    _tool(
        "notion_search",
        "Search Notion pages (no access, so the gateway answers an MCP error)",
        _object({"query": _string("Text to search for")}, []),
    ),
    _tool(
        "weather_forecast",
        "Tomorrow's weather for a city; served by no listed connector",
        _object({"city": _string("City name")}, ["city"]),
    ),
    _tool(HOSTILE_NAME, HOSTILE_DESCRIPTION, _object({}, [])),
)


def connectors_body() -> dict[str, Any]:
    """The `/api/connectors` answer: one entry per status Aperture reports."""
    return {"connectors": [dict(entry) for entry in CONNECTORS]}


def _text(text: str, *, error: bool = False) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(text=text)], is_error=error)


def _answer(name: str, arguments: dict[str, Any]) -> types.CallToolResult:
    """What a simulated tool returns: its arguments echoed, or its designed failure."""
    shown = json.dumps(arguments, sort_keys=True, ensure_ascii=False)
    if name == "jira_create_issue":
        return _text(
            "jira: the connector is misconfigured (simulated gateway); "
            "ask the gateway admin to fix its credentials",
            error=True,
        )
    if name == "notion_search":
        raise MCPError(
            types.INVALID_REQUEST,
            "notion: this caller has no access to the connector (simulated gateway)",
        )
    if name == "github_list_repos":
        owner = arguments.get("owner", "")
        return _text(f"{owner}/hello-world\n{owner}/spoon-knife")
    return _text(f"{name} called with {shown}")


class SimMcp:
    """The MCP endpoint of the simulated gateway, reading live settings.

    A session manager runs only once, so `running()` builds a new one per
    server start; sessions therefore end when the gateway stops, as they do
    when Aperture restarts.
    """

    def __init__(self, settings: Callable[[], SimSettings]) -> None:
        self._settings = settings
        self._server: Server[Any] = Server(
            "aperture-simulated-gateway",
            version="0",
            on_list_tools=self._list_tools,
            on_call_tool=self._call_tool,
        )
        self._manager: StreamableHTTPSessionManager | None = None
        self._served: dict[str, int] = {}

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Serve sessions until the context exits, which ends every session."""
        manager = StreamableHTTPSessionManager(self._server)
        async with manager.run():
            self._manager = manager
            self._served.clear()
            try:
                yield
            finally:
                self._manager = None

    def _fault(self, method: str) -> None:
        if self._settings().mcp_fault == "error":
            raise MCPError(
                types.INTERNAL_ERROR,
                f"simulated gateway: {method} failed (fault mcp_fault=error)",
            )

    async def _list_tools(
        self,
        ctx: ServerRequestContext[Any],
        params: types.PaginatedRequestParams | None,
    ) -> types.ListToolsResult:
        self._fault("tools/list")
        cursor = params.cursor if params else None
        start = 0
        if cursor is not None:
            if not cursor.isdigit() or int(cursor) >= len(TOOLS):
                raise MCPError(types.INVALID_PARAMS, f"unknown cursor {cursor!r}")
            start = int(cursor)
        end = start + PAGE_SIZE
        following = str(end) if end < len(TOOLS) else None
        return types.ListToolsResult(
            tools=list(TOOLS[start:end]), next_cursor=following
        )

    def connectors(self) -> Response:
        """The answer to `GET /api/connectors`."""
        if self._settings().mcp_fault == "connectors_down":
            message = (
                "simulated gateway: connectors unavailable (fault connectors_down)"
            )
            return JSONResponse({"error": {"message": message}}, status_code=500)
        return JSONResponse(connectors_body())

    async def _call_tool(
        self, ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        self._fault("tools/call")
        settings = self._settings()
        if settings.mcp_fault == "stall":
            await anyio.sleep(settings.stall_seconds)
        if not any(tool.name == params.name for tool in TOOLS):
            raise MCPError(types.INVALID_PARAMS, f"Unknown tool: {params.name}")
        return _answer(params.name, params.arguments or {})

    async def handle(
        self, scope: Scope, body: bytes, receive: Receive, send: Send
    ) -> None:
        """Answer one `/v1/mcp` request whose body was already read."""
        if self._manager is None:
            await Response("simulated gateway: MCP is not running", 503)(
                scope, receive, send
            )
            return
        session = _header(scope, b"mcp-session-id")
        if session is not None and _is_request(body):
            served = self._served.get(session, 0)
            limit = self._settings().mcp_session_requests
            if limit is not None and served >= limit:
                await _session_not_found(scope, receive, send)
                return
            self._served[session] = served + 1
        await self._manager.handle_request(scope, _replay(body, receive), send)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _is_request(body: bytes) -> bool:
    """Whether the body is a JSON-RPC request (notifications and replies are not)."""
    try:
        message = json.loads(body)
    except ValueError:
        return False
    return isinstance(message, dict) and "method" in message and "id" in message


async def _session_not_found(scope: Scope, receive: Receive, send: Send) -> None:
    # The same answer the SDK's session manager gives for a session it forgot.
    error = types.JSONRPCError(
        jsonrpc="2.0",
        id=None,
        error=types.ErrorData(code=types.INVALID_REQUEST, message="Session not found"),
    )
    body = error.model_dump_json(by_alias=True, exclude_unset=True)
    await Response(body, 404, media_type="application/json")(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands out the already-read body, then the real events."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
