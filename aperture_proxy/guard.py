"""Failing closed on flows: error answers, credential stripping and redaction.

mitmproxy logs a hook's exception and then forwards the flow unmodified — to the
real provider, with the client's key. Every hook of the addon runs inside
``fail_closed``, which answers such a flow with an error instead.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import traceback
from collections.abc import Callable
from typing import Any

from mitmproxy import http

from aperture_proxy.errors import provider_error
from aperture_proxy.rewrite import (
    REDACTED,
    filter_credentials,
    filter_query,
    redact_headers,
)
from aperture_proxy.upstreams import Api

log = logging.getLogger("aperture_proxy")

META_KEY = "aperture"


def to_headers(pairs: list[tuple[str, str]]) -> http.Headers:
    """mitmproxy headers from str pairs, reversing its own surrogateescape decoding."""
    return http.Headers(
        [
            (k.encode("utf-8", "surrogateescape"), v.encode("utf-8", "surrogateescape"))
            for k, v in pairs
        ]
    )


def header_pairs(headers: http.Headers) -> list[tuple[str, str]]:
    return list(headers.items(multi=True))


def strip_everything(flow: http.HTTPFlow) -> None:
    """Remove every credential from a flow that must not be forwarded as it is."""
    request = flow.request
    kept, _ = filter_credentials(header_pairs(request.headers), None, "strip")
    request.headers = to_headers(kept)
    request.url = filter_query(request.url, "strip")[0]


def redact_sent(flow: http.HTTPFlow) -> None:
    """Replace credential values in a request that has already been sent.

    Runs before mitmproxy's dumper and flow saving see the flow, so logs, saved
    flows and mitmweb's flow list never hold a key — including keys that were
    rightly forwarded (passthrough mode, kept subscription logins, traffic to the
    real host on non-API paths).
    """
    request = flow.request
    headers, changed = redact_headers(header_pairs(request.headers))
    if changed:
        request.headers = to_headers(headers)
    url, replaced = filter_query(request.url, "strip", replacement=REDACTED)
    if replaced:
        request.url = url


def refuse(flow: http.HTTPFlow, api: Api | None, status: int, message: str) -> None:
    """Answer the flow ourselves with a provider-shaped error."""
    error = provider_error(api, status, message)
    flow.response = http.Response.make(error.status, error.body, error.headers)


def _flow_api(flow: http.HTTPFlow) -> Api | None:
    meta = flow.metadata.get(META_KEY) or {}
    return Api(meta["api"]) if "api" in meta else None


def _handle_failure(hook: str, flow: http.HTTPFlow, exc: BaseException) -> None:
    path = flow.request.path.partition("?")[0]
    # The exception's message may quote request data, so only its type is logged.
    log.error(
        "internal error in %s hook (%s) for %s %s%s; answered 502, nothing forwarded",
        hook,
        type(exc).__name__,
        flow.request.method,
        flow.request.host,
        path,
    )
    frames = "".join(traceback.format_tb(exc.__traceback__))
    log.debug("traceback of the %s hook failure:\n%s", hook, frames)
    try:
        if flow.response is not None:
            # The request was already sent; keep only what may be stored.
            redact_sent(flow)
            return
        strip_everything(flow)
        message = (
            f"aperture-proxy failed to route this request ({type(exc).__name__}); "
            "nothing was forwarded. See the proxy log."
        )
        refuse(flow, _flow_api(flow), 502, message)
    except Exception:  # noqa: BLE001 - last resort: never let the flow through
        flow.kill()


def fail_closed[F: Callable[..., Any]](hook: F) -> F:
    """Run a hook; on any error, answer the flow with an error and strip its keys."""
    if asyncio.iscoroutinefunction(hook):

        @functools.wraps(hook)
        async def run_async(self: Any, flow: http.HTTPFlow) -> None:
            try:
                await hook(self, flow)
            except Exception as exc:  # noqa: BLE001 - failing closed is the point
                _handle_failure(hook.__name__, flow, exc)

        return run_async  # type: ignore[return-value]

    @functools.wraps(hook)
    def run(self: Any, flow: http.HTTPFlow) -> None:
        try:
            hook(self, flow)
        except Exception as exc:  # noqa: BLE001 - failing closed is the point
            _handle_failure(hook.__name__, flow, exc)

    return run  # type: ignore[return-value]
