"""Property tests: URL matching invariants, the credential stripper, and failing closed
for an exception at any step of the request hooks."""

from __future__ import annotations

import asyncio
import string
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mitmproxy import http
from mitmproxy.addons.proxyauth import ProxyAuth
from mitmproxy.addons.proxyserver import Proxyserver
from mitmproxy.test import taddons, tflow

from aperture_proxy import addon as addon_module
from aperture_proxy import guard
from aperture_proxy.addon import Aperture
from aperture_proxy.rewrite import (
    CREDENTIAL_HEADERS,
    CREDENTIAL_PARAMS,
    PROXY_HEADERS,
    filter_credentials,
    filter_query,
)
from aperture_proxy.routing import RouteTable
from aperture_proxy.upstreams import BUILTIN_UPSTREAMS, Api

GW = "http://ai.example-tailnet.ts.net"
TABLE = RouteTable.build(BUILTIN_UPSTREAMS, GW)
LITERAL_BASES = [
    (u.id, url) for u in BUILTIN_UPSTREAMS for url in u.base_urls if "{" not in url
]

segment = st.text(
    string.ascii_lowercase + string.digits + "-_.", min_size=1, max_size=8
)
paths = st.lists(segment, min_size=1, max_size=4).map(lambda s: "/" + "/".join(s))
queries = st.one_of(
    st.just(""),
    st.text(string.ascii_letters + "=&", max_size=12).map(lambda q: "?" + q),
)


def _case_variant(host: str, data: st.DataObject) -> str:
    flags = data.draw(st.lists(st.booleans(), min_size=len(host), max_size=len(host)))
    return "".join(c.upper() if f else c for c, f in zip(host, flags, strict=True))


@given(base=st.sampled_from(LITERAL_BASES), path=paths, query=queries, data=st.data())
def test_host_case_and_default_port_never_change_the_route(
    base: tuple[str, str], path: str, query: str, data: st.DataObject
) -> None:
    _, url = base
    scheme, rest = url.split("://", 1)
    host, _, base_path = rest.partition("/")
    base_path = f"/{base_path}" if base_path else ""
    plain = TABLE.lookup_url(f"{url}{path}{query}")
    variant = f"{scheme}://{_case_variant(host, data)}:443{base_path}{path}{query}"
    other = TABLE.lookup_url(variant)
    assert (plain and plain.target) == (other and other.target)


@given(base=st.sampled_from(LITERAL_BASES), path=paths, query=queries)
def test_a_trailing_slash_never_changes_whether_a_request_matches(
    base: tuple[str, str], path: str, query: str
) -> None:
    _, url = base
    bare = TABLE.lookup_url(f"{url}{path}{query}")
    slashed = TABLE.lookup_url(f"{url}{path}/{query}")
    assert (bare is None) == (slashed is None)
    if bare and slashed:
        assert bare.upstream.id == slashed.upstream.id


@given(base=st.sampled_from(LITERAL_BASES), suffix=segment, path=paths)
def test_a_base_path_only_matches_on_a_segment_boundary(
    base: tuple[str, str], suffix: str, path: str
) -> None:
    upstream_id, url = base
    if url.count("/") < 3:
        return  # a base at the host root has no last segment to extend
    route = TABLE.lookup_url(f"{url}{suffix}{path}")
    assert route is None or route.upstream.id != upstream_id


@given(base=st.sampled_from(LITERAL_BASES), path=paths, query=queries)
def test_targets_are_on_the_gateway_and_never_double_a_version(
    base: tuple[str, str], path: str, query: str
) -> None:
    route = TABLE.lookup_url(f"{base[1]}{path}{query}")
    if route is None:
        return
    assert route.target.startswith(f"{GW}/")
    assert "/v1/v1/" not in route.target and "/v1beta/v1beta/" not in route.target


header_names = st.sampled_from(
    [
        *sorted(CREDENTIAL_HEADERS | PROXY_HEADERS),
        "accept",
        "content-type",
        "x-trace",
        "anthropic-beta",
        "Authorization",
        "X-Api-Key",
    ]
)
header_values = st.text(string.printable.strip(), min_size=1, max_size=40)
header_lists = st.lists(st.tuples(header_names, header_values), max_size=12)
apis = st.sampled_from(list(Api))


@given(headers=header_lists, api=apis)
def test_strip_mode_leaves_no_credential_and_keeps_everything_else(
    headers: list[tuple[str, str]], api: Api
) -> None:
    kept, _ = filter_credentials(headers, api, "strip")
    names = [k.lower() for k, _ in kept]
    assert not set(names) & (CREDENTIAL_HEADERS | PROXY_HEADERS)
    expected = [
        (k, v)
        for k, v in headers
        if k.lower() not in CREDENTIAL_HEADERS | PROXY_HEADERS
    ]
    assert kept == expected


@given(headers=header_lists, api=apis)
def test_auto_mode_keeps_at_most_the_subscription_login_headers(
    headers: list[tuple[str, str]], api: Api
) -> None:
    kept, _ = filter_credentials(headers, api, "auto")
    credential_names = {k.lower() for k, _ in kept} & (
        CREDENTIAL_HEADERS | PROXY_HEADERS
    )
    assert credential_names <= {"authorization", "chatgpt-account-id"}


