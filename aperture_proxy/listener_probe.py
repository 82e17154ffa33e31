"""Who holds a listen port: nobody, a mitmproxy, or some other program.

The probe never makes a proxy reach another host: it asks the listener, as a
proxy, for a loopback port that refuses connections. A mitmproxy answers that
itself, with its own 502 and a `Server: mitmproxy …` header.
"""

from __future__ import annotations

import re
import socket

from aperture_proxy.prompts import printable

__all__ = ["probe_listener"]

_WILDCARD = {"0.0.0.0", "::", ""}


def _closed_port() -> tuple[socket.socket, int]:
    # A bound socket that never listens: connections to its port are refused.
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    return holder, holder.getsockname()[1]


def probe_listener(host: str, port: int, timeout: float = 3.0) -> tuple[str, str]:
    """("free", ""), ("mitmproxy", its Server header) or ("other", what answered).

    The probe is a proxy request for a loopback port nothing listens on: a
    mitmproxy answers it with its own 502 and `Server: mitmproxy …`, and no
    proxy is asked to reach any other host.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
            return "free", ""
        except OSError:
            pass
    target = "127.0.0.1" if host in _WILDCARD else host
    holder, closed = _closed_port()
    with holder:
        request = (
            f"GET http://127.0.0.1:{closed}/ HTTP/1.1\r\nHost: 127.0.0.1:{closed}\r\n"
            "Connection: close\r\n\r\n"
        ).encode()
        answer = b""
        try:
            with socket.create_connection((target, port), timeout=timeout) as conn:
                conn.sendall(request)
                while b"\r\n\r\n" not in answer and len(answer) < 8192:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    answer += chunk
        except ConnectionRefusedError:
            return "other", "taken, but nothing accepts connections"
        except OSError:
            pass
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    server = re.search(r"^server:\s*(mitmproxy[^\r\n]*)", head, re.I | re.M)
    if server:
        return "mitmproxy", printable(server[1], 60)
    first = head.split("\r\n", 1)[0]
    return "other", printable(first, 60) if first else "no HTTP answer"
