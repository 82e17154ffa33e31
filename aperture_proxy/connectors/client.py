"""The gateway's MCP endpoint (`/v1/mcp`) through the official `mcp` SDK."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

import anyio
import httpx2
import mcp.types as types
from anyio.abc import TaskGroup
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from pydantic import ValidationError

from aperture_proxy import __version__
from aperture_proxy.config import normalize_gateway_url

__all__ = ["MCP_PATH", "ConnectorError", "GatewayMcp"]

log = logging.getLogger(__name__)

MCP_PATH = "/v1/mcp"
MAX_PAGES = 1000
# One SSE event carries a whole tools/list page; connectors with large schemas
# exceed the SDK's 1 MiB default, and a catalogue is never near this.
MAX_EVENT_BYTES = 16 * 1024 * 1024

_REACH_HINT = (
    "Check the gateway URL and that this machine is connected to the tailnet "
    "(`tailscale status`)."
)
_RETRY_HINT = "The gateway may be restarting; try again shortly."


class ConnectorError(Exception):
    """A connector operation that failed, worded for the person who has to act.

    The message names the URL, what went wrong and, when known, what to do.
    """

    def __init__(self, cause: str, *, url: str = "", hint: str = "") -> None:
        self.cause = cause
        self.url = url
        self.hint = hint
        where = f"{url}: " if url else ""
        super().__init__(f"{where}{cause}" + (f". {hint}" if hint else ""))


def _connect_cause(exc: BaseException) -> str:
    """The operating system's reason behind a failed connection, if one is given."""
    pending: list[BaseException] = [exc]
    while pending:
        seen = pending.pop()
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused"
        if isinstance(seen, httpx2.TimeoutException):
            return "timed out while connecting"
        if isinstance(seen, OSError) and seen.strerror:
            return f"cannot connect ({seen.strerror})"
        if isinstance(seen, BaseExceptionGroup):
            pending += seen.exceptions
        pending += [e for e in (seen.__cause__, seen.__context__) if e is not None]
    return ""


