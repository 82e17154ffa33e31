"""Scenario 3: many concurrent streaming clients, each on its own connection.

Every client is its own ``httpx.AsyncClient`` (as separate agents would be),
created once and kept alive across repetitions. In a round each client starts
stream after stream until the round's time is up and finishes the one it is
in; throughput is completed streams per second over the whole round. An error
is an exception, a status other than 200, or a stream without its final
``[DONE]``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx

from bench.clients import JSON, Lane, rotated, small_body
from bench.cpu import CpuMeter
from bench.processes import Gateway
from bench.sizes import Sizes

DONE = b"data: [DONE]\n\n"


def prepare(gateway: Gateway, sizes: Sizes) -> None:
    gateway.configure(
        reply="z" * (sizes.stream_events * sizes.stream_event_bytes),
        chunks=sizes.stream_events,
        delay=0.0,
        stamp_events=False,
    )


async def _one_stream(client: httpx.AsyncClient, lane: Lane, body: bytes) -> int:
    """Bytes of one complete stream; raises on anything short of complete."""
    received, tail = 0, b""
    async with client.stream("POST", lane.url, content=body, headers=JSON) as r:
        if r.status_code != 200:
            await r.aread()
            raise RuntimeError(f"status {r.status_code}")
        async for chunk in r.aiter_raw():
            received += len(chunk)
            tail = (tail + chunk)[-len(DONE) :]
    if tail != DONE:
        raise RuntimeError("stream ended without [DONE]")
    return received


async def _client_loop(
    client: httpx.AsyncClient, lane: Lane, body: bytes, deadline: float
) -> tuple[int, int, int]:
    done = errors = received = 0
    while time.perf_counter() < deadline:
        try:
            received += await _one_stream(client, lane, body)
            done += 1
        except (httpx.HTTPError, RuntimeError):
            errors += 1
            await asyncio.sleep(0.01)
    return done, errors, received


async def _round(
    lane: Lane,
    clients: list[httpx.AsyncClient],
    sizes: Sizes,
    pids: dict[str, int],
) -> dict[str, Any]:
    body = small_body(stream=True)
    # Reopen whatever the gateway closed while this lane sat idle.
    await asyncio.gather(
        *(_one_stream(c, lane, body) for c in clients), return_exceptions=True
    )
    meter = CpuMeter({lane.target: pids[lane.target]} if lane.proxy else {})
    meter.start()
    started = time.perf_counter()
    deadline = started + sizes.stream_seconds
    results = await asyncio.gather(
        *(_client_loop(c, lane, body, deadline) for c in clients)
    )
    elapsed = time.perf_counter() - started
    meter.stop()
    done = sum(r[0] for r in results)
    received = sum(r[2] for r in results)
    result = {
        "streams_per_s": done / elapsed,
        "mb_per_s": received / elapsed / 1e6,
        "streams": done,
        "errors": sum(r[1] for r in results),
        "seconds": elapsed,
    }
    if lane.target in meter.used and done:
        result["cpu_ms"] = meter.used[lane.target] * 1000 / done
    return result


async def _run(
    lanes: list[Lane],
    sizes: Sizes,
    pids: dict[str, int],
    progress: Callable[[str], None],
) -> dict[str, list[dict[str, Any]]]:
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    pools = {
        lane.key: [
            lane.async_client(timeout=60, limits=limits)
            for _ in range(sizes.stream_clients)
        ]
        for lane in lanes
    }
    reps: dict[str, list[dict[str, Any]]] = {lane.key: [] for lane in lanes}
    try:
        for rep in range(sizes.stream_rounds):
            for lane in rotated(lanes, rep):
                result = await _round(lane, pools[lane.key], sizes, pids)
                reps[lane.key].append(result)
                progress(
                    f"throughput {lane.key:12} rep {rep + 1}: "
                    f"{result['streams_per_s']:.0f} streams/s, "
                    f"{result['errors']} errors"
                )
    finally:
        for clients in pools.values():
            await asyncio.gather(*(c.aclose() for c in clients))
    return reps


def run(
    lanes: list[Lane],
    sizes: Sizes,
    pids: dict[str, int],
    progress: Callable[[str], None],
) -> dict[str, list[dict[str, Any]]]:
    """Every round of every lane; per lane, one result per round. ``pids``
    names each proxy's process, whose CPU time per stream is reported."""
    return asyncio.run(_run(lanes, sizes, pids, progress))
