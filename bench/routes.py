"""Scenario 5: route lookups per second with 1,000 upstream entries (in process).

The table holds every built-in upstream (two of them with host patterns,
Vertex and Bedrock) plus user-defined OpenAI-compatible upstreams, one host
each, up to 1,000 entries. Lookups are called the way the addon calls them
(scheme, host, port, path with query) on a fixed mix: rerouted calls to
built-in and user hosts, a patterned Vertex host, a non-API path on a
rerouted host, and a host that is not rerouted at all.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from aperture_proxy.routing import RouteTable
from aperture_proxy.upstreams import BUILTIN_UPSTREAMS, Api, Upstream
from bench.sizes import Sizes
from bench.stats import percentile

GATEWAY = "http://ai.example-tailnet.ts.net"
TIMED_BATCH = 100


def table(entries: int) -> RouteTable:
    users = [
        Upstream(
            id=f"corp-{i}",
            base_urls=(f"https://llm-{i}.corp.example/v1",),
            api=Api.OPENAI_COMPLETIONS,
        )
        for i in range(max(0, entries - len(BUILTIN_UPSTREAMS)))
    ]
    return RouteTable.build([*BUILTIN_UPSTREAMS, *users], GATEWAY)


Query = tuple[str, str, int, str]


def queries(entries: int, count: int) -> list[Query]:
    """A reproducible mix of lookups, two in fifteen of them answered None."""
    rng = random.Random(7)
    users = max(1, entries - len(BUILTIN_UPSTREAMS))
    kinds: list[Callable[[], Query]] = [
        lambda: ("https", "api.openai.com", 443, "/v1/chat/completions"),
        lambda: ("https", "api.anthropic.com", 443, "/v1/messages?beta=true"),
        lambda: (
            "https",
            f"llm-{rng.randrange(users)}.corp.example",
            443,
            "/v1/chat/completions",
        ),
        lambda: (
            "https",
            "us-central1-aiplatform.googleapis.com",
            443,
            "/v1/projects/p/locations/us-central1/publishers/google/models/"
            "gemini-2.5-pro:streamGenerateContent?alt=sse",
        ),
        lambda: ("https", "api.anthropic.com", 443, "/api/event_logging/batch"),
        lambda: ("https", "github.com", 443, "/aperture/proxy.git/info/refs"),
    ]
    weights = [3, 3, 6, 1, 1, 1]
    return [rng.choices(kinds, weights)[0]() for _ in range(count)]


def measure(sizes: Sizes) -> list[dict[str, Any]]:
    """Per repetition: lookups per second, and per-lookup times (µs) measured
    over batches of 100 so the clock's own cost stays out of them."""
    routes = table(sizes.route_entries)
    mix = queries(sizes.route_entries, sizes.route_lookups)
    lookup = routes.lookup
    if sum(lookup(*q) is not None for q in mix) == 0:
        raise RuntimeError("no lookup matched: the table or the mix is wrong")

    reps = []
    for _ in range(sizes.reps):
        started = time.perf_counter()
        for query in mix:
            lookup(*query)
        elapsed = time.perf_counter() - started

        batches = []
        for start in range(0, len(mix) - TIMED_BATCH + 1, TIMED_BATCH):
            batch = mix[start : start + TIMED_BATCH]
            began = time.perf_counter_ns()
            for query in batch:
                lookup(*query)
            batches.append((time.perf_counter_ns() - began) / TIMED_BATCH / 1000)
        reps.append(
            {
                "lookups_per_s": len(mix) / elapsed,
                "batch_us_p50": percentile(batches, 50),
                "batch_us_p99": percentile(batches, 99),
                "entries": len(routes.upstreams),
                "bases": len(routes.bases),
            }
        )
    return reps
