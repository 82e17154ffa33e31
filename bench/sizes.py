"""How big each scenario is: the full run, and the smoke run the tests use."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

MB = 1 << 20


@dataclass(frozen=True)
class Sizes:
    """Every knob of a run; the defaults are the sizes the goals are stated for."""

    reps: int = 5
    """Repetitions of each scenario, every target measured once per repetition."""

    latency_requests: int = 200
    """Non-streamed requests per target and repetition."""

    latency_warmup: int = 10
    """Untimed requests before each timed batch (reopens idle connections)."""

    body_bytes: int = 2048
    """Size of the JSON request body, and about the size of the answer."""

    sse_events: int = 200
    """Content events of the paced stream (plus its first and two last events)."""

    sse_gap: float = 0.010
    """Seconds between two events of the paced stream."""

    ttfb_probes: int = 30
    """Unpaced streams per target and repetition whose first event is timed."""

    stream_clients: int = 64
    """Concurrent streaming clients of the throughput scenario."""

    stream_rounds: int = 10
    """Throughput rounds per lane; many short rounds interleave the lanes more
    finely than a few long ones."""

    stream_seconds: float = 1.5
    """How long each throughput round keeps starting new streams."""

    stream_events: int = 100
    """Content events per stream in the throughput scenario."""

    stream_event_bytes: int = 100
    """Reply text per content event in the throughput scenario."""

    big_body_bytes: int = 200 * MB
    """The one large streamed answer whose proxy memory is watched."""

    big_event_bytes: int = 64 * 1024
    """Reply text per event of the large answer."""

    memory_reps: int = 5
    """Large answers per proxy and protocol."""

    hook_flows: int = 2000
    """Flows per repetition of the in-process hook microbenchmark."""

    route_entries: int = 1000
    """Upstream entries in the route table of the lookup microbenchmark."""

    route_lookups: int = 100_000
    """Lookups per repetition of the microbenchmark."""

    cold_starts: int = 5
    """Cold starts per proxy."""

    load_clients: int = 200
    """Concurrent checksummed streams of the load check."""

    load_bytes: int = MB
    """Reply text per stream of the load check."""

    load_event_bytes: int = 16 * 1024
    """Reply text per event of the load check."""

    @classmethod
    def smoke(cls) -> Sizes:
        """Tiny sizes that run every scenario in seconds, for the tests."""
        return cls(
            reps=2,
            latency_requests=10,
            latency_warmup=2,
            sse_events=5,
            ttfb_probes=3,
            stream_clients=4,
            stream_rounds=2,
            stream_seconds=0.3,
            stream_events=5,
            big_body_bytes=2 * MB,
            memory_reps=1,
            hook_flows=50,
            route_lookups=2000,
            cold_starts=1,
            load_clients=4,
            load_bytes=64 * 1024,
        )

    def as_dict(self) -> dict[str, float]:
        return dataclasses.asdict(self)
