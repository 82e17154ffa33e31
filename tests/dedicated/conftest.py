"""Fixtures for dedicated mode: an isolated home, the simulated gateway, the CLI.

Every test runs with HOME, the XDG directories and each agent's config variable
pointing into its own tmp_path, so nothing here ever reads or writes the real
~/.pi, ~/.codex, ~/.claude or the real catalogue cache.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.cli_run import cli_runner
from tests.helpers.npm import default_cache_root

# Resolved before any test moves HOME, so agents install once per machine.
NPM_CACHE = default_cache_root()

_CLEARED = (
    "APERTURE_URL",
    "APERTURE_PROXY_CONFIG",
    "APERTURE_CAPABILITIES",
    "OPENCODE_CONFIG",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "npm: installs an agent from the npm registry and runs it"
    )


@dataclass
class Home:
    """Where an isolated test keeps each agent's files."""

    root: Path

    @property
    def pi(self) -> Path:
        return self.root / "pi-agent" / "models.json"

    @property
    def opencode(self) -> Path:
        return self.root / "config" / "opencode" / "opencode.json"

    @property
    def codex(self) -> Path:
        return self.root / "codex" / "config.toml"

    @property
    def claude(self) -> Path:
        return self.root / "claude" / "settings.json"

    @property
    def config(self) -> Path:
        return self.root / "config" / "aperture-proxy" / "config.yaml"

    @property
    def state(self) -> Path:
        return self.root / "state" / "aperture-proxy" / "generated"


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    for name in _CLEARED:
        monkeypatch.delenv(name, raising=False)
    root = tmp_path / "home"
    root.mkdir()
    monkeypatch.setenv("HOME", str(root))
    monkeypatch.setenv("XDG_CACHE_HOME", str(root / "cache"))
    monkeypatch.setenv("XDG_STATE_HOME", str(root / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(root / "config"))
    monkeypatch.setenv("PI_CODING_AGENT_DIR", str(root / "pi-agent"))
    monkeypatch.setenv("CODEX_HOME", str(root / "codex"))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(root / "claude"))
    # Relative outputs (litellm's config.yaml) land in the test's own directory.
    monkeypatch.chdir(tmp_path)
    return Home(root)


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Any:
    """Run `aperture-proxy ARGS…` in-process; returns exit code, stdout, stderr."""
    return cli_runner(capsys)


class CannedGateway:
    """Fixed answers per path on 127.0.0.1, for catalogues the simulator lacks."""

    def __init__(self) -> None:
        self.answers: dict[str, tuple[int, bytes]] = {}
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, body = owner.answers.get(self.path, (404, b'{"error":"no"}'))
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, args=(0.05,), daemon=True
        )
        self.thread.start()

    def serve(self, path: str, body: object, status: int = 200) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.answers[path] = (status, raw)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def canned() -> Iterator[CannedGateway]:
    gateway = CannedGateway()
    yield gateway
    gateway.stop()


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def by_id(models: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {m["id"]: m for m in models}