@given(
    params=st.lists(
        st.tuples(
            st.sampled_from([*sorted(CREDENTIAL_PARAMS), "alt", "x", "KEY", "Api_Key"]),
            st.text(string.ascii_letters + string.digits, max_size=10),
        ),
        max_size=6,
    )
)
def test_no_credential_parameter_survives_the_query_filter(
    params: list[tuple[str, str]],
) -> None:
    query = "&".join(f"{k}={v}" for k, v in params)
    url, _ = filter_query(f"https://h/p?{query}", "auto")
    remaining = url.partition("?")[2]
    names = [p.partition("=")[0].lower() for p in remaining.split("&") if p]
    assert not set(names) & CREDENTIAL_PARAMS
    assert len(names) == sum(k.lower() not in CREDENTIAL_PARAMS for k, _ in params)


# -- failing closed ------------------------------------------------------------

#: Every helper the request hooks call; each is made to fail in turn.
STEPS = [
    (addon_module, "rewrite_request"),
    (addon_module, "request_model"),
    (addon_module, "RequestView"),
    (addon_module, "filter_query"),
    (addon_module, "to_headers"),
    (addon_module, "header_pairs"),
    (addon_module, "_ensure_content_length"),
    (addon_module, "strip_everything"),
    (addon_module.RouteTable, "lookup"),
    (addon_module.GatewayHealth, "check"),
    (guard, "filter_credentials"),
    (guard, "refuse"),
]
URLS = [
    "https://api.anthropic.com/v1/messages?beta=true&key=QSECRET",
    "https://api.openai.com/v1/chat/completions",
    "https://chatgpt.com/backend-api/codex/responses",
    "https://generativelanguage.googleapis.com/v1beta/models/g:generateContent?key=QSECRET",
]
SECRET_HEADERS = {
    "authorization": "Bearer HSECRET",
    "x-api-key": "HSECRET",
    "x-goog-api-key": "HSECRET",
    "cookie": "s=HSECRET",
    "proxy-authorization": "Basic HSECRET",
}


@pytest.fixture(scope="module")
def context() -> Iterator[tuple[taddons.context, Aperture]]:
    monkey = pytest.MonkeyPatch()
    monkey.setenv("APERTURE_URL", "http://127.0.0.1:9")
    monkey.setenv("APERTURE_PROXY_CONFIG", "/nonexistent/aperture-proxy.yaml")
    addon = Aperture()
    with taddons.context(Proxyserver(), ProxyAuth(), addon) as tctx:
        tctx.configure(addon)
        yield tctx, addon
    monkey.undo()


class Injected(Exception):
    """A failure planted in one step of the hooks."""


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    step=st.sampled_from(STEPS),
    url=st.sampled_from(URLS),
    websocket=st.booleans(),
    body=st.binary(max_size=64),
)
def test_any_failing_step_answers_an_error_and_forwards_no_credential(
    context: tuple[taddons.context, Aperture],
    step: tuple[object, str],
    url: str,
    websocket: bool,
    body: bytes,
) -> None:
    _, addon = context
    assert addon.health is not None
    addon.health.mark_ok()
    owner, name = step
    original = getattr(owner, name)

    calls: list[str] = []

    def fail(*args: object, **kwargs: object) -> object:
        calls.append(name)
        raise Injected("HSECRET QSECRET")

    async def fail_async(*args: object, **kwargs: object) -> object:
        calls.append(name)
        raise Injected("HSECRET QSECRET")

    headers = dict(SECRET_HEADERS)
    if websocket:
        headers["upgrade"] = "websocket"
    flow = tflow.tflow(req=http.Request.make("POST", url, body, headers))
    flow.live = True
    replacement = fail_async if asyncio.iscoroutinefunction(original) else fail
    setattr(owner, name, replacement)
    try:
        addon.requestheaders(flow)
        if flow.response is None and flow.error is None:
            asyncio.run(addon.request(flow))
    finally:
        setattr(owner, name, original)

    killed = flow.error is not None and flow.error.msg == flow.error.KILLED_MESSAGE
    if calls:
        # The step failed: answered by us or killed, so nothing goes upstream...
        assert killed or (
            flow.response is not None and flow.response.status_code >= 400
        )
    # ...and, failed or not, nothing stored or forwarded holds a credential.
    if flow.response is not None:
        assert b"SECRET" not in (flow.response.content or b"")
    if not killed:
        stored = str(flow.request.headers) + flow.request.url
        assert "SECRET" not in stored


# Steps that only run on some requests: the failure handler's, and WebSocket's.
CONDITIONAL = {"strip_everything", "filter_credentials", "refuse"}


@pytest.mark.parametrize(
    "step", [s for s in STEPS if s[1] not in CONDITIONAL], ids=lambda s: s[1]
)
def test_every_injection_point_is_on_the_request_path(
    context: tuple[taddons.context, Aperture], step: tuple[object, str]
) -> None:
    """The property above is only as good as its steps: each must really run."""
    _, addon = context
    assert addon.health is not None
    addon.health.last_ok = 0.0  # so that the health probe runs too
    owner, name = step
    original = getattr(owner, name)
    calls: list[str] = []

    def spy(*args: object, **kwargs: object) -> object:
        calls.append(name)
        return original(*args, **kwargs)

    async def spy_async(*args: object, **kwargs: object) -> object:
        calls.append(name)
        return await original(*args, **kwargs)

    url = "https://api.anthropic.com/v1/messages?key=QSECRET"
    flow = tflow.tflow(req=http.Request.make("POST", url, b"{}", SECRET_HEADERS))
    flow.live = True
    setattr(owner, name, spy_async if asyncio.iscoroutinefunction(original) else spy)
    try:
        addon.requestheaders(flow)
        asyncio.run(addon.request(flow))
    finally:
        setattr(owner, name, original)
    assert calls
