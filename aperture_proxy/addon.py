"""The mitmproxy addon: hooks that hand each request to routing and rewrite.

Decisions live in ``routing`` and ``rewrite``; this module only translates hooks into
calls, streams rerouted responses, notes each decision on the flow, and fails closed.

Known limits, in plain words:

- A gateway that accepts a request and then never answers holds it until the agent's
  own timeout or mitmproxy's idle timeout (``tcp_timeout``); mitmproxy cannot cut a
  flow that is waiting for its server.
- A stream the gateway cuts midway ends the agent's connection without a final event;
  the agent reports an incomplete stream and the log names the gateway and the cause.
- Connection failures are answered in the provider's shape when the gateway is found
  unreachable before the request is sent (it is probed when it has not answered for a
  few seconds); a failure that races a request already on its way gets mitmproxy's
  own ``502`` page instead.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

from mitmproxy import ctx, exceptions, http
from mitmproxy.addonmanager import Loader

from aperture_proxy import config as config_mod
from aperture_proxy.errors import gateway_message, provider_error
from aperture_proxy.gateway import Catalogue, DiscoveryError, discover, load_cached
from aperture_proxy.guard import (
    META_KEY,
    fail_closed,
    header_pairs,
    redact_sent,
    refuse,
    strip_everything,
    to_headers,
)
from aperture_proxy.health import GatewayHealth
from aperture_proxy.model_check import is_missing
from aperture_proxy.providers import match_providers, provider_for
from aperture_proxy.rewrite import (
    REDACTED,
    RequestView,
    filter_query,
    request_model,
    rewrite_request,
)
from aperture_proxy.routing import Route, RouteTable, split_url
from aperture_proxy.upstreams import (
    Api,
    Upstream,
    select_upstreams,
    upstreams_from_config,
)

log = logging.getLogger("aperture_proxy")

MARKER = ":twisted_rightwards_arrows:"
MISSING_MODEL_MARKER = ":warning:"
RESTARTING = "aperture is restarting"
DEFAULT_RETRY_AFTER = 5
DEFAULT_REFRESH = 300
RELOAD_POLL = 1.0
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def printable(value: str, limit: int = 120) -> str:
    """A value from a request, safe for one log line: control characters escaped,
    long values cut, so that no request can forge or flood log lines."""
    text = value.encode("unicode_escape", "backslashreplace").decode("ascii")
    return text if len(text) <= limit else f"{text[:limit]}…({len(text)} chars)"


#: Bodies this small with a known length are not streams: forwarding them whole
#: spares mitmproxy's streaming path (a third of its per-request cost).
WHOLE_BODY_LIMIT = 1024 * 1024


def _is_stream(response: http.Response) -> bool:
    """Whether an answer must reach the agent as it arrives: SSE, event streams,
    chunked (or otherwise unsized) bodies, and anything large."""
    length = response.headers.get("content-length", "")
    if not length.isdigit() or int(length) > WHOLE_BODY_LIMIT:
        return True
    kind: str = response.headers.get("content-type", "").lower()
    return kind.startswith(
        (
            "text/event-stream",
            "application/vnd.amazon.eventstream",
            "application/x-ndjson",
        )
    )


class SettingsError(Exception):
    """The options, environment or config file do not give a usable setup."""


def _stamp(path: Path) -> tuple[int, int] | None:
    """What tells a changed config file: its modification time and size."""
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size


def _ensure_content_length(request: http.Request) -> None:
    """Send the buffered body with its length.

    A body that came over HTTP/2 may have none, and one that came chunked is
    already whole here; a plain length is what every gateway understands.
    """
    body = request.raw_content
    if body is None or not (body or request.method in ("POST", "PUT", "PATCH")):
        return
    if "transfer-encoding" in request.headers:
        del request.headers["transfer-encoding"]
    request.headers["content-length"] = str(len(body))


class Aperture:
    """Reroutes selected upstream providers' API calls onto an Aperture gateway."""

    def __init__(self, gateway: str = "", config: str = "") -> None:
        # Defaults for the options, for callers that build the addon in (runner.py).
        self._default_gateway = gateway
        self._default_config = config
        self.table: RouteTable | None = None
        self.health: GatewayHealth | None = None
        self.catalogue: Catalogue | None = None
        self.provider_by_upstream: dict[str, str] = {}
        self._refresh: asyncio.Task[None] | None = None
        self._watch: asyncio.Task[None] | None = None
        self._config_stamp: tuple[int, int] | None = None
        self._warned_models: set[tuple[str, str]] = set()

    def load(self, loader: Loader) -> None:
        # One line per catalogue fetch is noise next to the proxy's own log.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        loader.add_option(
            "aperture_gateway",
            str,
            self._default_gateway,
            "Aperture gateway URL, e.g. http://ai.example-tailnet.ts.net "
            "(overrides APERTURE_URL and the config file's baseUrl).",
        )
        loader.add_option(
            "aperture_refresh",
            int,
            DEFAULT_REFRESH,
            "Seconds between refreshes of the gateway catalogue, e.g. 300 "
            "(0 fetches it once at start).",
        )
        loader.add_option(
            "aperture_config",
            str,
            self._default_config,
            "Path of the aperture-proxy config file, e.g. "
            "~/.config/aperture-proxy/config.yaml "
            "(default: APERTURE_PROXY_CONFIG, then the platform config dir).",
        )

    def configure(self, updated: set[str]) -> None:
        if not updated & {"aperture_gateway", "aperture_config"} and self.table:
            return
        try:
            self._apply(*self._read_settings())
        except SettingsError as exc:
            raise exceptions.OptionsError(str(exc)) from None

    def _config_path(self) -> Path:
        explicit = ctx.options.aperture_config
        if explicit:
            return Path(explicit).expanduser()
        return config_mod.resolve_config_path(None, os.environ)

    def _read_settings(self) -> tuple[str, list[Upstream], Path]:
        """The gateway and the upstreams to reroute, from options, env and file."""
        path = self._config_path()
        try:
            cfg = config_mod.load_config(
                path,
                gateway=ctx.options.aperture_gateway or None,
                env=os.environ,
                must_exist=bool(ctx.options.aperture_config),
            )
            upstreams = select_upstreams(upstreams_from_config(cfg))
        except (config_mod.ConfigError, ValueError) as exc:
            raise SettingsError(str(exc)) from None
        if not cfg.base_url:
            raise SettingsError(
                "no Aperture gateway configured: pass --set aperture_gateway=URL, "
                "set APERTURE_URL, or write a config file with "
                "`aperture-proxy onboard`"
            )
        if not cfg.proxy.enabled:
            log.warning("proxy.enabled is false in %s: nothing is rerouted", path)
            upstreams = []
        return cfg.base_url, upstreams, path

    def _apply(self, gateway: str, upstreams: list[Upstream], path: Path) -> None:
        """Route with these settings from the next request on."""
        gateway_changed = self.table is None or self.table.gateway != gateway
        self.table = RouteTable.build(upstreams, gateway)
        self._config_stamp = _stamp(path)
        if gateway_changed:
            self.health = GatewayHealth(gateway)
            self._use_catalogue(load_cached(gateway))
        else:
            self._use_catalogue(self.catalogue)
        patterns = self.table.host_patterns() or [r"^aperture-proxy\.invalid$"]
        ctx.options.update(
            allow_hosts=patterns,
            connection_strategy="lazy",
            upstream_cert=False,
        )
        log.info(
            "rerouting %s to the gateway %s",
            ", ".join(u.id for u in upstreams) or "nothing",
            gateway,
        )

    async def _watch_config(self) -> None:
        """Apply config file changes while running; a bad edit keeps the old ones."""
        while True:
            await asyncio.sleep(RELOAD_POLL)
            path = self._config_path()
            if _stamp(path) == self._config_stamp:
                continue
            try:
                settings = self._read_settings()
            except SettingsError as exc:
                self._config_stamp = _stamp(path)
                log.error("config change not applied, still using the old one: %s", exc)
                continue
            log.info("config file %s changed; reloading", path)
            self._apply(*settings)
            if self._refresh is not None and self.catalogue is None:
                await self.refresh_catalogue()

    def _use_catalogue(self, catalogue: Catalogue | None) -> None:
        self.catalogue = catalogue
        if catalogue is None or self.table is None:
            self.provider_by_upstream = {}
            return
        rows = match_providers(catalogue, self.table.upstreams)
        self.provider_by_upstream = {
            u.id: p for u in self.table.upstreams if (p := provider_for(rows, u.id))
        }

    async def running(self) -> None:
        if self.table is None:
            # Never run unconfigured: without routes and allow_hosts the proxy
            # would forward agents' keys to the real providers.
            try:
                self.configure({"aperture_gateway", "aperture_config"})
            except exceptions.OptionsError as exc:
                log.error("aperture-proxy is not configured, stopping: %s", exc)
                ctx.master.shutdown()
                return
        self._warn_if_exposed()
        if self.table is not None and self._refresh is None:
            self._refresh = asyncio.create_task(self._refresh_forever())
            self._watch = asyncio.create_task(self._watch_config())

    def _warn_if_exposed(self) -> None:
        host = ctx.options.listen_host
        if host not in LOOPBACK and not ctx.options.proxyauth:
            log.warning(
                "the proxy listens on %s, so other machines can use it (and the "
                "gateway through it): listen on 127.0.0.1 or set proxyauth",
                host or "every interface",
            )

    async def _refresh_forever(self) -> None:
        while True:
            await self.refresh_catalogue()
            interval = ctx.options.aperture_refresh
            if interval <= 0:
                return
            await asyncio.sleep(interval)

    def done(self) -> None:
        for task in (self._refresh, self._watch):
            if task is not None:
                task.cancel()
        if not ctx.master.should_exit.is_set():
            # Unloaded while mitmproxy keeps running (a -s script removed or
            # reloaded): a proxy without this addon would forward agents' keys
            # to the real providers, so it stops instead.
            log.error(
                "the aperture-proxy addon was unloaded; stopping the proxy so that "
                "nothing reaches the real providers. Start it again to continue."
            )
            ctx.master.shutdown()

    async def refresh_catalogue(self) -> None:
        """Fetch the gateway's catalogue, falling back to the cached one."""
        assert self.table is not None
        gateway = self.table.gateway
        try:
            catalogue = await discover(gateway)
        except DiscoveryError as exc:
            log.warning(
                "gateway catalogue unavailable (%s); requests are still rerouted "
                "by path and the gateway routes them by model",
                exc,
            )
            return
        except Exception as exc:  # noqa: BLE001 - a refresh must never stop the proxy
            log.error("gateway catalogue refresh failed: %s", type(exc).__name__)
            return
        if catalogue.from_cache:
            for warning in catalogue.warnings:
                log.warning("%s", warning)
        if self.table is None or self.table.gateway != gateway:
            return
        self._use_catalogue(catalogue)
        state = (
            f"cached {catalogue.age_seconds():.0f} s ago"
            if catalogue.from_cache
            else "fresh"
        )
        log.info(
            "gateway catalogue (%s): %d providers (%s)",
            state,
            len(catalogue.providers),
            ", ".join(f"{u} → {p}" for u, p in self.provider_by_upstream.items())
            or "no upstream matched",
        )

    # -- hooks -----------------------------------------------------------------

    def _route(self, flow: http.HTTPFlow) -> Route | None:
        if self.table is None:
            return None
        request = flow.request
        return self.table.lookup(
            request.scheme, request.host, request.port, request.path
        )

    def _refuse_unconfigured(self, flow: http.HTTPFlow) -> bool:
        if self.table is not None:
            return False
        strip_everything(flow)
        refuse(flow, None, 502, "aperture-proxy is not configured; nothing forwarded")
        return True

    @fail_closed
    def requestheaders(self, flow: http.HTTPFlow) -> None:
        if flow.response or flow.error or not flow.live:
            return
        if self._refuse_unconfigured(flow):
            return
        route = self._route(flow)
        if route is None:
            return
        flow.metadata[META_KEY] = {"api": str(route.api), "upstream": route.upstream.id}
        # The gateway needs a whole body with a length, never a streamed request.
        flow.request.stream = False
        upgrade = flow.request.headers.get("upgrade", "").lower()
        if upgrade == "websocket":
            strip_everything(flow)
            refuse(
                flow,
                route.api,
                426,
                "the Aperture gateway has no WebSocket route; use HTTP streaming",
            )
            flow.comment = f"{route.upstream.id}: WebSocket refused (426), use HTTP"

    @fail_closed
    async def request(self, flow: http.HTTPFlow) -> None:
        if flow.response or flow.error or not flow.live:
            return
        if self._refuse_unconfigured(flow):
            return
        route = self._route(flow)
        if route is None:
            return
        assert self.health is not None and self.table is not None
        request = flow.request
        body = request.get_content(strict=False) if request.raw_content else None
        view = RequestView(
            method=request.method,
            path=request.path,
            headers=header_pairs(request.headers),
            body=body,
            connection_id=flow.client_conn.id,
        )
        rewritten = rewrite_request(view, route)
        original, _ = filter_query(request.url, "strip")
        provider = self.provider_by_upstream.get(route.upstream.id)
        model = request_model(route.api, route.remainder, body)

        request.headers = to_headers(rewritten.headers)
        request.url = rewritten.url
        _ensure_content_length(request)

        flow.metadata[META_KEY] = {
            "rerouted": True,
            "original_url": original,
            "upstream": route.upstream.id,
            "gateway_provider": provider,
            "api": str(route.api),
            # In passthrough mode the target may carry a ?key= that must not be stored.
            "target": filter_query(rewritten.url, "strip", replacement=REDACTED)[0],
            "session_id": rewritten.session_id,
            "model": model,
        }
        flow.comment = (
            f"{route.upstream.id} → {provider or 'gateway'} {route.target_path}"
        )
        flow.marked = MARKER
        log.info(
            "rerouted %s → gateway %s model=%s session=%s%s",
            route.upstream.id,
            route.target_path,
            printable(model or "-"),
            printable(rewritten.session_id),
            f" removed={','.join(sorted(set(rewritten.removed)))}"
            if rewritten.removed
            else "",
        )

        if route.upstream.check_gateway_models and self._model_missing(
            flow, route, provider, model
        ):
            return

        cause = await self.health.check()
        if cause is not None:
            message = (
                f"aperture-proxy could not reach the Aperture gateway at "
                f"{self.table.gateway}: {cause}. Check that this machine is on the "
                "tailnet (`tailscale status`) and that the gateway URL is right."
            )
            log.error("gateway %s unreachable: %s", self.table.gateway, cause)
            refuse(flow, route.api, 502, message)

    def _model_missing(
        self, flow: http.HTTPFlow, route: Route, provider: str | None, model: str | None
    ) -> bool:
        """Note (or, with ``onMissingModel: block``, refuse) a request for a model
        the matching gateway provider does not serve; True when refused."""
        if not is_missing(self.catalogue, provider, model):
            return False
        assert provider is not None and model is not None
        if (provider, model) not in self._warned_models:
            self._warned_models.add((provider, model))
            log.warning(
                "the gateway provider %s does not serve the model %s asked of %s",
                provider,
                printable(model),
                route.upstream.id,
            )
        flow.marked = MISSING_MODEL_MARKER
        flow.comment += f" (model {model} not served by {provider})"
        flow.metadata[META_KEY]["model_missing"] = True
        if route.upstream.on_missing_model != "block":
            return False
        message = (
            f"the Aperture gateway provider {provider!r} does not serve the model "
            f"{model!r}; pick one it serves (aperture-proxy providers lists them)"
        )
        refuse(flow, route.api, 404, message)
        return True

    @fail_closed
    def responseheaders(self, flow: http.HTTPFlow) -> None:
        # From here on the request has been sent (or answered by us).
        redact_sent(flow)
        meta = flow.metadata.get(META_KEY)
        if not meta or not meta.get("rerouted") or flow.response is None:
            return
        if flow.response.headers.get("x-aperture-proxy-error"):
            return
        if self.health is not None:
            self.health.mark_ok()
        # Error answers are small and may need reshaping; every stream streams.
        if flow.response.status_code < 400 and _is_stream(flow.response):
            flow.response.stream = True

    @fail_closed
    def response(self, flow: http.HTTPFlow) -> None:
        meta = flow.metadata.get(META_KEY)
        response = flow.response
        if not meta or not meta.get("rerouted") or response is None:
            return
        if response.stream or response.status_code < 400:
            return
        if response.headers.get("x-aperture-proxy-error"):
            return
        api = Api(meta["api"])
        text = gateway_message(response.get_content(strict=False) or b"")
        retry_after = response.headers.get("retry-after")
        if response.status_code in (502, 503) and RESTARTING in text.lower():
            error = provider_error(
                api,
                503,
                f"the Aperture gateway is restarting; retry shortly ({text})",
                retry_after=retry_after or DEFAULT_RETRY_AFTER,
            )
        elif response.status_code == 429:
            error = provider_error(
                api,
                429,
                f"the Aperture gateway refused the request: {text}",
                retry_after=retry_after,
            )
        else:
            return
        log.warning(
            "gateway answered %s for %s: %s",
            response.status_code,
            meta.get("upstream"),
            printable(text, 200),
        )
        flow.response = http.Response.make(error.status, error.body, error.headers)

    def error(self, flow: http.HTTPFlow) -> None:
        try:
            redact_sent(flow)
            meta = flow.metadata.get(META_KEY)
            if not meta or not meta.get("rerouted") or flow.error is None:
                return
            gateway = self.table.gateway if self.table else "the gateway"
            if flow.response is None and self.health is not None:
                self.health.mark_down()
            log.error(
                "gateway %s failed for %s %s: %s",
                gateway,
                meta.get("upstream"),
                split_url(meta.get("target", ""))[3].partition("?")[0],
                printable(flow.error.msg, 300),
            )
        except Exception as exc:  # noqa: BLE001 - logging must never raise
            log.error("internal error in the error hook: %s", type(exc).__name__)
            strip_everything(flow)
