"""Clients as SDKs make them: keep-alive httpx over HTTP/1.1 or HTTP/2.

A *lane* is one way to reach the gateway: directly, through the baseline or
through ours, over one HTTP version. Through a proxy the client calls
``https://api.openai.com/v1/chat/completions`` (a host both proxies rewrite,
never resolved); directly it calls the gateway's own URL.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx

from aperture_proxy.sim.streaming import Turn, dumps
from aperture_proxy.sim.wire_openai import chat_completion
from bench.processes import BENCH_KEY, SMALL_REQUEST, STREAM_THRESHOLD

Protocol = Literal["h1", "h2"]
TargetName = Literal["direct", "baseline", "ours"]

PROVIDER_URL = "https://api.openai.com/v1/chat/completions"
JSON = {"content-type": "application/json"}
MODEL = "gpt-5.1"


@dataclass(frozen=True)
class Lane:
    """One target reached over one HTTP version."""

    target: TargetName
    protocol: Protocol
    url: str
    proxy: str | None
    verify: ssl.SSLContext | bool

    @property
    def key(self) -> str:
        return f"{self.protocol}/{self.target}"

    @property
    def models_url(self) -> str:
        """A small GET that takes the same route: for opening connections
        without asking the gateway for an answer of the configured size."""
        return self.url.removesuffix("/chat/completions") + "/models"

    def _options(self, timeout: float) -> dict[str, Any]:
        return {
            "http1": True,
            "http2": self.protocol == "h2",
            "proxy": self.proxy,
            "verify": self.verify,
            "timeout": timeout,
            "trust_env": False,
            "headers": {"authorization": f"Bearer {BENCH_KEY}"},
        }

    def client(self, timeout: float = 120.0) -> httpx.Client:
        return httpx.Client(**self._options(timeout))

    def async_client(
        self, timeout: float = 120.0, limits: httpx.Limits | None = None
    ) -> httpx.AsyncClient:
        options = self._options(timeout)
        if limits is not None:
            options["limits"] = limits
        return httpx.AsyncClient(**options)


class _PreferH2Context(ssl.SSLContext):
    """Offers h2 before http/1.1, as curl and browsers do.

    httpx offers http/1.1 first and mitmproxy takes the client's first choice,
    so without this an httpx client never speaks HTTP/2 through a proxy.
    """

    def set_alpn_protocols(self, alpn_protocols: Iterable[str]) -> None:
        ordered = sorted(alpn_protocols, key=lambda name: name != "h2")
        super().set_alpn_protocols(ordered)


def trusting(cafile: Path, protocol: Protocol) -> ssl.SSLContext:
    """A client TLS context that trusts ``cafile`` (one per lane: httpx sets
    the ALPN offer on the context it is given)."""
    kind = _PreferH2Context if protocol == "h2" else ssl.SSLContext
    context = kind(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cafile)
    return context


def lanes(gateway: str, proxies: dict[TargetName, str], cafile: Path) -> list[Lane]:
    """Direct over HTTP/1.1 (the simulated gateway speaks nothing else), then
    every proxy over HTTP/1.1 and HTTP/2."""
    direct = Lane("direct", "h1", f"{gateway}/v1/chat/completions", None, False)
    through = [
        Lane(name, protocol, PROVIDER_URL, url, trusting(cafile, protocol))
        for protocol in ("h1", "h2")
        for name, url in proxies.items()
    ]
    return [direct, *through]


def chat_body(size: int, stream: bool) -> bytes:
    """A Chat Completions request of exactly ``size`` bytes (when it fits)."""
    message = {"role": "user", "content": ""}
    body = {"model": MODEL, "stream": stream, "messages": [message]}
    empty = len(json.dumps(body).encode())
    message["content"] = "x" * max(0, size - empty)
    return json.dumps(body).encode()


def small_body(stream: bool) -> bytes:
    """The request of every streaming scenario: small enough that the
    streaming baseline still buffers it (and so still rewrites it)."""
    body = chat_body(SMALL_REQUEST, stream)
    assert len(body) < STREAM_THRESHOLD
    return body


def reply_for_answer(size: int) -> str:
    """A reply text that makes a non-streamed answer about ``size`` bytes."""
    empty = chat_completion(Turn(model=MODEL, pieces=("",), input_tokens=512))
    return "y" * max(1, size - len(dumps(empty).encode()))


def rotated[T](items: list[T], round_: int) -> list[T]:
    """``items`` starting at a different one each round, so no target is
    always measured first (right after the gateway settings changed) or last.

    >>> rotated([1, 2, 3], 4)
    [2, 3, 1]
    """
    shift = round_ % len(items)
    return items[shift:] + items[:shift]


def round_robin[T](
    chosen: list[Lane], count: int, one: Callable[[Lane], T]
) -> dict[str, list[T]]:
    """``count`` calls of ``one`` per lane, taking turns call by call in a
    rotated order, so a change in the machine's load hits every lane alike."""
    results: dict[str, list[T]] = {lane.key: [] for lane in chosen}
    for turn in range(count):
        for lane in rotated(chosen, turn):
            results[lane.key].append(one(lane))
    return results
