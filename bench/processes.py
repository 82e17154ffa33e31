"""The processes under test: the simulated gateway, the baseline mitmdump and ours.

Everything listens on 127.0.0.1 and lives in one temporary workspace: the
mitmproxy confdir (one CA, trusted by every client), the catalogue cache, the
logs. The proxies' environment carries no proxy variables and no user config,
so nothing outside the workspace changes what is measured.
"""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx

from aperture_proxy.agent_env import ensure_ca
from aperture_proxy.demo import free_port

Kind = Literal["baseline", "ours"]

START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
BENCH_KEY = "sk-bench-NOT-A-REAL-KEY"

#: The streaming baseline's ``stream_large_bodies``, in bytes, and the size of
#: every request the streaming scenarios send (which must stay below it).
STREAM_THRESHOLD = 150
SMALL_REQUEST = 128

_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@dataclass(frozen=True)
class Workspace:
    """Where the processes of one run keep their files."""

    root: Path

    @property
    def confdir(self) -> Path:
        return self.root / "mitmproxy"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def prepare(self) -> None:
        for path in (self.confdir, self.cache, self.logs):
            path.mkdir(parents=True, exist_ok=True)
        ensure_ca(self.confdir)

    def env(self, bytecode: bool = True) -> dict[str, str]:
        """The environment of every child process.

        Compiled bytecode is kept under the workspace (``PYTHONPYCACHEPREFIX``)
        so a second start finds it, as on a user's machine, whatever the
        calling shell says (``PYTHONDONTWRITEBYTECODE``) and without writing
        into the repository or the virtualenv. ``bytecode=False`` gives a
        start that compiles every module from source.
        """
        env = {k: v for k, v in os.environ.items() if k.upper() not in _PROXY_VARIABLES}
        env["XDG_CACHE_HOME"] = str(self.cache)
        env["APERTURE_PROXY_CONFIG"] = str(self.root / "no-config.yaml")
        env.pop("APERTURE_URL", None)
        if bytecode:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(self.root / "pycache")
        else:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
            env["PYTHONPYCACHEPREFIX"] = str(self.root / "no-pycache")
        return env

    @property
    def ca(self) -> Path:
        """The proxies' CA certificate (both use the same confdir)."""
        return self.confdir / "mitmproxy-ca-cert.pem"

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca)


def process_tree(pid: int) -> list[int]:
    """``pid`` and its live descendants."""
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        for children in Path(f"/proc/{current}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                todo += [int(c) for c in children.read_text().split()]
    return pids


def port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


def wait_for_port(
    port: int, process: subprocess.Popen[bytes], log: Path, poll: float = 0.05
) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(
                f"the process logging to {log} exited with status "
                f"{process.returncode}:\n{tail}"
            )
        if port_open(port):
            return
        time.sleep(poll)
    raise RuntimeError(f"nothing listened on port {port} within {START_TIMEOUT:g} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate one process this harness started, killing it if it lingers."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class Gateway:
    """The simulated gateway in its own process, driven over ``/_sim/``."""

    def __init__(self, workspace: Workspace) -> None:
        self.port = free_port()
        self.log = workspace.logs / "gateway.log"
        command = [
            sys.executable, "-m", "aperture_proxy", "simulate",
            "--host", "127.0.0.1", "--port", str(self.port),
        ]  # fmt: skip
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, env=workspace.env()
            )
        self._control = httpx.Client(base_url=self.url, trust_env=False, timeout=120)
        try:
            wait_for_port(self.port, self.process, self.log)
        except BaseException:
            self.close()
            raise

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def configure(self, **settings: Any) -> None:
        """Change the gateway's settings (unnamed ones keep their value)."""
        self._control.put("/_sim/settings", json=settings).raise_for_status()

    def records(self) -> list[dict[str, Any]]:
        response = self._control.get("/_sim/requests")
        response.raise_for_status()
        records: list[dict[str, Any]] = response.json()
        return records

    def clear(self) -> None:
        self._control.delete("/_sim/requests").raise_for_status()

    def close(self) -> None:
        self._control.close()
        stop(self.process)


def ours_command(workspace: Workspace, gateway: str, port: int) -> list[str]:
    """``aperture-proxy run`` as a user starts it, on a given port."""
    return [
        sys.executable, "-m", "aperture_proxy", "run",
        "--gateway", gateway,
        "--listen", f"127.0.0.1:{port}",
        "--confdir", str(workspace.confdir),
    ]  # fmt: skip


def baseline_command(
    workspace: Workspace, gateway: str, port: int, streaming: bool = False
) -> list[str]:
    """Plain mitmdump rerouting OpenAI the way a power user would.

    ``map_remote`` moves ``https://api.openai.com/v1/…`` onto the gateway's
    ``/v1/…`` (its spec is ``|regex|replacement`` with no trailing ``|``,
    which would turn the regex into a flow filter) and ``modify_headers``
    removes the client's key from requests; the lazy connection strategy and
    ``upstream_cert=false`` keep it from connecting to OpenAI for the TLS
    handshake.

    Without streaming, mitmdump holds a server-sent event stream until it
    ends. ``stream_large_bodies`` is the only built-in way to stream it, and
    it streams requests over the same size too: a streamed request connects
    to its original host before ``map_remote`` runs, so it would go to
    OpenAI. With ``streaming`` the threshold is :data:`STREAM_THRESHOLD`,
    above every request the streaming scenarios send and below the first
    event of every answer, so requests are still rewritten and answers
    stream from their first event. Real agents' requests are far larger, so
    this configuration is a benchmark's best case, not something a user could
    run.
    """
    command = [
        sys.executable, "-c",
        "import sys; from mitmproxy.tools.main import mitmdump; sys.exit(mitmdump())",
        "--listen-host", "127.0.0.1",
        "--listen-port", str(port),
        "--set", f"confdir={workspace.confdir}",
        "--map-remote", rf"|^https://api\.openai\.com/v1/|{gateway}/v1/",
        "--modify-headers", "|~q|Authorization|",
        "--set", "connection_strategy=lazy",
        "--set", "upstream_cert=false",
    ]  # fmt: skip
    if streaming:
        command += ["--set", f"stream_large_bodies={STREAM_THRESHOLD}"]
    return command


class Proxy:
    """One proxy process on a free port."""

    def __init__(
        self,
        kind: Kind,
        workspace: Workspace,
        gateway: str,
        *,
        streaming: bool = False,
        tag: str = "",
        bytecode: bool = True,
    ) -> None:
        self.kind = kind
        self.port = free_port()
        self.log = workspace.logs / f"{kind}{tag}-{self.port}.log"
        if kind == "ours":
            command = ours_command(workspace, gateway, self.port)
        else:
            command = baseline_command(workspace, gateway, self.port, streaming)
        env = workspace.env(bytecode)
        self.started = time.perf_counter()
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, env=env
            )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, poll: float = 0.05) -> None:
        wait_for_port(self.port, self.process, self.log, poll)

    def close(self) -> None:
        stop(self.process)

    def __enter__(self) -> Proxy:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@contextlib.contextmanager
def closing_all(*things: Gateway | Proxy) -> Any:
    """Close each of ``things`` on the way out, whatever happens."""
    try:
        yield things
    finally:
        for thing in reversed(things):
            with contextlib.suppress(Exception):
                thing.close()
