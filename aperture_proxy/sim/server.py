"""Running the simulated gateway: in a background thread for tests, or blocking."""

import asyncio
import contextlib
import logging
import socket
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any, cast

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from aperture_proxy.sim.app import RAW_HEADERS_KEY, GatewayState, SimApp
from aperture_proxy.sim.recording import RecordedRequest
from aperture_proxy.sim.settings import SimSettings
from aperture_proxy.sim.streaming import install_log_filter

log = logging.getLogger(__name__)

_START_TIMEOUT = 10.0
_STOP_TIMEOUT = 10.0


class _CaseKeepingH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, plus the header names as the client spelled them.

    ASGI requires lowercased names, but the record promises names as received
    (a proxy that keeps headers byte for byte should be checkable). h11 still
    has the original spelling while it parses, so it is captured there and
    put under an extra scope key before the request's task first runs. If a
    uvicorn release changes this internal path the record falls back to the
    lowercased names rather than failing.
    """

    def handle_events(self) -> None:
        conn = self.conn
        original = conn.next_event
        seen: list[list[tuple[bytes, bytes]]] = []

        def next_event() -> Any:
            event = original()
            if isinstance(event, h11.Request):
                seen.append(list(event.headers.raw_items()))
            return event

        setattr(conn, "next_event", next_event)  # noqa: B010 - patches one instance
        try:
            super().handle_events()
        finally:
            delattr(conn, "next_event")

        scope = cast(dict[str, Any] | None, self.scope)
        if seen and scope is not None and len(seen[-1]) == len(scope["headers"]):
            scope[RAW_HEADERS_KEY] = seen[-1]


class _Server(uvicorn.Server):
    """A uvicorn server that tells the app when it stops and reports readiness."""

    def __init__(
        self, config: uvicorn.Config, app: SimApp, on_ready: Callable[[], None]
    ) -> None:
        super().__init__(config)
        self._app = app
        self._on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        # An asyncio.Event belongs to the loop that first waits on it, and each
        # start runs a new loop.
        self._app.closing = asyncio.Event()
        await super().startup(sockets)
        if self.started:
            self._on_ready()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._app.closing.set()
        await super().shutdown(sockets)


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class SimulatedGateway:
    """An Aperture-compatible gateway on a local port, for tests and demos.

    ``start()`` binds the socket first (port 0 picks a free one) and returns
    once uvicorn accepts connections; ``stop()`` closes it, so connections are
    refused until ``start()`` is called again, which reuses the same port.

    >>> with SimulatedGateway() as gw:                      # doctest: +SKIP
    ...     gw.settings.delay = 0.2
    ...     httpx.post(f"{gw.url}/v1/messages", json={...})
    ...     gw.requests()[0].path
    '/v1/messages'
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        settings: SimSettings | None = None,
    ) -> None:
        self._host = host
        self._port = port
        self._state = GatewayState(settings)
        self._app = SimApp(self._state)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None

    @property
    def url(self) -> str:
        """The gateway origin, e.g. ``http://127.0.0.1:41234``."""
        if not self._port:
            raise RuntimeError("the simulated gateway has no port until start()")
        return _url(self._host, self._port)

    @property
    def settings(self) -> SimSettings:
        """The live settings; changes apply to the next request."""
        return self._state.settings

    @settings.setter
    def settings(self, value: SimSettings) -> None:
        self._state.settings = value

    def requests(self) -> list[RecordedRequest]:
        """Every request received since the last clear, oldest first."""
        return self._state.recorder.snapshot()

    def clear(self) -> None:
        """Forget the recorded requests."""
        self._state.recorder.clear()

    def _bind(self) -> socket.socket:
        sock = socket.create_server((self._host, self._port), backlog=128)
        # asyncio sets TCP_NODELAY only on sockets of protocol IPPROTO_TCP, and
        # create_server makes protocol 0; without it an answer written in two
        # parts on a kept-alive connection waits ~40 ms for the client's
        # delayed ACK. Accepted sockets inherit the option on Linux.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._port = sock.getsockname()[1]
        return sock

    def _server_for(self, on_ready: Callable[[], None]) -> _Server:
        install_log_filter()
        config = uvicorn.Config(
            self._app,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="on",
            http=_CaseKeepingH11Protocol,
            ws="none",
            timeout_graceful_shutdown=5,
        )
        return _Server(config, self._app, on_ready)

    def start(self) -> "SimulatedGateway":
        """Serve in a background thread; returns when connections are accepted."""
        if self._thread is not None:
            raise RuntimeError(f"the simulated gateway at {self.url} already runs")
        sock = self._bind()
        ready = threading.Event()
        self._failure = None
        self._server = self._server_for(ready.set)
        self._thread = threading.Thread(
            target=self._run,
            args=(self._server, sock),
            name=f"simulated-gateway-{self._port}",
            daemon=True,
        )
        self._thread.start()

        if not ready.wait(_START_TIMEOUT):
            self.stop()
            cause = f": {self._failure!r}" if self._failure else ""
            raise RuntimeError(f"simulated gateway did not start on {self.url}{cause}")
        return self

    def _run(self, server: _Server, sock: socket.socket) -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # uvicorn exits with SystemExit on bind errors
            log.exception("simulated gateway on %s stopped with an error", self.url)
            self._failure = exc
        finally:
            sock.close()

    def stop(self) -> None:
        """Stop serving; in-flight streams and stalls are ended, not awaited."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join(_STOP_TIMEOUT)
        if thread.is_alive():
            server.force_exit = True
            thread.join(_STOP_TIMEOUT)
        self._server = self._thread = None

    def serve_forever(self, ready: Callable[[str], None] | None = None) -> None:
        """Serve in the calling thread until Ctrl-C or SIGTERM."""
        sock = self._bind()

        def on_ready() -> None:
            if ready is not None:
                ready(self.url)

        server = self._server_for(on_ready)
        try:
            # uvicorn re-raises the SIGINT it handled once it has shut down.
            with contextlib.suppress(KeyboardInterrupt):
                server.run(sockets=[sock])
        finally:
            sock.close()

    def __enter__(self) -> "SimulatedGateway":
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def serve(
    host: str,
    port: int,
    settings: SimSettings | None = None,
    ready: Callable[[str], None] | None = None,
) -> None:
    """Run a simulated gateway until interrupted; ``ready(url)`` once listening."""
    SimulatedGateway(host, port, settings).serve_forever(ready)
