"""The gateway's HTTP client and discovery of its catalogue (providers ∩ models)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import json5

from aperture_proxy.catalogue_cache import (
    UNFILTERED,
    Catalogue,
    DiscoveryError,
    GatewayModel,
    GatewayProvider,
    ModelPricing,
    intersect,
    load_cached,
    parse_models,
    parse_providers,
    read_cache,
    write_cache,
)
from aperture_proxy.config import normalize_gateway_url

__all__ = [
    "Catalogue",
    "DiscoveryError",
    "GatewayClient",
    "GatewayModel",
    "GatewayProvider",
    "ModelPricing",
    "discover",
    "discover_sync",
    "intersect",
    "load_cached",
    "parse_models",
    "parse_providers",
]

log = logging.getLogger(__name__)

# A catalogue is a few hundred kilobytes at most; anything far larger is not one.
MAX_ANSWER_BYTES = 16 * 1024 * 1024

_REACH_HINT = (
    "Check the gateway URL and that this machine is connected to the tailnet "
    "(`tailscale status`)."
)
_SHAPE_HINT = (
    "Check that the URL points at an Aperture gateway (its dashboard is at /ui/)."
)


# --- talking to the gateway ---


def _connect_cause(exc: BaseException) -> str:
    """Name the operating system's reason behind a failed connection."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused"
        if isinstance(seen, OSError) and seen.strerror:
            return f"cannot connect ({seen.strerror})"
        seen = seen.__cause__ or seen.__context__
    return f"cannot connect ({exc})"


def _size(count: int) -> str:
    return f"{count / 2**20:g} MiB" if count >= 2**20 else f"{count} bytes"


def _snippet(body: bytes, limit: int = 200) -> str:
    text = " ".join(body.decode("utf-8", "replace").split())
    return text if len(text) <= limit else text[:limit] + "…"


