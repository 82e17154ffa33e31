"""Fixtures for the simulated gateway tests: one real server per session on 127.0.0.1.

Each test gets it back with default settings and an empty record, so tests stay
independent without paying a server start each. The helpers decode what came
over the wire (SSE, AWS event streams) independently of the package's encoders.
"""

import json
import struct
import zlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from aperture_proxy.sim import SimulatedGateway

_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


@pytest.fixture(autouse=True)
def _no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # Clients must talk to the local server directly, whatever the shell has set.
    for name in _PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def client(gw: SimulatedGateway) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gw.url, trust_env=False, timeout=10) as c:
        yield c


def parse_sse(text: str) -> list[tuple[str | None, str]]:
    """(event name or None, data) per event; raises on a malformed block."""
    events = []
    for block in text.split("\n\n"):
        if not block:
            continue
        name, data = None, []
        for line in block.split("\n"):
            field, sep, value = line.partition(": ")
            assert sep, f"not an SSE field line: {line!r}"
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
            else:
                raise AssertionError(f"unexpected SSE field {field!r}")
        events.append((name, "\n".join(data)))
    return events


def sse_json(text: str) -> list[dict[str, Any]]:
    """The JSON data objects of an SSE body, in order."""
    return [json.loads(data) for _, data in parse_sse(text)]


def decode_eventstream(raw: bytes) -> list[tuple[dict[str, str], bytes]]:
    """AWS event stream messages as (headers, payload), checking both CRCs."""
    messages, offset = [], 0
    while offset < len(raw):
        total, headers_length, prelude_crc = struct.unpack_from("!III", raw, offset)
        assert zlib.crc32(raw[offset : offset + 8]) == prelude_crc, "prelude CRC"
        message = raw[offset : offset + total]
        assert len(message) == total, "truncated message"
        (message_crc,) = struct.unpack("!I", message[-4:])
        assert zlib.crc32(message[:-4]) == message_crc, "message CRC"

        headers, cursor = {}, 12
        while cursor < 12 + headers_length:
            name_length = message[cursor]
            name = message[cursor + 1 : cursor + 1 + name_length].decode()
            cursor += 1 + name_length
            value_type, value_length = struct.unpack_from("!BH", message, cursor)
            assert value_type == 7, f"header {name} is not a string"
            cursor += 3
            headers[name] = message[cursor : cursor + value_length].decode()
            cursor += value_length
        payload = message[12 + headers_length : -4]
        messages.append((headers, payload))
        offset += total
    return messages
