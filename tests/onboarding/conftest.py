"""Fixtures for onboarding, settings, config show/set, check and doctor.

Every test gets its own HOME and XDG directories under tmp_path and an
environment without proxy, CA or aperture variables, so nothing reads or writes
the real ~/.config, ~/.mitmproxy or the caller's shell setup. The simulated
gateway is the suite's session one (tests/helpers/proxy_fixtures.py).
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers.cli_run import cli_runner

CLEARED = (
    "APERTURE_URL",
    "APERTURE_PROXY_CONFIG",
    "APERTURE_CAPABILITIES",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    "NODE_EXTRA_CA_CERTS",
    "NODE_USE_ENV_PROXY",
    "SSL_CERT_FILE",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "CODEX_CA_CERTIFICATE",
    "PI_CODING_AGENT_DIR",
)


@dataclass
class Home:
    """The isolated directories of one test."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config" / "aperture-proxy" / "config.yaml"

    @property
    def mitmproxy(self) -> Path:
        return self.root / "home" / ".mitmproxy"

    def saved(self) -> Any:
        return yaml.safe_load(self.config.read_text(encoding="utf-8"))

    def write_config(self, text: str) -> Path:
        self.config.parent.mkdir(parents=True, exist_ok=True)
        self.config.write_text(text, encoding="utf-8")
        return self.config


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    for name in CLEARED:
        monkeypatch.delenv(name, raising=False)
    dirs = {
        "HOME": "home",
        "XDG_CONFIG_HOME": "config",
        "XDG_CACHE_HOME": "cache",
        "XDG_STATE_HOME": "state",
        "XDG_DATA_HOME": "data",
    }
    for name, relative in dirs.items():
        (tmp_path / relative).mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(name, str(tmp_path / relative))
    monkeypatch.setenv("PI_CODING_AGENT_DIR", str(tmp_path / "pi-agent"))
    return Home(tmp_path)


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Any:
    """`aperture-proxy ARGS…` in this process; returns exit code, stdout, stderr."""
    return cli_runner(capsys)


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port that refuses connections: bound, never listening."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        yield holder.getsockname()[1]


def child_env(**extra: str) -> dict[str, str]:
    """This test's environment for a child process, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(extra)
    return env


PYTHON = sys.executable
