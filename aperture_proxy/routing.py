"""Child-path matching of request URLs to upstreams, and gateway targets per API.

Matching rules (SPEC §3.2), as runnable examples::

    >>> table = RouteTable.build(builtin(["openai"]), "http://ai")
    >>> table.lookup_url("https://API.OpenAI.com:443/v1/chat/completions").target
    'http://ai/v1/chat/completions'
    >>> table.lookup_url("https://api.openai.com/v10/chat") is None
    True

Hosts compare case-insensitively, default ports (443 for https, 80 for http) equal no
port, a base path is a prefix of the request path only on a segment boundary, trailing
slashes never matter, and the longest matching base path wins. The query string is
carried over to the target unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from aperture_proxy.upstreams import Api, Upstream, builtin

DEFAULT_PORTS = {"https": 443, "http": 80}

_VERSION_SEGMENT = re.compile(r"v\d+\w*")
_HOST_PLACEHOLDER = re.compile(r"\{(location|region)\}")

__all__ = [
    "Base",
    "Route",
    "RouteTable",
    "builtin",
    "gateway_base",
    "is_version_segment",
    "join_gateway",
    "split_url",
]


def is_version_segment(segment: str) -> bool:
    """``v`` + digits + optional word characters: ``v1``, ``v4``, ``v1beta``."""
    return _VERSION_SEGMENT.fullmatch(segment) is not None


def _trim(path: str) -> str:
    """A path without trailing slashes; the root becomes the empty string."""
    return path.rstrip("/")


def _last_segment(path: str) -> str:
    return _trim(path).rpartition("/")[2]


def split_url(url: str) -> tuple[str, str, int, str]:
    """``(scheme, lowercased host, port, path?query)`` with default ports filled in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port or DEFAULT_PORTS.get(scheme, 0)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return scheme, host, port, path


def gateway_base(gateway: str, api: Api, base_path: str) -> str:
    """Where requests of ``api`` go on the gateway (SPEC §3.4 rule 1).

    ``gateway`` is the normalised gateway origin (no trailing slash, no ``/v1``);
    ``base_path`` is the path of the upstream base URL the request matched.
    """
    if api is Api.GOOGLE_GENERATIVE_AI:
        return f"{gateway}/v1beta"
    if api is Api.BEDROCK:
        return f"{gateway}/bedrock"
    if api.is_openai_style:
        last = _last_segment(base_path)
        if is_version_segment(last) and last != "v1":
            return gateway
        return f"{gateway}/v1"
    return gateway


def join_gateway(base: str, remainder: str) -> str:
    """Append ``remainder`` to ``base`` without ever doubling a version segment.

    >>> join_gateway("http://ai/v1", "/v1/chat/completions")
    'http://ai/v1/chat/completions'
    """
    last = _last_segment(urlsplit(base).path)
    if last and is_version_segment(last):
        doubled = f"/{last}"
        if remainder == doubled or remainder.startswith((f"{doubled}/", f"{doubled}?")):
            remainder = remainder[len(doubled) :]
    if remainder and not remainder.startswith(("/", "?")):
        remainder = f"/{remainder}"
    return f"{base}{remainder}"


def _api_for(upstream: Upstream, remainder: str) -> Api:
    """OpenAI's one host serves two formats; the path tells which."""
    if upstream.api.is_openai_style:
        path = remainder.partition("?")[0]
        if path.startswith("/responses"):
            return Api.OPENAI_RESPONSES
        if path.endswith("/completions"):
            return Api.OPENAI_COMPLETIONS
    return upstream.api


def _under(path: str, prefix: str) -> bool:
    """``prefix`` names ``path`` or one of its ancestors, on a segment boundary."""
    prefix = _trim(prefix)
    return not prefix or path == prefix or path.startswith(f"{prefix}/")


