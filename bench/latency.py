"""Scenario 1: non-streamed request latency, 2 kB of JSON in and about 2 kB out."""

from __future__ import annotations

import time
from typing import Any

import httpx

from bench.clients import Lane, chat_body, reply_for_answer
from bench.processes import Gateway
from bench.sizes import Sizes
from bench.stats import p50_p99

JSON = {"content-type": "application/json"}


def prepare(gateway: Gateway, sizes: Sizes) -> None:
    reply = reply_for_answer(sizes.body_bytes)
    gateway.configure(reply=reply, chunks=1, delay=0.0, stamp_events=False)


def measure(lane: Lane, client: httpx.Client, sizes: Sizes) -> dict[str, Any]:
    """One batch of sequential requests on a kept-alive connection, in ms."""
    body = chat_body(sizes.body_bytes, stream=False)
    for _ in range(sizes.latency_warmup):
        client.post(lane.url, content=body, headers=JSON)

    samples: list[float] = []
    errors = 0
    response: httpx.Response | None = None
    for _ in range(sizes.latency_requests):
        started = time.perf_counter()
        try:
            response = client.post(lane.url, content=body, headers=JSON)
        except httpx.HTTPError:
            errors += 1
            continue
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            errors += 1
            continue
        samples.append(elapsed * 1000)
    if not samples:
        raise RuntimeError(f"{lane.key}: every latency request failed")
    assert response is not None
    return {
        **p50_p99(samples),
        "n": len(samples),
        "errors": errors,
        "request_bytes": len(body),
        "answer_bytes": len(response.content),
        "http_version": response.http_version,
    }
