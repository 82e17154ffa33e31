"""The load check: many concurrent 1 MB streams, each checked by its hash.

The same check as ``tests/load`` at full size, run against every lane over
HTTP/1.1: one ``httpx.AsyncClient`` with a connection per stream, every
stream's reassembled text hashed and compared with the reply's hash, so a
lost, reordered or corrupted byte shows as a mismatch.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from typing import Any

import httpx

from bench.clients import JSON, Lane, small_body
from bench.processes import Gateway
from bench.sizes import Sizes


def reply_text(size: int) -> str:
    """Text whose every position differs, so loss or reordering changes the hash."""
    blocks, seed, total = [], b"aperture", 0
    while total < size:
        seed = hashlib.sha256(seed).digest()
        blocks.append(seed.hex())
        total += 64
    return "".join(blocks)[:size]


def prepare(gateway: Gateway, sizes: Sizes) -> str:
    """Set the gateway up; returns the expected hash of every stream."""
    text = reply_text(sizes.load_bytes)
    gateway.configure(
        reply=text,
        chunks=max(1, sizes.load_bytes // sizes.load_event_bytes),
        delay=0.0,
        stamp_events=False,
    )
    return hashlib.sha256(text.encode()).hexdigest()


async def _one(client: httpx.AsyncClient, lane: Lane, body: bytes) -> str:
    digest = hashlib.sha256()
    async with client.stream("POST", lane.url, content=body, headers=JSON) as r:
        if r.status_code != 200:
            raise RuntimeError(f"status {r.status_code}")
        async for line in r.aiter_lines():
            if not line.startswith("data: {"):
                continue
            choices = json.loads(line.removeprefix("data: "))["choices"]
            if choices and choices[0]["delta"].get("content"):
                digest.update(choices[0]["delta"]["content"].encode())
    return digest.hexdigest()


async def _all(lane: Lane, sizes: Sizes) -> list[str | BaseException]:
    body = small_body(stream=True)
    limits = httpx.Limits(max_connections=sizes.load_clients)
    async with lane.async_client(timeout=300, limits=limits) as client:
        return await asyncio.gather(
            *(_one(client, lane, body) for _ in range(sizes.load_clients)),
            return_exceptions=True,
        )


def measure(lane: Lane, sizes: Sizes, expected: str) -> dict[str, Any]:
    started = time.perf_counter()
    results = asyncio.run(_all(lane, sizes))
    seconds = time.perf_counter() - started
    errors = [r for r in results if isinstance(r, BaseException)]
    mismatches = [r for r in results if isinstance(r, str) and r != expected]
    return {
        "clients": sizes.load_clients,
        "bytes_each": sizes.load_bytes,
        "seconds": seconds,
        "errors": len(errors),
        "first_error": repr(errors[0]) if errors else None,
        "mismatches": len(mismatches),
        "passed": not errors and not mismatches,
    }