class GatewayClient:
    """Plain GETs to one gateway origin; the tailnet identity is the credential.

    Proxy environment variables are ignored on purpose: the gateway is on the
    tailnet, and HTTPS_PROXY often points at this very proxy.
    """

    def __init__(
        self,
        gateway: str,
        *,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.gateway = normalize_gateway_url(gateway)
        self.timeout = timeout
        self._client = httpx.AsyncClient(
            base_url=self.gateway,
            timeout=timeout,
            transport=transport,
            trust_env=False,
            follow_redirects=True,
            headers={"accept": "application/json", "user-agent": "aperture-proxy"},
        )

    async def __aenter__(self) -> GatewayClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connections."""
        await self._client.aclose()

    def url(self, path: str) -> str:
        """The full URL of `path` on this gateway."""
        return self.gateway + path

    async def _get(self, path: str) -> tuple[int, bytes]:
        url = self.url(path)
        try:
            # One deadline for the whole answer, however slowly it trickles in.
            async with asyncio.timeout(self.timeout):
                async with self._client.stream("GET", path) as response:
                    body = bytearray()
                    async for chunk in response.aiter_bytes():
                        body += chunk
                        if len(body) > MAX_ANSWER_BYTES:
                            raise DiscoveryError(
                                f"the answer is larger than {_size(MAX_ANSWER_BYTES)}",
                                url=url,
                                hint=_SHAPE_HINT,
                            )
        except (TimeoutError, httpx.TimeoutException):
            cause = f"timeout after {self.timeout:g} s"
            raise DiscoveryError(cause, url=url, hint=_REACH_HINT) from None
        except httpx.ConnectError as exc:
            raise DiscoveryError(
                _connect_cause(exc), url=url, hint=_REACH_HINT
            ) from None
        except httpx.HTTPError as exc:
            cause = f"{type(exc).__name__} ({exc})"
            raise DiscoveryError(cause, url=url, hint=_REACH_HINT) from None
        log.debug("GET %s -> %d (%d bytes)", url, response.status_code, len(body))
        return response.status_code, bytes(body)

    async def _get_json(self, path: str, absent: frozenset[int] = frozenset()) -> Any:
        status, body = await self._get(path)
        if status in absent:
            return None
        if not 200 <= status < 300:
            raise DiscoveryError(
                f"HTTP {status}: {_snippet(body) or '(empty body)'}",
                url=self.url(path),
                hint=_status_hint(status),
            )
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise DiscoveryError(
                f"the answer is not JSON (it starts with {_snippet(body, 60)!r})",
                url=self.url(path),
                hint=_SHAPE_HINT,
            ) from None

    async def fetch_providers(self) -> object:
        """The JSON of `GET /api/providers`; raises DiscoveryError."""
        return await self._get_json("/api/providers")

    async def fetch_models(self) -> object:
        """The JSON of `GET /v1/models`; raises DiscoveryError."""
        return await self._get_json("/v1/models")

    async def fetch_admin_config(self) -> dict[str, str] | None:
        """Upstream base URLs by provider id from the admin-only `/aperture/config`.

        None when the gateway does not show it to this caller (401, 403, 404),
        which is normal. Raises DiscoveryError when it fails or is unreadable.
        """
        path = "/aperture/config"
        raw = await self._get_json(path, absent=frozenset({401, 403, 404}))
        if raw is None:
            return None
        config = raw.get("config") if isinstance(raw, dict) else None
        if isinstance(config, str):
            try:
                config = json5.loads(config)
            except ValueError as exc:
                raise DiscoveryError(
                    f"its config is not valid HuJSON ({exc})", url=self.url(path)
                ) from None
        providers = config.get("providers") if isinstance(config, dict) else None
        if not isinstance(providers, dict):
            raise DiscoveryError(
                'expected {"config": {"providers": {...}}}', url=self.url(path)
            )
        base_urls: dict[str, str] = {}
        for ident, entry in providers.items():
            if not isinstance(entry, dict):
                continue
            url = next(
                (entry[k] for k in ("baseurl", "baseUrl", "base_url") if k in entry),
                None,
            )
            if isinstance(url, str) and url:
                base_urls[ident] = url
        return base_urls


def _status_hint(status: int) -> str:
    if status in (401, 403):
        return "The gateway refused this machine's tailnet identity; ask its admin."
    if status >= 500:
        return "The gateway itself failed; try again shortly."
    return _SHAPE_HINT


# --- discovery ---


async def _attempt[T](call: Awaitable[T]) -> T | DiscoveryError:
    try:
        return await call
    except DiscoveryError as exc:
        return exc


def _at(error: DiscoveryError, url: str) -> DiscoveryError:
    """Give an error about a document the URL it came from."""
    if error.url:
        return error
    return DiscoveryError(error.cause, url=url, hint=error.hint or _SHAPE_HINT)


def _format_age(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


async def discover(
    gateway: str,
    *,
    cache_dir: Path | None = None,
    timeout: float = 10.0,
    use_cache: bool = True,
) -> Catalogue:
    """Ask the gateway what it offers: `/api/providers` ∩ `/v1/models` (SPEC §2.3).

    The two lists and the admin-only `/aperture/config` (upstream base URLs,
    filled into providers that lack one) are fetched concurrently. A good result
    is written to the cache. When `/api/providers` fails, the cached catalogue
    of this gateway is returned instead (from_cache=True, with a warning saying
    how old it is), unless `use_cache` is false or there is none: then
    DiscoveryError. Every tolerated problem ends up in `Catalogue.warnings`.
    """
    try:
        origin = normalize_gateway_url(gateway)
    except ValueError as exc:
        hint = "Pass it as --gateway http://ai or set APERTURE_URL."
        raise DiscoveryError(
            f"the gateway URL is not usable: {exc}", hint=hint
        ) from None

    async with GatewayClient(origin, timeout=timeout) as client:
        providers_raw, models_raw, admin = await asyncio.gather(
            _attempt(client.fetch_providers()),
            _attempt(client.fetch_models()),
            _attempt(client.fetch_admin_config()),
        )

    warnings: list[str] = []
    try:
        if isinstance(providers_raw, DiscoveryError):
            raise providers_raw
        providers, notes = parse_providers(providers_raw)
    except DiscoveryError as exc:
        error = _at(exc, client.url("/api/providers"))
        return _fall_back(origin, cache_dir, error, use_cache)
    warnings += notes

    models: dict[str, GatewayModel] = {}
    try:
        if isinstance(models_raw, DiscoveryError):
            raise models_raw
        models, notes = parse_models(models_raw)
    except DiscoveryError as exc:
        warnings.append(f"{_at(exc, client.url('/v1/models'))} — {UNFILTERED}")
    else:
        warnings += notes
        providers, notes = intersect(providers, models)
        warnings += notes

    if isinstance(admin, DiscoveryError):
        warnings.append(f"upstream base URLs not read: {admin}")
    elif admin:
        providers = [
            p
            if p.base_url or p.id not in admin
            else p.model_copy(update={"base_url": admin[p.id]})
            for p in providers
        ]

    catalogue = Catalogue(
        gateway=origin,
        providers=providers,
        models=models,
        fetched_at=datetime.now(UTC),
        warnings=warnings,
    )
    try:
        write_cache(catalogue, cache_dir)
    except OSError as exc:
        catalogue.warnings.append(f"the catalogue cache was not written ({exc})")
    # The caller shows catalogue.warnings; the log keeps them for later.
    for warning in catalogue.warnings:
        log.info("%s", warning)
    log.info(
        "discovered %d providers and %d models on %s",
        len(catalogue.providers),
        len(models),
        origin,
    )
    return catalogue


def _fall_back(
    origin: str, cache_dir: Path | None, error: DiscoveryError, use_cache: bool
) -> Catalogue:
    """Stale-while-error: the last good catalogue, or the error itself."""
    if not use_cache:
        raise error
    cached, problem = read_cache(origin, cache_dir)
    if cached is None:
        if problem:
            raise DiscoveryError(
                error.cause,
                url=error.url,
                hint=f"{error.hint} The cached catalogue was no help: {problem}.",
            )
        raise error
    note = (
        f"using the catalogue cached {_format_age(cached.age_seconds())} ago "
        f"because {error}"
    )
    # Callers show catalogue.warnings to people; the log keeps it for later.
    log.info("%s", note)
    return cached.model_copy(update={"warnings": [note, *cached.warnings]})


def discover_sync(
    gateway: str,
    *,
    cache_dir: Path | None = None,
    timeout: float = 10.0,
    use_cache: bool = True,
) -> Catalogue:
    """`discover` for callers without an event loop (the CLI)."""
    return asyncio.run(
        discover(gateway, cache_dir=cache_dir, timeout=timeout, use_cache=use_cache)
    )
