"""AWS event stream framing (``application/vnd.amazon.eventstream``), encode only.

A message is a 12-byte prelude (total length, headers length, CRC32 of those
8 bytes), the headers, the payload, and a CRC32 of everything before it; all
integers are big-endian. Headers here are always strings (type 7), which is
all Bedrock's streaming responses use.
"""

import struct
import zlib

MEDIA_TYPE = "application/vnd.amazon.eventstream"
_STRING = 7


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    return (
        struct.pack("!B", len(raw_name))
        + raw_name
        + struct.pack("!BH", _STRING, len(raw_value))
        + raw_value
    )


def encode_message(headers: dict[str, str], payload: bytes) -> bytes:
    """One framed message.

    >>> frame = encode_message({":event-type": "x"}, b"{}")
    >>> int.from_bytes(frame[:4], "big") == len(frame)
    True
    """
    raw_headers = b"".join(_header(name, value) for name, value in headers.items())
    total = 12 + len(raw_headers) + len(payload) + 4
    prelude = struct.pack("!II", total, len(raw_headers))
    prelude += struct.pack("!I", zlib.crc32(prelude))
    message = prelude + raw_headers + payload
    return message + struct.pack("!I", zlib.crc32(message))


def encode_event(event_type: str, payload: bytes) -> bytes:
    """An ``event`` message with a JSON payload, as Bedrock streams send them."""
    headers = {
        ":event-type": event_type,
        ":content-type": "application/json",
        ":message-type": "event",
    }
    return encode_message(headers, payload)
