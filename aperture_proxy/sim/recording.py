"""The simulated gateway's record of every request it received."""

import base64
import binascii
import json
import threading
import time
from typing import Any

from pydantic import BaseModel


class RecordedRequest(BaseModel):
    """One request as it reached the simulated gateway.

    ``path`` keeps the query string exactly as sent; ``headers`` keeps order,
    duplicates and the sender's spelling of each name. A body that is not
    UTF-8 is stored base64-encoded with ``body_base64`` set, so the record
    stays JSON-serialisable for ``GET /_sim/requests``.

    >>> r = RecordedRequest(method="POST", path="/v1/messages?beta=true",
    ...     headers=[("X-Api-Key", "k")], body='{"a": 1}', timestamp=0.0)
    >>> r.header("x-api-key"), r.body_json()
    ('k', {'a': 1})
    """

    method: str
    path: str
    headers: list[tuple[str, str]]
    body: str
    body_base64: bool = False
    timestamp: float

    @classmethod
    def capture(
        cls, method: str, path: str, headers: list[tuple[str, str]], body: bytes
    ) -> "RecordedRequest":
        """Build a record from raw request parts, stamping the current time."""
        try:
            text, encoded = body.decode("utf-8"), False
        except UnicodeDecodeError:
            text, encoded = base64.b64encode(body).decode("ascii"), True
        return cls(
            method=method,
            path=path,
            headers=headers,
            body=text,
            body_base64=encoded,
            timestamp=time.time(),
        )

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (any case), or None."""
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), None)

    def header_values(self, name: str) -> list[str]:
        """Every value of header ``name`` (any case), in received order."""
        wanted = name.lower()
        return [v for k, v in self.headers if k.lower() == wanted]

    def body_bytes(self) -> bytes:
        """The body exactly as received."""
        if self.body_base64:
            return base64.b64decode(self.body)
        return self.body.encode("utf-8")

    def body_json(self) -> Any:
        """The body parsed as JSON (raises ValueError when it is not JSON)."""
        try:
            return json.loads(self.body_bytes())
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise ValueError(f"recorded body is not JSON: {exc}") from exc


class Recorder:
    """A thread-safe list of records: the server thread appends, tests read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[RecordedRequest] = []

    def add(self, record: RecordedRequest) -> None:
        with self._lock:
            self._records.append(record)

    def snapshot(self) -> list[RecordedRequest]:
        """A copy, so a caller iterating it never sees later requests appear."""
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
