"""Scenario 2: a paced SSE stream's per-event delay, and time to first event.

The simulated gateway stamps every event with the wall-clock time it sent it
(``: sent_at=…``); the client notes the time each chunk arrives, so an event's
delay is its arrival time minus its stamp. Both clocks are the same machine's.
Time to first byte is measured separately over unpaced streams of the same
shape, many per repetition, from the request being sent to the first event.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from bench.clients import JSON, Lane, round_robin, small_body
from bench.processes import Gateway
from bench.sizes import Sizes
from bench.stats import percentile

STAMP = b": sent_at="
DONE = b"data: [DONE]"
PIECE = "token "


def prepare_paced(gateway: Gateway, sizes: Sizes) -> None:
    gateway.configure(
        reply=PIECE * sizes.sse_events,
        chunks=sizes.sse_events,
        delay=sizes.sse_gap,
        stamp_events=True,
    )


def prepare_unpaced(gateway: Gateway, sizes: Sizes) -> None:
    gateway.configure(
        reply=PIECE * sizes.sse_events,
        chunks=sizes.sse_events,
        delay=0.0,
        stamp_events=False,
    )


def _read_events(
    client: httpx.Client, lane: Lane
) -> tuple[float, list[tuple[float, bytes]]]:
    """(seconds to the first body bytes, [(arrival time, event bytes)])."""
    body = small_body(stream=True)
    events: list[tuple[float, bytes]] = []
    first: float | None = None
    buffer = b""
    started = time.perf_counter()
    with client.stream("POST", lane.url, content=body, headers=JSON) as response:
        if response.status_code != 200:
            response.read()
            raise RuntimeError(f"{lane.key}: stream answered {response.status_code}")
        for chunk in response.iter_raw():
            arrived = time.time()
            if first is None:
                first = time.perf_counter() - started
            buffer += chunk
            *complete, buffer = buffer.split(b"\n\n")
            events += [(arrived, event) for event in complete]
    if first is None or not events or not events[-1][1].endswith(DONE):
        raise RuntimeError(f"{lane.key}: the stream ended without [DONE]")
    return first, events


def _warm_up(lane: Lane, client: httpx.Client) -> None:
    """One small request first, so an idle connection the gateway closed is
    reopened outside the measurement."""
    client.get(lane.models_url).raise_for_status()


def measure_paced(lane: Lane, client: httpx.Client, sizes: Sizes) -> dict[str, Any]:
    """Per-event delay of one paced stream, in ms."""
    _warm_up(lane, client)
    ttfb, events = _read_events(client, lane)
    delays = []
    for arrived, event in events:
        if not event.startswith(STAMP):
            raise RuntimeError(f"{lane.key}: an event without a send stamp")
        stamp = event[len(STAMP) : event.index(b"\n")]
        delays.append((arrived - float(stamp)) * 1000)
    return {
        "delay_p50": percentile(delays, 50),
        "delay_p99": percentile(delays, 99),
        "delay_max": max(delays),
        "events": len(delays),
        "ttfb": ttfb * 1000,
    }


def measure_ttfb_round(
    chosen: list[Lane], clients: dict[str, httpx.Client], sizes: Sizes
) -> dict[str, dict[str, Any]]:
    """Time to the first event over unpaced streams, lanes taking turns, in ms."""
    for lane in chosen:
        _warm_up(lane, clients[lane.key])
    timed = round_robin(
        chosen,
        sizes.ttfb_probes,
        lambda lane: _read_events(clients[lane.key], lane)[0] * 1000,
    )
    return {
        key: {"p50": percentile(v, 50), "p99": percentile(v, 99), "n": len(v)}
        for key, v in timed.items()
    }
