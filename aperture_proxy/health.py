"""Whether the gateway takes connections, probed only when it has been quiet."""

from __future__ import annotations

import asyncio
import socket
import time

from aperture_proxy.routing import split_url

# A gateway that answered this recently is not probed before the next request.
HEALTHY_FOR = 3.0
PROBE_TIMEOUT = 5.0


class GatewayHealth:
    """The gateway's last sign of life, and a cheap connection probe.

    >>> health = GatewayHealth("http://ai.example-tailnet.ts.net")
    >>> (health.host, health.port)
    ('ai.example-tailnet.ts.net', 80)
    """

    def __init__(self, gateway: str) -> None:
        _, self.host, self.port, _ = split_url(gateway)
        self.last_ok = 0.0

    def mark_ok(self) -> None:
        self.last_ok = time.monotonic()

    def mark_down(self) -> None:
        self.last_ok = 0.0

    async def check(self) -> str | None:
        """None when the gateway takes connections, else the cause for people."""
        if time.monotonic() - self.last_ok < HEALTHY_FOR:
            return None
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port), PROBE_TIMEOUT
            )
        except TimeoutError:
            return f"no answer within {PROBE_TIMEOUT:g} s"
        except socket.gaierror:
            return f"cannot resolve the host {self.host!r}"
        except ConnectionRefusedError:
            return f"connection refused (nothing listens on port {self.port})"
        except OSError as exc:
            return exc.strerror or str(exc) or type(exc).__name__
        writer.close()
        self.mark_ok()
        return None
