"""One request's gateway form: target URL, credentials, provenance and session id.

Plain data in, plain data out: nothing here knows about mitmproxy, so every rule is
tested on its own. Header names are compared case-insensitively and the order and
spelling of every kept header is preserved.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote_plus, urlsplit, urlunsplit

from aperture_proxy import __version__
from aperture_proxy.routing import Route
from aperture_proxy.upstreams import Api, CredentialMode

Headers = list[tuple[str, str]]

#: Headers that carry a credential to a provider (SPEC §3.5).
CREDENTIAL_HEADERS = frozenset(
    {
        "authorization",
        "x-api-key",
        "api-key",
        "anthropic-api-key",
        "x-goog-api-key",
        "chatgpt-account-id",
        "x-amz-date",
        "x-amz-security-token",
        "x-amz-content-sha256",
        "cookie",
    }
)
#: Header names that, by their shape, carry a secret: gateways and SDKs invent
#: their own (``openai-api-key``, ``x-auth-token``, ``helicone-auth``,
#: ``ocp-apim-subscription-key``). Treated like the named credential headers.
_SECRET_HEADER = re.compile(
    r"api[-_]?key|auth[-_]?token|access[-_]?token|secret|password|"
    r"subscription[-_]key|(^|-)auth$|^x-auth(-|$)"
)


def is_credential_header(name: str) -> bool:
    """Whether a header (any case) carries a credential."""
    name = name.lower()
    return name in CREDENTIAL_HEADERS or _SECRET_HEADER.search(name) is not None


#: Query parameters that carry a credential.
CREDENTIAL_PARAMS = frozenset({"key", "api_key", "apikey", "access_token"})
#: Hop-by-hop proxy headers that never travel past this proxy.
PROXY_HEADERS = frozenset({"proxy-authorization", "proxy-connection"})

WEBSOCKET_KEY_PROTOCOL = "openai-insecure-api-key."
REDACTED = "REDACTED-by-aperture-proxy"
ATTRIBUTION_HEADERS = frozenset({"referer", "http-referer", "x-title"})
PROVENANCE_REFERER = "urn:aperture-proxy"
PROVENANCE_TITLE = "aperture-proxy"
SESSION_HEADER = "x-session-id"

# Codex names its conversation in these headers; the first one present wins.
_CODEX_SESSION_HEADERS = (
    "session_id",
    "session-id",
    "conversation_id",
    "conversation-id",
)
_CLAUDE_SESSION = re.compile(r"session_([0-9a-fA-F-]{36})")
_JWT = re.compile(r"eyJ[\w-]*\.[\w-]+\.[\w-]*")
_SESSION_BODY_LIMIT = 8 * 1024 * 1024


@dataclass(frozen=True)
class RequestView:
    """What the rewrite needs to know about an intercepted request."""

    method: str
    path: str  # with the query string
    headers: Sequence[tuple[str, str]]
    body: bytes | None = None  # decoded content, only read for session ids
    connection_id: str = ""


@dataclass
class Rewritten:
    """The gateway form of a request, plus notes for logs (names only, no values)."""

    url: str
    headers: Headers
    session_id: str
    session_source: str
    removed: list[str] = field(default_factory=list)


def _name(header: str) -> str:
    return header.lower()


def _is_claude_oauth(value: str) -> bool:
    scheme, _, token = value.partition(" ")
    return scheme.lower() == "bearer" and token.strip().startswith("sk-ant-oat")


def _is_chatgpt_oauth(value: str) -> bool:
    scheme, _, token = value.partition(" ")
    return scheme.lower() == "bearer" and _JWT.fullmatch(token.strip()) is not None


def _kept_logins(api: Api | None, headers: Sequence[tuple[str, str]]) -> set[str]:
    """Credential headers ``auto`` keeps: the subscription logins Aperture's
    passthrough providers exist for (Claude OAuth, ChatGPT OAuth with account)."""
    values = {_name(k): v for k, v in headers}
    auth = values.get("authorization", "")
    if api is Api.ANTHROPIC_MESSAGES and _is_claude_oauth(auth):
        return {"authorization"}
    if (
        api is Api.OPENAI_CODEX_RESPONSES
        and _is_chatgpt_oauth(auth)
        and values.get("chatgpt-account-id")
    ):
        return {"authorization", "chatgpt-account-id"}
    return set()


def _ws_protocols(value: str, replacement: str | None) -> str:
    """A WebSocket subprotocol list without its API-key entries (or with their
    keys replaced by ``replacement``)."""
    parts = []
    for part in (p.strip() for p in value.split(",")):
        if part.startswith(WEBSOCKET_KEY_PROTOCOL):
            if replacement is None:
                continue
            part = f"{WEBSOCKET_KEY_PROTOCOL}{replacement}"
        if part:
            parts.append(part)
    return ", ".join(parts)


def filter_credentials(
    headers: Sequence[tuple[str, str]], api: Api | None, mode: CredentialMode
) -> tuple[Headers, list[str]]:
    """Headers without the credentials ``mode`` removes, and the removed names."""
    passthrough = mode == "passthrough"
    keep = _kept_logins(api, headers) if mode == "auto" else set()
    kept: Headers = []
    removed: list[str] = []
    for key, value in headers:
        name = _name(key)
        credential = is_credential_header(name) and not passthrough and name not in keep
        if name in PROXY_HEADERS or credential:
            removed.append(name)
        elif name == "sec-websocket-protocol" and not passthrough:
            stripped = _ws_protocols(value, None)
            if stripped != value:
                removed.append(name)
            if stripped:
                kept.append((key, stripped))
        else:
            kept.append((key, value))
    return kept, removed


def filter_query(
    url: str, mode: CredentialMode, *, replacement: str | None = None
) -> tuple[str, list[str]]:
    """The URL without credential query parameters (kept only in passthrough), or
    with their values replaced by ``replacement``.

    Other parameters keep their exact bytes and order.
    """
    parts = urlsplit(url)
    if mode == "passthrough" or not parts.query:
        return url, []
    kept: list[str] = []
    removed: list[str] = []
    for piece in parts.query.split("&"):
        name = unquote_plus(piece.partition("=")[0]).lower()
        if name not in CREDENTIAL_PARAMS:
            kept.append(piece)
            continue
        removed.append(f"?{name}")
        if replacement is not None:
            kept.append(f"{piece.partition('=')[0]}={replacement}")
    if not removed:
        return url, []
    return urlunsplit(parts._replace(query="&".join(kept))), removed


def redact_headers(headers: Sequence[tuple[str, str]]) -> tuple[Headers, bool]:
    """Headers fit for a log or a saved flow: every credential value replaced.

    Used on requests that were already sent, so the replacement reaches no server.
    """
    redacted: Headers = []
    changed = False
    for key, value in headers:
        name = _name(key)
        if is_credential_header(name) or name in PROXY_HEADERS:
            new = REDACTED
        elif name == "sec-websocket-protocol":
            new = _ws_protocols(value, REDACTED)
        else:
            new = value
        changed = changed or new != value
        redacted.append((key, new))
    return redacted, changed


def _header(headers: Sequence[tuple[str, str]], name: str) -> str | None:
    for key, value in headers:
        if _name(key) == name:
            return value
    return None


def _top_level_field(body: bytes | None, key: str, limit: int) -> object:
    """A field of a JSON object body, or None when the body is not one.

    Bodies over ``limit`` bytes, or that do not mention the key, are not parsed.
    """
    if not body or len(body) > limit or f'"{key}"'.encode() not in body:
        return None
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        # Not JSON, or nested too deep to read: the request goes on unread.
        return None
    return data.get(key) if isinstance(data, dict) else None


def _claude_session(body: bytes | None) -> str | None:
    """The session uuid Claude Code puts in ``metadata.user_id``.

    Older releases send ``user_<hash>_account_<uuid>_session_<uuid>``; newer ones a
    JSON string with a ``session_id`` key. Both are read.
    """
    metadata = _top_level_field(body, "metadata", _SESSION_BODY_LIMIT)
    user_id = metadata.get("user_id") if isinstance(metadata, dict) else None
    if not isinstance(user_id, str):
        return None
    if user_id.startswith("{"):
        try:
            inner = json.loads(user_id)
        except (ValueError, RecursionError):
            inner = None
        session = inner.get("session_id") if isinstance(inner, dict) else None
        if isinstance(session, str) and session:
            return session
    match = _CLAUDE_SESSION.search(user_id)
    return match.group(1) if match else None


def derive_session_id(request: RequestView) -> tuple[str, str]:
    """The ``x-session-id`` to send and where it came from (SPEC §3.6)."""
    sent = _header(request.headers, SESSION_HEADER)
    if sent:
        return sent, "client"
    for name in _CODEX_SESSION_HEADERS:
        value = _header(request.headers, name)
        if value:
            return value, name
    claude = _claude_session(request.body)
    if claude:
        return claude, "metadata.user_id"
    return f"conn-{request.connection_id}", "connection"


def add_provenance(headers: Headers) -> Headers:
    """Attribution headers, only when the client sent none of its own."""
    if any(_name(k) in ATTRIBUTION_HEADERS for k, _ in headers):
        return headers
    return [
        *headers,
        ("Referer", PROVENANCE_REFERER),
        ("X-Title", f"{PROVENANCE_TITLE}/{__version__}"),
    ]


def rewrite_request(request: RequestView, route: Route) -> Rewritten:
    """The gateway form of ``request``, which ``route`` matched."""
    mode = route.upstream.credentials
    url, removed_params = filter_query(route.target, mode)
    headers, removed = filter_credentials(request.headers, route.api, mode)
    session_id, source = derive_session_id(request)
    if _header(headers, SESSION_HEADER) is None:
        headers.append((SESSION_HEADER, session_id))
    headers = add_provenance(headers)
    return Rewritten(url, headers, session_id, source, removed + removed_params)


_PATH_MODEL_APIS = (Api.GOOGLE_GENERATIVE_AI, Api.GOOGLE_VERTEX, Api.BEDROCK)
_PATH_MODEL = re.compile(r"/models?/([^/:?]+)")
_MODEL_BODY_LIMIT = 2 * 1024 * 1024


def request_model(api: Api, remainder: str, body: bytes | None) -> str | None:
    """The model a request asks for: in the path for Gemini, Vertex and Bedrock,
    else the body's top-level ``model`` field."""
    if api in _PATH_MODEL_APIS:
        match = _PATH_MODEL.search(remainder.partition("?")[0])
        return unquote_plus(match.group(1)) if match else None
    model = _top_level_field(body, "model", _MODEL_BODY_LIMIT)
    return model if isinstance(model, str) else None