def _first_leaf(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


class _WatchedTransport(httpx2.AsyncBaseTransport):
    """An HTTP transport that remembers why a request could not be sent.

    The SDK logs transport failures and reports only "Connection closed" to
    the caller; this keeps the real cause (refused, timed out, reset).
    """

    def __init__(self, on_error: Callable[[Exception], None]) -> None:
        self._inner = httpx2.AsyncHTTPTransport()
        self._on_error = on_error

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        try:
            return await self._inner.handle_async_request(request)
        except Exception as exc:
            self._on_error(exc)
            raise

    async def aclose(self) -> None:
        await self._inner.aclose()


class _Connection:
    """One MCP session on the gateway, held open by a task of its own.

    The SDK's client lives in task-bound cancel scopes, so it is entered and
    left by this task only; callers in other tasks use `client` while it is set.
    """

    def __init__(self, url: str, timeout: float, connect_timeout: float) -> None:
        self.url = url
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.client: Client | None = None
        self.failure: BaseException | None = None
        self.transport_error: Exception | None = None
        # Set when the gateway answered 404 to a request carrying our session.
        self.session_lost = False
        # Set when the SDK closed the connection under us (it does not recover).
        self.broken = False
        self.ready = anyio.Event()
        self.closed = anyio.Event()
        self._stop = anyio.Event()

    async def _watch(self, response: httpx2.Response) -> None:
        if response.status_code == 404 and "mcp-session-id" in response.request.headers:
            self.session_lost = True

    def _record(self, exc: Exception) -> None:
        self.transport_error = exc

    @property
    def usable(self) -> bool:
        return self.client is not None and not (self.session_lost or self.broken)

    def never_connected(self) -> bool:
        """Whether the last failure happened before anything reached the gateway."""
        return isinstance(
            self.transport_error, httpx2.ConnectError | httpx2.ConnectTimeout
        )

    async def run(self) -> None:
        timeout = httpx2.Timeout(self.connect_timeout, read=self.timeout + 5)
        http = httpx2.AsyncClient(
            # HTTPS_PROXY often points at aperture-proxy itself; the gateway
            # is reached directly over the tailnet.
            trust_env=False,
            timeout=timeout,
            transport=_WatchedTransport(self._record),
            event_hooks={"response": [self._watch]},
        )
        transport = streamable_http_client(
            self.url, http_client=http, max_sse_event_size=MAX_EVENT_BYTES
        )
        client = Client(
            transport,
            mode="legacy",
            read_timeout_seconds=self.timeout,
            cache=None,
            client_info=types.Implementation(
                name="aperture-proxy", version=__version__
            ),
        )
        try:
            async with http, client:
                self.client = client
                self.ready.set()
                await self._stop.wait()
        except Exception as exc:
            self.failure = exc
            log.debug("MCP connection to %s ended", self.url, exc_info=True)
        finally:
            self.client = None
            self.ready.set()
            self.closed.set()

    async def close(self) -> None:
        self._stop.set()
        await self.closed.wait()


class GatewayMcp:
    """The gateway's `/v1/mcp`: one MCP session, opened on first use.

    Used as an async context manager. Every failure is a ConnectorError. A
    session the gateway forgot (HTTP 404 on the session) is replaced once and
    the request sent again; a second 404 is an error. A connection that broke
    is replaced on the next request, so the gateway coming back is picked up.

    Requests are not retried after any other failure, because a tool call may
    already have had its effect.
    """

    def __init__(
        self, gateway: str, *, timeout: float = 60.0, connect_timeout: float = 10.0
    ) -> None:
        self.gateway = normalize_gateway_url(gateway)
        self.url = self.gateway + MCP_PATH
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self._group: TaskGroup | None = None
        self._connection: _Connection | None = None
        self._lock = anyio.Lock()

    async def __aenter__(self) -> GatewayMcp:
        self._group = anyio.create_task_group()
        await self._group.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._connection is not None:
            with anyio.CancelScope(shield=True):
                await self._connection.close()
        assert self._group is not None
        # Every task of the group has ended by now. Handing it `exc` would
        # only wrap a ConnectorError into an ExceptionGroup; it propagates as is.
        await self._group.__aexit__(None, None, None)

    async def _connect(self) -> _Connection:
        async with self._lock:
            current = self._connection
            if current is not None and current.usable:
                return current
            if current is not None:
                await current.close()
            if self._group is None:
                raise RuntimeError("GatewayMcp is used outside `async with`")
            connection = _Connection(self.url, self.timeout, self.connect_timeout)
            self._group.start_soon(connection.run)
            await connection.ready.wait()
            if connection.client is None:
                self._connection = None
                raise self._connect_error(connection.failure)
            self._connection = connection
            log.info("MCP session opened on %s", self.url)
            return connection

    def _connect_error(self, failure: BaseException | None) -> ConnectorError:
        leaf = _first_leaf(failure) if failure is not None else None
        cause = _connect_cause(failure) if failure is not None else ""
        if cause:
            return ConnectorError(cause, url=self.url, hint=_REACH_HINT)
        if isinstance(leaf, MCPError):
            if leaf.code == types.REQUEST_TIMEOUT:
                cause = f"no answer to the MCP handshake within {self.timeout:g} s"
                return ConnectorError(cause, url=self.url, hint=_RETRY_HINT)
            if leaf.code == types.METHOD_NOT_FOUND:
                return ConnectorError(
                    "the gateway has no MCP endpoint here (HTTP 404)",
                    url=self.url,
                    hint="Connectors need an Aperture gateway with MCP enabled.",
                )
            return ConnectorError(
                f"the gateway refused the MCP handshake: {leaf.message} "
                f"(MCP error {leaf.code})",
                url=self.url,
            )
        what = f"{type(leaf).__name__}: {leaf}" if leaf else "the connection closed"
        return ConnectorError(f"the MCP handshake failed ({what})", url=self.url)

    async def _request[T](self, what: str, send: Callable[[Client], Awaitable[T]]) -> T:
        for attempt in (1, 2):
            connection = await self._connect()
            assert connection.client is not None
            try:
                return await send(connection.client)
            except MCPError as exc:
                retry = self._retry(what, exc, connection, attempt)
                if retry is not None:
                    raise retry from None
            except ValidationError as exc:
                problem = exc.errors()[0]
                where = ".".join(str(part) for part in problem["loc"]) or "result"
                cause = f"the answer to {what} is not valid MCP"
                raise ConnectorError(
                    f"{cause} ({where}: {problem['msg']})", url=self.url
                ) from None
            except RuntimeError as exc:
                # The SDK checks structured results against the tool's schema.
                raise ConnectorError(f"{what}: {exc}", url=self.url) from None
        raise AssertionError("unreachable")

    def _retry(
        self, what: str, exc: MCPError, connection: _Connection, attempt: int
    ) -> ConnectorError | None:
        """The error to raise for `exc`, or None to send the request once more."""
        if connection.session_lost:
            if attempt == 2:
                return ConnectorError(
                    f"the gateway ended the MCP session (HTTP 404) during {what}, "
                    "and again right after a new session was opened",
                    url=self.url,
                    hint=_RETRY_HINT,
                )
            log.warning("the MCP session expired during %s; opening a new one", what)
            return None
        if exc.code == types.CONNECTION_CLOSED:
            connection.broken = True
            # Safe to send again only when the request never left this machine.
            if connection.never_connected() and attempt == 1:
                log.warning("the MCP connection broke before %s; reconnecting", what)
                return None
            error = connection.transport_error
            cause = (_connect_cause(error) or str(error)) if error else exc.message
            return ConnectorError(
                f"the connection broke during {what} ({cause})",
                url=self.url,
                hint=_REACH_HINT,
            )
        if exc.code == types.REQUEST_TIMEOUT:
            return ConnectorError(
                f"no answer to {what} within {self.timeout:g} s", url=self.url
            )
        return ConnectorError(
            f"the gateway answered {what} with MCP error {exc.code}: {exc.message}",
            url=self.url,
        )

    async def list_tools(self) -> list[types.Tool]:
        """Every tool the gateway serves, following `nextCursor` page by page."""

        async def send(client: Client) -> list[types.Tool]:
            tools: list[types.Tool] = []
            cursor: str | None = None
            seen: set[str] = set()
            for _ in range(MAX_PAGES):
                page = await client.list_tools(cursor=cursor)
                tools += page.tools
                cursor = page.next_cursor
                if cursor is None:
                    return tools
                if cursor in seen:
                    raise ConnectorError(
                        f"tools/list sent the cursor {cursor[:40]!r} twice; the "
                        "listing would never end",
                        url=self.url,
                    )
                seen.add(cursor)
            raise ConnectorError(
                f"tools/list did not end after {MAX_PAGES} pages", url=self.url
            )

        return await self._request("tools/list", send)

    async def call_tool(
        self, name: str, arguments: dict[str, Any] | None = None
    ) -> types.CallToolResult:
        """Call one gateway tool; a result with `isError` is returned, not raised."""
        return await self._request(
            f"tools/call {name!r}", lambda client: client.call_tool(name, arguments)
        )
