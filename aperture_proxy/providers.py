"""Which gateway provider serves which upstream (SPEC §3.3), as a table for people."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from aperture_proxy.gateway import Catalogue, GatewayProvider
from aperture_proxy.routing import gateway_base, split_url
from aperture_proxy.upstreams import Api, Upstream

# The order in which a provider's compatibility flags choose its API (SPEC §4.1).
COMPATIBILITY_ORDER: tuple[tuple[str, Api], ...] = (
    ("openai_chat", Api.OPENAI_COMPLETIONS),
    ("anthropic_messages", Api.ANTHROPIC_MESSAGES),
    ("openai_responses", Api.OPENAI_RESPONSES),
    ("gemini_generate_content", Api.GOOGLE_GENERATIVE_AI),
    ("google_generate_content", Api.GOOGLE_VERTEX),
    ("bedrock_converse", Api.BEDROCK),
)


def api_from_compatibility(compatibility: Mapping[str, bool]) -> Api:
    """The API a gateway provider is spoken to in, from its compatibility flags."""
    for flag, api in COMPATIBILITY_ORDER:
        if compatibility.get(flag):
            return api
    return Api.OPENAI_COMPLETIONS


def _strip_base(url: str) -> str:
    url = url.strip().rstrip("/")
    if url.endswith("/v1"):
        url = url[: -len("/v1")]
    return url.rstrip("/")


def base_url_matches(aperture_base: str, registry_base: str) -> bool:
    """Equal, or a child path, after trailing slashes and a trailing ``/v1`` go.

    >>> base_url_matches("https://chatgpt.com/backend-api/codex",
    ...                  "https://chatgpt.com/backend-api")
    True
    """
    if "{" in registry_base:
        return False
    a_scheme, a_host, a_port, a_path = split_url(_strip_base(aperture_base))
    r_scheme, r_host, r_port, r_path = split_url(_strip_base(registry_base))
    if (a_scheme, a_host, a_port) != (r_scheme, r_host, r_port):
        return False
    a_path = urlsplit(a_path).path.rstrip("/")
    r_path = urlsplit(r_path).path.rstrip("/")
    return not r_path or a_path == r_path or a_path.startswith(f"{r_path}/")


@dataclass(frozen=True)
class ProviderMatch:
    """One row of the routing table: a gateway provider and its upstream."""

    provider: GatewayProvider | None  # None: an upstream no gateway provider matched
    upstream: Upstream | None
    how: str  # "pinned", "base URL", "id" or "" when unmatched
    api: Api
    target: str


def _by_base_url(base: str, upstreams: Sequence[Upstream]) -> Upstream | None:
    best: tuple[int, Upstream] | None = None
    for upstream in upstreams:
        for registry_base in upstream.base_urls:
            if base_url_matches(base, registry_base):
                depth = len(urlsplit(registry_base).path.rstrip("/"))
                if best is None or depth > best[0]:
                    best = (depth, upstream)
    return best[1] if best else None


def match_providers(
    catalogue: Catalogue,
    upstreams: Sequence[Upstream],
    base_urls: Mapping[str, str] | None = None,
) -> list[ProviderMatch]:
    """Pair every gateway provider with the upstream it stands for.

    ``base_urls`` maps gateway provider ids to upstream base URLs (from
    ``/aperture/config`` for admins); a provider's own ``base_url`` is used too.
    A user's ``gatewayProvider`` pin wins, then the base URL, then an equal id.
    """
    base_urls = base_urls or {}
    pinned = {u.gateway_provider: u for u in upstreams if u.gateway_provider}
    by_id = {name: u for u in upstreams for name in (u.id, *u.aliases)}
    rows: list[ProviderMatch] = []
    for provider in catalogue.providers:
        upstream: Upstream | None = pinned.get(provider.id)
        how = "pinned" if upstream else ""
        base = provider.base_url or base_urls.get(provider.id)
        if upstream is None and base:
            upstream = _by_base_url(base, upstreams)
            how = "base URL" if upstream else ""
        if upstream is None and provider.id in by_id:
            upstream, how = by_id[provider.id], "id"
        if upstream is not None:
            api = upstream.api
            base_path = urlsplit(upstream.base_urls[0]).path
        else:
            api = api_from_compatibility(provider.compatibility)
            base_path = ""
        target = gateway_base(catalogue.gateway, api, base_path)
        rows.append(ProviderMatch(provider, upstream, how, api, target))
    matched = {row.upstream.id for row in rows if row.upstream is not None}
    for upstream in upstreams:
        if upstream.id not in matched:
            # Rerouted all the same: the gateway routes each request by its model.
            base_path = urlsplit(upstream.base_urls[0]).path
            target = gateway_base(catalogue.gateway, upstream.api, base_path)
            rows.append(ProviderMatch(None, upstream, "", upstream.api, target))
    return rows


def provider_for(rows: Sequence[ProviderMatch], upstream_id: str) -> str | None:
    """The gateway provider id matched to ``upstream_id``, if any."""
    for row in rows:
        if row.provider and row.upstream and row.upstream.id == upstream_id:
            return row.provider.id
    return None


def format_table(rows: Sequence[ProviderMatch], *, max_models: int = 4) -> str:
    """The routing table as aligned text columns."""
    header = ("gateway provider", "upstream", "matched by", "API", "target", "models")
    lines = [header]
    for row in rows:
        models = row.provider.models if row.provider else []
        shown = ", ".join(models[:max_models])
        if len(models) > max_models:
            shown += f", … {len(models) - max_models} more"
        lines.append(
            (
                row.provider.id if row.provider else "-",
                row.upstream.id if row.upstream else "-",
                row.how or "-",
                str(row.api),
                row.target,
                shown or "-",
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=False))
        + "  "
        + line[-1]
        for line in lines
    )