@dataclass(frozen=True)
class Base:
    """One parsed base URL of one upstream."""

    upstream: Upstream
    url: str
    scheme: str
    host: str  # lowercased literal, or a regex source when ``pattern`` is set
    port: int
    path: str  # without trailing slash; "" for the root
    pattern: re.Pattern[str] | None = None

    @classmethod
    def parse(cls, upstream: Upstream, url: str) -> Base:
        placeholder = _HOST_PLACEHOLDER.search(url)
        probe = _HOST_PLACEHOLDER.sub("placeholder", url)
        scheme, host, port, path = split_url(probe)
        if not scheme or not host:
            raise ValueError(
                f"upstream {upstream.id!r}: base URL {url!r} is not an absolute URL"
            )
        pattern = None
        if placeholder:
            raw_host = urlsplit(url).netloc.rpartition("@")[2].split(":")[0]
            regex = re.escape(raw_host.lower())
            regex = re.sub(r"\\\{(?:location|region)\\\}", "[a-z0-9-]+", regex)
            pattern = re.compile(regex)
            host = regex
        return cls(upstream, url, scheme, host, port, _trim(path), pattern)

    def host_regex(self) -> str:
        """A regex for mitmproxy's ``allow_hosts`` that admits a ``:port`` suffix."""
        host = self.host if self.pattern else re.escape(self.host)
        return rf"^{host}(?::\d+)?$"

    def is_api_path(self, remainder: str) -> bool:
        paths = self.upstream.api_paths
        if not paths:
            return True
        path = remainder.partition("?")[0]
        return any(_under(path, p) for p in paths)


@dataclass(frozen=True)
class Route:
    """The decision for one request that goes to the gateway."""

    upstream: Upstream
    api: Api
    base: Base
    remainder: str  # request path minus base path, with the original query
    target: str  # the full gateway URL

    @property
    def target_path(self) -> str:
        return urlsplit(self.target).path


@dataclass
class RouteTable:
    """Selected upstreams indexed for fast lookup by host, then by path."""

    gateway: str
    upstreams: tuple[Upstream, ...]
    _by_host: dict[tuple[str, str, int], list[Base]] = field(default_factory=dict)
    _patterned: list[Base] = field(default_factory=list)

    @classmethod
    def build(cls, upstreams: Iterable[Upstream], gateway: str) -> RouteTable:
        selected = tuple(upstreams)
        table = cls(gateway=gateway.rstrip("/"), upstreams=selected)
        for upstream in selected:
            for url in upstream.base_urls:
                base = Base.parse(upstream, url)
                if base.pattern is None:
                    key = (base.scheme, base.host, base.port)
                    table._by_host.setdefault(key, []).append(base)
                else:
                    table._patterned.append(base)
        for bases in table._by_host.values():
            bases.sort(key=lambda b: len(b.path), reverse=True)
        table._patterned.sort(key=lambda b: len(b.path), reverse=True)
        return table

    @property
    def bases(self) -> list[Base]:
        literal = [b for bases in self._by_host.values() for b in bases]
        return literal + self._patterned

    def host_patterns(self) -> list[str]:
        """Regexes for ``allow_hosts``: only these hosts are ever decrypted."""
        seen: dict[str, None] = {}
        for base in self.bases:
            seen.setdefault(base.host_regex(), None)
        return list(seen)

    def _candidates(self, scheme: str, host: str, port: int) -> Sequence[Base]:
        literal = self._by_host.get((scheme, host, port), ())
        if not self._patterned:
            return literal
        patterned = [
            b
            for b in self._patterned
            if b.scheme == scheme
            and b.port == port
            and b.pattern is not None
            and b.pattern.fullmatch(host)
        ]
        if not patterned:
            return literal
        return sorted([*literal, *patterned], key=lambda b: len(b.path), reverse=True)

    def lookup(self, scheme: str, host: str, port: int, path: str) -> Route | None:
        """The route for a request, or None when it must pass through untouched.

        ``path`` carries the query string, as mitmproxy's ``request.path`` does.
        """
        bases = self._candidates(scheme.lower(), host.lower(), port)
        if not bases:
            return None
        bare, sep, query = path.partition("?")
        trimmed = _trim(bare)
        for base in bases:
            if not _under(trimmed, base.path):
                continue
            remainder = bare[len(base.path) :] + (f"?{query}" if sep else "")
            if not base.is_api_path(remainder):
                return None
            api = _api_for(base.upstream, remainder)
            target = join_gateway(gateway_base(self.gateway, api, base.path), remainder)
            return Route(base.upstream, api, base, remainder, target)
        return None

    def lookup_url(self, url: str) -> Route | None:
        return self.lookup(*split_url(url))

    def intercepts_host(self, host: str) -> bool:
        """Whether ``host`` is one the proxy decrypts (any port, any scheme)."""
        host = host.lower()
        if any(key[1] == host for key in self._by_host):
            return True
        return any(b.pattern and b.pattern.fullmatch(host) for b in self._patterned)
