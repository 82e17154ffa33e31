"""Scenario 4: the proxy's memory while one 200 MB answer streams through it.

Memory is read from ``/proc/<pid>/status`` of the proxy process and all its
descendants. Before each answer the kernel's peak counter (``VmHWM``) is reset
through ``/proc/<pid>/clear_refs``, so the peak afterwards is the peak during
this answer alone; a sampler thread reads ``VmRSS`` every 10 ms as a second
witness. Growth is the higher of the two peaks minus the RSS just before.
"""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bench.clients import JSON, Lane, small_body
from bench.processes import Gateway, process_tree
from bench.sizes import MB, Sizes

SAMPLE_EVERY = 0.010


def status_kb(pids: list[int], field: str) -> int:
    """The sum of one ``/proc/<pid>/status`` field (in kB) over ``pids``."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith(f"{field}:"):
                    total += int(line.split()[1])
    return total


def reset_peak(pids: list[int]) -> bool:
    """Reset ``VmHWM`` to the current RSS; False when the kernel refused."""
    try:
        for pid in pids:
            Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


class Sampler:
    """The highest ``VmRSS`` seen while the ``with`` block runs."""

    def __init__(self, pid: int) -> None:
        self._pid = pid
        self._stop = threading.Event()
        self.peak_kb = 0
        self.samples = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            rss = status_kb(process_tree(self._pid), "VmRSS")
            self.peak_kb = max(self.peak_kb, rss)
            self.samples += 1
            self._stop.wait(SAMPLE_EVERY)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()


def prepare(gateway: Gateway, sizes: Sizes) -> None:
    events = max(1, sizes.big_body_bytes // sizes.big_event_bytes)
    gateway.configure(
        reply="m" * sizes.big_body_bytes, chunks=events, delay=0.0, stamp_events=False
    )


def _stream(lane: Lane, client: httpx.Client) -> tuple[int, float]:
    body = small_body(stream=True)
    received = 0
    started = time.perf_counter()
    with client.stream("POST", lane.url, content=body, headers=JSON) as response:
        if response.status_code != 200:
            raise RuntimeError(f"{lane.key}: answered {response.status_code}")
        for chunk in response.iter_raw():
            received += len(chunk)
    return received, time.perf_counter() - started


def measure(
    lane: Lane, client: httpx.Client, sizes: Sizes, proxy_pid: int | None
) -> dict[str, Any]:
    """One large answer; the proxy's memory when there is a proxy."""
    # A small request first, so the connection is open before memory is read.
    client.get(lane.models_url).raise_for_status()
    if proxy_pid is None:
        received, seconds = _stream(lane, client)
        return _sizes(sizes, received, seconds)

    pids = process_tree(proxy_pid)
    before = status_kb(pids, "VmRSS")
    reset = reset_peak(pids)
    with Sampler(proxy_pid) as sampler:
        received, seconds = _stream(lane, client)
    hwm = status_kb(process_tree(proxy_pid), "VmHWM") if reset else 0
    peak = max(hwm, sampler.peak_kb)
    return {
        **_sizes(sizes, received, seconds),
        "rss_before_mb": before / 1024,
        "peak_mb": peak / 1024,
        "growth_mb": (peak - before) / 1024,
        "hwm_reset": reset,
        "samples": sampler.samples,
    }


def _sizes(sizes: Sizes, received: int, seconds: float) -> dict[str, Any]:
    if received < sizes.big_body_bytes:
        raise RuntimeError(f"only {received} bytes of {sizes.big_body_bytes} arrived")
    return {
        "body_mb": received / MB,
        "seconds": seconds,
        "mb_per_s": received / MB / seconds,
    }
