"""Scenario 6: from spawning a proxy to its first rerouted answer.

Each start is a new process with the same command line as the long-running
one. *listen* is when the port first takes a connection (polled every 5 ms);
*ready* is when the first rerouted request, sent right then by a new client,
has been answered. Ours starts with its gateway catalogue already cached.

Starts are measured twice: with Python's compiled bytecode cached (a user's
second start and every one after it; one untimed start of each proxy fills
the cache first), and compiling every module from source (a first start, or
a shell with ``PYTHONDONTWRITEBYTECODE`` set and no bytecode installed).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from aperture_proxy.catalogue_cache import cache_path
from bench.clients import JSON, PROVIDER_URL, chat_body, rotated
from bench.processes import Kind, Proxy, Workspace, port_open
from bench.sizes import Sizes

POLL = 0.005
DEADLINE = 60.0
KINDS: list[Kind] = ["baseline", "ours"]


def catalogue_cached(workspace: Workspace, gateway: str) -> bool:
    """Whether ours will find this gateway's catalogue in its cache."""
    directory = workspace.cache / "aperture-proxy" / "catalogue"
    return cache_path(gateway, directory).is_file()


def _start_once(
    kind: Kind, workspace: Workspace, gateway: str, bytecode: bool
) -> dict[str, Any]:
    proxy = Proxy(kind, workspace, gateway, tag="-cold", bytecode=bytecode)
    try:
        deadline = proxy.started + DEADLINE
        while not port_open(proxy.port):
            if proxy.process.poll() is not None or time.perf_counter() > deadline:
                raise RuntimeError(f"{kind} did not start; see {proxy.log}")
            time.sleep(POLL)
        listening = time.perf_counter() - proxy.started
        with httpx.Client(
            proxy=proxy.url,
            verify=workspace.ssl_context(),
            trust_env=False,
            timeout=30,
        ) as client:
            response = client.post(
                PROVIDER_URL, content=chat_body(2048, stream=False), headers=JSON
            )
        ready = time.perf_counter() - proxy.started
        if response.status_code != 200:
            raise RuntimeError(f"{kind}: first request answered {response.status_code}")
    finally:
        proxy.close()
    return {"listen_s": listening, "ready_s": ready}


def run(
    workspace: Workspace, gateway: str, sizes: Sizes, progress: Callable[[str], None]
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """``{"bytecode" | "source": {kind: [one result per start]}}``."""
    results: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for variant, bytecode in (("bytecode", True), ("source", False)):
        if bytecode:
            for kind in KINDS:
                _start_once(kind, workspace, gateway, bytecode)
        reps: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
        for rep in range(sizes.cold_starts):
            for kind in rotated(KINDS, rep):
                result = _start_once(kind, workspace, gateway, bytecode)
                reps[kind].append(result)
                progress(
                    f"cold start ({variant}) {kind:8} rep {rep + 1}: listen "
                    f"{result['listen_s']:.2f} s, ready {result['ready_s']:.2f} s"
                )
        results[variant] = reps
    return results
