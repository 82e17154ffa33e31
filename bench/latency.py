"""Scenario 1: non-streamed request latency, 2 kB of JSON in and about 2 kB out.

Requests are sequential, each lane on its own kept-alive connection, and the
lanes take turns request by request.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from bench.clients import JSON, Lane, chat_body, reply_for_answer, round_robin
from bench.cpu import CpuMeter
from bench.processes import Gateway
from bench.sizes import Sizes
from bench.stats import p50_p99


def prepare(gateway: Gateway, sizes: Sizes) -> None:
    reply = reply_for_answer(sizes.body_bytes)
    gateway.configure(reply=reply, chunks=1, delay=0.0, stamp_events=False)


def measure_round(
    chosen: list[Lane],
    clients: dict[str, httpx.Client],
    sizes: Sizes,
    pids: dict[str, int],
) -> dict[str, dict[str, Any]]:
    """One repetition for ``chosen`` (lanes of one HTTP version): p50 and p99
    of each lane's requests, and its proxy's CPU time per request, in ms."""
    body = chat_body(sizes.body_bytes, stream=False)
    answers: dict[str, httpx.Response] = {}

    def one(lane: Lane) -> float | None:
        started = time.perf_counter()
        try:
            response = clients[lane.key].post(lane.url, content=body, headers=JSON)
        except httpx.HTTPError:
            return None
        elapsed = time.perf_counter() - started
        answers[lane.key] = response
        return elapsed * 1000 if response.status_code == 200 else None

    round_robin(chosen, sizes.latency_warmup, one)
    meter = CpuMeter({lane.target: pids[lane.target] for lane in chosen if lane.proxy})
    meter.start()
    timed = round_robin(chosen, sizes.latency_requests, one)
    meter.stop()
    results = {}
    for key, values in timed.items():
        target = key.split("/")[1]
        samples = [v for v in values if v is not None]
        if not samples:
            raise RuntimeError(f"{key}: every latency request failed")
        results[key] = {
            **p50_p99(samples),
            "n": len(samples),
            "errors": len(values) - len(samples),
            "request_bytes": len(body),
            "answer_bytes": len(answers[key].content),
            "http_version": answers[key].http_version,
        }
        if target in meter.used:
            results[key]["cpu_ms"] = meter.used[target] * 1000 / len(values)
    return results
