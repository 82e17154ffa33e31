"""Running a real coding agent through a real proxy, and reading what happened.

An agent gets only what ``aperture-proxy env`` prints, a temporary home, ``PATH``,
its own switches for non-interactive use and a placeholder key. Afterwards the
tests read three records: what the simulated gateway received, the flows the
proxy saved, and the proxy's debug log, which is the only place that names the
host of every connection the proxy opened or tried to open for the agent,
tunnelled ones included.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mitmproxy import http, io

from aperture_proxy.rewrite import CREDENTIAL_HEADERS
from aperture_proxy.sim import RecordedRequest
from tests.helpers.npm import npm_install

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# Node from the npm registry, for the agents run on a newer Node than the machine's.
REGISTRY_NODE = ("node", "24.21.0")
# mitmproxy logs every connection it opens with proxy_debug at debug verbosity.
PROXY_DEBUG = ["--set", "proxy_debug=true", "--set", "termlog_verbosity=debug"]
_OPEN_CONNECTION = re.compile(
    r"<< OpenConnection\(\{'connection': Server\(\{'id': '([^']+)', "
    r"'address': \('([^']+)', (\d+)\)"
)


@dataclass
class AgentRun:
    """One finished agent process."""

    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    def output(self) -> str:
        """Everything the agent printed, for assertion messages."""
        return (
            f"exit {self.returncode}\n--- stdout\n{self.stdout}\n"
            f"--- stderr\n{self.stderr}"
        )


@dataclass
class SideCalls:
    """Where the proxy tried to go for an agent, other than the gateway."""

    hosts: set[tuple[str, int]] = field(default_factory=set)
    requests: set[str] = field(default_factory=set)

    def describe(self) -> str:
        if not self.hosts and not self.requests:
            return "none"
        hosts = ", ".join(f"{h}:{p}" for h, p in sorted(self.hosts))
        requests = "; ".join(sorted(self.requests))
        return f"connections to {hosts}" + (f" ({requests})" if requests else "")


def node_bin_dir(version: str | None) -> Path:
    """The folder of the ``node`` to run: the machine's, or one from the registry."""
    if version is None:
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("node is not on PATH; install Node.js 20 or newer")
        return Path(node).resolve().parent
    prefix = npm_install(REGISTRY_NODE[0], version)
    return (prefix / "node_modules" / "node" / "bin").resolve()


def node_version(bin_dir: Path) -> str:
    done = subprocess.run(
        [str(bin_dir / "node"), "--version"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return done.stdout.strip()


def agent_env(
    proxy_env: Mapping[str, str],
    home: Path,
    *,
    node_dir: Path,
    extra: Mapping[str, str] = {},
) -> dict[str, str]:
    """The whole environment of an agent: nothing from this process leaks in."""
    for sub in (".config", ".cache", ".local/share", ".local/state", "tmp"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    return {
        "PATH": f"{node_dir}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_STATE_HOME": str(home / ".local/state"),
        "TMPDIR": str(home / "tmp"),
        "LANG": "C.UTF-8",
        **proxy_env,
        **extra,
    }


def run_agent(
    argv: Sequence[str], env: Mapping[str, str], cwd: Path, timeout: float
) -> AgentRun:
    """Run the agent to completion with no terminal and an empty standard input."""
    cwd.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    try:
        done = subprocess.run(
            list(argv),
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode(errors="replace") if exc.stdout else ""
        err = exc.stderr.decode(errors="replace") if exc.stderr else ""
        raise AssertionError(
            f"{argv[0]} did not finish in {timeout:g} s\n--- stdout\n{out}\n"
            f"--- stderr\n{err}"
        ) from None
    return AgentRun(
        list(argv),
        done.returncode,
        done.stdout,
        done.stderr,
        time.monotonic() - started,
    )


def read_flows(path: Path) -> list[http.HTTPFlow]:
    """The HTTP flows the proxy saved (``save_stream_file``), in order."""
    if not path.exists():
        return []
    with open(path, "rb") as file:
        return [f for f in io.FlowReader(file).stream() if isinstance(f, http.HTTPFlow)]


def side_calls(log_text: str, flows: Iterable[http.HTTPFlow]) -> SideCalls:
    """Connections to hosts other than loopback, and the requests passed through.

    A flow the proxy answered itself (the 426 for a WebSocket) never opened a
    connection, so it is no side call; one whose connection failed has no
    response.
    """
    calls = SideCalls()
    seen: set[str] = set()
    for match in _OPEN_CONNECTION.finditer(log_text):
        conn_id, host, port = match.groups()
        if conn_id not in seen and host not in LOCAL_HOSTS:
            seen.add(conn_id)
            calls.hosts.add((host, int(port)))
    for flow in flows:
        if flow.request.host in LOCAL_HOSTS:
            continue
        if flow.response and flow.server_conn.timestamp_start is None:
            continue
        url = flow.request.url.split("?", 1)[0]
        calls.requests.add(f"{flow.request.method} {url}")
    return calls


def leaked_credentials(records: Iterable[RecordedRequest], key: str) -> list[str]:
    """Every place the key, or any credential header, reached the gateway."""
    leaks = []
    for record in records:
        where = f"{record.method} {record.path}"
        for name, value in record.headers:
            if name.lower() in CREDENTIAL_HEADERS:
                leaks.append(f"{where}: header {name}")
            elif key in value:
                leaks.append(f"{where}: the key in header {name}")
        if key in record.path:
            leaks.append(f"{where}: the key in the path")
        if key in record.body:
            leaks.append(f"{where}: the key in the body")
    return leaks


def llm_requests(records: Iterable[RecordedRequest], prefix: str) -> list[Any]:
    """The recorded POSTs whose path starts with ``prefix``."""
    return [r for r in records if r.method == "POST" and r.path.startswith(prefix)]


def env_names(env: Mapping[str, str]) -> str:
    return " ".join(sorted(env))


def describe_env(proxy_env: Mapping[str, str], extra: Mapping[str, str]) -> str:
    """What a report says an agent was given, placeholder keys elided."""
    own = [k if "KEY" not in k else f"{k}=<placeholder>" for k in sorted(extra)]
    return f"env: {env_names(proxy_env)}; own: {' '.join(own) or '-'}"


def workspace(tmp_path: Path) -> Path:
    path = tmp_path / "project"
    path.mkdir(exist_ok=True)
    (path / "README.md").write_text("A scratch project for an agent test.\n")
    return path
