"""Many concurrent streams through the proxy, each checked byte for byte.

CI runs a reduced size; ``APERTURE_LOAD_CLIENTS`` and ``APERTURE_LOAD_BYTES`` scale
it up (the benchmark command runs 200 clients × 1 MB).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import ssl

import httpx
import pytest

from aperture_proxy.sim import SimulatedGateway
from tests.helpers.proxy_fixtures import Proxy

pytestmark = [pytest.mark.e2e, pytest.mark.load]

CLIENTS = int(os.environ.get("APERTURE_LOAD_CLIENTS", "200"))
REPLY_BYTES = int(os.environ.get("APERTURE_LOAD_BYTES", str(256 * 1024)))
EVENT_BYTES = 16 * 1024


def reply_text(size: int) -> str:
    """Text whose every position differs, so loss or reordering shows in a hash."""
    blocks, seed = [], b"aperture"
    while sum(map(len, blocks)) < size:
        seed = hashlib.sha256(seed).digest()
        blocks.append(seed.hex())
    return "".join(blocks)[:size]


async def one_stream(client: httpx.AsyncClient, index: int) -> str:
    body = {
        "model": "gpt-5.1",
        "stream": True,
        "messages": [{"role": "user", "content": f"client {index}"}],
    }
    digest = hashlib.sha256()
    async with client.stream(
        "POST", "https://api.openai.com/v1/chat/completions", json=body
    ) as response:
        assert response.status_code == 200
        async for line in response.aiter_lines():
            if not line.startswith("data: {"):
                continue
            choices = json.loads(line[len("data: ") :])["choices"]
            if choices and choices[0]["delta"].get("content"):
                digest.update(choices[0]["delta"]["content"].encode())
    return digest.hexdigest()


def test_concurrent_streams_lose_reorder_and_corrupt_nothing(
    gateway: SimulatedGateway, proxy: Proxy
) -> None:
    text = reply_text(REPLY_BYTES)
    gateway.settings.reply = text
    gateway.settings.chunks = max(1, REPLY_BYTES // EVENT_BYTES)
    expected = hashlib.sha256(text.encode()).hexdigest()

    async def run_all() -> list[str | BaseException]:
        context = ssl.create_default_context(cafile=proxy.bundle)
        limits = httpx.Limits(max_connections=CLIENTS)
        async with httpx.AsyncClient(
            proxy=proxy.url, verify=context, timeout=120, limits=limits, trust_env=False
        ) as client:
            return await asyncio.gather(
                *(one_stream(client, i) for i in range(CLIENTS)), return_exceptions=True
            )

    results = asyncio.run(run_all())
    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == []
    assert results == [expected] * CLIENTS
    assert len([r for r in gateway.requests() if r.method == "POST"]) == CLIENTS
